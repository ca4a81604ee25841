"""The append-only, hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from docsvc.db.base import Base

#: Audit actions that are accesses to a document (reads, downloads, links, verifications), not steps
#: of its processing. A document read thousands of times keeps its processing history one index range
#: away: ``ix_audit_events_steps`` holds the other events only (its condition names these literally, so
#: a query that leaves them out with the same literal list, as ``audit.events_for`` does, can use it).
ACCESS_ACTIONS = ("document.download", "document.link", "document.read", "document.verify")
_NOT_ACCESS = text("action NOT IN ({})".format(", ".join(f"'{a}'" for a in ACCESS_ACTIONS)))


class AuditEvent(Base):
    """One event: who did what to which object, when, from where, and with what outcome.

    ``hash`` = HMAC-SHA256 under the audit key ``key_id`` over the previous row's hash and the
    canonical form of the row, so editing or deleting any row breaks the chain at that row and only
    the holder of the key (kept outside the database) can recompute it. Rows written before the
    keyed chain have ``key_id`` NULL and a plain SHA-256 (legacy, see ``docsvc.services.audit``).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("outcome in ('success','denied','failed')", name="outcome"),
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_steps", "object_type", "object_id", "seq", sqlite_where=_NOT_ACCESS,
              postgresql_where=_NOT_ACCESS),
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    agency_id: Mapped[int | None] = mapped_column(index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(32))


class AuditHead(Base):
    """The chain's head (single row, id=1): last sequence number and hash.

    Appending locks this row, which serialises writers and keeps the chain linear; it also
    lets verification detect rows deleted from the end of the log.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                          default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed, time-stamped checkpoint of the chain (head seq and hash, row count, time).

    The authoritative copy is the object ``object_name`` in the object store, under compliance
    retention; this row only finds the latest one quickly. Verification lists the store itself.
    """

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    created_at: Mapped[datetime] = mapped_column()
    object_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
