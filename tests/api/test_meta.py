"""API conventions: health, OpenAPI document, browsable docs, one error shape for everything."""

from __future__ import annotations

from openapi_spec_validator import validate

from tests.helpers import assert_error


def test_health_reports_each_backend(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/health", "/api/v1/health"):
        r = client.get(path)
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["status"] == "ok"
        assert {"database", "broker"} <= set(body["backends"])
        assert all(b["ok"] for b in body["backends"].values())


def test_openapi_document_is_valid_and_complete(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert "/api/v1/auth/token" in spec["paths"] and "post" in spec["paths"]["/api/v1/auth/token"]
    assert "/api/v1/users/{user_id}" in spec["paths"]
    me = spec["paths"]["/api/v1/me"]["get"]
    assert me["security"] == [{"bearer": []}] and "401" in me["responses"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"/api/v1/auth/token" in page.data


def test_unknown_routes_and_methods_use_the_error_shape(client) -> None:  # type: ignore[no-untyped-def]
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(client.put("/api/v1/me"), 405)
