"""Helpers for tests: an API client with per-user logins, and the error-shape assertion."""

from __future__ import annotations

from typing import Any


class ApiClient:
    """Flask test client with per-user login helpers: ``api.as_user('vanthu').get(...)``."""

    def __init__(self, client: Any, password: str) -> None:
        self.client = client
        self.password = password
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            r = self.client.post("/api/v1/auth/token", json={"username": username, "password": self.password})
            assert r.status_code == 201, r.get_json()
            self._tokens[username] = r.get_json()["access_token"]
        return self._tokens[username]

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def as_user(self, username: str) -> "_UserClient":
        return _UserClient(self.client, self.headers(username))


class _UserClient:
    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self._client, self._headers = client, headers

    def __getattr__(self, verb: str) -> Any:
        method = getattr(self._client, verb)

        def call(*args: Any, **kwargs: Any) -> Any:
            kwargs["headers"] = {**self._headers, **kwargs.get("headers", {})}
            return method(*args, **kwargs)

        return call


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Every error has the one shape {"error": {"code", "message", "details"}}."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["message"], body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]
