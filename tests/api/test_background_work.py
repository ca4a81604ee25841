"""Hostile uploads and background work (issue 14 §6): uploads answer at once and extraction runs in
the background under limits; a file that fails too often is quarantined (visible to and released
by administrators), a lease is renewed while its work is alive, and Idempotency-Key makes a
retried upload return the first document. Real PDFs, real subprocesses, both backends."""

from __future__ import annotations

import io
import threading
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from docsvc.db.base import utcnow
from docsvc.db.models import AuditEvent, Document, OutboxItem
from docsvc.services.indexing import LOST_LEASE
from tests.fixtures.hostile import many_pages_pdf, text_bomb_pdf
from tests.fixtures.pdfs import official_pdf
from tests.helpers import assert_error, created, upload


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Low limits keep each test quick: a 2 MB text bomb needs ~4 s of CPU, the limit is 1 s.
    return {"extract_cpu_seconds": 1, "extract_max_pages": 20, "outbox_max_failures": 2}


def _items(container: Any, doc_id: int) -> list[OutboxItem]:
    with container.db.read() as s:
        return list(s.execute(select(OutboxItem).where(OutboxItem.key == str(doc_id)).order_by(OutboxItem.id))
                    .scalars())


def _make_due(container: Any) -> None:
    """Time passes: backed-off items become due (the test does not wait the 5 s backoff)."""
    with container.db.write() as s:
        s.execute(update(OutboxItem).where(OutboxItem.done_at.is_(None), OutboxItem.lease_token.is_(None))
                  .values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def _text_state(user: Any, doc_id: int) -> dict[str, Any]:
    return user.get(f"/api/v1/documents/{doc_id}").get_json()["text"]


def _found(user: Any, q: str) -> set[int]:
    return {int(h["id"]) for h in user.get("/api/v1/search", query_string={"q": q}).get_json()["hits"]}


def test_upload_answers_before_extraction_and_shows_processing(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    doc = created(upload(clerk, subject="Công văn về việc kiểm tra xử lý nền",
                         file=official_pdf("Nội dung riêng chuỗi nenchuaxuly")))
    assert _text_state(clerk, doc["id"]) == {"state": "processing", "reason": None}
    assert doc["id"] not in _found(clerk, "nenchuaxuly")  # the request did not extract the text
    report = container.indexing.drain_all()
    assert report.done >= 1 and report.failed == 0
    assert _text_state(clerk, doc["id"]) == {"state": "done", "reason": None}
    assert doc["id"] in _found(clerk, "nenchuaxuly")


def test_document_page_shows_processing(api, container, client) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import PageClient, page_text
    doc = created(upload(api.as_user("vanthu")))
    pages = PageClient(client)
    pages.login("vanthu", api.password)
    assert 'data-text-state="processing"' in pages.get(f"/documents/{doc['id']}").get_data(as_text=True)
    container.indexing.drain_all()
    assert "data-text-state" not in page_text(pages.get(f"/documents/{doc['id']}"))


def test_the_embedded_worker_drains_what_a_request_kicked(api, container) -> None:  # type: ignore[no-untyped-def]
    from docsvc.tasks.embedded import KICKS, EmbeddedWorker
    KICKS.take()  # kicks left by earlier tests of this process
    worker = EmbeddedWorker(periodic=False, tick=0.2)
    worker.start()
    try:
        clerk = api.as_user("vanthu")
        doc = created(upload(clerk, file=official_pdf("Chuỗi nenworker")))
        deadline = time.monotonic() + 20
        while _text_state(clerk, doc["id"])["state"] != "done" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _text_state(clerk, doc["id"])["state"] == "done"
        assert doc["id"] in _found(clerk, "nenworker")
    finally:
        worker.stop()
        worker.join(10)


def test_kicks_coalesce() -> None:
    from docsvc.tasks.embedded import KickBoard
    board = KickBoard()
    for _ in range(10):
        board.request("docsvc.drain_outbox")
    assert board.take() == ["docsvc.drain_outbox"] and board.take() == []


@pytest.mark.parametrize("settings_overrides", [{"extract_cpu_seconds": 2, "outbox_max_failures": 2}])
def test_a_bomb_is_quarantined_after_n_failures_without_blocking_a_normal_upload(  # type: ignore[no-untyped-def]
        api, container, settings_overrides) -> None:
    from docsvc.tasks.embedded import KICKS, EmbeddedWorker
    clerk = api.as_user("vanthu")
    KICKS.take()
    worker = EmbeddedWorker(periodic=False, tick=0.2)
    worker.start()
    try:
        bomb = created(upload(clerk, subject="Công văn bomnenchuoi", number_notation="16/QĐ-UBND",
                              file=text_bomb_pdf(2)))
        deadline = time.monotonic() + 10
        while not any(i.lease_token for i in _items(container, bomb["id"])) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert any(i.lease_token for i in _items(container, bomb["id"])), "the worker never took the bomb"
        started = time.monotonic()
        normal = created(upload(clerk, number_notation="17/QĐ-UBND", file=official_pdf("Chuỗi binhthuong")))
        took = time.monotonic() - started
        still_extracting = any(i.lease_token for i in _items(container, bomb["id"]))
    finally:
        worker.stop()
        worker.join(20)
    # the upload answered while the bomb was being extracted (~2 s of CPU), without waiting for it
    assert still_extracting and took < 1.5, took
    assert _text_state(clerk, normal["id"])["state"] in ("processing", "done")
    container.indexing.drain_all()
    for _ in range(3):  # retried until the limit of failures, then never again
        _make_due(container)
        container.indexing.drain_all()
    [item] = [i for i in _items(container, bomb["id"]) if i.done_at is None]
    assert item.quarantined_at is not None and item.failures == 2 and "CPU time" in item.last_error
    with container.db.read() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "outbox.quarantine")).scalar_one()
        assert event.details["document_id"] == bomb["id"] and "CPU time" in event.details["reason"]
    state = _text_state(clerk, bomb["id"])
    assert state["state"] == "quarantined" and "CPU time" in state["reason"]
    assert _text_state(clerk, normal["id"])["state"] == "done" and normal["id"] in _found(clerk, "binhthuong")
    assert bomb["id"] in _found(clerk, "bomnenchuoi")  # still findable by its details
    _make_due(container)
    assert container.indexing.drain_all().failed == 0  # quarantined: not tried again


