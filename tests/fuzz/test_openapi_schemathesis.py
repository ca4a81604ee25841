"""schemathesis over /api/v1/openapi.json against the Flask app (WSGI), authenticated.

Every operation of the document gets positive (schema-conforming) and negative (schema-violating)
generated requests, bounded for CI. Zero 5xx; every 4xx carries the error shape
{"error": {"code", "message", "details"}}; 2xx JSON answers conform to the declared schema."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

EXAMPLES = int(os.environ.get("DOCSVC_TEST_SCHEMATHESIS_EXAMPLES", "12"))  # raise for a longer hunt
USERS = ("vanthu", "quantri", "chutich", "chuyenvien")
# Requests with side effects on the caller's own session: given a token of their own.
OWN_TOKEN = {("DELETE", "/api/v1/auth/token")}
# The operations are split into shards, one test each: every shard stays well inside the per-test
# timeout on a slow machine, and pytest-xdist runs them side by side.
SHARDS = 4


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def _seed(api: Any) -> None:
    """A few real records for the generated requests to hit: incoming documents (one registered
    and assigned), an outgoing draft signed by the chairman."""
    from tests.api.test_outgoing_issue import _signed_draft
    from tests.helpers import created, upload
    clerk = api.as_user("vanthu")
    incoming = created(upload(clerk))
    assert clerk.post(f"/api/v1/documents/{incoming['id']}/register", json={}).status_code == 200
    created(upload(clerk, subject="Thông báo lịch họp giao ban tháng 12", type="TB", number_notation="07/TB-SNV"))
    _signed_draft(api)


def _check(response: Any, label: str) -> None:
    status = response.status_code
    assert status < 500, f"{label}: {status} {response.text[:400]}"
    if status >= 400:
        body = response.json()
        assert set(body) == {"error"}, f"{label}: {body}"
        assert set(body["error"]) == {"code", "message", "details"} and body["error"]["message"], f"{label}: {body}"


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_operation_answers_without_5xx_and_with_the_error_shape(api, app, shard: int) -> None:  # type: ignore[no-untyped-def]
    _seed(api)
    tokens = {u: api.token(u) for u in USERS}
    every = _operations(app)
    assert len(every) > 40
    operations = every[shard::SHARDS]
    seen: dict[str, set[int]] = {}
    for op in operations:
        label = f"{op.method.upper()} {op.full_path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=timedelta(seconds=20), derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=op.as_strategy(generation_mode=mode), user=st.sampled_from(USERS),
                   known=st.one_of(st.none(), st.integers(1, 6)))
            def run(case: Any, user: str, known: int | None) -> None:
                if known is not None:  # half the time aim at records that exist (the seeded ones)
                    for name in list(case.path_parameters or {}):
                        if name.endswith("_id"):
                            case.path_parameters[name] = known
                token = api.client.post("/api/v1/auth/token", json={"username": user, "password": api.password}) \
                    .get_json()["access_token"] if (op.method.upper(), op.full_path) in OWN_TOKEN else tokens[user]
                headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
                response = case.call(headers=headers)
                seen.setdefault(label, set()).add(response.status_code)
                _check(response, f"{label} [{mode.value}] {case.path_parameters} {case.query} {str(case.body)[:200]}")

            try:
                run()
            except Unsatisfiable:  # nothing to violate (an operation without parameters or body)
                assert mode is GenerationMode.NEGATIVE, label
    assert len(seen) == len(operations)
