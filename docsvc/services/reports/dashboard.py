"""The dashboard of an agency (or one of its units): received and issued per month and type,
handling on time / late / overdue per unit and officer, average handling time, overdue list.

Every figure counts only documents the caller may read (the same reader policy as lists and
search: :func:`docsvc.services.access.readable_condition`), and the overdue list never shows the
subject of a secret document — reports are printed and exported.
Months are those of the stored time (UTC) of arrival, and of the issue date for issued documents.

The counts come from the reports summary (:mod:`docsvc.services.reports.summary`), kept by every
write transaction per agency, visibility class and year: a fresh dashboard sums some thousands of
count rows instead of reading every document of the year (p95 81-141 ms at 100,000 documents on
SQLite and PostgreSQL on a loaded 2-core machine, see ``bench/dashboard.py``); the overdue list
still reads its 200 rows in deadline order. Until the summary has been built (a database migrated
with documents in it, before ``docsvc init``), and for the tests and the bench as the reference,
:meth:`ReportService.count_rows` counts from the rows (covering indexes, migration 0017). A computed
dashboard is also kept for ``cache_seconds`` (``DOCSVC_REPORT_CACHE_SECONDS``, default 300) per
exact reader identity (agency, reader tokens, clearance) and year and unit — never shared between
people who read different documents — and says when it was computed.
"""

from __future__ import annotations

import math
import threading
import time as clock
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Assignment, Document, DocumentType, Organisation, User, UserUnit
from docsvc.db.uow import Database
from docsvc.domain.access import actor_tokens
from docsvc.domain.documents import Direction, Status, number_notation
from docsvc.domain.identity import Actor, Role
from docsvc.errors import InvalidInput, PermissionDenied
from docsvc.services.access import readable_condition
from docsvc.services.reports import summary
from docsvc.timeutil import to_vn_iso, vn_today

REPORT_READERS = (Role.LEADER, Role.UNIT_HEAD, Role.CLERK)
SECRET_SUBJECT = "(văn bản mật)"
OVERDUE_LIST_MAX = 200


@dataclass
class Dashboard:
    year: int
    unit_id: int | None
    received: dict[str, list[int]] = field(default_factory=dict)  # type name → 12 monthly counts
    issued: dict[str, list[int]] = field(default_factory=dict)
    handling_units: list[dict[str, Any]] = field(default_factory=list)
    handling_officers: list[dict[str, Any]] = field(default_factory=list)
    average_days: float | None = None
    completed: int = 0
    overdue: list[dict[str, Any]] = field(default_factory=list)
    computed_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "unit_id": self.unit_id,
                "received": self.received, "received_total": [sum(m) for m in zip(*self.received.values(), strict=True)]
                if self.received else [0] * 12,
                "issued": self.issued, "issued_total": [sum(m) for m in zip(*self.issued.values(), strict=True)]
                if self.issued else [0] * 12,
                "handling": {"units": self.handling_units, "officers": self.handling_officers},
                "average_handling_days": self.average_days, "completed": self.completed,
                "overdue": self.overdue, "computed_at": self.computed_at}


class ReportService:
    def __init__(self, db: Database, *, cache_seconds: float = 300.0) -> None:
        self.db = db
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[Any, ...], tuple[float, Dashboard]] = {}
        self._lock = threading.Lock()
        self._summary_ready = False

    def dashboard(self, actor: Actor, *, year: int | None = None, unit_id: int | None = None,
                  fresh: bool = False) -> Dashboard:
        if not actor.has(*REPORT_READERS):
            raise PermissionDenied("reports are for leaders, unit heads and the registry")
        year = year or vn_today().year
        if not 2000 <= year <= 2100:
            raise InvalidInput("the year is 2000..2100", {"field": "year"})
        key = (actor.agency_id, actor_tokens(actor), int(actor.clearance), year, unit_id)
        now = clock.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and not fresh and now - hit[0] < self.cache_seconds:
                return hit[1]
        out = self._compute(actor, year, unit_id)
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self.cache_seconds}
            self._cache[key] = (now, out)
        return out

    def count_rows(self, actor: Actor, *, year: int, unit_id: int | None = None) -> Dashboard:
        """The dashboard counted from the documents' rows (never kept): the reference the summary
        is tested against, and what :meth:`dashboard` uses until the summary is built."""
        return self._compute(actor, year, unit_id, from_rows=True)

    def _compute(self, actor: Actor, year: int, unit_id: int | None, *, from_rows: bool = False) -> Dashboard:
        start = datetime.combine(date(year, 1, 1), time(), tzinfo=UTC)
        end = datetime.combine(date(year + 1, 1, 1), time(), tzinfo=UTC)
        out = Dashboard(year, unit_id, computed_at=to_vn_iso(utcnow()) or "")
        with self.db.read() as s:
            if unit_id is not None:
                unit = s.get(Organisation, unit_id)
                if unit is None or unit.parent_id != actor.agency_id:
                    raise InvalidInput(f"unit {unit_id} is not a unit of your agency", {"field": "unit_id"})
            # The reader rule in the shape that suits each statement: the set of documents the caller
            # reads, built once, for the pass over the year's incoming documents (most of them);
            # tested row by row for the fewer issued documents and assignments, and for the overdue
            # list, which stops at its first 200 rows in deadline order.
            agency = Document.agency_id == actor.agency_id
            few = and_(agency, readable_condition(actor))
            type_names = {i: name for i, name in s.execute(select(DocumentType.id, DocumentType.name))}
            lead = _lead_assignments(few, start, end, unit_id)
            if not from_rows and not self._summary_ready:
                self._summary_ready = summary.is_ready(s)  # once built, kept by every write since
            if from_rows or not self._summary_ready:
                many = and_(agency, readable_condition(actor, many=True))
                out.received, out.average_days, out.completed = _incoming(s, type_names, and_(
                    many, Document.direction == Direction.INCOMING.value, Document.arrival_at >= start,
                    Document.arrival_at < end))
                out.issued = _per_month(s, type_names, Document.issued_date, and_(
                    few, Document.direction != Direction.INCOMING.value, Document.status.in_(
                        [Status.ISSUED.value, Status.RECALLED.value]),
                    Document.issued_date >= date(year, 1, 1), Document.issued_date < date(year + 1, 1, 1)))
                units, officers = _handling(_handling_rows(s, lead))
            else:
                units, officers = _from_summary(s, out, actor, type_names)
            _finish(s, out, units, officers, _overdue(s, lead))
        return out