def test_administrators_list_and_release_quarantined_work(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk, admin = api.as_user("vanthu"), api.as_user("quantri")
    doc = created(upload(clerk, file=many_pages_pdf(25)))  # the page limit is 20
    for _ in range(2):
        _make_due(container)
        container.indexing.drain_all()
    listed = admin.get("/api/v1/admin/quarantine").get_json()["items"]
    [entry] = [e for e in listed if e["document_id"] == doc["id"]]
    assert entry["failures"] == 2 and "25 pages; the limit is 20" in entry["reason"] and "subject" not in entry
    assert_error(clerk.get("/api/v1/admin/quarantine"), 403, "forbidden")
    assert_error(clerk.post(f"/api/v1/admin/quarantine/{entry['id']}/release"), 403, "forbidden")
    assert [e for e in api.as_user("tinh.quantri").get("/api/v1/admin/quarantine").get_json()["items"]
            if e["id"] == entry["id"]], "the province's administrator sees its communes' work"
    assert not [e for e in api.as_user("snv.vanthu").get("/api/v1/documents").get_json()["items"]
                if e["id"] == doc["id"]]
    released = admin.post(f"/api/v1/admin/quarantine/{entry['id']}/release")
    assert released.status_code == 200 and released.get_json()["failures"] == 0
    assert _text_state(clerk, doc["id"])["state"] == "processing"
    with container.db.read() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "outbox.release")).scalar_one()
        assert event.object_id == str(entry["id"]) and "25 pages" in event.details["reason"]
    assert_error(admin.post(f"/api/v1/admin/quarantine/{entry['id']}/release"), 404, "not_found")
    container.indexing.drain_all()  # tried again: fails once more, counted from zero
    [item] = [i for i in _items(container, doc["id"]) if i.done_at is None]
    assert item.failures == 1 and item.quarantined_at is None


