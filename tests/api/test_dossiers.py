"""The retention catalogue (data, admin-edited, versioned) and dossiers: plan, open, file (no copy),
close with the decree's checks, Appendix VI metadata, reopen."""

from __future__ import annotations

from datetime import timedelta

from docsvc.domain.archives import add_months, add_years
from docsvc.timeutil import vn_today
from tests.api.archive_support import (
    close,
    file_into,
    files_of,
    open_dossier,
    plan_id,
    raise_clearance,
    registered_incoming,
)
from tests.helpers import assert_error, created, me, upload


def test_retention_catalogue_is_seeded_versioned_and_admin_only(api) -> None:  # type: ignore[no-untyped-def]
    admin, archivist = api.as_user("quantri"), api.as_user("luutru")
    entries = {e["code"]: e for e in archivist.get("/api/v1/retention-periods").get_json()["items"]}
    assert entries["VV-01"]["permanent"] and entries["VV-01"]["label"] == "Vĩnh viễn"
    assert entries["KH-10"]["years"] == 10 and entries["KH-10"]["label"] == "10 năm"
    assert all(e["legal_basis"] for e in entries.values())

    body = {"code": "TD-15", "description": "Hồ sơ thi đua, khen thưởng cấp xã", "years": 15,
            "legal_basis": "Thông tư 10/2022/TT-BNV"}
    assert_error(archivist.post("/api/v1/retention-periods", json=body), 403)
    assert created(admin.post("/api/v1/retention-periods", json=body))["version"] == 1
    assert_error(admin.post("/api/v1/retention-periods", json=body), 409)
    assert_error(admin.post("/api/v1/retention-periods", json={**body, "code": "X Y"}), 400)
    assert_error(admin.post("/api/v1/retention-periods", json={**body, "code": "TD-16", "years": 0}), 400)
    assert_error(admin.put("/api/v1/retention-periods/TD-15", json={"years": 20}), 400)  # a reason is required

    r = admin.put("/api/v1/retention-periods/TD-15", json={"years": 20, "reason": "Theo hướng dẫn mới"})
    assert r.status_code == 200 and r.get_json()["version"] == 2 and r.get_json()["years"] == 20
    r = admin.put("/api/v1/retention-periods/TD-15", json={"permanent": True, "reason": "Giá trị lịch sử"})
    assert r.get_json()["permanent"] and r.get_json()["version"] == 3
    versions = admin.get("/api/v1/retention-periods/TD-15").get_json()["items"]
    assert [(v["version"], v["years"], v["current"]) for v in versions] == [(1, 15, False), (2, 20, False),
                                                                          (3, None, True)]
    assert_error(admin.get("/api/v1/retention-periods/NOPE"), 404)
    assert_error(admin.put("/api/v1/retention-periods/NOPE", json={"years": 5, "reason": "x"}), 404)
    everything = admin.get("/api/v1/retention-periods", query_string={"all_versions": "true"}).get_json()["items"]
    assert len([e for e in everything if e["code"] == "TD-15"]) == 3


def test_a_dossier_keeps_the_catalogue_version_it_was_given(api) -> None:  # type: ignore[no-untyped-def]
    d = open_dossier(api, "01.VP", retention_code="KH-10")
    r = api.as_user("quantri").put("/api/v1/retention-periods/KH-10", json={"years": 5, "reason": "thử"})
    assert r.status_code == 200
    got = api.as_user("luutru").get(f"/api/v1/dossiers/{d['id']}").get_json()
    assert got["retention"]["years"] == 10 and got["retention"]["version"] == 1 and got["maintenance"] == "10 năm"


