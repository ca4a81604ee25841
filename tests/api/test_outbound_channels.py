"""Who learns what through the doors other than the read paths: notifications (assignment, delivery,
recall, chain steps, deadline reminders, overdue notices and escalations), registers (JSON and PDF),
search facets and dossier fields, dossier exports. No user may learn the subject or the id of a
document they get 404 for (DESIGN.md, Security rules: every door asks the same reader policy)."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from typing import Any

import pytest

from docsvc.timeutil import vn_today
from tests.api.archive_support import closed_dossier, raise_clearance, registered_incoming
from tests.api.test_access_matrix import CLEARANCE, LEVEL, _scenario
from tests.fixtures.pdfs import official_pdf
from tests.helpers import PIN, created, me, upload

REGISTER_READERS = {"vanthu", "chutich", "phochutich", "luutru", "snv.vanthu", "snv.giamdoc"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"secrecy_policy": "isolated"}


def _notes(api: Any, username: str) -> list[dict[str, Any]]:
    return api.as_user(username).get("/api/v1/notifications", query_string={"per_page": 200}).get_json()["items"]


def _about(notes: list[dict[str, Any]], doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Notifications naming ``doc`` by id or carrying its subject."""
    return [n for n in notes if n["document_id"] == doc["id"] or doc["subject"] in n["message"]]


def _org(api: Any, *, organ_id: str | None = None, abbreviation: str | None = None) -> int:
    orgs = api.as_user("quantri").get("/api/v1/organisations").get_json()["items"]
    if organ_id:
        return next(o["id"] for o in orgs if o.get("organ_id") == organ_id)
    commune = _org(api, organ_id="000.00.31.H41")
    return next(o["id"] for o in orgs if o["abbreviation"] == abbreviation and o.get("parent_id") == commune)


def _pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


# ---------------------------------------------------------------- issue 14 §1, first case
def test_unit_work_on_a_secret_document_reaches_only_cleared_members_else_the_leader(api) -> None:  # type: ignore[no-untyped-def]
    raise_clearance(api, "vanthu", "toi_mat")
    doc = registered_incoming(api, 1, secrecy="toi_mat", subject="Phương án bảo vệ mục tiêu xyzkín")
    pkt = _org(api, abbreviation="PKT")
    r = api.as_user("chutich").post(f"/api/v1/documents/{doc['id']}/assignments",
                                    json={"lead": {"unit_id": pkt}, "deadline_days": 5})
    assert r.status_code == 201, r.get_json()
    # The head of the unit (cleared for Mật only) and its officer learn nothing; the leader is told.
    assert _about(_notes(api, "truongphong"), doc) == []
    assert _about(_notes(api, "chuyenvien"), doc) == []
    warnings = r.get_json()["warnings"]
    assert [w["code"] for w in warnings] == ["unit_not_notified"] and warnings[0]["unit_id"] == pkt
    told = [n for n in _notes(api, "chutich") if n["kind"] == "assignment.undelivered"]
    assert len(told) == 1 and told[0]["document_id"] == doc["id"] and doc["subject"] in told[0]["message"]

    # A member of the unit cleared for it is told in the head's place; the head still is not.
    raise_clearance(api, "chuyenvien", "toi_mat")
    r = api.as_user("chutich").post(f"/api/v1/documents/{doc['id']}/assignments",
                                    json={"lead": {"unit_id": pkt}, "deadline_days": 5})
    assert r.status_code == 201 and "warnings" not in r.get_json()
    assert [n["kind"] for n in _about(_notes(api, "chuyenvien"), doc)] == ["assignment.lead"]
    assert _about(_notes(api, "truongphong"), doc) == []