def test_an_edit_of_a_quarantined_document_is_indexed_without_extracting_again_a_new_version_is(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    doc = created(upload(clerk, file=many_pages_pdf(25)))
    for _ in range(2):
        _make_due(container)
        container.indexing.drain_all()
    from docsvc.services import outbox
    with container.db.write() as s:  # a change of the document queues new index work
        outbox.index_document(s, doc["id"])
    report = container.indexing.drain_all()
    assert report.done == 1 and report.failed == 0
    assert _text_state(clerk, doc["id"])["state"] == "quarantined"
    # a new version is another file: it is extracted, and the quarantine of the old one is closed
    r = clerk.post(f"/api/v1/documents/{doc['id']}/versions", content_type="multipart/form-data",
                   data={"file": (io.BytesIO(official_pdf("Chuỗi banmoi")), "ban-moi.pdf")})
    assert r.status_code == 201, r.get_json()
    assert container.indexing.drain_all().failed == 0
    assert _text_state(clerk, doc["id"])["state"] == "done" and doc["id"] in _found(clerk, "banmoi")
    assert not api.as_user("quantri").get("/api/v1/admin/quarantine").get_json()["items"]


@pytest.mark.parametrize("settings_overrides", [{"outbox_lease_seconds": 1, "extract_cpu_seconds": 3}])
def test_the_lease_is_renewed_while_the_work_is_alive(api, container, settings_overrides) -> None:  # type: ignore[no-untyped-def]
    doc = created(upload(api.as_user("vanthu"), file=text_bomb_pdf(2)))  # ~3 s of extraction
    first = threading.Thread(target=container.indexing.drain_all)
    first.start()
    deadline = time.monotonic() + 10
    while not any(i.lease_token for i in _items(container, doc["id"])) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(1.8)  # past the 1 s lease: only the heartbeat keeps the item
    second = container.indexing.drain(10)
    still_running = first.is_alive()
    first.join(30)
    assert still_running, "the extraction ended before the lease would have run out"
    assert second.done == second.failed == 0, "a second worker took an item whose work was alive"
    [item] = _items(container, doc["id"])
    assert item.attempts == 1


def test_a_lost_lease_counts_as_a_failure_and_quarantines(api, container) -> None:  # type: ignore[no-untyped-def]
    doc = created(upload(api.as_user("vanthu")))
    for n in range(2):  # a worker took the item and died (its lease ran out, it never finished)
        with container.db.write() as s:
            s.execute(update(OutboxItem).where(OutboxItem.key == str(doc["id"])).values(
                lease_token=f"dead-worker-{n}", next_attempt_at=utcnow() - timedelta(seconds=1)))
        report = container.indexing.drain_all()
        if n == 0:
            assert report.done == 1  # the next worker finishes it and counts the loss
            with container.db.write() as s:
                s.execute(update(OutboxItem).where(OutboxItem.key == str(doc["id"])).values(done_at=None))
    [item] = _items(container, doc["id"])
    assert item.quarantined_at is not None and item.failures == 2 and item.last_error == LOST_LEASE
    with container.db.read() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "outbox.quarantine")).scalar_one()
        assert event.object_id == str(item.id) and event.details["document_id"] == doc["id"]
        assert event.outcome == "failed" and event.actor_name == "system"


def _documents(container: Any) -> int:
    with container.db.read() as s:
        return len(s.execute(select(Document.id)).all())


