"""The incoming flow end to end: receive → register → instruct/assign → re-assign → progress →
complete, with numbers, duplicates, inbox, notifications, deadlines in working days and search."""

from __future__ import annotations

from datetime import date

from docsvc.domain.calendar import WorkCalendar
from docsvc.timeutil import vn_today
from tests.helpers import assert_error, created, upload


def _ids(api, username: str) -> dict:  # type: ignore[no-untyped-def]
    return api.as_user(username).get("/api/v1/me").get_json()


def _unit(api, abbreviation: str) -> int:  # type: ignore[no-untyped-def]
    orgs = api.as_user("quantri").get("/api/v1/organisations", query_string={"per_page": 200}).get_json()["items"]
    agency = _ids(api, "quantri")["agency_id"]
    return next(o["id"] for o in orgs if o["abbreviation"] == abbreviation and o["parent_id"] == agency)


def test_receive_register_assign_handle_complete(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk, leader = api.as_user("vanthu"), api.as_user("chutich")
    head, officer = api.as_user("truongphong"), api.as_user("chuyenvien")
    doc = created(upload(clerk, urgency="khan"))
    assert any(i["reason"] == "register" and i["document"]["id"] == doc["id"]
               for i in clerk.get("/api/v1/inbox").get_json()["items"])

    # Register: incoming number 1 of the year; the leaders are told.
    reg = clerk.post(f"/api/v1/documents/{doc['id']}/register", json={})
    assert reg.status_code == 200, reg.get_json()
    assert reg.get_json()["arrival_number"] == 1 and reg.get_json()["status"] == "registered"
    assert_error(clerk.post(f"/api/v1/documents/{doc['id']}/register", json={}), 409, "invalid_state")
    notes = leader.get("/api/v1/notifications").get_json()["items"]
    assert any(n["kind"] == "incoming.registered" and n["document_id"] == doc["id"] for n in notes)
    inbox = leader.get("/api/v1/inbox").get_json()["items"]
    assert inbox[0]["reason"] == "instruct" and inbox[0]["document"]["id"] == doc["id"]

    # Only a leader instructs; the lead is the economic unit, a co-handler and a reader for information.
    pkt = _unit(api, "PKT")
    body = {"lead": {"unit_id": pkt}, "co": [{"user_id": _ids(api, "phochutich")["id"]}],
            "info": [{"user_id": _ids(api, "luutru")["id"]}], "deadline_days": 5,
            "instruction": "Phòng Kinh tế chủ trì tham mưu, báo cáo trước hạn."}
    assert_error(clerk.post(f"/api/v1/documents/{doc['id']}/assignments", json=body), 403)
    r = leader.post(f"/api/v1/documents/{doc['id']}/assignments", json=body)
    assert r.status_code == 201, r.get_json()
    expected_deadline = WorkCalendar().add_working_days(vn_today(), 5)
    assert r.get_json()["due_date"] == expected_deadline.isoformat() and r.get_json()["status"] == "assigned"

    # The unit head sees the unit's work and passes it to an officer with a personal deadline.
    item = next(i for i in head.get("/api/v1/inbox").get_json()["items"] if i["document"]["id"] == doc["id"])
    assert item["reason"] == "handle" and item["deadline"] == expected_deadline.isoformat() and not item["overdue"]
    too_late = {"user_id": _ids(api, "chuyenvien")["id"],
                "deadline": date(expected_deadline.year + 1, 1, 5).isoformat()}
    assert "later than the unit" in assert_error(
        head.post(f"/api/v1/assignments/{item['ref_id']}/reassign", json=too_late), 400)["message"]
    r = head.post(f"/api/v1/assignments/{item['ref_id']}/reassign",
                  json={"user_id": _ids(api, "chuyenvien")["id"], "deadline_days": 3,
                        "instruction": "Đồng chí Minh dự thảo văn bản trả lời."})
    assert r.status_code == 201, r.get_json()

    # The officer now sees it and may read it; he reports progress and completes.
    mine = next(i for i in officer.get("/api/v1/inbox").get_json()["items"] if i["document"]["id"] == doc["id"])
    assert mine["reason"] == "handle"
    assert officer.get(f"/api/v1/documents/{doc['id']}").status_code == 200
    r = officer.post(f"/api/v1/documents/{doc['id']}/progress", json={"text": "Đã dự thảo", "percent": 60})
    assert r.status_code == 201 and r.get_json()["status"] == "in_progress"
    assert_error(api.as_user("snv.chuyenvien").post(f"/api/v1/documents/{doc['id']}/progress",
                                                      json={"text": "x"}), 404)
    r = officer.post(f"/api/v1/documents/{doc['id']}/complete", json={"note": "Đã trả lời bằng công văn"})
    assert r.status_code == 200 and r.get_json()["status"] == "completed"
    handling = officer.get(f"/api/v1/documents/{doc['id']}/handling").get_json()
    assert {a["role"] for a in handling["assignments"]} == {"lead", "co", "info"}
    assert all(a["status"] in ("done", "reassigned") for a in handling["assignments"] if a["role"] != "info"
               or a["status"] != "cancelled")
    assert handling["progress"][0]["percent"] == 60

    actions = [e["action"] for e in clerk.get(f"/api/v1/documents/{doc['id']}/history").get_json()["items"]]
    for expected in ("document.create", "document.register", "document.assign", "document.reassign",
                     "document.progress", "document.complete"):
        assert expected in actions

    # Search finds it without diacritics, by notation in any spelling, for those who may read it.
    container.indexing.drain_all()
    for q in ("quyet dinh cai cach", "15/QĐ-UBND", "15 qd ubnd"):
        hits = officer.get("/api/v1/search", query_string={"q": q}).get_json()["hits"]
        assert [h["id"] for h in hits] == [doc["id"]], q
    assert api.as_user("snv.vanthu").get("/api/v1/search", query_string={"q": "quyet dinh"}).get_json()["total"] == 0


def test_numbers_are_consecutive_and_duplicates_warned(api) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    first = created(upload(clerk))
    assert clerk.post(f"/api/v1/documents/{first['id']}/register", json={}).get_json()["arrival_number"] == 1
    dup = created(upload(clerk, number_notation="15/QD-UBND"))  # same document, notation without diacritics
    assert dup["warnings"][0]["code"] == "possible_duplicate" and dup["warnings"][0]["document_id"] == first["id"]
    err = assert_error(clerk.post(f"/api/v1/documents/{dup['id']}/register", json={}), 409, "conflict")
    assert err["details"]["duplicates"][0]["document_id"] == first["id"]
    r = clerk.post(f"/api/v1/documents/{dup['id']}/register", json={"confirm_duplicate": True})
    assert r.get_json()["arrival_number"] == 2
    other = created(upload(clerk, number_notation="16/QĐ-UBND"))
    assert clerk.post(f"/api/v1/documents/{other['id']}/register", json={}).get_json()["arrival_number"] == 3


def test_return_to_sender_needs_a_reason(api) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    doc = created(upload(clerk))
    assert_error(clerk.post(f"/api/v1/documents/{doc['id']}/return", json={"reason": ""}), 400)
    r = clerk.post(f"/api/v1/documents/{doc['id']}/return", json={"reason": "Gửi nhầm cơ quan"})
    assert r.get_json()["status"] == "returned" and r.get_json()["status_reason"] == "Gửi nhầm cơ quan"
    assert_error(clerk.post(f"/api/v1/documents/{doc['id']}/register", json={}), 409)


def test_urgent_documents_come_first(api) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    normal = created(upload(clerk, subject="Thông báo lịch họp", type="TB"))
    urgent = created(upload(clerk, subject="Công điện về phòng chống bão", type="CĐ", urgency="hoa_toc"))
    inbox = [i["document"]["id"] for i in clerk.get("/api/v1/inbox").get_json()["items"]]
    assert inbox.index(urgent["id"]) < inbox.index(normal["id"])
    listed = [d["id"] for d in clerk.get("/api/v1/documents").get_json()["items"]]
    assert listed.index(urgent["id"]) < listed.index(normal["id"])


def test_assignment_validation(api) -> None:  # type: ignore[no-untyped-def]
    clerk, leader = api.as_user("vanthu"), api.as_user("chutich")
    doc = created(upload(clerk))
    target = {"lead": {"user_id": _ids(api, "chuyenvien")["id"]}, "deadline_days": 2}
    # Before registration only the registry knows the document: the leader cannot even see it.
    assert_error(leader.post(f"/api/v1/documents/{doc['id']}/assignments", json=target), 404)
    clerk.post(f"/api/v1/documents/{doc['id']}/register", json={})
    outsider = {"lead": {"user_id": _ids(api, "snv.chuyenvien")["id"]}}
    assert_error(leader.post(f"/api/v1/documents/{doc['id']}/assignments", json=outsider), 400)
    both = {"lead": {"user_id": 1, "unit_id": 2}}
    assert_error(leader.post(f"/api/v1/documents/{doc['id']}/assignments", json=both), 400)
    past = {"lead": {"user_id": _ids(api, "chuyenvien")["id"]}, "deadline": "2020-01-01"}
    assert "past" in assert_error(leader.post(f"/api/v1/documents/{doc['id']}/assignments", json=past),
                                  400)["message"]
