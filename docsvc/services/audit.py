"""The audit log: append events in the caller's transaction, verify the hash chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import AuditEvent, AuditHead
from docsvc.db.uow import Database
from docsvc.domain.identity import Actor, RequestOrigin

GENESIS_HASH = "0" * 64


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over the canonical JSON of every field except ``hash`` itself."""
    canonical = json.dumps(
        [event.seq, event.occurred_at.isoformat(), event.actor_id, event.actor_name, event.action,
         event.object_type, event.object_id, event.agency_id, event.ip, event.outcome,
         event.details or {}, event.prev_hash],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(session: Session, *, actor: Actor | None, action: str, object_type: str,
           object_id: str | int | None = None, outcome: str = "success",
           details: dict[str, Any] | None = None, origin: RequestOrigin | None = None,
           agency_id: int | None = None, actor_name: str | None = None) -> AuditEvent:
    """Append one event in ``session``'s transaction (it commits or rolls back with the change).

    Locking the head row serialises appenders on PostgreSQL; SQLite write transactions are
    already serial (BEGIN IMMEDIATE)."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_seq=0, last_hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    event = AuditEvent(
        seq=head.last_seq + 1,
        occurred_at=utcnow(),
        actor_id=actor.user_id if actor else None,
        actor_name=actor_name or (actor.username if actor else "system"),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        agency_id=agency_id if agency_id is not None else (actor.agency_id if actor else None),
        ip=(origin.ip if origin else None),
        outcome=outcome,
        details=_clean(details or {}),
        prev_hash=head.last_hash,
    )
    if origin and origin.channel != "api":
        event.details = {**event.details, "channel": origin.channel}
    event.hash = event_hash(event)
    head.last_seq, head.last_hash = event.seq, event.hash
    session.add(event)
    session.flush()
    return event


def record_now(db: Database, **kwargs: Any) -> None:
    """Append an event in its own transaction: for denials and failures, whose use case rolled back."""
    with db.write() as session:
        record(session, **kwargs)


def _clean(details: dict[str, Any]) -> dict[str, Any]:
    """Keep details JSON-stable (hash input): plain str/int/bool/None, lists and dicts of them."""
    plain: dict[str, Any] = json.loads(json.dumps(details, ensure_ascii=False, default=str))
    return plain


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, batch: int = 2000) -> VerifyReport:
    """Walk the chain in order; name every row that was edited, and every deletion."""
    report = VerifyReport()
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for event in _in_order(session, batch):
        report.checked += 1
        if event.seq != expected_seq:
            report.problems.append(f"{_rows(expected_seq, event.seq - 1)} deleted (sequence jumps to {event.seq})")
        elif event.prev_hash != expected_prev:
            report.problems.append(f"row {event.seq}: previous-hash link broken (row {event.seq - 1} edited)")
        if event_hash(event) != event.hash:
            report.problems.append(
                f"row {event.seq}: content does not match its hash (edited: {event.action} on "
                f"{event.object_type} {event.object_id} at {event.occurred_at.isoformat()})")
        expected_prev, expected_seq = event.hash, event.seq + 1
    head = session.get(AuditHead, 1)
    last = expected_seq - 1
    if head is not None and head.last_seq != last:
        if head.last_seq > last:
            report.problems.append(f"{_rows(last + 1, head.last_seq)} deleted from the end of the log")
        else:
            report.problems.append(f"rows after {head.last_seq} were not appended through the log")
    elif head is not None and last and head.last_hash != expected_prev:
        report.problems.append(f"row {last}: does not match the recorded head of the chain")
    return report


def _rows(first: int, last: int) -> str:
    return f"row {first}" if first == last else f"rows {first}-{last}"


def _in_order(session: Session, batch: int) -> Iterator[AuditEvent]:
    after = 0
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(batch)
        ).scalars().all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


def events_for(session: Session, object_type: str, object_id: str | int, *, limit: int = 500,
               exclude_actions: Collection[str] = (), before_seq: int | None = None) -> list[AuditEvent]:
    """The newest ``limit`` events of an object (before ``before_seq`` when given, leaving out
    ``exclude_actions``), oldest first. Newest, because an object read thousands of times must
    still show what happened to it last."""
    q = select(AuditEvent).where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
    if exclude_actions:
        q = q.where(AuditEvent.action.not_in(sorted(exclude_actions)))
    if before_seq is not None:
        q = q.where(AuditEvent.seq < before_seq)
    return list(reversed(session.execute(q.order_by(AuditEvent.seq.desc()).limit(limit)).scalars().all()))
