"""Signed, time-stamped checkpoints of the audit chain, kept write-once in the object store.

A checkpoint states (head seq, head hash, row count, time, legacy switch point, previous
checkpoint). It is signed with the service's checkpoint key (a detached CMS signature carrying an
RFC 3161 time-stamp from the configured TSA) and written as the named object
``audit/checkpoints/<seq>.json`` under compliance retention, which nobody can shorten or remove.
A database row only finds the latest one quickly.

Why: whoever holds the database and the audit key can rewrite rows and recompute the keyed chain,
or cut its tail and move the head back. They cannot rewrite or delete a retained checkpoint, nor
sign a new one without the checkpoint key, nor time-stamp one in the past. So verification lists
the *store's* checkpoints (never the database's list alone), checks each one's signature and
time-stamp, and checks the rows against every valid one. Rows after the latest checkpoint are
protected by the keyed chain only.

Creating a checkpoint is incremental: it checks the row at the previous checkpoint's seq against
the signed head hash and verifies only the rows after it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.models import AuditCheckpoint, AuditEvent, AuditHead
from docsvc.db.uow import Database
from docsvc.errors import DomainError
from docsvc.services import audit
from docsvc.services.audit import Anchor, AuditKeys, Problem, VerifyReport
from docsvc.services.signatures import AUDIT_CHECKPOINT_SIGNER, SignatureService
from storage import IntegrityError, ObjectExists, ObjectNotFound, ObjectStore

log = logging.getLogger("docsvc.audit")

PREFIX = "audit/checkpoints/"
FORMAT = "docsvc-audit-checkpoint/1"
#: At most this many row hashes are kept per checkpoint (every n-th row when more rows were added
#: since the previous one), so a row rewritten with the audit key is named, not only its range.
MAX_MARKS = 10_000
#: How far the claimed time of a checkpoint may be from its time-stamp (signing takes seconds).
TIME_TOLERANCE = timedelta(minutes=5)


class ChainBroken(DomainError):
    """The chain does not verify from the latest checkpoint: no checkpoint may cement it."""

    code = "audit_chain_broken"
    status = 409

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("the audit chain does not verify, no checkpoint written: "
                         + "; ".join(p.message for p in problems[:5]), {"problems": [p.to_dict() for p in problems]})
        self.problems = problems


def object_name(seq: int) -> str:
    return f"{PREFIX}{seq:020d}.json"


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as signed (``payload`` is the exact signed bytes)."""

    seq: int
    head_hash: str
    count: int
    time: datetime
    legacy_until: int
    previous: dict[str, Any] | None
    payload: bytes
    name: str
    marks: dict[int, str] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()

    def anchor(self) -> Anchor:
        return Anchor(self.seq, self.head_hash, self.count, self.legacy_until,
                      f"the signed checkpoint of {self.time.isoformat()} (row {self.seq})", self.marks)

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "head_hash": self.head_hash, "count": self.count, "time": self.time.isoformat(),
                "object": self.name}


