"""Fixtures of the API and page tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import PageClient


@pytest.fixture
def pages(app: Any, demo: Any) -> Any:
    """pages('vanthu') → a logged-in PageClient of its own (own cookies)."""
    def make(username: str | None = None) -> PageClient:
        pc = PageClient(app.test_client())
        if username:
            assert pc.login(username, demo.password).status_code == 303
        return pc
    return make