# ---------------------------------------------------------------- issue 14 §1, second case
def test_deadline_notices_reach_only_readers_and_hide_a_top_secret_subject(api, container) -> None:  # type: ignore[no-untyped-def]
    raise_clearance(api, "vanthu", "tuyet_mat")
    raise_clearance(api, "chuyenvien", "tuyet_mat")
    doc = registered_incoming(api, 2, secrecy="tuyet_mat", subject="Kế hoạch tác chiến xyzkín")
    deadline = vn_today() + timedelta(days=10)
    r = api.as_user("chutich").post(f"/api/v1/documents/{doc['id']}/assignments", json={
        "lead": {"user_id": me(api, "chuyenvien")["id"]}, "deadline": deadline.isoformat()})
    assert r.status_code == 201, r.get_json()
    container.deadlines.sweep(today=deadline)  # the reminder
    report = container.deadlines.sweep(today=deadline + timedelta(days=3))  # overdue + escalation
    assert report.overdue == 1 and report.escalations == 1
    # The officer's unit head (Mật) is not told; the escalation goes to the leader who assigned it.
    assert _about(_notes(api, "truongphong"), doc) == []
    officer = {n["kind"]: n for n in _about(_notes(api, "chuyenvien"), doc)}
    assert {"deadline.reminder", "deadline.overdue"} <= set(officer)
    leader = [n for n in _about(_notes(api, "chutich"), doc) if n["kind"] == "deadline.escalated"]
    assert len(leader) == 1
    # DOCSVC_HIDE_TOP_SECRET_SUBJECT: even those cleared see "[Tuyệt mật]" in place of the subject.
    for n in [*officer.values(), *leader]:
        assert doc["subject"] not in n["message"] and "[Tuyệt mật]" in n["message"], n


# ---------------------------------------------------------------- issue 14 §1, third case
def test_issuing_a_secret_document_tells_only_cleared_clerks_of_the_recipient_else_the_sender(api, container) -> None:  # type: ignore[no-untyped-def]
    subject = "Quyết định tối mật về phương án xyzkín"
    draft, r = _issue_secret(api, subject)
    assert r.status_code == 200, r.get_json()
    assert [w["code"] for w in r.get_json()["warnings"]] == ["recipient_not_notified"]
    snv = _org(api, organ_id="000.00.02.H41")
    from sqlalchemy import select

    from docsvc.db.models import Recipient
    with container.db.read() as s:
        copy_id, note = s.execute(select(Recipient.incoming_document_id, Recipient.note).where(
            Recipient.document_id == draft["id"], Recipient.agency_id == snv)).one()
    assert copy_id is not None and "nobody was notified" in note  # arrived; the Sở's registry is Mật only
    assert api.as_user("snv.vanthu").get(f"/api/v1/documents/{copy_id}").status_code == 404
    copy = {"id": copy_id, "subject": subject}
    sender = [n for n in _notes(api, "vanthu") if n["kind"] == "outgoing.undelivered"]
    assert len(sender) == 1 and sender[0]["document_id"] == draft["id"]
    assert api.as_user("chutich").post(f"/api/v1/documents/{draft['id']}/recall",
                                       json={"reason": "Sai số liệu"}).status_code == 200
    for user in ("snv.vanthu", "snv.chuyenvien", "snv.giamdoc"):
        assert _about(_notes(api, user), copy) == [], user


def _issue_secret(api: Any, subject: str) -> tuple[dict[str, Any], Any]:
    """A Tối mật QĐ drafted, approved, signed and issued to the Sở Nội vụ (whose registry is cleared for
    Mật only): (the draft, the answer of the issue)."""
    for user in ("chuyenvien", "truongphong", "vanthu"):
        raise_clearance(api, user, "toi_mat")
    officer = api.as_user("chuyenvien")
    leader = api.as_user("chutich")
    if leader.get("/api/v1/me/signing-key").status_code != 200:
        assert leader.post("/api/v1/me/signing-key", json={"pin": PIN}).status_code == 201
    draft = created(upload(officer, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, secrecy="toi_mat",
                           subject=subject, file=official_pdf(subject)))
    assert officer.post(f"/api/v1/documents/{draft['id']}/submit",
                        json={"signer_id": me(api, "chutich")["id"]}).status_code == 200
    assert api.as_user("truongphong").post(f"/api/v1/documents/{draft['id']}/approve", json={}).status_code == 200
    assert leader.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN}).status_code == 200
    snv = _org(api, organ_id="000.00.02.H41")
    return draft, api.as_user("vanthu").post(f"/api/v1/documents/{draft['id']}/issue",
                                             json={"recipients": [{"agency_id": snv}]})