@dataclass
class Verification:
    """The chain's report plus what the checkpoints contributed."""

    report: VerifyReport
    checkpoints: list[Checkpoint] = field(default_factory=list)  # the valid ones, oldest first

    @property
    def ok(self) -> bool:
        return self.report.ok

    @property
    def latest(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None

    @property
    def unanchored(self) -> tuple[int, int] | None:
        """Rows after the latest checkpoint (verified by the keyed chain only)."""
        first = (self.latest.seq if self.latest else 0) + 1
        return (first, self.report.last_seq) if self.report.last_seq >= first else None

    def to_dict(self) -> dict[str, Any]:
        r = self.report
        span = self.unanchored
        return {"status": "intact" if r.ok else "tampered", "checked": r.checked, "last_seq": r.last_seq,
                "problems": [p.to_dict() for p in r.problems],
                "checkpoints": len(self.checkpoints),
                "latest_checkpoint": self.latest.to_dict() if self.latest else None,
                "anchored_to": r.anchored_to,
                "keyed_chain_only": {"first_seq": span[0], "last_seq": span[1]} if span else None}


class AuditCheckpoints:
    def __init__(self, db: Database, store: ObjectStore, signatures: SignatureService, keys: AuditKeys, *,
                 retention_years: int) -> None:
        self.db = db
        self.store = store
        self.signatures = signatures
        self.keys = keys
        self.retention_years = retention_years

    # ------------------------------------------------------------ writing
    def create(self, now: datetime | None = None) -> Checkpoint | None:
        """Checkpoint the current head (None when no row was appended since the latest one).
        Raises :class:`ChainBroken` when the rows since the latest checkpoint do not verify."""
        previous = self._latest_recorded()
        with self.db.read() as s:
            walker = self._walk_since(s, previous)
        if walker.problems:
            raise ChainBroken(walker.problems)
        if walker.count == 0:
            return None
        now = now or datetime.now(UTC)
        body = {"format": FORMAT, "seq": walker.last_seq, "head_hash": walker.last_hash,
                "marks": [[seq, h] for seq, h in sorted(walker.final_marks().items())],
                "count": (previous.count if previous else 0) + walker.count,
                "time": now.isoformat(timespec="seconds"),
                "legacy_until": previous.legacy_until if previous else walker.last_legacy,
                "previous": {"seq": previous.seq, "sha256": previous.sha256} if previous else None}
        payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        signature = self.signatures.sign_detached(payload)
        envelope = json.dumps({"checkpoint": payload.decode(), "cms": base64.b64encode(signature).decode()},
                              indent=1).encode()
        name = object_name(walker.last_seq)
        try:
            self.store.put_named(name, envelope, retain_until=now + timedelta(days=366 * self.retention_years))
        except ObjectExists:  # another process checkpointed the same head: keep theirs
            log.info("audit checkpoint %s already written", name)
        checkpoint = self._parse(name, self.store.get_named(name).data)
        self._record(checkpoint)
        return checkpoint

    def _walk_since(self, s: Session, previous: Checkpoint | None) -> audit.ChainWalker:
        head = s.get(AuditHead, 1)
        after = previous.seq if previous else 0
        every = max(1, -(-((head.last_seq if head else 0) - after) // MAX_MARKS))
        if previous is None:
            return audit.walk_from(s, self.keys, after_seq=0, after_hash=audit.GENESIS_HASH, legacy_until=None,
                                   mark_every=every)
        row = s.get(AuditEvent, previous.seq)
        if row is None or row.hash != previous.head_hash:
            walker = audit.ChainWalker(self.keys)
            walker.problems.append(Problem(
                "checkpoint_mismatch", f"row {previous.seq} no longer matches "
                f"{previous.anchor().label}: rows up to it were rewritten or removed", 1, previous.seq))
            return walker
        return audit.walk_from(s, self.keys, after_seq=previous.seq, after_hash=previous.head_hash,
                               legacy_until=previous.legacy_until, mark_every=every)

    def _latest_recorded(self) -> Checkpoint | None:
        """The latest valid checkpoint: the one the database lists last (one read), else, when
        there is none or it is not usable (rows deleted or forged in the database), the latest
        valid one in the object store, so the database cannot stop checkpointing."""
        with self.db.read() as s:
            row = s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)).scalar_one_or_none()
        if row is not None:
            checkpoint, problem, _ = self._load(row.object_name)
            if checkpoint is not None:
                return checkpoint
            log.error("audit: the latest checkpoint the database lists (%s) is not usable: %s; using the object "
                      "store's latest", row.object_name, problem)
        for name in sorted(self.store.list_named(PREFIX), reverse=True):
            checkpoint, _, _ = self._load(name)
            if checkpoint is not None:
                return checkpoint
        return None

    def _record(self, c: Checkpoint) -> None:
        from sqlalchemy.exc import IntegrityError as DuplicateRow
        try:
            with self.db.write() as s:
                if s.get(AuditCheckpoint, c.seq) is None:
                    s.add(AuditCheckpoint(seq=c.seq, head_hash=c.head_hash, count=c.count,
                                          created_at=c.time.astimezone(UTC),
                                          object_name=c.name, sha256=c.sha256))
        except DuplicateRow:  # another process recorded the same checkpoint at the same moment
            log.info("audit checkpoint %s already recorded", c.name)

    # ------------------------------------------------------------ reading
    def _parse(self, name: str, data: bytes) -> Checkpoint:
        """The checkpoint in ``data`` (not yet checked); ValueError when it is not one."""
        envelope = json.loads(data)
        payload = str(envelope["checkpoint"]).encode()
        body = json.loads(payload)
        if body.get("format") != FORMAT:
            raise ValueError(f"unknown format {body.get('format')!r}")
        time = datetime.fromisoformat(body["time"])
        if time.tzinfo is None:
            raise ValueError("the checkpoint time has no time zone")
        previous = body.get("previous")
        if previous is not None and not (isinstance(previous, dict) and isinstance(previous.get("seq"), int)):
            raise ValueError("malformed link to the previous checkpoint")
        marks = {int(seq): str(h) for seq, h in body.get("marks", [])}
        return Checkpoint(int(body["seq"]), str(body["head_hash"]), int(body["count"]), time,
                          int(body["legacy_until"]), previous, payload, name, marks)

    def _load(self, name: str) -> tuple[Checkpoint | None, str, int]:
        """A checkpoint from the store, its signature, signer and time-stamp checked (else None
        and what is wrong), and how many versions the store holds under its name."""
        try:
            stored = self.store.get_named(name)
        except ObjectNotFound:
            return None, "missing from the object store", 0
        except IntegrityError as exc:
            return None, f"its stored bytes are damaged ({exc})", 1
        try:
            checkpoint = self._parse(name, stored.data)
            signature = base64.b64decode(json.loads(stored.data)["cms"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            return None, f"not a readable checkpoint ({type(exc).__name__}: {exc})", stored.versions
        if name != object_name(checkpoint.seq):
            return None, f"names row {checkpoint.seq} but is stored as {name} (moved or forged)", stored.versions
        verdict = self.signatures.verify_detached(checkpoint.payload, signature, moment=checkpoint.time)
        if not verdict.ok:
            return None, f"signature check failed: {verdict.problem} (forged or modified)", stored.versions
        if verdict.signer_common_name != AUDIT_CHECKPOINT_SIGNER:
            return None, f"signed by {verdict.signer!r}, not by the service's checkpoint key", stored.versions
        if abs(verdict.timestamp - checkpoint.time) > TIME_TOLERANCE:
            return None, (f"its time-stamp ({verdict.timestamp.isoformat()}) does not match the time it claims "
                          f"({checkpoint.time.isoformat()})"), stored.versions
        return checkpoint, "", stored.versions

    # ------------------------------------------------------------ verification
    def verify(self) -> Verification:
        """Check the store's checkpoints, then every row against the chain and the valid
        checkpoints (see the module docstring for what this detects)."""
        problems: list[Problem] = []
        valid: list[Checkpoint] = []
        names = list(self.store.list_named(PREFIX))
        for name in names:
            checkpoint, problem, versions = self._load(name)
            seq = _seq_of(name)
            if checkpoint is None:
                problems.append(Problem("checkpoint_invalid", f"checkpoint {name}: {problem}", seq, seq))
            else:
                valid.append(checkpoint)
            if versions > 1:
                problems.append(Problem("checkpoint_overwritten",
                                        f"checkpoint {name}: written over outside docsvc ({versions} versions in the "
                                        "store); the first, retained one is used", seq, seq))
        valid.sort(key=lambda c: c.seq)
        by_seq = {c.seq: c for c in valid}
        for c in valid:
            prev = c.previous
            if prev is not None and (prev["seq"] not in by_seq or by_seq[prev["seq"]].sha256 != prev.get("sha256")):
                problems.append(Problem("checkpoint_missing", f"checkpoint {c.name}: the checkpoint before it (row "
                                        f"{prev['seq']}) is missing from the object store or differs", prev["seq"],
                                        prev["seq"]))
        with self.db.read() as s:
            for row in s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)).scalars():
                if row.object_name not in names:
                    problems.append(Problem("checkpoint_missing", f"checkpoint of row {row.seq} is listed in the "
                                            f"database but missing from the object store ({row.object_name})",
                                            row.seq, row.seq))
            report = audit.verify(s, self.keys, [c.anchor() for c in valid])
        report.problems[:0] = problems
        return Verification(report, valid)


def _seq_of(name: str) -> int | None:
    stem = name.removeprefix(PREFIX).removesuffix(".json")
    return int(stem) if stem.isdigit() else None
