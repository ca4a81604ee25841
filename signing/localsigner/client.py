"""The few docsvc API calls the console mode makes (standard library HTTP, JSON)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class DocsvcClient:
    def __init__(self, base_url: str, api_token: str, *, timeout: float = 120.0) -> None:
        self.base_url, self.api_token, self.timeout = base_url.rstrip("/"), api_token, timeout

    def post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"{self.base_url}/api/v1{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.api_token}", "Content-Type": "application/json",
                     "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                error = json.loads(exc.read()).get("error", {})
            except ValueError:
                error = {}
            raise ApiError(exc.code, error.get("code", "http_error"), error.get("message", exc.reason)) from None
        except urllib.error.URLError as exc:
            raise ApiError(0, "unreachable", f"docsvc at {self.base_url} does not answer: {exc.reason}") from None
