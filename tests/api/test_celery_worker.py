"""A real Celery worker on the Redis broker: indexing and delivery leave the web process and are
done by `docsvc worker` (real backends only; its own Redis database so no other worker steals
the messages)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import HAS_REAL_DB
from tests.helpers import created, process_log, start_worker, stop_process, upload

BROKER = os.environ.get("DOCSVC_BROKER_URL", "")
pytestmark = pytest.mark.skipif(not (HAS_REAL_DB and BROKER.startswith("redis://")),
                                reason="needs the real backends (scripts/services.sh env)")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"broker_url": BROKER.rsplit("/", 1)[0] + "/7"} if BROKER else {}


@pytest.fixture
def worker(container: Any, backend: str) -> Iterator[subprocess.Popen]:
    if backend != "real":
        pytest.skip("the worker test runs on the real backends")
    import redis
    redis.Redis.from_url(container.settings.broker_url).flushdb()
    proc = start_worker(container.settings, "--concurrency", "2")
    yield proc
    stop_process(proc)


def _eventually(check: Callable[[], bool], proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the worker exited: {process_log(proc)}")
        time.sleep(0.5)
    raise AssertionError("the worker did not do the work in time")


def test_worker_indexes_and_delivers(api, container, worker) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    doc = created(upload(clerk, subject="Công văn về việc kiểm tra hệ thống hàng đợi"))
    # The web process only queued the indexing: the worker makes the document searchable.
    _eventually(lambda: any(h["id"] == doc["id"] for h in clerk.get(
        "/api/v1/search", query_string={"q": "hang doi"}).get_json()["hits"]), worker)

    from tests.api.test_outgoing_issue import _org_id, _signed_draft
    signed = _signed_draft(api)
    snv = _org_id(api, "000.00.02.H41")
    r = clerk.post(f"/api/v1/documents/{signed['id']}/issue", json={"recipients": [{"agency_id": snv}]})
    assert r.status_code == 200, r.get_json()
    snv_clerk = api.as_user("snv.vanthu")
    _eventually(lambda: any(d["subject"] == signed["subject"] for d in snv_clerk.get(
        "/api/v1/documents", query_string={"direction": "incoming"}).get_json()["items"]), worker)
