"""The reports summary (counts kept as documents change) gives the same dashboard as counting the rows
(``ReportService.count_rows``), for readers who read much, little, or nothing secret, for the whole
agency and for one unit — after registering, assigning, completing, re-assigning, issuing, recalling,
granting a reader, changing secrecy and moving deadlines; and its rebuild repairs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from docsvc.db.models import Assignment, Document, ReportCount, ReportDocumentFact, ReportSummaryState
from docsvc.domain.policies import SYSTEM
from docsvc.services.reports import summary
from docsvc.services.reports.dashboard import ReportService
from docsvc.timeutil import vn_today
from tests.api.test_dossier_export import cli_env
from tests.api.test_report_figures import _assign, _registered
from tests.helpers import assert_error, me, run_cli, signed_draft

READERS = ("chutich", "phochutich", "truongphong", "vanthu")


def _readers(api: Any, container: Any) -> dict[str, Any]:
    return {name: container.identity.actor_for(me(api, name)["id"]) for name in READERS}


def _same(container: Any, readers: dict[str, Any], units: tuple[int | None, ...], step: str) -> dict[str, Any]:
    """Every reader's dashboard from the summary equals the one counted from the rows; the leader's."""
    with container.db.read() as s:
        assert summary.is_ready(s), "the summary is used"
    year = vn_today().year
    for name, actor in readers.items():
        for unit_id in units:
            kept = container.reports.dashboard(actor, year=year, unit_id=unit_id, fresh=True).to_dict()
            rows = container.reports.count_rows(actor, year=year, unit_id=unit_id).to_dict()
            kept.pop("computed_at"), rows.pop("computed_at")
            assert kept == rows, (step, name, unit_id)
    leader: dict[str, Any] = container.reports.dashboard(readers["chutich"], year=year, fresh=True).to_dict()
    return leader


def _total(d: dict[str, Any], state: str) -> int:
    return sum(o[state] for o in d["handling"]["officers"]) + sum(u[state] for u in d["handling"]["units"])


def test_summary_matches_the_rows_through_edits(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk, leader = api.as_user("vanthu"), api.as_user("chutich")
    agency = me(api, "vanthu")["agency_id"]
    vp = me(api, "vanthu")["unit_ids"][0]
    unit = me(api, "truongphong")["unit_ids"][0]
    uncleared = container.identity.add_user(SYSTEM, username="vanthu.thuong", password="Mat-khau-1234",
                                            full_name="Văn thư thường", agency_id=agency, roles=["clerk"],
                                            clearance=0, unit_ids=[vp])
    readers = {**_readers(api, container), "vanthu.thuong": container.identity.actor_for(uncleared.id)}
    officer, head = me(api, "chuyenvien")["id"], me(api, "truongphong")["id"]
    today = vn_today()
    future, past = today + timedelta(days=15), today - timedelta(days=4)

    plain = _assign(leader, _registered(clerk, 81), future, user_id=officer)
    to_unit = _assign(leader, _registered(clerk, 82, type="TB", subject="Thông báo họp"), future, unit_id=unit)
    secret = _assign(leader, _registered(clerk, 83, secrecy="mat", subject="Kế hoạch mật", file=False), future,
                     user_id=head)
    _assign(leader, _registered(clerk, 84), future, unit_id=vp)
    unassigned = _registered(clerk, 85, type="TB")
    _registered(api.as_user("snv.vanthu"), 86)  # the sister agency's: never in ours
    issued = signed_draft(api, subject="Quyết định ban hành kế hoạch")["id"]
    r = clerk.post(f"/api/v1/documents/{issued}/issue", json={"recipients": [{"name": "Các thôn"}]})
    assert r.status_code == 200, r.get_json()
    signed_draft(api, subject="Dự thảo chưa ban hành")  # a draft counts nowhere
    units = (None, unit, vp)
    first = _same(container, readers, units, "registered, assigned, issued")
    assert sum(first["received_total"]) == 5 and sum(first["issued_total"]) == 1 and _total(first, "open") == 4

    # complete one, re-assign the unit's to an officer
    r = api.as_user("chuyenvien").post(f"/api/v1/documents/{plain}/complete", json={"note": "Xong"})
    assert r.status_code == 200, r.get_json()
    with container.db.read() as s:
        unit_assignment = s.execute(select(Assignment.id).where(Assignment.document_id == to_unit,
                                                                Assignment.status == "open")).scalar_one()
    r = api.as_user("truongphong").post(f"/api/v1/assignments/{unit_assignment}/reassign",
                                        json={"user_id": officer, "deadline": future.isoformat()})
    assert r.status_code == 201, r.get_json()
    after = _same(container, readers, units, "completed, re-assigned")
    assert after["completed"] == 1 and _total(after, "on_time") == 1

    # recall the issued one (still counted as issued), grant a unit to read an unassigned one
    r = leader.post(f"/api/v1/documents/{issued}/recall", json={"reason": "Sai sót số liệu"})
    assert r.status_code == 200, r.get_json()
    r = leader.post(f"/api/v1/documents/{unassigned}/grants", json={"unit_id": unit, "reason": "Phối hợp"})
    assert r.status_code == 201, r.get_json()
    _same(container, readers, units, "recalled, reader added")

    # time passes (deadlines), secrecy is raised and lowered, dates move (bulk ORM updates count too)
    with container.db.write() as s:
        s.execute(update(Assignment).where(Assignment.document_id.in_([to_unit, secret])).values(deadline=past))
        s.execute(update(Document).where(Document.id == secret).values(secrecy=3))
        s.execute(update(Document).where(Document.id == unassigned).values(
            arrival_at=datetime(today.year, 1, 1, 1, tzinfo=UTC)))
    moved = _same(container, readers, units, "deadlines past, top secret, moved to January")
    assert _total(moved, "overdue") == 2 and moved["received"]["Thông báo"][0] == 1
    with container.db.write() as s:
        s.execute(update(Document).where(Document.id == secret).values(secrecy=0))
    lowered = _same(container, readers, units, "secrecy lowered")
    plain_clerk = container.reports.dashboard(readers["vanthu.thuong"], year=today.year, fresh=True).to_dict()
    assert sum(plain_clerk["received_total"]) == sum(lowered["received_total"]), "nothing is secret now"


def test_rebuild_repairs_and_rows_are_counted_until_built(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk, leader = api.as_user("vanthu"), api.as_user("chutich")
    officer = me(api, "chuyenvien")["id"]
    _assign(leader, _registered(clerk, 91), vn_today() + timedelta(days=3), user_id=officer)
    late = _assign(leader, _registered(clerk, 92, secrecy="mat", file=False), vn_today() + timedelta(days=1),
                   user_id=me(api, "truongphong")["id"])
    with container.db.write() as s:
        s.execute(update(Assignment).where(Assignment.document_id == late).values(deadline=vn_today() - timedelta(1)))
    readers = _readers(api, container)
    good = _same(container, readers, (None,), "before damage")
    with container.db.write() as s:  # damage the summary: its counts lost
        s.execute(delete(ReportCount))
    year = vn_today().year
    assert container.reports.dashboard(readers["chutich"], year=year, fresh=True).to_dict()["received_total"] \
        != good["received_total"]

    counted = summary.rebuild(container.db)
    with container.db.read() as s:
        assert counted == s.execute(select(func.count()).select_from(Document)).scalar_one()
        assert s.execute(select(func.count()).select_from(ReportDocumentFact)).scalar_one() > 0
    _same(container, readers, (None,), "rebuilt")

    # not built yet (a database migrated with documents in it): the dashboard counts from the rows
    with container.db.write() as s:
        s.execute(update(ReportSummaryState).values(ready=False))
        s.execute(delete(ReportCount))
    got = ReportService(container.db).dashboard(readers["chutich"], year=year).to_dict()
    got.pop("computed_at")
    assert got == {k: v for k, v in good.items() if k != "computed_at"}

    r = run_cli(["reports", "rebuild-summary"], cli_env(container.settings))
    assert r.returncode == 0, r.stderr
    assert f"rebuilt from {counted} documents" in r.stdout
    _same(container, readers, (None,), "rebuilt by the command")


def test_dashboard_api_from_the_summary(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk, leader = api.as_user("vanthu"), api.as_user("chutich")
    officer = me(api, "chuyenvien")["id"]
    doc = _assign(leader, _registered(clerk, 95), vn_today() + timedelta(days=3), user_id=officer)
    with container.db.read() as s:
        facts = s.execute(select(ReportDocumentFact.measure).where(ReportDocumentFact.document_id == doc)).scalars()
        assert sorted(facts) == ["open", "received"]
    d = leader.get("/api/v1/reports/dashboard", query_string={"year": vn_today().year}).get_json()
    assert sum(d["received_total"]) == 1 and d["handling"]["officers"][0]["open"] == 1
    r = api.as_user("chuyenvien").post(f"/api/v1/documents/{doc}/complete", json={"note": "Xong"})
    assert r.status_code == 200, r.get_json()
    # the kept dashboard is per reader; a fresh one (another year's, then this one's again) is recomputed
    assert sum(leader.get("/api/v1/reports/dashboard", query_string={"year": 2001}).get_json()["received_total"]) == 0
    assert_error(leader.get("/api/v1/reports/dashboard", query_string={"year": 1999}), 400)
    fresh = container.reports.dashboard(container.identity.actor_for(me(api, "chutich")["id"]), fresh=True).to_dict()
    assert fresh["completed"] == 1 and fresh["handling"]["officers"][0]["on_time"] == 1


def test_concurrent_writers_of_one_document_keep_the_counts(api, container) -> None:  # type: ignore[no-untyped-def]
    """Two transactions at once on one document (its lead assignment completed and reopened, its
    urgency changed) and on another document of the same class: the counts equal the rows after."""
    import threading

    from docsvc.db.base import utcnow
    clerk, leader = api.as_user("vanthu"), api.as_user("chutich")
    officer = me(api, "chuyenvien")["id"]
    first = _assign(leader, _registered(clerk, 97), vn_today() + timedelta(days=3), user_id=officer)
    second = _assign(leader, _registered(clerk, 98), vn_today() + timedelta(days=3), user_id=officer)
    with container.db.read() as s:
        lead = {d: s.execute(select(Assignment.id).where(Assignment.document_id == d)).scalar_one()
                for d in (first, second)}
    errors: list[BaseException] = []

    def toggle(assignment_id: int) -> None:
        try:
            for i in range(8):
                with container.db.write() as s:
                    a = s.get(Assignment, assignment_id)
                    a.status, a.completed_at = ("done", utcnow()) if i % 2 == 0 else ("open", None)
        except BaseException as exc:  # reported below
            errors.append(exc)

    def urgency(doc_id: int) -> None:
        try:
            for i in range(8):
                with container.db.write() as s:
                    s.execute(update(Document).where(Document.id == doc_id).values(urgency=i % 3))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=toggle, args=(lead[first],)), threading.Thread(target=urgency, args=(first,)),
               threading.Thread(target=toggle, args=(lead[second],))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    d = _same(container, _readers(api, container), (None,), "after concurrent writers")
    assert _total(d, "open") == 2 and sum(d["received_total"]) == 2
