"""Login rate limits per account and per client address (issue 14 §4), on the API and the login page."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from docsvc.db.models import AuditEvent
from tests.helpers import assert_error

LIMITS = {"login_rate_per_account": "3 per minute", "login_rate_per_address": "6 per minute"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(LIMITS)


def login(client: Any, username: str, password: str, address: str = "192.0.2.10", **headers: str) -> Any:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def throttled_events(container: Any) -> list[AuditEvent]:
    with container.db.read() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == "auth.throttled")
                              .order_by(AuditEvent.seq)).scalars())


def test_attempts_per_account_are_limited_right_password_or_not(api: Any, client: Any, container: Any) -> None:
    for _ in range(3):
        assert_error(login(client, "vanthu", "wrong-password-1"), 401)
    refused = login(client, "vanthu", api.password)  # the right password, from another address too
    err = assert_error(refused, 429, "too_many_requests")
    assert err["details"]["scope"] == "account"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert_error(login(client, "vanthu", api.password, address="192.0.2.99"), 429)
    # Other accounts are not affected.
    assert login(client, "truongphong", api.password, address="192.0.2.99").status_code == 201
    # One audit event per account and window, however many refusals.
    events = throttled_events(container)
    assert len(events) == 1
    assert events[0].outcome == "denied" and events[0].actor_name == "vanthu"
    assert events[0].details == {"scope": "account", "limit": "3 per 1 minute"}
    assert events[0].ip == "192.0.2.10" and events[0].object_id is not None


def test_unknown_usernames_are_limited_like_known_ones(api: Any, client: Any) -> None:
    for _ in range(3):
        assert_error(login(client, "nobody.here", "wrong-password-1"), 401)
    assert_error(login(client, "nobody.here", "wrong-password-1"), 429)


def test_attempts_per_address_are_limited(api: Any, client: Any, container: Any) -> None:
    for name in ["a.one", "a.two", "a.three", "a.four", "a.five", "a.six"]:
        assert_error(login(client, name, "wrong-password-1"), 401)
    err = assert_error(login(client, "vanthu", api.password), 429)
    assert err["details"]["scope"] == "address"
    # X-Forwarded-For is not trusted by default: a client cannot pick a fresh address.
    assert_error(login(client, "vanthu", api.password, **{"X-Forwarded-For": "198.51.100.7"}), 429)
    assert login(client, "vanthu", api.password, address="192.0.2.11").status_code == 201
    assert [e.details["scope"] for e in throttled_events(container)] == ["address"]


@pytest.mark.parametrize("settings_overrides", [{**LIMITS, "trusted_proxy_hops": 1}])
def test_behind_a_configured_proxy_the_forwarded_address_counts(api: Any, client: Any) -> None:
    proxy = "10.0.0.2"
    for name in ["a.one", "a.two", "a.three", "a.four", "a.five", "a.six"]:
        assert_error(login(client, name, "wrong-password-1", address=proxy, **{"X-Forwarded-For": "198.51.100.7"}),
                     401)
    assert_error(login(client, "vanthu", api.password, address=proxy, **{"X-Forwarded-For": "198.51.100.7"}), 429)
    r = login(client, "vanthu", api.password, address=proxy, **{"X-Forwarded-For": "198.51.100.8"})
    assert r.status_code == 201


def test_the_login_page_is_limited_too(api: Any, pages: Any, container: Any) -> None:
    page = pages()
    for _ in range(3):
        assert page.login("snv.vanthu", "wrong-password-1").status_code == 401
    refused = page.login("snv.vanthu", api.password)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Đăng nhập quá nhiều lần" in refused.get_data(as_text=True)  # the page speaks Vietnamese
    events = throttled_events(container)
    assert len(events) == 1 and events[0].details == {"scope": "account", "limit": "3 per 1 minute",
                                                      "channel": "web"}
