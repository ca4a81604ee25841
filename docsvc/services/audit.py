"""The audit log: append events in the caller's transaction, verify the keyed hash chain.

Each row's ``hash`` is HMAC-SHA256 under an audit key (``DOCSVC_AUDIT_KEY``, outside the database;
``key_id`` says which, so keys can rotate) over the previous row's hash and the canonical row.
Rows written before the keyed chain existed have no ``key_id`` and a plain SHA-256 hash: they are
accepted as *legacy* only before the first keyed row, and the first signed checkpoint
(``docsvc.services.audit_checkpoints``) records that switch point, so nobody can later re-hash keyed
rows as legacy ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from docsvc.db.base import table_of, utcnow
from docsvc.db.models import AuditEvent, AuditHead
from docsvc.domain.identity import Actor, RequestOrigin
from docsvc.domain.policies import is_system

GENESIS_HASH = "0" * 64
#: Where a unit of work's session finds the audit keys (``Database(session_info=...)``, see bootstrap).
KEYS_INFO = "audit_keys"


@dataclass(frozen=True)
class AuditKeys:
    """The HMAC keys of the chain by id, and the id new rows use."""

    keys: Mapping[str, bytes]
    active: str

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise ValueError("the active audit key id names no key")


def _canonical(event: AuditEvent, *, keyed: bool) -> bytes:
    fields_ = [event.seq, event.occurred_at.isoformat(), event.actor_id, event.actor_name, event.action,
               event.object_type, event.object_id, event.agency_id, event.ip, event.outcome,
               event.details or {}, event.prev_hash]
    if keyed:
        fields_.append(event.key_id)
    return json.dumps(fields_, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def legacy_event_hash(event: AuditEvent) -> str:
    """The pre-HMAC hash: SHA-256 over the canonical JSON of every field except ``hash``."""
    return hashlib.sha256(_canonical(event, keyed=False)).hexdigest()


def keyed_event_hash(event: AuditEvent, key: bytes) -> str:
    """HMAC-SHA256(key, previous hash || canonical row including its key id)."""
    return hmac.new(key, event.prev_hash.encode("ascii") + b"\n" + _canonical(event, keyed=True),
                    hashlib.sha256).hexdigest()


def event_hash(event: AuditEvent, keys: AuditKeys | None = None) -> str | None:
    """The hash ``event`` should carry: keyed by its ``key_id`` (None if ``keys`` lack that key),
    legacy SHA-256 when it has none."""
    if event.key_id is None:
        return legacy_event_hash(event)
    key = keys.keys.get(event.key_id) if keys is not None else None
    return keyed_event_hash(event, key) if key is not None else None


#: The append's statements, built once (every audited request appends an event) and run as plain SQL:
#: the head row locked, the events inserted, the head advanced, without the ORM's unit of work.
_HEAD = table_of(AuditHead)
_EVENTS = table_of(AuditEvent)
_HEAD_FOR_UPDATE = select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()
_NEW_HEAD = insert(_HEAD).values(id=1, last_seq=0, last_hash=GENESIS_HASH)
_ADVANCE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(last_seq=bindparam("new_seq"),
                                                            last_hash=bindparam("new_hash"))
_APPEND = insert(_EVENTS)


@dataclass
class _Head:
    """Where the chain ends: the last event's number and hash."""

    last_seq: int
    last_hash: str


def record(session: Session, *, actor: Actor | None, action: str, object_type: str,
           object_id: str | int | None = None, outcome: str = "success",
           details: dict[str, Any] | None = None, origin: RequestOrigin | None = None,
           agency_id: int | None = None, actor_name: str | None = None) -> AuditEvent:
    """Append one event in ``session``'s transaction (it commits or rolls back with the change).

    Locking the head row serialises appenders on PostgreSQL; SQLite write transactions are
    already serial (BEGIN IMMEDIATE)."""
    return record_many(session, [{"actor": actor, "action": action, "object_type": object_type,
                                  "object_id": object_id, "outcome": outcome, "details": details, "origin": origin,
                                  "agency_id": agency_id, "actor_name": actor_name}])[0]


def record_many(session: Session, entries: Sequence[dict[str, Any]]) -> list[AuditEvent]:
    """Append one event per entry (each with ``record``'s keyword arguments), chained in order, under one
    lock of the head and one INSERT: a bulk job (certificates for a merged agency's people) keeps one event
    per item without paying a round trip per event. The events returned are the rows written (not attached
    to the session)."""
    keys: AuditKeys | None = session.info.get(KEYS_INFO)
    if keys is None:
        raise RuntimeError("this session has no audit keys: open it through the container's Database")
    row = session.execute(_HEAD_FOR_UPDATE).first()
    if row is None:
        session.execute(_NEW_HEAD)
    head = _Head(row.last_seq, row.last_hash) if row is not None else _Head(0, GENESIS_HASH)
    events = [_chained(head, keys, **entry) for entry in entries]
    session.execute(_APPEND, [{c.key: getattr(e, c.key) for c in _EVENTS.columns} for e in events])
    session.execute(_ADVANCE_HEAD, {"new_seq": head.last_seq, "new_hash": head.last_hash})
    return events