# ---------------------------------------------------------------- defence in depth
def test_a_notification_disappears_when_its_document_can_no_longer_be_read(api) -> None:  # type: ignore[no-untyped-def]
    doc = registered_incoming(api, 3, subject="Công văn về việc kiểm kê tài sản xyzthuong")
    leader = api.as_user("chutich")
    assert leader.post(f"/api/v1/documents/{doc['id']}/assignments", json={
        "lead": {"user_id": me(api, "chuyenvien")["id"]}, "deadline_days": 5}).status_code == 201
    assert [n["kind"] for n in _about(_notes(api, "chuyenvien"), doc)] == ["assignment.lead"]
    # A new instruction replaces the first: the officer no longer reads it, nor its notification.
    assert leader.post(f"/api/v1/documents/{doc['id']}/assignments", json={
        "lead": {"user_id": me(api, "truongphong")["id"]}, "deadline_days": 5}).status_code == 201
    assert api.as_user("chuyenvien").get(f"/api/v1/documents/{doc['id']}").status_code == 404
    page = api.as_user("chuyenvien").get("/api/v1/notifications").get_json()
    assert _about(page["items"], doc) == [] and page["total"] == len(page["items"])


# ---------------------------------------------------------------- issue 14 §2
def test_registers_list_only_lines_the_reader_may_read(api) -> None:  # type: ignore[no-untyped-def]
    plain = registered_incoming(api, 4, subject="Công văn thường xyzsổ")
    raise_clearance(api, "vanthu", "toi_mat")
    secret = registered_incoming(api, 5, secrecy="toi_mat", subject="Công văn tối mật xyzsổ")
    mat = registered_incoming(api, 6, secrecy="mat", subject="Công văn mật xyzsổ")

    def rows(username: str, series: str) -> dict[int, dict[str, Any]]:
        r = api.as_user(username).get("/api/v1/registers/incoming", query_string={"series": series})
        assert r.status_code == 200, r.get_json()
        return {row["document_id"]: row for row in r.get_json()["rows"]}

    def pdf(username: str, series: str) -> str:
        r = api.as_user(username).get("/api/v1/registers/incoming/pdf", query_string={"series": series})
        assert r.status_code == 200
        return _pdf_text(r.data)

    # The registry and the leaders keep the full view within their clearance.
    assert set(rows("vanthu", "secret")) == {secret["id"], mat["id"]}
    assert set(rows("chutich", "secret")) == {secret["id"], mat["id"]}
    assert set(rows("chutich", "normal")) == {plain["id"]}
    # Cleared for Mật only: no line of the Tối mật document at all (no number, date or handler).
    raise_clearance(api, "vanthu", "mat")
    assert set(rows("vanthu", "secret")) == {mat["id"]}
    assert "tối mật xyzsổ" not in pdf("vanthu", "secret") and "mật xyzsổ" in pdf("vanthu", "secret")
    # The archivist reads no incoming document that is not in the archive: no line of them.
    assert rows("luutru", "normal") == {} and "xyzsổ" not in pdf("luutru", "normal")
    closed_dossier(api, "01.SO", [plain["id"]])
    assert set(rows("luutru", "normal")) == {plain["id"]}


