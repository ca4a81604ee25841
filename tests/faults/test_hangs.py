"""Backends that hang (SIGSTOP: the port stays open, nothing answers) instead of going away: the
service's timeouts must turn them into a clear 503 within a bounded time, never a request that
hangs until gunicorn kills its worker. The servers are thawed (SIGCONT) and work resumes."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.faults.checks import assert_clean_state, assert_error_shape
from tests.helpers import created, upload

# Short configured timeouts (production: 10 s each, under gunicorn's 120 s worker timeout): the tests show
# that the configured value bounds the wait, in 8-12 s instead of the 20-30 s of the defaults.
TIMEOUT = 4  # DOCSVC_S3_TIMEOUT_SECONDS and DOCSVC_SEARCH_TIMEOUT_SECONDS
S3_TRIES, SEARCH_TRIES = 2, 3  # one retry for S3 (bootstrap), two for the Elasticsearch client
SLACK = 10  # seconds for the request's own work on a busy machine (the 10 s defaults would exceed the bounds)


@pytest.fixture
def fault_overrides() -> dict[str, Any]:
    return {"s3_timeout_seconds": TIMEOUT, "search_timeout_seconds": TIMEOUT}


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


def test_hung_object_store_answers_503_in_bounded_time(fault_api, fault_container, private) -> None:  # type: ignore[no-untyped-def]
    clerk = fault_api.as_user("vanthu")
    created(upload(clerk, subject="Công văn trước khi máy chủ S3 treo"))
    private.freeze("s3")
    try:
        r, seconds = _timed(lambda: upload(clerk, subject="Công văn gửi khi máy chủ S3 treo"))
        assert_error_shape(r, 503)
        print(f"upload with S3 hung: 503 after {seconds:.1f} s")
        assert seconds < S3_TRIES * TIMEOUT + SLACK, seconds
    finally:
        private.thaw("s3")
    created(upload(clerk, subject="Công văn sau khi máy chủ S3 chạy lại"))
    assert_clean_state(fault_container)


def test_hung_search_index_answers_503_in_bounded_time(fault_api, fault_container, private) -> None:  # type: ignore[no-untyped-def]
    clerk = fault_api.as_user("vanthu")
    doc = created(upload(clerk, subject="Công văn về việc kiểm tra chỉ mục bị treo"))
    fault_container.indexing.drain_all()  # indexing runs in the background (issue 14 §6): the tests run it here
    private.freeze("elasticsearch")
    try:
        r, seconds = _timed(lambda: clerk.get("/api/v1/search", query_string={"q": "chi muc bi treo"}))
        assert_error_shape(r, 503)
        print(f"search with Elasticsearch hung: 503 after {seconds:.1f} s")
        assert seconds < SEARCH_TRIES * TIMEOUT + SLACK, seconds
        # (uploads need no index: test_outages shows them accepted while it is down)
    finally:
        private.thaw("elasticsearch")
    hits = clerk.get("/api/v1/search", query_string={"q": "chi muc"}).get_json()["hits"]
    assert doc["id"] in {h["id"] for h in hits}