def _chained(head: _Head, keys: AuditKeys, *, actor: Actor | None, action: str, object_type: str,
             object_id: str | int | None = None, outcome: str = "success", details: dict[str, Any] | None = None,
             origin: RequestOrigin | None = None, agency_id: int | None = None,
             actor_name: str | None = None) -> AuditEvent:
    """The next event after ``head`` (which it advances), hashed with the active key."""
    if is_system(actor):  # the system acts for no user and no agency
        actor = None
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
        key_id=keys.active,
    )
    if origin and origin.channel != "api":
        event.details = {**event.details, "channel": origin.channel}
    event.hash = keyed_event_hash(event, keys.keys[keys.active])
    head.last_seq, head.last_hash = event.seq, event.hash
    return event


def _clean(details: dict[str, Any]) -> dict[str, Any]:
    """Keep details JSON-stable (hash input): plain str/int/bool/None, lists and dicts of them."""
    plain: dict[str, Any] = json.loads(json.dumps(details, ensure_ascii=False, default=str))
    return plain


@dataclass(frozen=True)
class Problem:
    """One finding of a verification. ``kind``: edited, link_broken, deleted, cut_tail, head_mismatch,
    unknown_key, legacy_after_switch, rewritten, checkpoint_mismatch, checkpoint_invalid, checkpoint_missing,
    checkpoint_overwritten."""

    kind: str
    message: str
    first_seq: int | None = None
    last_seq: int | None = None

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "first_seq": self.first_seq, "last_seq": self.last_seq}


@dataclass(frozen=True)
class Anchor:
    """What a valid signed checkpoint asserts: rows 1..``seq`` (``count`` of them) end in
    ``head_hash``, and no row after ``legacy_until`` has a legacy hash."""

    seq: int
    head_hash: str
    count: int
    legacy_until: int
    label: str  # how to name it to an operator, e.g. "the checkpoint of 2026-12-07T03:40:00+00:00"
    marks: Mapping[int, str] = field(default_factory=dict)  # row hashes it recorded since the previous one


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    last_seq: int = 0
    anchored_to: int = 0  # rows 1..anchored_to match a valid signed checkpoint

    @property
    def ok(self) -> bool:
        return not self.problems


class ChainWalker:
    """Checks rows fed in seq order from a known point (the genesis, or a checkpoint's head): the
    sequence has no gap, each row links to the previous row's hash, and each row's own hash is
    right (keyed, or legacy SHA-256 only before the keyed chain began)."""

    def __init__(self, keys: AuditKeys, *, after_seq: int = 0, after_hash: str = GENESIS_HASH,
                 legacy_until: int | None = None, mark_every: int = 0) -> None:
        self.keys = keys
        self.after_seq = after_seq
        self.mark_every = mark_every  # keep every n-th row's hash (and the last one's) in ``marks``
        self.marks: dict[int, str] = {}
        self.expected_seq = after_seq + 1
        self.expected_prev = after_hash
        self.legacy_until = legacy_until  # from a checkpoint: legacy rows beyond it are forgeries
        self.first_keyed: int | None = None
        self.last_legacy = 0 if legacy_until is None else legacy_until
        self.count = 0
        self.problems: list[Problem] = []

    @property
    def last_seq(self) -> int:
        return self.expected_seq - 1

    @property
    def last_hash(self) -> str:
        return self.expected_prev

    def feed(self, event: AuditEvent) -> None:
        self.count += 1
        seq = event.seq
        if seq != self.expected_seq:
            self.problems.append(Problem("deleted", f"{_rows(self.expected_seq, seq - 1)} deleted (sequence jumps to "
                                         f"{seq})", self.expected_seq, seq - 1))
        elif event.prev_hash != self.expected_prev:
            self.problems.append(Problem("link_broken", f"row {seq}: previous-hash link broken (row {seq - 1} edited)",
                                         seq - 1, seq))
        if event.key_id is None:
            switch = self.first_keyed
            if switch is not None or (self.legacy_until is not None and seq > self.legacy_until):
                where = f"at row {switch}" if switch is not None else f"after row {self.legacy_until}"
                self.problems.append(Problem(
                    "legacy_after_switch", f"row {seq}: unkeyed SHA-256 hash where the keyed chain had begun ({where}):"
                    " rewritten by someone without the audit key", seq, seq))
            else:
                self.last_legacy = seq
        elif self.first_keyed is None:
            self.first_keyed = seq
        expected = event_hash(event, self.keys)
        if expected is None:
            self.problems.append(Problem("unknown_key", f"row {seq}: hashed with audit key {event.key_id!r}, which "
                                         "DOCSVC_AUDIT_KEY does not hold (a forged row, or a key removed too early)",
                                         seq, seq))
        elif not hmac.compare_digest(expected, event.hash):
            self.problems.append(Problem(
                "edited", f"row {seq}: content does not match its hash (edited: {event.action} on "
                f"{event.object_type} {event.object_id} at {event.occurred_at.isoformat()})", seq, seq))
        self.expected_prev, self.expected_seq = event.hash, seq + 1
        if self.mark_every and (seq - self.after_seq) % self.mark_every == 0:
            self.marks[seq] = event.hash

    def final_marks(self) -> dict[int, str]:
        """The kept row hashes, the last row's included."""
        return {**self.marks, self.last_seq: self.last_hash} if self.count else dict(self.marks)