# ---------------------------------------------------------------- the matrix, every outbound door
def test_no_outbound_channel_leaks(api, container) -> None:  # type: ignore[no-untyped-def]
    docs = _scenario(api)
    # Reminders, overdue notices and escalations of every assignment of the scenario.
    container.deadlines.sweep(today=vn_today() + timedelta(days=60))
    mismatches: list[str] = []
    for username in CLEARANCE:
        user = api.as_user(username)
        notes = _notes(api, username)
        registers: list[tuple[str, dict[int, str], str]] = []
        if username in REGISTER_READERS:
            for register in ("incoming", "outgoing"):
                for series in ("normal", "secret"):
                    if series == "secret" and CLEARANCE[username] == 0:
                        continue
                    q = {"series": series}
                    book = user.get(f"/api/v1/registers/{register}", query_string=q).get_json()
                    text = _pdf_text(user.get(f"/api/v1/registers/{register}/pdf", query_string=q).data)
                    registers.append((f"{register}/{series}", {r["document_id"]: r["type_and_subject"]
                                                                for r in book["rows"]}, text))
        for name, (doc, secrecy, related) in docs.items():
            if username in related and CLEARANCE[username] >= LEVEL[secrecy]:
                continue
            for n in _about(notes, doc):
                mismatches.append(f"{username} {name} notification {n['kind']}: {n['message']}")
            for label, book_rows, text in registers:
                if doc["id"] in book_rows:
                    mismatches.append(f"{username} {name} register {label}")
                if doc["subject"] in text.replace("\n", " "):
                    mismatches.append(f"{username} {name} register {label} PDF")
    assert mismatches == []


# ---------------------------------------------------------------- issue 14 §3
def test_search_does_not_reveal_a_dossier_the_caller_may_not_see(api, container) -> None:  # type: ignore[no-untyped-def]
    from tests.api.archive_support import file_into, open_dossier
    both = registered_incoming(api, 7, subject="Công văn về việc diễn tập phòng thủ xyztim")
    only = registered_incoming(api, 8, subject="Công văn về việc tuần tra biên giới xyztim")
    top = open_dossier(api, "09.QPAN", secrecy="tuyet_mat", user="chutich", title="Hồ sơ quốc phòng")
    plain = open_dossier(api, "01.VP")
    file_into(api, top["id"], both["id"], only["id"], user="chutich")
    file_into(api, plain["id"], both["id"])
    container.indexing.drain_all()

    def search(username: str, **params: Any) -> dict[str, Any]:
        r = api.as_user(username).get("/api/v1/search", query_string={
            "facets": ["dossier", "archive_status", "retention"], "size": 50, **params})
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    clerk = search("vanthu", q="xyztim")  # the registry reads both documents, cleared for Mật only
    hits = {h["id"]: h for h in clerk["hits"]}
    assert set(hits) == {both["id"], only["id"]}
    assert hits[both["id"]]["dossiers"] == [str(plain["id"])] and hits[only["id"]]["dossiers"] == []
    assert hits[only["id"]]["archive_status"] == "unfiled"
    assert [f["value"] for f in clerk["facets"]["dossier"]] == [str(plain["id"])]
    assert search("vanthu", dossier=str(top["id"]))["total"] == 0
    assert search("vanthu", q=top["file_code"])["total"] == 0
    assert top["file_code"] not in str(clerk)
    # The chairman, cleared for Tuyệt mật, sees the dossier everywhere.
    chair = search("chutich", q="xyztim")
    assert {f["value"] for f in chair["facets"]["dossier"]} == {str(top["id"]), str(plain["id"])}
    assert {h["id"] for h in search("chutich", q=top["file_code"])["hits"]} == {both["id"], only["id"]}



def test_the_document_page_says_when_a_unit_could_not_be_told(api, pages) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import page_text
    raise_clearance(api, "vanthu", "toi_mat")
    doc = registered_incoming(api, 10, secrecy="toi_mat", subject="Phương án tối mật xyztrang")
    leader = pages("chutich")
    r = leader.post(f"/documents/{doc['id']}/assign", {"lead": f"unit:{_org(api, abbreviation='PKT')}",
                                                       "deadline_days": "5"})
    assert r.status_code == 303
    assert "the unit was not notified" in page_text(leader.get(r.headers["Location"]))