def _from_summary(s: Session, out: Dashboard, actor: Actor, type_names: dict[int, str]) -> tuple[Table, Table]:
    """Fill ``out``'s counts from the reports summary; the handling counts per unit and officer."""
    received: dict[str, list[int]] = defaultdict(lambda: [0] * 12)
    issued: dict[str, list[int]] = defaultdict(lambda: [0] * 12)
    members = set(s.execute(select(UserUnit.user_id).where(UserUnit.unit_id == out.unit_id)).scalars()) \
        if out.unit_id is not None else set()
    handling: list[tuple[int | None, int | None, str, int]] = []
    micros = 0
    for r in summary.reader_counts(s, actor, out.year, vn_today()):
        if r.measure in ("received", "issued"):
            (received if r.measure == "received" else issued)[type_names[r.type_id]][r.month - 1] += int(r.n)
        elif r.measure == "completed":
            out.completed += int(r.n)
            micros += int(r.micros)
        elif out.unit_id is None or r.unit_id == out.unit_id or r.user_id in members:
            handling.append((r.unit_id or None, r.user_id or None, r.measure, int(r.n)))
    out.received, out.issued = _by_type(received), _by_type(issued)
    out.average_days = round(micros / 86_400_000_000 / out.completed, 1) if out.completed else None
    return _handling(handling)


def _lead_assignments(mine: Any, start: datetime, end: datetime, unit_id: int | None) -> Any:
    """Lead handlers' assignments with a deadline, given in the year, on documents the caller reads."""
    cond = and_(mine, Assignment.role == "lead", Assignment.status.in_(("open", "done")),
                Assignment.deadline.is_not(None), Assignment.assigned_at >= start, Assignment.assigned_at < end)
    if unit_id is not None:
        members = select(UserUnit.user_id).where(UserUnit.unit_id == unit_id)
        cond = and_(cond, or_(Assignment.unit_id == unit_id, Assignment.user_id.in_(members)))
    return cond


def _month(column: Any) -> Any:
    """The month (1..12) of a date or timestamp column: EXTRACT, which SQLAlchemy writes for each dialect."""
    return func.extract("month", column)


def _by_type(counts: dict[str, list[int]]) -> dict[str, list[int]]:
    """Types with the most documents first; equal ones by name."""
    return dict(sorted(counts.items(), key=lambda kv: (-sum(kv[1]), kv[0])))


def _per_month(s: Session, type_names: dict[int, str], column: Any, cond: Any) -> dict[str, list[int]]:
    """Documents per type name and month. Grouped by the type's id (names are unique), so the
    database reads no type row per document."""
    month = _month(column)
    rows = s.execute(select(Document.type_id, month, func.count()).where(cond).group_by(Document.type_id, month))
    out: dict[str, list[int]] = defaultdict(lambda: [0] * 12)
    for type_id, m, n in rows:
        out[type_names[type_id]][int(m) - 1] += int(n)
    return _by_type(out)


def _days_between(s: Session, start: Any, end: Any) -> Any:
    """Days from ``start`` to ``end`` (two timestamp columns) as a number. The difference of two
    timestamps is written per dialect (SQLite has julianday, PostgreSQL an epoch of an interval);
    nothing else in the dashboard is."""
    if s.get_bind().dialect.name == "sqlite":
        return func.julianday(end) - func.julianday(start)
    return func.extract("epoch", end - start) / 86400.0


