"""Hostile JSON bodies: deep nesting is a 400 with the JSON error body, never a 500 (issue 14 §8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import assert_error


@pytest.mark.parametrize("body", [
    "[" * 10_000 + "]" * 10_000,
    '{"username": ' + "[" * 100_000 + "]" * 100_000 + ', "password": "x"}',
    '{"username": "vanthu", "password": "x", "z": ' + '{"a": ' * 200 + "1" + "}" * 200 + "}",
])
def test_deeply_nested_login_bodies_are_a_400(client: Any, body: str) -> None:
    r = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    err = assert_error(r, 400, "invalid_input")
    assert "nested too deeply" in err["message"] and "Traceback" not in r.get_data(as_text=True)


def test_every_json_endpoint_refuses_deep_nesting(api: Any, demo: Any) -> None:
    admin = api.as_user("quantri")
    body = '{"roles": ' + "[" * 5_000 + "]" * 5_000 + "}"
    r = admin.patch(f"/api/v1/users/{demo.users['vanthu']}", data=body, content_type="application/json")
    assert_error(r, 400, "invalid_input")
    # Moderate nesting still reaches the model's own validation.
    r = admin.patch(f"/api/v1/users/{demo.users['vanthu']}", json={"roles": [[["clerk"]]]})
    assert "nested" not in assert_error(r, 400, "invalid_input")["message"]


def test_a_recursion_error_anywhere_is_a_400_without_traceback(app: Any, client: Any, caplog: Any) -> None:
    def recurse(n: int = 0) -> int:
        return recurse(n + 1) + 1

    app.add_url_rule("/api/v1/_test_recursion", "test_recursion", lambda: str(recurse()))
    r = client.get("/api/v1/_test_recursion")
    assert_error(r, 400, "invalid_input")
    assert "Traceback" not in r.get_data(as_text=True) and "Traceback" not in caplog.text