def test_every_channel_names_only_what_its_reader_may_read(api, container) -> None:  # type: ignore[no-untyped-def]
    """The invariant behind every case above, walked over a scenario that exercises every sender of
    notifications: whatever names a document (notification id or subject, register line, dashboard line,
    search hit)
    or a dossier (search hit, facet) names one its reader gets 200 for."""
    from tests.api.archive_support import close, file_into, open_dossier
    docs = {d["id"]: d["subject"] for d, _, _ in _scenario(api).values()}
    draft, r = _issue_secret(api, "Quyết định tối mật xyzmoi về phương án")
    assert r.status_code == 200
    recalled = api.as_user("chutich").post(f"/api/v1/documents/{draft['id']}/recall", json={"reason": "x"})
    assert recalled.status_code == 200
    docs[draft["id"]] = draft["subject"]
    raise_clearance(api, "vanthu", "tuyet_mat")
    top_doc = registered_incoming(api, 11, secrecy="tuyet_mat", subject="Kế hoạch tuyệt mật xyzmoi")
    plain_doc = registered_incoming(api, 12, subject="Công văn thường xyzmoi trong hồ sơ mật")
    docs.update({top_doc["id"]: top_doc["subject"], plain_doc["id"]: plain_doc["subject"]})
    top = open_dossier(api, "09.TM", secrecy="tuyet_mat", user="chutich", title="Hồ sơ tuyệt mật")
    file_into(api, top["id"], plain_doc["id"], user="chutich")
    plain = open_dossier(api, "03.TH", retention_code="KH-10")
    file_into(api, plain["id"], plain_doc["id"])
    close(api, plain["id"], vn_today() - timedelta(days=3650))
    raise_clearance(api, "vanthu", "mat")
    container.indexing.drain_all()
    far = vn_today() + timedelta(days=60)
    container.deadlines.sweep(today=far)
    container.transfers.alert(today=vn_today() + timedelta(days=3650))
    container.secrecy.sweep(today=vn_today() + timedelta(days=365 * 20 - 30))
    from sqlalchemy import update

    from docsvc.db.models import Assignment
    with container.db.write() as s:  # every open deadline already past: the dashboards list them as overdue
        s.execute(update(Assignment).where(Assignment.status == "open", Assignment.deadline.is_not(None))
                  .values(deadline=vn_today() - timedelta(days=2)))

    problems: list[str] = []
    boards_seen = 0  # overdue lines walked on the dashboards: the door is really exercised
    for username in CLEARANCE:
        user = api.as_user(username)

        def readable(doc_id: int, user: Any = user) -> bool:
            return bool(user.get(f"/api/v1/documents/{doc_id}").status_code == 200)

        for n in _notes(api, username):
            own = user.get(f"/api/v1/documents/{n['document_id']}") if n["document_id"] else None
            if own is not None and own.status_code != 200:
                problems.append(f"{username} notification {n['kind']} names {n['document_id']}")
            own_subject = own.get_json()["subject"] if own is not None and own.status_code == 200 else None
            problems += [f"{username} notification {n['kind']} shows the subject of {i}" for i, subject in docs.items()
                         if subject in n["message"] and subject != own_subject and not readable(i)]
        if username in REGISTER_READERS:
            for register in ("incoming", "outgoing"):
                for series in ("normal", "secret"):
                    got = user.get(f"/api/v1/registers/{register}", query_string={"series": series})
                    if got.status_code != 200:
                        continue
                    problems += [f"{username} register {register}/{series} line of {row['document_id']}"
                                 for row in got.get_json()["rows"] if not readable(row["document_id"])]
        board = user.get("/api/v1/reports/dashboard")  # reports: leaders, unit heads and the registry
        if board.status_code == 200:
            boards_seen += len(board.get_json()["overdue"])
            problems += [f"{username} dashboard overdue line of {o['document_id']}"
                         for o in board.get_json()["overdue"] if not readable(o["document_id"])]
            problems += [f"{username} dashboard shows the subject of {i}" for i, subject in docs.items()
                         if subject in board.get_data(as_text=True) and not readable(i)]
        found = user.get("/api/v1/search", query_string={"size": 100, "facets": ["dossier"]}).get_json()
        dossiers = {d for h in found["hits"] for d in h["dossiers"]} | {f["value"] for f in found["facets"]["dossier"]}
        problems += [f"{username} search names dossier {d}" for d in dossiers
                     if user.get(f"/api/v1/dossiers/{d}").status_code != 200]
    assert problems == []
    assert boards_seen > 0
