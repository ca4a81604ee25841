"""Legal holds (who, why; block every change and every disposal path until released) and disposal
(nightly listing → appraisal council → head's decision → destruction with a record; metadata kept)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.api.archive_support import (
    close,
    closed_dossier,
    file_into,
    files_of,
    open_dossier,
    raise_clearance,
    registered_incoming,
    transfer,
)
from tests.helpers import assert_error, created, me

COUNCIL = ["Hoàng Văn Nam - Chủ tịch Hội đồng", "Đỗ Văn Bình - Lưu trữ", "Lê Thị Hoa - Trưởng phòng"]


def test_legal_hold_freezes_a_document_in_the_database_and_in_storage(api, container) -> None:  # type: ignore[no-untyped-def]
    from storage.errors import LegalHoldError
    leader, officer = api.as_user("chutich"), api.as_user("chuyenvien")
    doc = registered_incoming(api, 1)
    assert leader.post(f"/api/v1/documents/{doc['id']}/assignments",
                       json={"lead": {"user_id": me(api, "chuyenvien")["id"]}}).status_code == 201
    assert_error(officer.post("/api/v1/legal-holds", json={"document_id": doc["id"], "reason": "x"}), 403)
    assert_error(leader.post("/api/v1/legal-holds", json={"document_id": doc["id"]}), 400)
    assert_error(leader.post("/api/v1/legal-holds", json={"reason": "x"}), 400)
    assert_error(leader.post("/api/v1/legal-holds", json={"document_id": 999999, "reason": "x"}), 404)
    # The archive cannot hold what it may not read (not in the archive yet): not revealed.
    assert_error(api.as_user("luutru").post("/api/v1/legal-holds", json={"document_id": doc["id"], "reason": "x"}), 404)

    hold = created(leader.post("/api/v1/legal-holds", json={"document_id": doc["id"],
                                                             "reason": "Phục vụ thanh tra vụ việc đất đai"}))
    assert hold["active"] and hold["placed_by"]["full_name"] == "Hoàng Văn Nam" and hold["locks"]["failed"] == 0
    assert_error(leader.post("/api/v1/legal-holds", json={"document_id": doc["id"], "reason": "again"}), 409)
    keys = [k for _, k, _ in files_of(container, doc["id"])]
    for key in keys:
        assert container.store.stat(key).legal_hold
        with pytest.raises(LegalHoldError):
            container.store.delete(key)
    assert_error(officer.post(f"/api/v1/documents/{doc['id']}/progress", json={"text": "x"}), 423, "locked")
    assert [h["id"] for h in leader.get("/api/v1/legal-holds").get_json()["items"]] == [hold["id"]]
    assert_error(officer.get("/api/v1/legal-holds"), 403)

    assert_error(leader.post(f"/api/v1/legal-holds/{hold['id']}/release", json={}), 400)
    released = leader.post(f"/api/v1/legal-holds/{hold['id']}/release", json={"reason": "Thanh tra đã kết thúc"})
    assert released.status_code == 200 and not released.get_json()["active"]
    assert_error(leader.post(f"/api/v1/legal-holds/{hold['id']}/release", json={"reason": "again"}), 409)
    for key in keys:
        assert not container.store.stat(key).legal_hold
    assert officer.post(f"/api/v1/documents/{doc['id']}/progress", json={"text": "tiếp tục"}).status_code == 201
    assert leader.get("/api/v1/legal-holds").get_json()["items"] == []
    assert len(leader.get("/api/v1/legal-holds", query_string={"active": "false"}).get_json()["items"]) == 1


def _expired(api, notation: str, n: int, retention: str = "CV-05", ended: date = date(2010, 6, 30)):  # type: ignore[no-untyped-def]
    """A closed dossier whose work ended long ago, so its retention has run out."""
    return closed_dossier(api, notation, [registered_incoming(api, n)["id"]], retention_code=retention,
                          work_ended_on=ended)


def test_disposal_lists_review_decide_destroy_and_keep_metadata(api, container) -> None:  # type: ignore[no-untyped-def]
    archivist, leader, clerk = api.as_user("luutru"), api.as_user("chutich"), api.as_user("vanthu")
    a = _expired(api, "01.CV", 1)
    transfer(api, a["id"])  # archived (its lock ran out with its retention)
    held = _expired(api, "02.CV", 2, retention="TK-02")
    permanent = _expired(api, "03.VV", 3, retention="VV-01", ended=date(2000, 1, 15))
    recent = closed_dossier(api, "04.KH", [registered_incoming(api, 4)["id"]], retention_code="KH-10")
    shared_doc = registered_incoming(api, 5)
    d = closed_dossier(api, "05.CV", [shared_doc["id"]], retention_code="CV-05", work_ended_on=date(2011, 3, 1))
    keeper = open_dossier(api, "06.KH", retention_code="KH-10")
    file_into(api, keeper["id"], shared_doc["id"])  # the same document also lives in a dossier still kept
    created(leader.post("/api/v1/legal-holds", json={"dossier_id": held["id"], "reason": "Khiếu nại đang giải quyết"}))

    # The nightly listing: expired, not held, not permanent.
    assert_error(clerk.post("/api/v1/disposal-lists"), 403)
    listing = container.disposal.propose()
    assert len(listing) == 1 and listing[0]["added"] == 2
    assert container.disposal.propose() == []  # idempotent
    lists = archivist.get("/api/v1/disposal-lists").get_json()["items"]
    assert len(lists) == 1 and lists[0]["status"] == "proposed" and lists[0]["item_total"] == 2
    lid = lists[0]["id"]
    got = archivist.get(f"/api/v1/disposal-lists/{lid}").get_json()
    assert {i["dossier"]["id"] for i in got["items"]} == {a["id"], d["id"]}
    assert {held["id"], permanent["id"], recent["id"]}.isdisjoint({i["dossier"]["id"] for i in got["items"]})
    notes = archivist.get("/api/v1/notifications").get_json()["items"]
    assert any(n["kind"] == "archive.disposal_listed" for n in notes)

    # Order: council review (≥ 3 members) → head's decision → destruction.
    early = assert_error(leader.post(f"/api/v1/disposal-lists/{lid}/decide",
                                     json={"approve": True, "decision_ref": "1/QĐ"}), 409)
    assert "council reviews the list before" in early["message"]
    assert_error(archivist.post(f"/api/v1/disposal-lists/{lid}/destroy"), 409)
    assert_error(archivist.post(f"/api/v1/disposal-lists/{lid}/review",
                                json={"opinion": "x", "members": ["a", "b"]}), 400)
    r = archivist.post(f"/api/v1/disposal-lists/{lid}/review", json={"opinion": "Hết giá trị, đề nghị hủy",
                                                                     "members": COUNCIL})
    assert r.status_code == 200 and r.get_json()["status"] == "reviewed"
    assert_error(archivist.post(f"/api/v1/disposal-lists/{lid}/decide",
                                json={"approve": True, "decision_ref": "x"}), 403)
    assert_error(leader.post(f"/api/v1/disposal-lists/{lid}/decide", json={"approve": True}), 400)  # decision number
    r = leader.post(f"/api/v1/disposal-lists/{lid}/decide", json={"approve": True, "decision_ref": "25/QĐ-UBND"})
    assert r.status_code == 200 and r.get_json()["status"] == "approved"

    # A hold placed after the decision still wins.
    created(leader.post("/api/v1/legal-holds", json={"dossier_id": d["id"], "reason": "Yêu cầu của cơ quan điều tra"}))
    a_doc = archivist.get(f"/api/v1/dossiers/{a['id']}").get_json()["documents"][0]
    a_keys = [k for _, k, _ in files_of(container, a_doc["id"])]
    assert a_keys and all(container.store.exists(k) for k in a_keys)
    done = archivist.post(f"/api/v1/disposal-lists/{lid}/destroy")
    assert done.status_code == 200, done.get_json()
    result = done.get_json()
    assert result["status"] == "destroyed" and result["objects"]["left_for_sweep"] == 0
    decisions = {i["dossier"]["id"]: i["decision"] for i in result["items"]}
    assert decisions == {a["id"]: "destroyed", d["id"]: "withheld"}
    record = result["destruction_record"]
    assert record["decision_ref"] == "25/QĐ-UBND" and record["council_members"] == COUNCIL
    assert [x["file_code"] for x in record["dossiers"]] == [a["file_code"]]
    assert record["dossiers"][0]["documents"][0]["files"][0]["sha256"]

    # Content gone from storage; metadata kept and readable by the archive; downloads say why.
    assert not any(container.store.exists(k) for k in a_keys) and files_of(container, a_doc["id"]) == []
    kept = archivist.get(f"/api/v1/documents/{a_doc['id']}").get_json()
    assert kept["subject"] and kept["content_destroyed_at"]
    assert_error(archivist.get(f"/api/v1/documents/{a_doc['id']}/content"), 410, "content_destroyed")
    dossier = archivist.get(f"/api/v1/dossiers/{a['id']}").get_json()
    assert dossier["status"] == "destroyed" and dossier["doc_total"] == 1 and dossier["destroyed_at"]
    # Withheld, held dossier untouched.
    assert files_of(container, shared_doc["id"])
    actions = {e["action"] for e in archivist.get(f"/api/v1/documents/{a_doc['id']}/history").get_json()["items"]}
    assert "document.register" in actions


def test_destroying_a_dossier_keeps_content_another_dossier_still_holds(api, container) -> None:  # type: ignore[no-untyped-def]
    archivist, leader = api.as_user("luutru"), api.as_user("chutich")
    shared = registered_incoming(api, 1)
    own = registered_incoming(api, 2)
    d = closed_dossier(api, "01.CV", [shared["id"], own["id"]], retention_code="CV-05", work_ended_on=date(2012, 5, 2))
    keeper = open_dossier(api, "02.KH", retention_code="KH-10")
    file_into(api, keeper["id"], shared["id"])
    lid = container.disposal.propose()[0]["list_id"]
    archivist.post(f"/api/v1/disposal-lists/{lid}/review", json={"opinion": "Hủy", "members": COUNCIL})
    leader.post(f"/api/v1/disposal-lists/{lid}/decide", json={"approve": True, "decision_ref": "3/QĐ-UBND"})
    result = archivist.post(f"/api/v1/disposal-lists/{lid}/destroy").get_json()
    docs = {x["id"]: x for x in result["destruction_record"]["dossiers"][0]["documents"]}
    assert "content_kept" in docs[shared["id"]] and "content_kept" not in docs[own["id"]]
    assert files_of(container, shared["id"]) and not files_of(container, own["id"])
    assert api.as_user("vanthu").get(f"/api/v1/documents/{shared['id']}/content").status_code == 200
    assert api.as_user("luutru").get(f"/api/v1/dossiers/{d['id']}").get_json()["status"] == "destroyed"


def test_a_refused_destruction_keeps_the_records_out_of_later_lists(api, container) -> None:  # type: ignore[no-untyped-def]
    archivist, leader = api.as_user("luutru"), api.as_user("chutich")
    d = _expired(api, "01.CV", 1)
    lid = container.disposal.propose()[0]["list_id"]
    archivist.post(f"/api/v1/disposal-lists/{lid}/review", json={"opinion": "Hủy", "members": COUNCIL})
    assert_error(leader.post(f"/api/v1/disposal-lists/{lid}/decide", json={"approve": False}), 400)  # a reason
    r = leader.post(f"/api/v1/disposal-lists/{lid}/decide", json={"approve": False, "reason": "Còn giá trị tra cứu"})
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"
    assert r.get_json()["items"][0]["decision"] == "keep"
    assert_error(archivist.post(f"/api/v1/disposal-lists/{lid}/destroy"), 409)
    assert container.disposal.propose() == []
    # A new (longer) retention that runs out again brings it back to the council.
    assert archivist.post(f"/api/v1/dossiers/{d['id']}/extend-retention",
                          json={"retention_code": "KH-10", "reason": "Theo đề nghị của Hội đồng"}).status_code == 200
    # (ended in 2010: kept 10 years, it expired on 1 January 2021 and goes back on a list at once)
    again = container.disposal.propose()
    assert len(again) == 1 and again[0]["added"] == 1 and again[0]["list_id"] != lid


def test_secret_disposal_lists_are_seen_by_cleared_people_only(api, container) -> None:  # type: ignore[no-untyped-def]
    leader = api.as_user("chutich")
    raise_clearance(api, "vanthu", "toi_mat")
    secret = registered_incoming(api, 1, content=False, secrecy="toi_mat")
    # A Tối mật dossier, closed long ago by its owner (the chairman)
    d = open_dossier(api, "01.MAT", retention_code="CV-05", secrecy="toi_mat", user="chutich")
    created(leader.post(f"/api/v1/dossiers/{d['id']}/documents", json={"document_id": secret["id"]}))
    close(api, d["id"], date(2010, 1, 1), user="chutich")
    normal = _expired(api, "02.CV", 2)
    listing = sorted(container.disposal.propose(), key=lambda x: x["list_id"])
    assert [x["added"] for x in listing] == [1, 1]  # one list per secrecy level
    by_secrecy = {lst["secrecy"]: lst["id"] for lst in leader.get("/api/v1/disposal-lists").get_json()["items"]}
    assert set(by_secrecy) == {0, 2}
    # The Mật-cleared archivist sees the ordinary list only; the Tối mật one does not exist for him.
    assert [x["id"] for x in api.as_user("luutru").get("/api/v1/disposal-lists").get_json()["items"]] == [by_secrecy[0]]
    assert_error(api.as_user("luutru").get(f"/api/v1/disposal-lists/{by_secrecy[2]}"), 404)
    assert {i["dossier"]["id"] for i in api.as_user("luutru").get(f"/api/v1/disposal-lists/{by_secrecy[0]}")
            .get_json()["items"]} == {normal["id"]}
    assert len(api.as_user("phochutich").get("/api/v1/disposal-lists").get_json()["items"]) == 2
    assert_error(api.as_user("chuyenvien").get("/api/v1/disposal-lists"), 403)


def test_the_holds_of_one_dossier_are_selected_by_the_service(api, container) -> None:  # type: ignore[no-untyped-def]
    """The dossier page asks for the holds of its dossier; it no longer fetches every hold of the
    agency and filters them itself."""
    leader = api.as_user("chutich")
    held, other = _expired(api, "01.HOLD", 1), _expired(api, "02.HOLD", 2)
    on_doc = created(leader.post("/api/v1/legal-holds", json={"document_id": registered_incoming(api, 3)["id"],
                                                               "reason": "Thanh tra"}))
    on_dossier = created(leader.post("/api/v1/legal-holds", json={"dossier_id": held["id"], "reason": "Thanh tra"}))
    actor = container.identity.actor_for(me(api, "chutich")["id"])
    assert {h["id"] for h in container.holds.list(actor)} == {on_doc["id"], on_dossier["id"]}
    assert [h["id"] for h in container.holds.list(actor, active_only=False, dossier_id=held["id"])] == \
        [on_dossier["id"]]
    assert container.holds.list(actor, active_only=False, dossier_id=other["id"]) == []
