"""The dashboard's figures against the same figures computed here, independently, from the rows:
who may read what by the domain's ``may_read`` (not the SQL reader filter), months, states and
averages in Python. A small mixed set: several types and months, an issued document, a document
of last year, a sister agency's document, secret and top-secret documents, handling on time, late,
overdue, open and re-assigned; several readers and one unit."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from docsvc.db.models import Assignment, Document, DocumentReader, DocumentType, Organisation, User, UserUnit
from docsvc.domain.access import may_read
from docsvc.domain.documents import number_notation
from docsvc.timeutil import vn_today
from tests.helpers import created, me, signed_draft, upload


def _registered(clerk: Any, n: int, **fields: Any) -> int:
    d = created(upload(clerk, number_notation=f"{n}/QĐ-UBND", **fields))
    assert clerk.post(f"/api/v1/documents/{d['id']}/register", json={}).status_code == 200
    return int(d["id"])


def _assign(leader: Any, doc_id: int, deadline: date, **lead: int) -> int:
    r = leader.post(f"/api/v1/documents/{doc_id}/assignments", json={"lead": lead, "deadline": deadline.isoformat()})
    assert r.status_code == 201, r.get_json()
    return doc_id


def expected(container: Any, actor: Any, year: int, unit_id: int | None = None) -> dict[str, Any]:
    """The dashboard of ``actor`` worked out from the rows, without the reports code."""
    today = vn_today()
    with container.db.read() as s:
        docs = {d.id: d for d in s.execute(select(Document).where(Document.agency_id == actor.agency_id)).scalars()}
        tokens: dict[int, set[str]] = defaultdict(set)
        for doc_id, token in s.execute(select(DocumentReader.document_id, DocumentReader.token)):
            tokens[doc_id].add(token)
        types = dict(s.execute(select(DocumentType.id, DocumentType.name)).all())
        assignments = list(s.execute(select(Assignment)).scalars())
        members = set(s.execute(select(UserUnit.user_id).where(UserUnit.unit_id == unit_id)).scalars())
        units = dict(s.execute(select(Organisation.id, Organisation.name)).all())
        users = dict(s.execute(select(User.id, User.full_name)).all())
    readable = {i: d for i, d in docs.items() if may_read(actor, d.secrecy, tokens[i])}

    def per_month(pairs: list[tuple[int, int]]) -> dict[str, list[int]]:
        out: dict[str, list[int]] = defaultdict(lambda: [0] * 12)
        for type_id, month in pairs:
            out[types[type_id]][month - 1] += 1
        return dict(sorted(out.items(), key=lambda kv: (-sum(kv[1]), kv[0])))

    incoming = [d for d in readable.values() if d.direction == "incoming" and d.arrival_at
                and d.arrival_at.astimezone(UTC).year == year]
    received = per_month([(d.type_id, d.arrival_at.astimezone(UTC).month) for d in incoming
                          if d.arrival_number is not None])
    issued = per_month([(d.type_id, d.issued_date.month) for d in readable.values()
                        if d.direction != "incoming" and d.status in ("issued", "recalled")
                        and d.issued_date and d.issued_date.year == year])
    done = [(d.completed_at - d.arrival_at).total_seconds() / 86400 for d in incoming if d.completed_at]
    lead = [a for a in assignments if a.document_id in readable and a.role == "lead"
            and a.status in ("open", "done") and a.deadline is not None and a.assigned_at.astimezone(UTC).year == year
            and (unit_id is None or a.unit_id == unit_id or a.user_id in members)]

    def state(a: Assignment) -> str:
        if a.status == "done":
            return "on_time" if a.completed_at.astimezone(UTC).date() <= a.deadline else "late"
        return "overdue" if a.deadline < today else "open"

    def table(key: str, names: dict[int, str]) -> list[dict[str, Any]]:
        rows: dict[int, dict[str, int]] = defaultdict(lambda: {"on_time": 0, "late": 0, "overdue": 0, "open": 0})
        for a in lead:
            if getattr(a, key) is not None:
                rows[getattr(a, key)][state(a)] += 1
        return [{key: k, "name": names[k], **v, "total": sum(v.values())}
                for k, v in sorted(rows.items(), key=lambda kv: names[kv[0]])]

    overdue = sorted((a for a in lead if a.status == "open" and a.deadline < today),
                     key=lambda a: (a.deadline, a.document_id))

    def total(figures: dict[str, list[int]]) -> list[int]:
        return [sum(m) for m in zip(*figures.values(), strict=True)] if figures else [0] * 12

    return {
        "year": year, "unit_id": unit_id, "received": received, "received_total": total(received),
        "issued": issued, "issued_total": total(issued),
        "handling": {"units": table("unit_id", units), "officers": table("user_id", users)},
        "average_handling_days": round(sum(done) / len(done), 1) if done else None, "completed": len(done),
        "overdue": [{"document_id": a.document_id,
                     "number_notation": number_notation(readable[a.document_id].code_number,
                                                        readable[a.document_id].code_notation),
                     "arrival_number": readable[a.document_id].arrival_number,
                     "subject": "(văn bản mật)" if readable[a.document_id].secrecy else readable[a.document_id].subject,
                     "secret": bool(readable[a.document_id].secrecy),
                     "handler": users[a.user_id] if a.user_id else units[a.unit_id],
                     "deadline": a.deadline.isoformat(), "days_overdue": (today - a.deadline).days}
                    for a in overdue],
    }


def test_dashboard_figures_match_an_independent_count(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk, leader = api.as_user("vanthu"), api.as_user("chutich")
    today = vn_today()
    year = today.year
    officer, head = me(api, "chuyenvien")["id"], me(api, "truongphong")["id"]
    unit = me(api, "truongphong")["unit_ids"][0]
    vp = me(api, "vanthu")["unit_ids"][0]
    past, future = today - timedelta(days=3), today + timedelta(days=20)

    on_time = _assign(leader, _registered(clerk, 61), future, user_id=officer)
    late = _assign(leader, _registered(clerk, 62, type="TB", subject="Thông báo lịch tiếp dân"), future,
                   user_id=officer)
    overdue = _assign(leader, _registered(clerk, 63), future, user_id=officer)
    secret = _assign(leader, _registered(clerk, 64, secrecy="mat", subject="Kế hoạch mật A", file=False), future,
                     user_id=head)
    top = _assign(leader, _registered(clerk, 65, secrecy="mat", subject="Kế hoạch tuyệt mật B", file=False),
                  future, unit_id=unit)
    _assign(leader, _registered(clerk, 66, type="TB"), future, unit_id=vp)
    reassigned = _assign(leader, _registered(clerk, 67), future, unit_id=unit)
    january = _registered(clerk, 68, type="TB")
    last_year = _registered(clerk, 69)
    _registered(api.as_user("snv.vanthu"), 70)  # the sister agency's
    for doc_id in (on_time, late):
        r = api.as_user("chuyenvien").post(f"/api/v1/documents/{doc_id}/complete", json={"note": "Xong"})
        assert r.status_code == 200, r.get_json()
    with container.db.read() as s:
        unit_assignment = s.execute(select(Assignment.id).where(Assignment.document_id == reassigned)).scalar_one()
    r = api.as_user("truongphong").post(f"/api/v1/assignments/{unit_assignment}/reassign",
                                        json={"user_id": officer, "deadline": future.isoformat()})
    assert r.status_code == 201, r.get_json()
    issued = signed_draft(api, subject="Quyết định ban hành quy chế")["id"]
    r = clerk.post(f"/api/v1/documents/{issued}/issue", json={"recipients": [{"name": "Các thôn"}]})
    assert r.status_code == 200, r.get_json()

    start_of_year = datetime(year, 1, 1, 0, 30, tzinfo=UTC)
    with container.db.write() as s:  # spread over months and states as time would have
        s.execute(update(Assignment).where(Assignment.document_id.in_([overdue, secret, top, reassigned]))
                  .values(deadline=past))
        s.execute(update(Document).where(Document.id == top).values(secrecy=3))  # raised to Tuyệt mật
        s.execute(update(Document).where(Document.id == january).values(arrival_at=start_of_year))
        s.execute(update(Document).where(Document.id == last_year).values(
            arrival_at=start_of_year - timedelta(days=40)))
        s.execute(update(Document).where(Document.id.in_([on_time, late])).values(
            arrival_at=start_of_year + timedelta(days=3, hours=5)))
        s.execute(update(Document).where(Document.id == on_time).values(
            completed_at=start_of_year + timedelta(days=9, hours=1)))
        s.execute(update(Document).where(Document.id == late).values(
            completed_at=start_of_year + timedelta(days=40, hours=11, minutes=7)))
        s.execute(update(Assignment).where(Assignment.document_id.in_([on_time, late])).values(
            assigned_at=start_of_year + timedelta(days=3, hours=6), deadline=date(year, 1, 20)))
        s.execute(update(Assignment).where(Assignment.document_id == on_time).values(
            completed_at=start_of_year + timedelta(days=9)))
        s.execute(update(Assignment).where(Assignment.document_id == late).values(
            completed_at=start_of_year + timedelta(days=40)))
        s.execute(update(Document).where(Document.id == issued).values(issued_date=date(year, 2, 14)))

    readers = {"chutich": None, "phochutich": None, "truongphong": None, "vanthu": None}
    for username in readers:
        actor = container.identity.actor_for(me(api, username)["id"])
        for unit_id in (None, unit):
            got = container.reports.dashboard(actor, year=year, unit_id=unit_id, fresh=True).to_dict()
            got.pop("computed_at")
            assert got == expected(container, actor, year, unit_id), (username, unit_id)

    # The mix is what it claims to be (so the comparison above covers each case).
    everything = container.reports.dashboard(container.identity.actor_for(me(api, "chutich")["id"]), year=year,
                                             fresh=True).to_dict()
    officers = {o["user_id"]: o for o in everything["handling"]["officers"]}
    assert officers[officer]["on_time"] == 1 and officers[officer]["late"] == 1
    assert officers[officer]["overdue"] == 2 and officers[head]["overdue"] == 1
    assert {u["unit_id"]: u["open"] for u in everything["handling"]["units"]}[vp] == 1
    assert {o["document_id"] for o in everything["overdue"]} == {overdue, secret, top, reassigned}
    assert everything["received"]["Thông báo"][0] == 2 and sum(everything["issued_total"]) == 1
    assert everything["completed"] == 2 and everything["average_handling_days"] is not None
    deputy = container.reports.dashboard(container.identity.actor_for(me(api, "phochutich")["id"]), year=year,
                                         fresh=True).to_dict()
    assert top not in {o["document_id"] for o in deputy["overdue"]}
    assert sum(deputy["received_total"]) == sum(everything["received_total"]) - 1