def verify(session: Session, keys: AuditKeys, anchors: Collection[Anchor] = (), batch: int = 2000) -> VerifyReport:
    """Walk the whole chain in order; name every edited or deleted row, check it against each
    valid checkpoint (``anchors``), and name a cut tail (rows a checkpoint covers that are gone)."""
    report = VerifyReport()
    pending = sorted(anchors, key=lambda a: a.seq)
    walker = ChainWalker(keys, legacy_until=pending[0].legacy_until if pending else None)
    i, since = 0, 1
    matched, marked = 0, False  # the last row found as a checkpoint recorded it; a rewrite already named
    for event in _in_order(session, batch):
        while i < len(pending) and pending[i].seq < event.seq:  # the anchored row itself is gone
            a = pending[i]
            report.problems.append(Problem("checkpoint_mismatch", f"row {a.seq} is missing: {a.label} covers it",
                                           a.seq, a.seq))
            i, since, marked = i + 1, a.seq + 1, False
        walker.feed(event)
        recorded = pending[i].marks.get(event.seq) if i < len(pending) else None
        if recorded is not None and not marked:
            if recorded == event.hash:
                matched = event.seq
            else:
                marked = True
                first = max(matched + 1, since)
                where = f"row {event.seq}" if first == event.seq else f"one of rows {first}-{event.seq}"
                report.problems.append(Problem(
                    "rewritten", f"{where}: rewritten (hash differs from the one {pending[i].label} recorded); "
                    "recomputed with the audit key", first, event.seq))
        if i < len(pending) and pending[i].seq == event.seq:
            a = pending[i]
            if event.hash != a.head_hash or walker.count != a.count:
                report.problems.append(Problem(
                    "checkpoint_mismatch",
                    f"{_rows(since, a.seq)}: do not match {a.label} (signed: {a.count} rows ending in hash "
                    f"{a.head_hash[:16]}…; found: {walker.count} rows ending in {event.hash[:16]}…): a row in this "
                    "range was rewritten with the audit key, or rows were removed and renumbered", since, a.seq))
            else:
                report.anchored_to = a.seq
            i, since, marked = i + 1, a.seq + 1, False
    report.problems[:0] = walker.problems
    report.checked, last = walker.count, walker.last_seq
    report.last_seq = last
    if i < len(pending):
        top = pending[-1]
        report.problems.append(Problem(
            "cut_tail", f"cut tail: {_rows(last + 1, top.seq)} missing (the log ends at row {last}; {top.label} "
            f"covers up to row {top.seq})", last + 1, top.seq))
    head = session.get(AuditHead, 1)
    if head is not None and head.last_seq != last:
        if head.last_seq > last:
            report.problems.append(Problem("deleted", f"{_rows(last + 1, head.last_seq)} deleted from the end of "
                                           "the log", last + 1, head.last_seq))
        else:
            report.problems.append(Problem("head_mismatch", f"rows after {head.last_seq} were not appended through "
                                           "the log", head.last_seq + 1, last))
    elif head is not None and last and head.last_hash != walker.last_hash:
        report.problems.append(Problem("head_mismatch", f"row {last}: does not match the recorded head of the chain",
                                       last, last))
    return report


def walk_from(session: Session, keys: AuditKeys, *, after_seq: int, after_hash: str, legacy_until: int | None,
              mark_every: int = 0, batch: int = 2000) -> ChainWalker:
    """The rows after ``after_seq`` checked from that point on (incremental: a checkpoint does not
    rehash what the previous checkpoint already covers)."""
    walker = ChainWalker(keys, after_seq=after_seq, after_hash=after_hash, legacy_until=legacy_until,
                         mark_every=mark_every)
    for event in _in_order(session, batch, after=after_seq):
        walker.feed(event)
    return walker


def _rows(first: int, last: int) -> str:
    return f"row {first}" if first == last else f"rows {first}-{last}"


def _in_order(session: Session, batch: int, after: int = 0) -> Iterator[AuditEvent]:
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
        # written out literally, so that leaving out the accesses matches the condition of the index
        # of the other events (``ix_audit_events_steps``) and the query reads that index alone
        q = q.where(AuditEvent.action.not_in(bindparam("excluded", sorted(exclude_actions), expanding=True,
                                                       literal_execute=True)))
    if before_seq is not None:
        q = q.where(AuditEvent.seq < before_seq)
    return list(reversed(session.execute(q.order_by(AuditEvent.seq.desc()).limit(limit)).scalars().all()))
