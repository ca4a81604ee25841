"""The Celery worker killed (SIGKILL, pool and all) in the middle of indexing a document: the work
is not lost. The outbox item stays claimed only for its lease; a worker started afterwards (with
beat, as in production) indexes the document."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest
from sqlalchemy import select

from tests.helpers import created, process_log, start_worker, stop_process, upload
from tests.unit.search.documents import scanned_pdf

LEASE_SECONDS = 5


@pytest.fixture
def fault_overrides(private: Any) -> dict[str, Any]:
    return {"broker_url": private.redis_url, "outbox_lease_seconds": LEASE_SECONDS}


def _outbox(container: Any, doc_id: int) -> Any:
    from docsvc.db.models import OutboxItem
    with container.db.read() as s:
        return s.execute(select(OutboxItem).where(OutboxItem.key == str(doc_id))).scalars().first()


def _searchable(user: Any, doc_id: int) -> bool:
    r = user.get("/api/v1/search", query_string={"q": "tuyen dung"})
    return r.status_code == 200 and any(h["id"] == doc_id for h in r.get_json()["hits"])


def test_worker_killed_mid_task_work_is_redone(fault_api, fault_container) -> None:  # type: ignore[no-untyped-def]
    import redis
    redis.Redis.from_url(fault_container.settings.broker_url).flushdb()
    clerk = fault_api.as_user("vanthu")
    first = start_worker(fault_container.settings, "--concurrency", "1")
    try:
        # A 4-page scan: OCR (about 0.5 s of CPU a page) keeps the worker busy for seconds; the loop below
        # catches it mid-task within 50 ms, and the assertion after the kill fails if it did not.
        doc = created(upload(clerk, file=scanned_pdf(pages=4), filename="ban-chup.pdf",
                             subject="Kế hoạch tuyển dụng công chức (bản chụp)"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            item = _outbox(fault_container, doc["id"])
            if item is not None and item.attempts >= 1 and item.done_at is None:
                break  # claimed by the worker, not finished: mid-task
            assert first.poll() is None, process_log(first)
            time.sleep(0.05)
        else:
            raise AssertionError(f"the worker never started the task: {process_log(first)}")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop_process(first)
    item = _outbox(fault_container, doc["id"])
    assert item.done_at is None, "the task finished before the kill: the test proved nothing"
    assert not _searchable(clerk, doc["id"])

    second = start_worker(fault_container.settings, "--concurrency", "1", "--beat")
    try:
        deadline = time.monotonic() + 90
        while not _searchable(clerk, doc["id"]):
            assert second.poll() is None, process_log(second)
            assert time.monotonic() < deadline, f"not indexed after the restart: {process_log(second)}"
            time.sleep(1)
    finally:
        stop_process(second)
    item = _outbox(fault_container, doc["id"])
    assert item.done_at is not None and item.attempts >= 2