def test_plan_dossier_file_and_close_with_appendix_vi_metadata(api, container) -> None:  # type: ignore[no-untyped-def]
    archivist, clerk, officer = api.as_user("luutru"), api.as_user("vanthu"), api.as_user("chuyenvien")
    year = vn_today().year
    # The plan: kept by the archive (or registry); one per year.
    assert_error(officer.post("/api/v1/dossier-plans", json={"year": year}), 403)
    pid = plan_id(api, year)
    assert_error(archivist.post("/api/v1/dossier-plans", json={"year": year}), 409)
    assert_error(archivist.post("/api/v1/dossier-plans", json={"year": 1999}), 400)

    # Dossiers: an officer adds one he owns; the archive adds for anyone; notations are checked.
    mine = created(officer.post(f"/api/v1/dossier-plans/{pid}/dossiers",
                                json={"notation": "02.KT", "title": "Hồ sơ kế hoạch kinh tế năm",
                                      "retention_code": "KH-10"}))
    assert mine["owner"]["id"] == me(api, "chuyenvien")["id"] and mine["status"] == "planned"
    assert_error(officer.post(f"/api/v1/dossier-plans/{pid}/dossiers",
                              json={"notation": "03.KT", "title": "x", "owner_id": me(api, "truongphong")["id"]}), 403)
    assert_error(archivist.post(f"/api/v1/dossier-plans/{pid}/dossiers",
                                json={"notation": "02.KT", "title": "again"}), 409)
    assert_error(archivist.post(f"/api/v1/dossier-plans/{pid}/dossiers",
                                json={"notation": "bad notation!", "title": "x"}), 400)
    assert_error(archivist.post(f"/api/v1/dossier-plans/{pid}/dossiers",
                                json={"notation": "04.KT", "title": "x", "retention_code": "NOPE"}), 400)
    assert_error(api.as_user("snv.vanthu").get(f"/api/v1/dossier-plans/{pid}"), 404)

    d = open_dossier(api, "01.TCCB", title="Hồ sơ tổ chức cán bộ năm", retention_code="TC-20")
    assert d["file_code"] == f"000.00.31.H41.{year}.01.TCCB" and d["status"] == "open"
    a = registered_incoming(api, 1, issued_date=(vn_today() - timedelta(days=20)).isoformat())
    b = registered_incoming(api, 2, issued_date=(vn_today() - timedelta(days=40)).isoformat())
    file_into(api, d["id"], a["id"], b["id"])
    assert_error(clerk.post(f"/api/v1/dossiers/{d['id']}/documents", json={"document_id": a["id"]}), 409)
    assert_error(clerk.post(f"/api/v1/dossiers/{mine['id']}/documents", json={"document_id": a["id"]}), 409)  # planned
    # The same document in a second dossier: no copy is made.
    assert officer.post(f"/api/v1/dossiers/{mine['id']}/open").status_code == 200
    before = files_of(container, a["id"])
    file_into(api, mine["id"], a["id"])
    assert files_of(container, a["id"]) == before
    assert {x["id"] for x in clerk.get(f"/api/v1/documents/{a['id']}/dossiers").get_json()["items"]} == \
        {d["id"], mine["id"]}
    # Someone who may not read the document cannot file it.
    assert_error(officer.post(f"/api/v1/dossiers/{mine['id']}/documents", json={"document_id": b["id"]}), 404)

    closed = close(api, d["id"])
    assert closed["status"] == "closed" and closed["doc_total"] == 2
    assert closed["start_date"] == b["issued_date"] and closed["end_date"] == a["issued_date"]
    assert closed["page_total"] == 2 and closed["maintenance"] == "20 năm" and closed["rights"] == "public"
    assert closed["transfer_due_on"] == add_years(vn_today(), 1).isoformat()  # within 1 year of the end of work
    # Closed: the archive may now read what it holds.
    assert archivist.get(f"/api/v1/documents/{a['id']}").status_code == 200
    got = archivist.get(f"/api/v1/dossiers/{d['id']}").get_json()
    assert [x["id"] for x in got["documents"]] == [b["id"], a["id"]]  # DocOrdinal: chronological
    assert [x["ordinal"] for x in got["documents"]] == [1, 2]
    # Closed: metadata fixed, nothing filed or removed until reopened with a reason.
    assert_error(archivist.patch(f"/api/v1/dossiers/{d['id']}", json={"title": "Đổi"}), 409)
    assert_error(clerk.delete(f"/api/v1/dossiers/{d['id']}/documents/{a['id']}"), 409)
    assert_error(archivist.post(f"/api/v1/dossiers/{d['id']}/reopen", json={}), 400)
    r = archivist.post(f"/api/v1/dossiers/{d['id']}/reopen", json={"reason": "Bổ sung văn bản"})
    assert r.status_code == 200 and r.get_json()["status"] == "open" and r.get_json()["transfer_due_on"] is None
    assert clerk.delete(f"/api/v1/dossiers/{d['id']}/documents/{a['id']}").status_code == 200
    listed = archivist.get("/api/v1/dossiers", query_string={"status": "open", "q": "TCCB"}).get_json()
    assert [x["id"] for x in listed["items"]] == [d["id"]]
    # Reopened (and the document removed), the archive no longer holds it: it may not read it.
    assert_error(archivist.get(f"/api/v1/documents/{a['id']}"), 404)
    actions = {e["action"] for e in clerk.get(f"/api/v1/documents/{a['id']}/history").get_json()["items"]}
    assert "document.register" in actions