def test_a_retried_upload_with_the_same_idempotency_key_returns_the_first_document(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    key = {"Idempotency-Key": "upload-2026-12-07-0001"}
    before = _documents(container)
    pdf = official_pdf("Chuỗi idem")
    first = upload(clerk, file=pdf, headers=key)
    again = upload(clerk, file=pdf, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert _documents(container) == before + 1
    other = assert_error(upload(clerk, file=pdf, subject="Một trích yếu khác", headers=key),
                         422, "idempotency_key_reused")
    assert "different request" in other["message"]
    changed_file = upload(clerk, file=official_pdf("Nội dung khác"), headers=key)
    assert_error(changed_file, 422, "idempotency_key_reused")
    # the same key of another user is another request
    assert created(upload(api.as_user("snv.vanthu"), file=pdf, headers=key))["id"] \
        != first.get_json()["id"]
    assert _documents(container) == before + 2


def test_idempotency_keys_expire_and_refused_requests_release_theirs(api, container) -> None:  # type: ignore[no-untyped-def]
    from docsvc.db.models import IdempotencyRecord
    clerk = api.as_user("vanthu")
    key = {"Idempotency-Key": "k-expire"}
    assert_error(upload(clerk, type="XX", headers=key), 400)  # refused: the key is not kept
    first = created(upload(clerk, headers=key))
    with container.db.write() as s:
        s.execute(update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert created(upload(clerk, headers=key))["id"] != first["id"]
    assert container.idempotency.sweep() == 0  # the expired record was replaced by the new one
    assert_error(upload(clerk, headers={"Idempotency-Key": "ключ"}), 400, "invalid_input")
    assert_error(upload(clerk, headers={"Idempotency-Key": "k" * 201}), 400, "invalid_input")


def test_racing_retries_create_one_document(api, container) -> None:  # type: ignore[no-untyped-def]
    headers = {**api.headers("vanthu"), "Idempotency-Key": "race-1"}
    before = _documents(container)
    statuses: list[int] = []
    ids: set[int] = set()
    pdf = official_pdf("Chuỗi race")

    def send() -> None:
        from docsvc.web.app import create_app
        client = create_app(container=container).test_client()
        r = upload(client, file=pdf, headers=headers)
        statuses.append(r.status_code)
        if r.status_code == 201:
            ids.add(r.get_json()["id"])

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert _documents(container) == before + 1
    assert len(ids) == 1 and set(statuses) <= {201, 409} and 201 in statuses


def test_openapi_documents_the_idempotency_key(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").get_json()
    params = spec["paths"]["/api/v1/documents"]["post"]["parameters"]
    assert [(p["name"], p["in"]) for p in params] == [("Idempotency-Key", "header")]
    assert "422" in spec["paths"]["/api/v1/documents"]["post"]["responses"]


def test_the_quarantine_page_lists_and_releases(api, container, client) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import PageClient, page_text
    doc = created(upload(api.as_user("vanthu"), file=many_pages_pdf(25)))
    for _ in range(2):
        _make_due(container)
        container.indexing.drain_all()
    [item] = [i for i in _items(container, doc["id"]) if i.quarantined_at is not None]
    clerk_page = PageClient(client)
    clerk_page.login("vanthu", api.password)
    assert 'data-text-state="quarantined"' in clerk_page.get(f"/documents/{doc['id']}").get_data(as_text=True)
    assert clerk_page.get("/admin/quarantine").status_code == 403
    admin = PageClient(client.application.test_client())
    admin.login("quantri", api.password)
    listed = admin.get("/admin/quarantine").get_data(as_text=True)
    assert f'data-quarantine="{item.id}"' in listed and "25 pages; the limit is 20" in listed
    r = admin.post(f"/admin/quarantine/{item.id}/release")
    assert r.status_code == 303
    assert f'data-quarantine="{item.id}"' not in admin.get("/admin/quarantine").get_data(as_text=True)
    assert "Không có công việc nào bị cách ly" in page_text(admin.get("/admin/quarantine"))


def test_docsvc_serve_extracts_in_its_background_thread(settings, container, demo) -> None:  # type: ignore[no-untyped-def]
    """The real server (gunicorn, embedded mode): the upload answers at once, the server's own
    background thread extracts the text, no test code drains anything."""
    import socket
    import subprocess
    import sys

    import requests

    from tests.helpers import settings_env, stop_process
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    embedded = replace(settings, broker_url="")  # no broker (the real databases, store and index if set)
    server = subprocess.Popen([sys.executable, "-m", "docsvc", "serve", "--port", str(port), "--threads", "2"],
                              env=settings_env(embedded), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                r = requests.post(f"{base}/auth/token", json={"username": "vanthu", "password": demo.password},
                                  timeout=30)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, "docsvc serve did not start"
                time.sleep(0.2)
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        form = {"direction": "incoming", "type": "QĐ", "subject": "Công văn chạy nền", "number_notation": "15/QĐ-UBND",
                "issuing_body": "UBND tỉnh Lạng Sơn", "issued_date": "2026-11-20", "received_via": "paper"}
        r = requests.post(f"{base}/documents", data=form, headers=auth, timeout=30,
                          files={"file": ("van-ban.pdf", official_pdf("Chuỗi maychunen"), "application/pdf")})
        assert r.status_code == 201, r.text
        doc_id = r.json()["id"]
        deadline = time.monotonic() + 90  # generous: CI machines are shared
        while requests.get(f"{base}/documents/{doc_id}", headers=auth, timeout=30).json()["text"]["state"] != "done":
            assert time.monotonic() < deadline, "the server's background thread did not extract the text"
            time.sleep(0.2)
        # the text is kept first, then the same drain writes the index (Elasticsearch shows it after a refresh)
        while not (hits := requests.get(f"{base}/search", params={"q": "maychunen"}, headers=auth,
                                        timeout=30).json()["hits"]):
            assert time.monotonic() < deadline, "the extracted text never reached the search index"
            time.sleep(0.2)
        assert [int(h["id"]) for h in hits] == [doc_id]
    finally:
        stop_process(server)
