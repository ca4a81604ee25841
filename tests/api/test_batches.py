"""Batch receiving (metadata read from the document, review, register many), batch assign, sign
(PIN once) and issue: per-item results, one failure leaves the others done, audit per document."""

from __future__ import annotations

import io
import random
import zipfile
from typing import Any

from tests.fixtures.intake_docs import born_digital
from tests.helpers import PIN, assert_error, created, me, signed_draft, upload


def _docs(n: int, seed: int = 7) -> list[tuple[bytes, dict[str, Any]]]:
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        data, truth = born_digital(rng, len(out))
        if truth["secrecy"] == 0:  # a connected deployment keeps secret content offline
            out.append((data, truth))
    return out


def _intake(clerk: Any, files: list[tuple[bytes, str]]) -> dict[str, Any]:
    r = clerk.post("/api/v1/batches/intake", data={"files": [(io.BytesIO(b), n) for b, n in files]},
                   content_type="multipart/form-data")
    assert r.status_code == 202, r.get_data(as_text=True)[:800]
    return r.get_json()


def _finish(container: Any, user: Any, batch_id: int) -> dict[str, Any]:
    container.run_batches()
    container.batches.wait(batch_id)
    return user.get(f"/api/v1/batches/{batch_id}").get_json()


def _row(item: dict[str, Any], **changes: Any) -> dict[str, Any]:
    f = item["fields"]
    row = {"item_id": item["id"], "type": f["type"], "subject": f["subject"], "number_notation": f["number_notation"],
           "issuing_body": f["issuing_body"], "issued_date": f["issued_date"],
           "urgency": ["normal", "khan", "thuong_khan", "hoa_toc"][f["urgency"]],
           "signer_name": f["signer_name"], "signer_position": f["signer_position"]}
    row.update(changes)
    return row