def _incoming(s: Session, type_names: dict[int, str], cond: Any
              ) -> tuple[dict[str, list[int]], float | None, int]:
    """One pass over the incoming documents that arrived in the year: received per type and month
    (those given an incoming number), and the average days from arrival to completion of the
    completed ones with their count."""
    month = _month(Document.arrival_at)
    received = func.count(Document.arrival_number)  # COUNT(column) skips NULLs
    days = func.sum(_days_between(s, Document.arrival_at, Document.completed_at))  # NULL unless completed
    completed = func.count(Document.completed_at)
    out: dict[str, list[int]] = defaultdict(lambda: [0] * 12)
    sums: list[float] = []
    n_completed = 0
    for type_id, m, n, total, done in s.execute(select(Document.type_id, month, received, days, completed)
                                                .where(cond).group_by(Document.type_id, month)):
        if n:
            out[type_names[type_id]][int(m) - 1] += int(n)
        if done:
            sums.append(float(total))
            n_completed += int(done)
    average = round(math.fsum(sums) / n_completed, 1) if n_completed else None
    return _by_type(out), average, n_completed


def _state() -> Any:
    today = vn_today()
    done_day = func.date(Assignment.completed_at)
    return case(
        (and_(Assignment.status == "done", done_day <= Assignment.deadline), "on_time"),
        (Assignment.status == "done", "late"),
        (Assignment.deadline < today, "overdue"),
        else_="open")


def _handling_rows(s: Session, cond: Any) -> list[tuple[int | None, int | None, str, int]]:
    """(unit_id, user_id, state, count) of the lead assignments ``cond`` selects, counted from the rows."""
    state = _state()
    return [(unit_id, user_id, st, int(n)) for unit_id, user_id, st, n in s.execute(
        select(Assignment.unit_id, Assignment.user_id, state, func.count())
        .select_from(Assignment).join(Document, Document.id == Assignment.document_id)
        .where(cond).group_by(Assignment.unit_id, Assignment.user_id, state))]


Table = dict[int, dict[str, int]]


def _handling(rows: list[tuple[int | None, int | None, str, int]]) -> tuple[Table, Table]:
    """Counts per unit and per officer, from (unit_id, user_id, state, count) rows."""
    units: Table = defaultdict(lambda: {"on_time": 0, "late": 0, "overdue": 0, "open": 0})
    officers: Table = defaultdict(lambda: {"on_time": 0, "late": 0, "overdue": 0, "open": 0})
    for unit_id, user_id, st, n in rows:
        if unit_id is not None:
            units[unit_id][st] += n
        if user_id is not None:
            officers[user_id][st] += n
    return units, officers


def _finish(s: Session, out: Dashboard, units: Table, officers: Table, overdue: list[Any]) -> None:
    """The handling tables (by name) and the overdue list, their unit and people names read at once."""
    unit_ids = set(units) | {r.unit_id for r in overdue if r.unit_id}
    user_ids = set(officers) | {r.user_id for r in overdue if r.user_id}
    unit_names: dict[int, str] = {}
    user_names: dict[int, str] = {}
    if unit_ids or user_ids:
        for kind, key, name in s.execute(
                select(literal("unit"), Organisation.id, Organisation.name).where(Organisation.id.in_(unit_ids))
                .union_all(select(literal("user"), User.id, User.full_name).where(User.id.in_(user_ids)))):
            (unit_names if kind == "unit" else user_names)[key] = name
    out.handling_units = [{"unit_id": k, "name": unit_names.get(k, ""), **v, "total": sum(v.values())}
                          for k, v in sorted(units.items(), key=lambda kv: unit_names.get(kv[0], ""))]
    out.handling_officers = [{"user_id": k, "name": user_names.get(k, ""), **v, "total": sum(v.values())}
                             for k, v in sorted(officers.items(), key=lambda kv: user_names.get(kv[0], ""))]
    today = vn_today()
    out.overdue = []
    for r in overdue:
        if r.deadline is None:  # never: the query keeps deadlines before today
            continue
        handler = user_names.get(r.user_id) if r.user_id else unit_names.get(r.unit_id) if r.unit_id else None
        out.overdue.append({"document_id": r.id, "number_notation": number_notation(r.code_number, r.code_notation),
                            "arrival_number": r.arrival_number,
                            "subject": SECRET_SUBJECT if r.secrecy else r.subject, "secret": bool(r.secrecy),
                            "handler": handler, "deadline": r.deadline.isoformat(),
                            "days_overdue": (today - r.deadline).days})


def _overdue(s: Session, cond: Any) -> list[Any]:
    """The first open lead assignments past their deadline (rows, in deadline order)."""
    return list(s.execute(select(Document.id, Document.code_number, Document.code_notation, Document.arrival_number,
                                 Document.subject, Document.secrecy, Assignment.user_id, Assignment.unit_id,
                                 Assignment.deadline)
                          .join(Assignment, Assignment.document_id == Document.id)
                          .where(cond, Assignment.status == "open", Assignment.deadline < vn_today())
                          .order_by(Assignment.deadline, Document.id).limit(OVERDUE_LIST_MAX)).all())


def month_labels() -> list[str]:
    return [f"T{m}" for m in range(1, 13)]