def test_closing_checks_retention_drafts_and_duplicates(api) -> None:  # type: ignore[no-untyped-def]
    archivist, officer = api.as_user("luutru"), api.as_user("chuyenvien")
    d = open_dossier(api, "05.VP", retention_code=None)
    e = archivist.post(f"/api/v1/dossiers/{d['id']}/close", json={})
    problems = {p["code"] for p in assert_error(e, 409, "invalid_state")["details"]["problems"]}
    assert problems == {"retention_missing", "empty"}

    x = registered_incoming(api, 7, number_notation="07/QĐ-UBND")
    y = registered_incoming(api, 8, number_notation="07/QĐ-UBND")  # same number, notation and body: a duplicate
    file_into(api, d["id"], x["id"], y["id"])
    draft = created(upload(officer, direction="outgoing", type="TB", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, subject="Thông báo dự thảo"))
    r = officer.post(f"/api/v1/dossier-plans/{d['plan_id']}/dossiers",
                     json={"notation": "06.KT", "title": "Hồ sơ của tôi", "retention_code": "CV-05", "open": True})
    own = created(r)
    file_into(api, own["id"], draft["id"], user="chuyenvien")
    err = assert_error(officer.post(f"/api/v1/dossiers/{own['id']}/close", json={}), 409)
    assert [p["code"] for p in err["details"]["problems"]] == ["draft"]

    assert archivist.patch(f"/api/v1/dossiers/{d['id']}", json={"retention_code": "KH-10"}).status_code == 200
    err = assert_error(archivist.post(f"/api/v1/dossiers/{d['id']}/close", json={}), 409)
    dup = err["details"]["problems"]
    assert [p["code"] for p in dup] == ["duplicate"] and dup[0]["kind"] == "same_number"
    assert dup[0]["document_id"] == y["id"] and dup[0]["duplicate_of"] == x["id"]
    assert api.as_user("vanthu").delete(f"/api/v1/dossiers/{d['id']}/documents/{y['id']}").status_code == 200
    tomorrow = (vn_today() + timedelta(days=1)).isoformat()
    assert_error(archivist.post(f"/api/v1/dossiers/{d['id']}/close", json={"work_ended_on": tomorrow}), 400)
    assert close(api, d["id"])["status"] == "closed"


def test_construction_dossier_transfer_falls_due_three_months_after_settlement(api) -> None:  # type: ignore[no-untyped-def]
    d = open_dossier(api, "09.XD", retention_code="XD-50", construction=True, title="Hồ sơ công trình nhà văn hóa")
    file_into(api, d["id"], registered_incoming(api, 9)["id"])
    closed = close(api, d["id"])
    assert closed["transfer_due_on"] is None  # unknown until the final settlement
    settled = vn_today() - timedelta(days=10)
    r = api.as_user("luutru").post(f"/api/v1/dossiers/{d['id']}/settlement",
                                   json={"settlement_date": settled.isoformat()})
    assert r.status_code == 200 and r.get_json()["transfer_due_on"] == add_months(settled, 3).isoformat()
    due = api.as_user("luutru").get("/api/v1/archive/transfers/due", query_string={"within_days": 100}).get_json()
    assert [x["id"] for x in due["items"]] == [d["id"]]


def test_dossiers_are_seen_within_clearance_only(api) -> None:  # type: ignore[no-untyped-def]
    secret = open_dossier(api, "10.MAT", secrecy="toi_mat", user="chutich", title="Hồ sơ tối mật")
    assert secret["rights"] == "restricted"
    assert_error(api.as_user("luutru").get(f"/api/v1/dossiers/{secret['id']}"), 404)  # Mật clearance only
    assert api.as_user("phochutich").get(f"/api/v1/dossiers/{secret['id']}").status_code == 200
    assert secret["id"] not in [x["id"] for x in api.as_user("luutru").get("/api/v1/dossiers").get_json()["items"]]
    assert_error(api.as_user("luutru").post(f"/api/v1/dossier-plans/{secret['plan_id']}/dossiers",
                                            json={"notation": "11.MAT", "title": "x", "secrecy": "tuyet_mat"}), 403)
    # Even for those cleared, lists hide the subject of Tuyệt mật documents (DOCSVC_HIDE_TOP_SECRET_SUBJECT).
    raise_clearance(api, "vanthu", "tuyet_mat")
    top = registered_incoming(api, 1, content=False, secrecy="tuyet_mat", subject="Phương án tác chiến")
    created(api.as_user("chutich").post(f"/api/v1/dossiers/{secret['id']}/documents", json={"document_id": top["id"]}))
    listed = api.as_user("chutich").get(f"/api/v1/dossiers/{secret['id']}").get_json()["documents"]
    assert [x["subject"] for x in listed] == ["[Tuyệt mật]"]
    assert api.as_user("chutich").get(f"/api/v1/documents/{top['id']}").get_json()["subject"] == "Phương án tác chiến"
    assert_error(api.as_user("chutich").post(f"/api/v1/dossier-plans/{secret['plan_id']}/dossiers",
                                             json={"notation": "12.MAT", "title": "x", "secrecy": "mat",
                                                   "rights": "public"}), 400)
