"""Batch jobs: many documents handled by one action (receive, register, assign, sign, issue),
run in the background with progress and a result (or error) per item."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docsvc.db.base import Base, utcnow


class Batch(Base):
    """One batch action. ``params`` holds what every item shares (an instruction, a deadline...);
    never a secret (a signing PIN lives only in the memory of the process running the batch)."""

    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint("state in ('pending','running','done','failed','cancelled')", name="state"),
        Index("ix_batches_agency_created", "agency_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    items: Mapped[list[BatchItem]] = relationship(back_populates="batch", order_by="BatchItem.seq",
                                                  cascade="all, delete-orphan")


class BatchItem(Base):
    """One document of a batch: its input, and after the run its state, result or error."""

    __tablename__ = "batch_items"
    __table_args__ = (
        CheckConstraint("state in ('pending','running','done','failed','skipped')", name="state"),
        Index("ix_batch_items_batch_seq", "batch_id", "seq", unique=True),
        Index("ix_batch_items_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default="pending")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    input: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    finished_at: Mapped[datetime | None] = mapped_column()

    batch: Mapped[Batch] = relationship(back_populates="items")
