"""Transfer to the agency archive: due dates and alerts, the handover record, write-once storage
(compliance retention on every object, extend-only), archivists reading within their clearance."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest

from docsvc.domain.archives import Retention, add_years, lock_until
from docsvc.timeutil import vn_today
from tests.api.archive_support import (
    closed_dossier,
    files_of,
    issued_outgoing,
    open_dossier,
    raise_clearance,
    registered_incoming,
    transfer,
)
from tests.fixtures.pdfs import official_pdf
from tests.helpers import assert_error, created


def test_due_dates_alerts_and_handover_record(api, container) -> None:  # type: ignore[no-untyped-def]
    archivist = api.as_user("luutru")
    incoming = registered_incoming(api, 1)
    issued = issued_outgoing(api)
    d = closed_dossier(api, "01.VP", [incoming["id"], issued["id"]], retention_code="TC-20")
    due = date.fromisoformat(d["transfer_due_on"])
    assert due == add_years(vn_today(), 1)

    # Alerts: nothing 31 days ahead, once 30 days ahead (to the archive and the owner), once overdue.
    assert container.transfers.alert(today=due - timedelta(days=31)) == 0
    assert container.transfers.alert(today=due - timedelta(days=30)) == 1
    assert container.transfers.alert(today=due - timedelta(days=29)) == 0
    assert container.transfers.alert(today=due + timedelta(days=1)) == 1
    kinds = [n["kind"] for n in archivist.get("/api/v1/notifications").get_json()["items"]]
    assert {"archive.transfer_due", "archive.transfer_overdue"} <= set(kinds)
    assert [x["id"] for x in archivist.get("/api/v1/archive/transfers/due", query_string={"within_days": 400})
            .get_json()["items"]] == [d["id"]]
    assert archivist.get("/api/v1/archive/transfers/due").get_json()["items"] == []  # not within 30 days yet

    # Only the archive receives; dossiers kept less than 5 years stay with the unit.
    assert_error(api.as_user("vanthu").post("/api/v1/archive/transfers", json={"dossier_ids": [d["id"]]}), 403)
    short = closed_dossier(api, "02.VP", [registered_incoming(api, 2)["id"]], retention_code="TK-02")
    assert short["transfer_due_on"] is None
    assert "stay with the unit" in assert_error(
        archivist.post("/api/v1/archive/transfers", json={"dossier_ids": [short["id"]]}), 409)["message"]
    open_one = open_dossier(api, "03.VP")
    assert_error(archivist.post("/api/v1/archive/transfers", json={"dossier_ids": [open_one["id"]]}), 409)

    record = transfer(api, d["id"])
    assert record["number"] == f"01/BBGN-{vn_today().year}" and record["dossier_total"] == 1
    assert record["doc_total"] == 2 and record["received_by"]["full_name"] == "Đỗ Văn Bình"
    entry = record["dossiers"][0]
    assert entry["file_code"] == d["file_code"] and entry["maintenance"] == "20 năm"
    assert {doc["id"] for doc in entry["documents"]} == {incoming["id"], issued["id"]}
    shas = {f[2] for f in files_of(container, issued["id"])}
    assert next(doc for doc in entry["documents"] if doc["id"] == issued["id"])["content_sha256"] in shas
    assert record["locks"]["failed"] == 0 and record["locks"]["applied"] > 0
    assert archivist.get(f"/api/v1/archive/transfers/{record['id']}").get_json()["dossiers"][0]["file_code"] \
        == d["file_code"]
    assert [t["id"] for t in archivist.get("/api/v1/archive/transfers").get_json()["items"]] == [record["id"]]
    # Handover records name dossiers and digests: the archive, the registry and the leaders read them.
    assert_error(api.as_user("chuyenvien").get("/api/v1/archive/transfers"), 403)
    assert_error(api.as_user("chuyenvien").get(f"/api/v1/archive/transfers/{record['id']}"), 403)
    assert archivist.get(f"/api/v1/dossiers/{d['id']}").get_json()["status"] == "archived"
    assert_error(archivist.post("/api/v1/archive/transfers", json={"dossier_ids": [d["id"]]}), 409)  # once


def test_archived_records_are_write_once_in_storage_and_through_the_api(api, container) -> None:  # type: ignore[no-untyped-def]
    from storage.errors import RetentionError
    clerk, archivist, leader = api.as_user("vanthu"), api.as_user("luutru"), api.as_user("chutich")
    officer_id = api.as_user("chuyenvien").get("/api/v1/me").get_json()["id"]
    incoming = registered_incoming(api, 3)
    assert leader.post(f"/api/v1/documents/{incoming['id']}/assignments",
                       json={"lead": {"user_id": officer_id}, "deadline_days": 5}).status_code == 201
    issued = issued_outgoing(api)
    d = closed_dossier(api, "04.VP", [incoming["id"], issued["id"]], retention_code="KH-10")
    transfer(api, d["id"])
    expected = lock_until(Retention(10), vn_today())
    keys = [k for doc in (incoming, issued) for _, k, _ in files_of(container, doc["id"])]
    for key in keys:
        info = container.store.stat(key)
        assert info.retain_until is not None and abs((info.retain_until - expected).total_seconds()) < 2
        with pytest.raises(RetentionError):
            container.store.delete(key)

    # Every API path that would change an archived document answers 423 and changes nothing.
    version = clerk.post(f"/api/v1/documents/{incoming['id']}/versions",
                         data={"file": (io.BytesIO(official_pdf("Bản thay thế")), "thay-the.pdf")},
                         content_type="multipart/form-data")
    assert_error(version, 409, "invalid_state")  # registered documents get no new version anyway
    officer = api.as_user("chuyenvien")
    assert_error(officer.post(f"/api/v1/documents/{incoming['id']}/progress", json={"text": "đang làm"}), 423, "locked")
    assert_error(officer.post(f"/api/v1/documents/{incoming['id']}/complete", json={}), 423, "locked")
    assert_error(leader.post(f"/api/v1/documents/{issued['id']}/recall", json={"reason": "thử thu hồi"}), 423)
    assert_error(clerk.post(f"/api/v1/documents/{incoming['id']}/return", json={"reason": "x"}), 409)
    assert_error(clerk.delete(f"/api/v1/dossiers/{d['id']}/documents/{incoming['id']}"), 409)
    assert_error(archivist.post(f"/api/v1/dossiers/{d['id']}/reopen", json={"reason": "x"}), 409)
    assert_error(archivist.patch(f"/api/v1/dossiers/{d['id']}", json={"title": "x"}), 409)
    assert files_of(container, incoming["id"])  # still there
    assert clerk.get(f"/api/v1/documents/{incoming['id']}").get_json()["status"] == "assigned"
    # Reading stays allowed, and audited.
    assert clerk.get(f"/api/v1/documents/{issued['id']}/content").status_code == 200

    # Retention can only be extended; the storage lock follows.
    assert_error(archivist.post(f"/api/v1/dossiers/{d['id']}/extend-retention",
                                json={"retention_code": "CV-05", "reason": "rút ngắn"}), 400)
    assert_error(api.as_user("chuyenvien").post(f"/api/v1/dossiers/{d['id']}/extend-retention",
                                                json={"retention_code": "TC-20", "reason": "x"}), 403)
    r = archivist.post(f"/api/v1/dossiers/{d['id']}/extend-retention",
                       json={"retention_code": "TC-20", "reason": "Giá trị tham khảo lâu dài"})
    assert r.status_code == 200 and r.get_json()["maintenance"] == "20 năm" and r.get_json()["locks"]["failed"] == 0
    longer = lock_until(Retention(20), vn_today())
    for key in keys:
        assert abs((container.store.stat(key).retain_until - longer).total_seconds()) < 2
    r = archivist.post(f"/api/v1/dossiers/{d['id']}/extend-retention",
                       json={"retention_code": "VV-01", "reason": "Giá trị lịch sử"})
    assert r.status_code == 200 and r.get_json()["maintenance"] == "Vĩnh viễn"


def test_archivists_read_the_archive_within_their_clearance(api, container) -> None:  # type: ignore[no-untyped-def]
    archivist = api.as_user("luutru")  # cleared to Mật
    normal = registered_incoming(api, 4)
    secret = registered_incoming(api, 5, content=False, secrecy="mat",
                                 subject="Báo cáo mật về công tác quốc phòng địa phương")
    raise_clearance(api, "vanthu", "toi_mat")
    top = registered_incoming(api, 6, content=False, secrecy="toi_mat", subject="Kế hoạch tối mật")
    for doc in (normal, secret, top):
        assert_error(archivist.get(f"/api/v1/documents/{doc['id']}"), 404)  # not in the archive yet
    d1 = closed_dossier(api, "05.VP", [normal["id"], secret["id"]], retention_code="KH-10")
    assert d1["secrecy"] == "mat"
    assert archivist.get(f"/api/v1/documents/{normal['id']}").status_code == 200
    assert archivist.get(f"/api/v1/documents/{secret['id']}").status_code == 200
    # A Tối mật dossier: the Mật archivist neither sees it nor its document.
    leader = api.as_user("chutich")
    d2 = created(leader.post(f"/api/v1/dossier-plans/{d1['plan_id']}/dossiers",
                             json={"notation": "06.MAT", "title": "Hồ sơ tối mật", "retention_code": "KH-10",
                                   "secrecy": "toi_mat", "open": True}))
    created(leader.post(f"/api/v1/dossiers/{d2['id']}/documents", json={"document_id": top["id"]}))
    assert leader.post(f"/api/v1/dossiers/{d2['id']}/close", json={}).status_code == 200
    assert_error(archivist.get(f"/api/v1/documents/{top['id']}"), 404)
    assert_error(archivist.get(f"/api/v1/dossiers/{d2['id']}"), 404)
    container.indexing.drain_all()
    hits = archivist.get("/api/v1/search", query_string={"q": "kế hoạch tối mật"}).get_json()
    assert top["id"] not in [h["id"] for h in hits["hits"]]
