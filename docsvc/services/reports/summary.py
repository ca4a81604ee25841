"""The reports summary: the dashboard's counts kept as documents change (issue 16).

What a document contributes to the dashboard — received per month and type, issued per month and
type, completed with its handling time, and the state of each lead assignment with a deadline — is
worked out here, from the rows, by :func:`document_facts`, and added to ``report_counts`` under the
document's agency, year and *visibility class* (its exact reader tokens and secrecy level). A reader's
dashboard sums the classes he may read (:func:`reader_counts`): one of his tokens among the class's
tokens and a clearance at least its secrecy — the rule of
:func:`docsvc.services.access.readable_condition`, applied to classes instead of documents. A
document is in one class, so a reader holding several of its tokens counts it once.

One mechanism keeps the counts: :func:`install` listens on the write sessions of a ``Database``.
Whatever a transaction changes in a document, its assignments or its reader tokens (through the ORM
or a bulk ORM UPDATE/DELETE) marks the document; before the commit each marked document's facts
are recomputed from the database and the difference with its stored facts
(``report_document_facts``) is added to the counts, in the same transaction. So the services keep
one place for each rule (who reads what: ``refresh_readers``; what counts: here), and no service has
to remember to call the summary. Open assignments are kept by deadline day, so which are overdue
today is a sum over days, not a scan of rows.

:func:`rebuild` recomputes everything (after the migration that created the tables, or to repair):
``docsvc init`` runs it when the summary is not ready, ``docsvc reports rebuild-summary`` on demand.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, case, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session

from docsvc.db.base import table_of, utcnow
from docsvc.db.models import (
    Assignment,
    Document,
    DocumentReader,
    ReportCount,
    ReportDocumentFact,
    ReportReaderClass,
    ReportReaderClassToken,
    ReportSummaryState,
)
from docsvc.db.models.reports import KEY_COLUMNS
from docsvc.db.uow import READ_ONLY, Database, bulk_targets
from docsvc.domain.access import actor_tokens
from docsvc.domain.documents import Direction, Status
from docsvc.domain.identity import Actor

#: (agency_id, year, class_id, measure, month, type_id, unit_id, user_id, deadline_day); 0 = not applicable
Key = tuple[int, int, int, str, int, int, int, int, int]
#: key → [count, microseconds from arrival to completion]
Facts = dict[Key, list[int]]

TOUCHED_INFO = "report_summary_touched"
CHUNK = 500
_COUNTED_STATUSES = ("open", "done")
_WATCHED = {"documents": "id", "assignments": "document_id", "document_readers": "document_id"}


# ---------------------------------------------------------------- what a document contributes
def document_facts(doc: Any, class_id: int, assignments: Iterable[Any]) -> Facts:
    """The facts ``doc`` (a row with the document's counted columns) adds to the dashboard, with
    its lead assignments (rows of ``Assignment``'s columns).

    - received: an incoming document given an incoming number, in the month of its arrival (UTC);
    - completed: an incoming document completed, with the time from arrival to completion, in the
      year of its arrival;
    - issued: an outgoing or internal document issued (or issued then recalled), in the month of
      its issue date;
    - on_time / late / open: a lead assignment with a deadline, open or done, in the year it was
      given; done on time when completed (UTC day) on or before the deadline; an open one is kept
      by deadline day (overdue is decided when the dashboard is read)."""
    facts: Facts = defaultdict(lambda: [0, 0])
    base = (doc.agency_id,)

    def add(year: int, measure: str, month: int = 0, type_id: int = 0, unit_id: int = 0, user_id: int = 0,
            deadline_day: int = 0, micros: int = 0) -> None:
        fact = facts[(*base, year, class_id, measure, month, type_id, unit_id, user_id, deadline_day)]
        fact[0] += 1
        fact[1] += micros

    if doc.direction == Direction.INCOMING.value and doc.arrival_at is not None:
        arrival = _utc(doc.arrival_at)
        if doc.arrival_number is not None:
            add(arrival.year, "received", arrival.month, doc.type_id)
        if doc.completed_at is not None:
            elapsed = _utc(doc.completed_at) - arrival
            add(arrival.year, "completed", micros=(elapsed.days * 86_400 + elapsed.seconds) * 1_000_000
                + elapsed.microseconds)
    if doc.direction != Direction.INCOMING.value and doc.issued_date is not None and doc.status in (
            Status.ISSUED.value, Status.RECALLED.value):
        add(doc.issued_date.year, "issued", doc.issued_date.month, doc.type_id)
    for a in assignments:
        if a.role != "lead" or a.status not in _COUNTED_STATUSES or a.deadline is None:
            continue
        who = {"unit_id": a.unit_id or 0, "user_id": a.user_id or 0}
        year = _utc(a.assigned_at).year
        if a.status == "done":
            on_time = a.completed_at is not None and _utc(a.completed_at).date() <= a.deadline
            add(year, "on_time" if on_time else "late", **who)
        else:
            add(year, "open", deadline_day=a.deadline.toordinal(), **who)
    return dict(facts)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def class_digest(agency_id: int, secrecy: int, tokens: Iterable[str]) -> tuple[str, str]:
    """The key of a visibility class and its tokens as stored (sorted, space-separated)."""
    joined = " ".join(sorted(set(tokens)))
    return hashlib.sha256(f"{agency_id}|{secrecy}|{joined}".encode()).hexdigest(), joined


# ---------------------------------------------------------------- keeping the counts
def refresh(s: Session, doc_ids: Iterable[int], *, lock: bool = True) -> int:
    """Recompute the facts of ``doc_ids`` from the database and add their change to the counts (in
    the session's transaction). Returns how many count rows changed. ``lock=False`` when the caller
    holds the documents table already (the rebuild)."""
    ids = sorted(set(doc_ids))
    changed = 0
    for start in range(0, len(ids), CHUNK):
        changed += _refresh_chunk(s, ids[start:start + CHUNK], lock)
    return changed


def _refresh_chunk(s: Session, ids: list[int], lock: bool) -> int:
    # The documents' rows locked (PostgreSQL; SQLite has one writer), in id order: the writers of one
    # document take turns, each reading the facts the previous one committed; a rebuild holds the
    # table in EXCLUSIVE mode, so a writer waits for it before reading the facts it replaced.
    query = select(Document.id, Document.agency_id, Document.direction, Document.status, Document.secrecy,
                   Document.type_id, Document.arrival_at, Document.arrival_number, Document.completed_at,
                   Document.issued_date).where(Document.id.in_(ids)).order_by(Document.id)
    docs = s.execute(query.with_for_update(of=Document) if lock else query).all()
    tokens: dict[int, set[str]] = defaultdict(set)
    for doc_id, token in s.execute(select(DocumentReader.document_id, DocumentReader.token)
                                   .where(DocumentReader.document_id.in_(ids))):
        tokens[doc_id].add(token)
    assignments: dict[int, list[Any]] = defaultdict(list)
    for a in s.execute(select(Assignment.document_id, Assignment.role, Assignment.status, Assignment.deadline,
                              Assignment.assigned_at, Assignment.completed_at, Assignment.unit_id,
                              Assignment.user_id).where(Assignment.document_id.in_(ids))):
        # by document only (document_facts keeps the lead ones): a filter on role and status would
        # lead the planner to the report index's range over every lead assignment
        assignments[a.document_id].append(a)
    classes = _class_ids(s, {(d.agency_id, d.secrecy, frozenset(tokens[d.id])) for d in docs})
    new = {d.id: document_facts(d, classes[(d.agency_id, d.secrecy, frozenset(tokens[d.id]))],
                                assignments[d.id]) for d in docs}
    old: dict[int, Facts] = defaultdict(dict)
    facts = table_of(ReportDocumentFact)
    for row in s.execute(select(facts).where(facts.c.document_id.in_(ids))):
        old[row.document_id][_key(row)] = [row.n, row.seconds]
    delta: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    replaced = [doc_id for doc_id in ids if old.get(doc_id, {}) != new.get(doc_id, {})]
    for doc_id in replaced:
        for key, (n, micros) in old.get(doc_id, {}).items():
            delta[key][0] -= n
            delta[key][1] -= micros
        for key, (n, micros) in new.get(doc_id, {}).items():
            delta[key][0] += n
            delta[key][1] += micros
    if not replaced:
        return 0
    s.execute(facts.delete().where(facts.c.document_id.in_(replaced)))
    rows = [{"document_id": doc_id, **dict(zip(KEY_COLUMNS, key, strict=True)), "n": n, "seconds": micros}
            for doc_id in replaced for key, (n, micros) in new.get(doc_id, {}).items()]
    if rows:
        s.execute(facts.insert(), rows)
    return _add_counts(s, {k: v for k, v in delta.items() if v != [0, 0]})


def _key(row: Any) -> Key:
    return tuple(getattr(row, c) for c in KEY_COLUMNS)


def _upsert(s: Session) -> Any:
    return (postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert)


def _add_counts(s: Session, delta: dict[Key, list[int]]) -> int:
    """Add ``delta`` to the counts, in key order (concurrent writers lock rows in the same order)."""
    if not delta:
        return 0
    stmt = _upsert(s)(ReportCount)
    stmt = stmt.on_conflict_do_update(index_elements=list(KEY_COLUMNS), set_={
        "n": ReportCount.n + stmt.excluded.n, "seconds": ReportCount.seconds + stmt.excluded.seconds})
    s.execute(stmt, [{**dict(zip(KEY_COLUMNS, key, strict=True)), "n": n, "seconds": micros}
                     for key, (n, micros) in sorted(delta.items())])
    return len(delta)


ClassKey = tuple[int, int, frozenset[str]]  # agency, secrecy, reader tokens


def _class_ids(s: Session, wanted: set[ClassKey]) -> dict[ClassKey, int]:
    """The ids of visibility classes, created the first time one is seen."""
    stored = {key: class_digest(*key) for key in wanted}  # key -> (digest, tokens as stored)
    digests = {digest: key for key, (digest, _tokens) in stored.items()}
    found = dict(s.execute(select(ReportReaderClass.digest, ReportReaderClass.id)
                           .where(ReportReaderClass.digest.in_(list(digests)))).all())
    missing = [d for d in digests if d not in found]
    if missing:
        stmt = _upsert(s)(ReportReaderClass).on_conflict_do_nothing(index_elements=["digest"])
        s.execute(stmt, [{"agency_id": digests[d][0], "secrecy": digests[d][1], "digest": d,
                          "tokens": stored[digests[d]][1]} for d in missing])
        created = dict(s.execute(select(ReportReaderClass.digest, ReportReaderClass.id)
                                 .where(ReportReaderClass.digest.in_(missing))).all())
        tokens_of = [{"token": t, "class_id": created[d]} for d in missing for t in sorted(digests[d][2])]
        if tokens_of:
            s.execute(_upsert(s)(ReportReaderClassToken).on_conflict_do_nothing(), tokens_of)
        found.update(created)
    return {v: found[d] for d, v in digests.items()}


# ---------------------------------------------------------------- the hook on write sessions
def _touched(session: Session) -> set[int]:
    touched: set[int] = session.info.setdefault(TOUCHED_INFO, set())
    return touched


def _after_flush(session: Session, _context: Any) -> None:
    if session.info.get(READ_ONLY):
        return
    touched = _touched(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Document):
            touched.add(obj.id)
        elif isinstance(obj, (Assignment, DocumentReader)) and obj.document_id is not None:
            touched.add(obj.document_id)


def _before_bulk(state: ORMExecuteState) -> None:
    """Bulk ORM ``update``/``delete`` of documents, assignments or reader tokens: mark the documents
    the WHERE clause selects."""
    if state.session.info.get(READ_ONLY):
        return
    targets = bulk_targets(state, _WATCHED)
    if targets is not None:
        _touched(state.session).update(i for i in targets[1] if i is not None)


def _before_commit(session: Session) -> None:
    if session.info.get(READ_ONLY):
        return
    touched = _touched(session)
    session.flush()
    while touched:
        ids = set(touched)
        touched.clear()
        refresh(session, ids)
        session.flush()


def _after_rollback(session: Session) -> None:
    session.info.pop(TOUCHED_INFO, None)


def install(db: Database) -> None:
    """Keep the summary from every write transaction of ``db`` (idempotent)."""
    db.listen("after_flush", _after_flush)
    db.listen("do_orm_execute", _before_bulk)
    db.listen("before_commit", _before_commit)
    db.listen("after_rollback", _after_rollback)


# ---------------------------------------------------------------- rebuild and state
def is_ready(s: Session) -> bool:
    return bool(s.execute(select(ReportSummaryState.ready).where(ReportSummaryState.id == 1)).scalar())


def rebuild(db: Database) -> int:
    """Recompute the whole summary from the documents (one transaction); returns how many documents
    were counted. On PostgreSQL the documents table is held in EXCLUSIVE mode meanwhile: reads go on,
    writers wait (their ``SELECT ... FOR UPDATE`` of the documents they changed)."""
    with db.write() as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("LOCK TABLE documents IN EXCLUSIVE MODE"))
        for model in (ReportDocumentFact, ReportCount, ReportReaderClassToken, ReportReaderClass):
            s.execute(table_of(model).delete())
        ids = list(s.execute(select(Document.id).order_by(Document.id)).scalars())
        refresh(s, ids, lock=False)
        updated = s.execute(update(ReportSummaryState).where(ReportSummaryState.id == 1)
                            .values(ready=True, rebuilt_at=utcnow())).rowcount  # type: ignore[attr-defined]
        if not updated:
            s.add(ReportSummaryState(id=1, ready=True, rebuilt_at=utcnow()))
        _touched(s).clear()
        return len(ids)


# ---------------------------------------------------------------- reading
def reader_counts(s: Session, actor: Actor, year: int, today: date) -> Iterator[Any]:
    """The summed counts of the classes ``actor`` reads in his agency for ``year``: rows of
    (measure — ``overdue`` for an open assignment past its deadline —, month, type_id, unit_id,
    user_id, n, microseconds), zero sums left out."""
    classes = (select(ReportReaderClassToken.class_id)
               .join(ReportReaderClass, ReportReaderClass.id == ReportReaderClassToken.class_id)
               .where(ReportReaderClassToken.token.in_(sorted(actor_tokens(actor))),
                      ReportReaderClass.agency_id == actor.agency_id,
                      ReportReaderClass.secrecy <= int(actor.clearance)))
    measure = case((and_(ReportCount.measure == "open", ReportCount.deadline_day < today.toordinal()), "overdue"),
                   else_=ReportCount.measure)
    rows = s.execute(select(measure.label("measure"), ReportCount.month, ReportCount.type_id, ReportCount.unit_id,
                            ReportCount.user_id, func.sum(ReportCount.n).label("n"),
                            func.sum(ReportCount.seconds).label("micros"))
                     .where(ReportCount.agency_id == actor.agency_id, ReportCount.year == year,
                            ReportCount.class_id.in_(classes))
                     .group_by(measure, ReportCount.month, ReportCount.type_id, ReportCount.unit_id,
                               ReportCount.user_id))
    return (r for r in rows if r.n)
