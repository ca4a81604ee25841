"""Password login, bearer tokens (hashed, expiring, revocable), lockout, /me."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from docsvc.db.base import utcnow
from docsvc.db.models import ApiToken, AuditEvent, User
from docsvc.services.identity import hash_token
from tests.helpers import assert_error


def login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_login_and_me(api, client, container) -> None:  # type: ignore[no-untyped-def]
    r = login(client, "vanthu", api.password)
    assert r.status_code == 201
    body = r.get_json()
    assert body["token_type"] == "Bearer" and body["expires_at"].endswith("+07:00")
    token = body["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    data = me.get_json()
    assert data["username"] == "vanthu" and data["roles"] == ["clerk"] and data["clearance"] == "mat"
    assert data["agency_name"] == "Ủy ban nhân dân xã Đồng Đăng"
    assert "password" not in str(data)
    # Only the hash of the token is stored.
    with container.db.read() as s:
        stored = s.execute(select(ApiToken.token_hash)).scalars().all()
    assert hash_token(token) in stored and token not in stored


def test_wrong_password_and_unknown_user_look_the_same(api, client) -> None:  # type: ignore[no-untyped-def]
    wrong = assert_error(login(client, "vanthu", "not-the-password-1"), 401, "unauthenticated")
    unknown = assert_error(login(client, "nobody", "not-the-password-1"), 401, "unauthenticated")
    assert wrong["message"] == unknown["message"]


def test_lockout_after_repeated_failures(api, client, container) -> None:  # type: ignore[no-untyped-def]
    for _ in range(container.settings.login_max_failures - 1):
        assert_error(login(client, "chuyenvien", "wrong-password-1"), 401)
    assert_error(login(client, "chuyenvien", "wrong-password-1"), 423, "locked")
    # Even the right password is refused while locked.
    assert_error(login(client, "chuyenvien", api.password), 423, "locked")
    with container.db.read() as s:
        denied = s.execute(select(AuditEvent).where(AuditEvent.action == "auth.login",
                                                    AuditEvent.outcome == "denied")).scalars().all()
    assert len(denied) == container.settings.login_max_failures + 1


def test_a_locked_account_gives_the_same_answer_whatever_the_password(api, client, container) -> None:  # type: ignore[no-untyped-def]
    """Issue 14 §4: a locked account checked the password (wrong → 401, right → 423): an oracle."""
    for _ in range(container.settings.login_max_failures):
        login(client, "chuyenvien", "wrong-password-1")
    right = login(client, "chuyenvien", api.password)
    wrong = login(client, "chuyenvien", "another-wrong-2")
    assert_error(right, 423, "locked")
    assert_error(wrong, 423, "locked")
    assert right.get_json() == wrong.get_json()
    # Attempts while locked neither count as failures nor extend the lock; both are audited the same.
    with container.db.read() as s:
        user = s.execute(select(User).where(User.username == "chuyenvien")).scalar_one()
        assert user.failed_logins == 0
        events = s.execute(select(AuditEvent).where(AuditEvent.action == "auth.login",
                                                    AuditEvent.outcome == "denied")
                           .order_by(AuditEvent.seq.desc()).limit(2)).scalars().all()
    assert [e.details for e in events] == [{"locked": True}, {"locked": True}]


def test_unknown_usernames_lock_like_accounts(api, client, container) -> None:  # type: ignore[no-untyped-def]
    """Otherwise "423 after N failures" tells which usernames are accounts."""
    answers = {}
    for name in ("chuyenvien", "khong.ton.tai"):
        for _ in range(container.settings.login_max_failures - 1):
            assert_error(login(client, name, "wrong-password-1"), 401)
        answers[name] = [login(client, name, "wrong-password-1").get_json() for _ in range(2)]
    assert answers["chuyenvien"] == answers["khong.ton.tai"]
    assert answers["chuyenvien"][0]["error"]["code"] == "locked"


def test_missing_malformed_expired_and_revoked_tokens(api, client, container) -> None:  # type: ignore[no-untyped-def]
    assert_error(client.get("/api/v1/me"), 401, "unauthenticated")
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401)
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer dsv_forged"}), 401)
    r = client.get("/api/v1/me")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")

    token = api.token("truongphong")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with container.db.write() as s:
        s.execute(update(ApiToken).where(ApiToken.token_hash == hash_token(token))
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    err = assert_error(client.get("/api/v1/me", headers=headers), 401)
    assert "expired" in err["message"]

    fresh = login(client, "truongphong", api.password).get_json()["access_token"]
    h2 = {"Authorization": f"Bearer {fresh}"}
    assert client.delete("/api/v1/auth/token", headers=h2).status_code == 204
    assert "revoked" in assert_error(client.get("/api/v1/me", headers=h2), 401)["message"]


def test_bad_login_bodies(api, client) -> None:  # type: ignore[no-untyped-def]
    assert_error(client.post("/api/v1/auth/token"), 400, "invalid_input")
    assert_error(client.post("/api/v1/auth/token", data="{not json", content_type="application/json"), 400)
    assert_error(client.post("/api/v1/auth/token", data="u=p", content_type="text/plain"), 415)
    err = assert_error(client.post("/api/v1/auth/token", json={"username": "vanthu"}), 400)
    assert err["details"][0]["field"] == "password"
    err = assert_error(client.post("/api/v1/auth/token",
                                   json={"username": "vanthu", "password": "x", "remember": True}), 400)
    assert err["details"][0]["field"] == "remember"


def test_disabling_a_user_ends_their_sessions(api, client) -> None:  # type: ignore[no-untyped-def]
    user_headers = api.headers("chuyenvien")
    user_id = client.get("/api/v1/me", headers=user_headers).get_json()["id"]
    r = api.as_user("quantri").patch(f"/api/v1/users/{user_id}", json={"is_active": False})
    assert r.status_code == 200 and r.get_json()["is_active"] is False
    assert_error(client.get("/api/v1/me", headers=user_headers), 401)
    assert_error(login(client, "chuyenvien", api.password), 401)
