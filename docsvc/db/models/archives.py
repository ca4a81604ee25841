"""Dossiers and archives: retention catalogue, dossier plans and dossiers, transfers to the agency
archive, legal holds, disposal lists, secrecy decisions, and the storage locks applied to objects."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from docsvc.db.base import Base, utcnow


class RetentionPeriod(Base):
    """One version of a retention catalogue entry. Entries are never edited in place: a change
    adds version N+1 and marks N superseded, so a dossier keeps the exact rule it was given."""

    __tablename__ = "retention_periods"
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_retention_periods_code_version"),
        CheckConstraint("years is null or (years >= 1 and years <= 200)", name="years"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), index=True)
    version: Mapped[int] = mapped_column(default=1)
    description: Mapped[str] = mapped_column(Text)
    years: Mapped[int | None] = mapped_column()  # None: permanent (vĩnh viễn)
    legal_basis: Mapped[str] = mapped_column(String(300), default="")
    is_current: Mapped[bool] = mapped_column(default=True)
    change_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column()


class DossierPlan(Base):
    """Danh mục hồ sơ: the dossiers an agency plans to keep in a year."""

    __tablename__ = "dossier_plans"
    __table_args__ = (UniqueConstraint("agency_id", "year", name="uq_dossier_plans_agency_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dossier(Base):
    """A dossier (hồ sơ) with the Appendix VI metadata: FileCode, Title, Maintenance (retention),
    Rights, Language, StartDate/EndDate, DocTotal/PageTotal, Description."""

    __tablename__ = "dossiers"
    __table_args__ = (
        UniqueConstraint("plan_id", "notation", name="uq_dossiers_plan_notation"),
        CheckConstraint("status in ('planned','open','closed','archived','destroyed')", name="status"),
        CheckConstraint("rights in ('public','restricted')", name="rights"),
        CheckConstraint("secrecy between 0 and 3", name="secrecy"),
        Index("ix_dossiers_agency_status", "agency_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("dossier_plans.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int] = mapped_column()
    notation: Mapped[str] = mapped_column(String(20))
    file_code: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str] = mapped_column(String(1000))
    retention_id: Mapped[int | None] = mapped_column(ForeignKey("retention_periods.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(12), default="planned")
    secrecy: Mapped[int] = mapped_column(default=0)
    rights: Mapped[str] = mapped_column(String(12), default="public")
    language: Mapped[str] = mapped_column(String(10), default="vi")
    description: Mapped[str] = mapped_column(Text, default="")
    construction: Mapped[bool] = mapped_column(default=False)
    settlement_date: Mapped[date | None] = mapped_column(Date)
    opened_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    work_ended_on: Mapped[date | None] = mapped_column(Date)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    doc_total: Mapped[int | None] = mapped_column()
    page_total: Mapped[int | None] = mapped_column()
    transfer_due_on: Mapped[date | None] = mapped_column(Date)
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("archive_transfers.id"))
    archived_at: Mapped[datetime | None] = mapped_column()
    destroyed_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DossierDocument(Base):
    """A document filed in a dossier (no copy: one document may sit in several dossiers)."""

    __tablename__ = "dossier_documents"

    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True, index=True)
    ordinal: Mapped[int | None] = mapped_column()  # DocOrdinal, fixed when the dossier is closed
    filed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArchiveTransfer(Base):
    """Biên bản giao nhận: the handover of closed dossiers to the agency archive."""

    __tablename__ = "archive_transfers"
    __table_args__ = (UniqueConstraint("agency_id", "year", "number", name="uq_archive_transfers_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int] = mapped_column()
    number: Mapped[int] = mapped_column()
    received_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    delivered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    transferred_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # dossiers, counts, file digests


class LegalHold(Base):
    """A legal hold on one document or one dossier: blocks every disposal path and every change."""

    __tablename__ = "legal_holds"
    __table_args__ = (
        CheckConstraint("(document_id is null) <> (dossier_id is null)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime | None] = mapped_column()
    release_reason: Mapped[str | None] = mapped_column(Text)


class DisposalList(Base):
    """Danh mục tài liệu hết giá trị: listed → council review → head's decision → destruction."""

    __tablename__ = "disposal_lists"
    __table_args__ = (
        CheckConstraint("status in ('proposed','reviewed','approved','rejected','destroyed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    secrecy: Mapped[int] = mapped_column(default=0)  # lists are kept per secrecy level: readers need clearance
    listed_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    council_opinion: Mapped[str | None] = mapped_column(Text)
    council_members: Mapped[list[str] | None] = mapped_column(JSON)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_ref: Mapped[str | None] = mapped_column(String(100))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    destroyed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    destroyed_at: Mapped[datetime | None] = mapped_column()
    destruction_record: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DisposalItem(Base):
    """One dossier of a disposal list and what was decided about it."""

    __tablename__ = "disposal_items"
    __table_args__ = (
        UniqueConstraint("list_id", "dossier_id", name="uq_disposal_items_list_dossier"),
        CheckConstraint("decision in ('destroy','keep','withheld','destroyed')", name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("disposal_lists.id"), index=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    retention_id: Mapped[int | None] = mapped_column(ForeignKey("retention_periods.id"))  # when listed
    decision: Mapped[str] = mapped_column(String(12), default="destroy")
    note: Mapped[str | None] = mapped_column(Text)


class SecrecyDecision(Base):
    """A decision on a classified document: extend its protection, or declassify it."""

    __tablename__ = "secrecy_decisions"
    __table_args__ = (
        CheckConstraint("action in ('extend','declassify','auto_declassify')", name="action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_level: Mapped[int] = mapped_column()
    to_level: Mapped[int] = mapped_column()
    protected_until_before: Mapped[date] = mapped_column(Date)
    protected_until_after: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    decision_ref: Mapped[str] = mapped_column(String(100), default="")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class ObjectLock(Base):
    """The lock state last applied to a stored object (retention, legal hold), and whether the
    database's view changed since (``pending``). The wanted state is always recomputed from the
    dossiers and holds; a sync applies the difference, so a storage outage delays, never loses, a lock."""

    __tablename__ = "object_locks"

    object_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    applied_retain_until: Mapped[datetime | None] = mapped_column()
    applied_legal_hold: Mapped[bool] = mapped_column(default=False)
    pending: Mapped[bool] = mapped_column(default=True, index=True)
    generation: Mapped[int] = mapped_column(default=1)  # bumped by every mark: a sync clears only what it saw
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
