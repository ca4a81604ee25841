"""Reorganisation of agencies (merge, split, rename): who succeeded whom, the plan, its job's progress
item by item, and the closed fonds (phông lưu trữ) a dissolved agency leaves in its successor's archive."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from docsvc.db.base import Base, utcnow


class AgencySuccession(Base):
    """``predecessor`` ceased on ``effective_date`` by ``decision``; ``successor`` took over (one row per
    successor: a split has several, the ``is_primary`` one receives what cannot be attributed to a unit)."""

    __tablename__ = "agency_successions"
    __table_args__ = (UniqueConstraint("predecessor_id", "successor_id"),
                      CheckConstraint("kind in ('merge','split','rename')", name="kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    is_primary: Mapped[bool] = mapped_column(default=True)
    effective_date: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(200))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("reorg_plans.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReorgPlan(Base):
    """A reorganisation prepared by the province administrator and run as one resumable job.
    ``spec`` is the validated plan (sources, successors, user and unit mappings); ``before``/``after``
    hold the counts and SHA-256 digests of every record in scope, taken at the start and the end."""

    __tablename__ = "reorg_plans"
    __table_args__ = (CheckConstraint("kind in ('merge','split','rename')", name="kind"),
                      CheckConstraint("status in ('draft','running','done','failed')", name="status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8), default="draft")
    effective_date: Mapped[date] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    current_step: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class ReorgItem(Base):
    """One item a step of the job has done (written in the item's own transaction): a re-run skips it."""

    __tablename__ = "reorg_items"
    __table_args__ = (UniqueConstraint("plan_id", "step", "item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("reorg_plans.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    item_key: Mapped[str] = mapped_column(String(64), index=True)  # "document:<id>": where a document came from
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    done_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArchiveFonds(Base):
    """The closed fonds of a dissolved agency, kept by its successor's archive. The archived rows
    themselves (documents, dossiers, locks) are not rewritten: their ``agency_id`` stays the origin
    (the provenance), and this row gives the keeper's archivists, registry and leaders their reading."""

    __tablename__ = "archive_fonds"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin_agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    keeper_agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    origin_name: Mapped[str] = mapped_column(String(200))
    origin_organ_id: Mapped[str | None] = mapped_column(String(13))
    closed_on: Mapped[date] = mapped_column(Date)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("reorg_plans.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CertBatch(Base):
    """Certificates issued in bulk from a CSV (name, title, unit, e-mail) for the people of one agency, as a
    background job. ``rows`` is the validated CSV; each done line is a ``cert_batch_items`` row."""

    __tablename__ = "cert_batches"
    __table_args__ = (CheckConstraint("status in ('queued','running','done','failed')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(String(8), default="queued")
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class CertBatchItem(Base):
    """One person's pre-issued certificate: the key waits (under a PIN the service holds) until the person
    enrols with a PIN of their own, which re-protects it."""

    __tablename__ = "cert_batch_items"
    __table_args__ = (UniqueConstraint("batch_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("cert_batches.id", ondelete="CASCADE"), index=True)
    line: Mapped[int] = mapped_column()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    cert_serial: Mapped[str] = mapped_column(String(64))
    done_at: Mapped[datetime] = mapped_column(default=utcnow)