def test_receive_many_read_review_register(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    docs = _docs(3)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("thu-muc/ba.pdf", docs[2][0])
        z.writestr("ghi-chu.txt", b"not a document")
    batch = _intake(clerk, [(docs[0][0], "mot.pdf"), (docs[1][0], "hai.pdf"), (b"not a pdf at all", "hong.pdf"),
                            (docs[0][0], "mot-ban-sao.pdf"), (archive.getvalue(), "lo.zip")])
    assert batch["kind"] == "intake" and batch["total"] == 5 and batch["state"] == "pending"
    view = _finish(container, clerk, batch["id"])
    assert view["state"] == "done" and view["progress"] == 100 and view["failed"] == 1
    rows = {i["input"]["filename"]: i for i in view["items"]}
    assert rows["hong.pdf"]["state"] == "failed" and rows["hong.pdf"]["error"]["message"]
    for name, (_, truth) in (("mot.pdf", docs[0]), ("hai.pdf", docs[1]), ("ba.pdf", docs[2])):
        assert rows[name]["state"] == "done"
        for field in ("number_notation", "issued_date", "issuing_body", "type", "subject", "signer_name"):
            assert rows[name]["fields"][field] == truth[field], (name, field)
    # The same bytes twice in one batch: the second row says so.
    assert [p["code"] for p in rows["mot-ban-sao.pdf"]["problems"]][:1] == ["same_file_in_batch"]
    # Another user of the agency does not follow this clerk's batch.
    assert_error(api.as_user("chutich").get(f"/api/v1/batches/{batch['id']}"), 403)
    assert_error(clerk.post(f"/api/v1/batches/{batch['id']}/register", json={"rows": [
        {**_row(rows["hai.pdf"]), "item_id": rows["hong.pdf"]["id"]}]}), 400)

    reg = clerk.post(f"/api/v1/batches/{batch['id']}/register", json={"rows": [
        _row(rows["mot.pdf"]), _row(rows["hai.pdf"], subject="Trích yếu sửa tay"), _row(rows["ba.pdf"])]})
    assert reg.status_code == 202, reg.get_json()
    done = _finish(container, clerk, reg.get_json()["id"])
    assert done["done"] == 3 and done["failed"] == 0, done["items"]
    numbers = [i["result"]["arrival_number"] for i in done["items"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    second = clerk.get(f"/api/v1/documents/{done['items'][1]['document_id']}").get_json()
    assert second["subject"] == "Trích yếu sửa tay" and second["status"] == "registered"
    events = [e["action"] for e in clerk.get(f"/api/v1/documents/{second['id']}/history").get_json()["items"]]
    assert "document.create" in events and "document.register" in events
    # What was read for the metadata is the document's text: the index does not extract it again.
    from sqlalchemy import select

    from docsvc.db.models import DocumentFile
    with container.db.read() as s:
        roles = set(s.execute(select(DocumentFile.role).where(DocumentFile.document_id == second["id"])).scalars())
    assert roles == {"main", "text"}
    container.indexing.drain_all()
    hits = clerk.get("/api/v1/search", query_string={"q": "Trích yếu sửa tay"}).get_json()["hits"]
    assert [h["id"] for h in hits] == [second["id"]]

    # Received again: the row names the registered document, by bytes and by number.
    again = _finish(container, clerk, _intake(clerk, [(docs[0][0], "lai.pdf")])["id"])
    codes = {p["code"] for p in again["items"][0]["problems"]}
    assert {"same_file", "possible_duplicate"} <= codes
    assert any("đã vào sổ văn bản đến số" in p["message"] for p in again["items"][0]["problems"])
    # Registering the duplicate without confirming fails that row with the reason, and the
    # document stays received; confirming registers the same document (never a second one).
    first = clerk.post(f"/api/v1/batches/{again['id']}/register", json={"rows": [_row(again["items"][0])]})
    failed = _finish(container, clerk, first.get_json()["id"])
    assert failed["failed"] == 1 and failed["items"][0]["error"]["code"] == "conflict"
    kept = clerk.get(f"/api/v1/batches/{again['id']}").get_json()["items"][0]["document_id"]
    assert clerk.get(f"/api/v1/documents/{kept}").get_json()["status"] == "received"
    retry = clerk.post(f"/api/v1/batches/{again['id']}/register",
                       json={"rows": [_row(again["items"][0], confirm_duplicate=True)]})
    ok = _finish(container, clerk, retry.get_json()["id"])
    assert ok["done"] == 1 and ok["items"][0]["document_id"] == kept


def test_only_the_registry_receives_many_and_waits_for_reading(api, container) -> None:  # type: ignore[no-untyped-def]
    data = _docs(1)[0][0]
    r = api.as_user("chutich").post("/api/v1/batches/intake", data={"files": [(io.BytesIO(data), "a.pdf")]},
                                    content_type="multipart/form-data")
    assert_error(r, 403)
    assert_error(api.as_user("vanthu").post("/api/v1/batches/intake", data={},
                                            content_type="multipart/form-data"), 400)
    clerk = api.as_user("vanthu")
    batch = _intake(clerk, [(data, "a.pdf")])
    err = assert_error(clerk.post(f"/api/v1/batches/{batch['id']}/register", json={"rows": [
        {"item_id": batch["items"][0]["id"], "type": "QĐ", "subject": "x"}]}), 409)
    assert err["details"]["reason"] == "batch_running"


def test_assign_many_one_instruction_and_a_failure_says_why(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk, leader = api.as_user("vanthu"), api.as_user("chutich")
    docs = [created(upload(clerk, number_notation=f"{20 + i}/QĐ-UBND")) for i in range(3)]
    for d in docs[:2]:
        assert clerk.post(f"/api/v1/documents/{d['id']}/register", json={}).status_code == 200
    officer = me(api, "chuyenvien")["id"]
    body = {"document_ids": [d["id"] for d in docs],
            "assignment": {"lead": {"user_id": officer}, "deadline_days": 3, "instruction": "Xử lý ngay"}}
    assert_error(api.as_user("vanthu").post("/api/v1/batches/assign", json=body), 403)
    r = leader.post("/api/v1/batches/assign", json=body)
    assert r.status_code == 202, r.get_json()
    view = _finish(container, leader, r.get_json()["id"])
    assert [i["state"] for i in view["items"]] == ["done", "done", "failed"]
    assert view["items"][2]["error"]["code"] == "not_found"  # the leader cannot see an unregistered document
    for d in docs[:2]:
        handling = leader.get(f"/api/v1/documents/{d['id']}/handling").get_json()
        assert handling["assignments"][0]["instruction"] == "Xử lý ngay"
    assert_error(leader.post("/api/v1/batches/assign", json={"document_ids": [1, 1], "assignment": body["assignment"]}),
                 400)


def test_sign_many_pin_once_and_issue_many_in_order(api, container) -> None:  # type: ignore[no-untyped-def]
    from tests.fixtures.pdfs import official_pdf
    officer, head, leader, clerk = (api.as_user(u) for u in ("chuyenvien", "truongphong", "chutich", "vanthu"))
    signed_draft(api)  # enrols the leader's key
    chairman = me(api, "chutich")["id"]
    drafts = []
    for i in range(3):
        subject = f"Quyết định số {i} về việc giao chỉ tiêu năm 2026"
        d = created(upload(officer, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, subject=subject,
                           file=official_pdf(subject)))
        assert officer.post(f"/api/v1/documents/{d['id']}/submit", json={"signer_id": chairman}).status_code == 200
        if i < 2:  # the third is still with the unit head: not the leader's to sign
            assert head.post(f"/api/v1/documents/{d['id']}/approve", json={}).status_code == 200
        drafts.append(d)
    ids = [d["id"] for d in drafts]
    assert_error(leader.post("/api/v1/batches/sign", json={"document_ids": ids, "pin": "wrong-pin"}), 403)
    r = leader.post("/api/v1/batches/sign", json={"document_ids": ids, "pin": PIN})
    assert r.status_code == 202, r.get_json()
    assert PIN not in r.get_data(as_text=True)  # the PIN is never written into the batch
    view = _finish(container, leader, r.get_json()["id"])
    assert [i["state"] for i in view["items"]] == ["done", "done", "failed"], view["items"]
    assert view["items"][2]["error"]["message"]
    for d in drafts[:2]:
        events = [e["action"] for e in leader.get(f"/api/v1/documents/{d['id']}/history").get_json()["items"]]
        assert events.count("document.sign") == 1

    r = clerk.post("/api/v1/batches/issue", json={"document_ids": [ids[1], ids[0]],
                                                  "recipients": [{"name": "Các thôn"}]})
    assert r.status_code == 202, r.get_json()
    issued = _finish(container, clerk, r.get_json()["id"])
    assert [i["state"] for i in issued["items"]] == ["done", "done"], issued["items"]
    first, second = (int(i["result"]["number_notation"].split("/")[0]) for i in issued["items"])
    assert second == first + 1  # numbers in the order shown


def test_a_signed_pdf_gives_its_signer_from_the_certificate(api, container) -> None:  # type: ignore[no-untyped-def]
    signed = signed_draft(api)
    content = api.as_user("chutich").get(f"/api/v1/documents/{signed['id']}/content")
    assert content.status_code == 200
    clerk = api.as_user("vanthu")
    view = _finish(container, clerk, _intake(clerk, [(content.data, "da-ky.pdf")])["id"])
    item = view["items"][0]
    assert item["state"] == "done", item
    assert [s["signer"] for s in item["result"]["signatures"]] == ["Hoàng Văn Nam"]
    assert item["fields"]["signer_name"] == "Hoàng Văn Nam"
    assert item["result"]["confidence"]["signer_name"] == 0.99  # from the certificate, not the page


def test_the_orphan_sweep_keeps_files_waiting_for_review(api, container) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta
    clerk = api.as_user("vanthu")
    view = _finish(container, clerk, _intake(clerk, [(_docs(1)[0][0], "cho-duyet.pdf")])["id"])
    key = view["items"][0]["input"]["object_key"]
    container.sweep_orphans(grace=timedelta(0))
    assert container.store.exists(key)  # no document references it yet: its batch does


def test_an_interrupted_batch_ends_with_a_reason(api, container) -> None:  # type: ignore[no-untyped-def]
    """A batch signature whose PIN-holding process stopped (simulated: its secret is forgotten)."""
    from datetime import timedelta

    from sqlalchemy import update

    from docsvc.db.models import Batch
    leader = api.as_user("chutich")
    signed_draft(api)  # enrols the key
    batch = container.batches.start(container.identity.actor_for(me(api, "chutich")["id"]), "sign",
                                    [{"document_id": 1}], params={"needs_secret": True})
    from docsvc.db.base import utcnow
    with container.db.write() as s:
        s.execute(update(Batch).where(Batch.id == batch["id"]).values(created_at=utcnow() - timedelta(hours=1)))
    container.run_batches()
    view = leader.get(f"/api/v1/batches/{batch['id']}").get_json()
    assert view["state"] == "done" and view["failed"] == 1
    assert view["items"][0]["error"]["code"] == "interrupted"


def test_unknown_document_ids_fail_as_items_like_hidden_ones(api, container) -> None:  # type: ignore[no-untyped-def]
    """An id that names no document is accepted like one the caller may not read (existence is not
    revealed) and its item fails with "not found" (found by schemathesis: it was a 500)."""
    clerk = api.as_user("vanthu")
    r = clerk.post("/api/v1/batches/issue", json={"document_ids": [0, 999999], "recipients": [{}]})
    assert r.status_code == 202, r.get_json()
    container.batches.run_pending()
    batch = clerk.get(f"/api/v1/batches/{r.get_json()['id']}").get_json()
    assert batch["state"] == "done" and batch["failed"] == 2
    assert [i["error"]["code"] for i in batch["items"]] == ["not_found", "not_found"]
