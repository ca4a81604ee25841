"""What every fault test checks once the backends are back: nothing accepted was lost, nothing
half-written is visible, register numbers have no gap or duplicate."""

from __future__ import annotations

from typing import Any

from bench.verify import Verification, check_database_state


def assert_clean_state(container: Any) -> Verification:
    """Every file row's object stored with its digest, no half-issued document, registers without
    gap or duplicate (bench/verify.py, the load test's verifier)."""
    v = check_database_state(container)
    assert v.ok, v.summary()
    return v


def assert_error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:400])
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]
