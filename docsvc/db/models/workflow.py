"""Incoming handling (assignments, progress), outgoing delivery (recipients), approval chains,
delegations, signing keys, notifications and the working-day calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docsvc.db.base import Base, utcnow


class Assignment(Base):
    """A leader's instruction (or a unit head's re-assignment) to a user or a unit."""

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("role in ('lead','co','info')", name="role"),
        CheckConstraint("status in ('open','done','reassigned','cancelled')", name="status"),
        CheckConstraint("user_id is not null or unit_id is not null", name="target"),
        Index("ix_assignments_user_status", "user_id", "status"),
        Index("ix_assignments_unit_status", "unit_id", "status"),
        # the reports dashboard: lead handlers per state, and the overdue ones in deadline order
        Index("ix_assignments_report", "role", "status", "deadline", "assigned_at", "completed_at", "unit_id",
              "user_id", "document_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(8))
    deadline: Mapped[date | None] = mapped_column(Date)
    instruction: Mapped[str] = mapped_column(Text, default="")
    assigned_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    status: Mapped[str] = mapped_column(String(12), default="open")
    completed_at: Mapped[datetime | None] = mapped_column()
    completion_note: Mapped[str | None] = mapped_column(Text)


class ProgressUpdate(Base):
    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    percent: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Recipient(Base):
    """Where an outgoing document goes, and the state of its delivery (edXML status codes)."""

    __tablename__ = "recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))  # internal recipient
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))  # unit of the issuing agency
    name: Mapped[str] = mapped_column(String(200))
    organ_id: Mapped[str | None] = mapped_column(String(13))
    status_code: Mapped[str | None] = mapped_column(String(2))  # 01 arrived … 16 recall refused
    incoming_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    sent_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


class ChainTemplate(Base):
    """An approval chain for an agency and (optionally) a document type. ``steps`` is a list of
    {"kind": review|approve|sign|issue, "mode": all|any, "title": str,
     "approvers": [{"user_id": int} | {"role": str, "unit_id": int|None}]}."""

    __tablename__ = "chain_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    type_id: Mapped[int | None] = mapped_column(ForeignKey("document_types.id"))
    name: Mapped[str] = mapped_column(String(200))
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChainInstance(Base):
    """A running chain for one document version. Bound to the content's SHA-256: a new
    version supersedes it and the chain starts over."""

    __tablename__ = "chain_instances"
    __table_args__ = (
        CheckConstraint("status in ('active','completed','rejected','returned','superseded')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("chain_templates.id"))
    content_sha256: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(12), default="active")
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()

    steps: Mapped[list[ChainStep]] = relationship(order_by="ChainStep.position", cascade="all, delete-orphan",
                                                  lazy="selectin")


class ChainStep(Base):
    __tablename__ = "chain_steps"
    __table_args__ = (
        CheckConstraint("kind in ('review','approve','sign','issue')", name="kind"),
        CheckConstraint("mode in ('all','any')", name="mode"),
        CheckConstraint("status in ('waiting','active','done','rejected','returned','superseded')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("chain_instances.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(4), default="all")
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default="waiting")

    decisions: Mapped[list[ChainDecision]] = relationship(order_by="ChainDecision.id",
                                                          cascade="all, delete-orphan", lazy="selectin")


class ChainDecision(Base):
    """One expected approver of a step and, once taken, the decision (possibly by a delegate)."""

    __tablename__ = "chain_decisions"
    __table_args__ = (
        CheckConstraint("decision is null or decision in ('approved','rejected','returned','signed','issued')",
                        name="decision"),
        Index("ix_chain_decisions_user_pending", "user_id", "decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("chain_steps.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id"))
    authority_form: Mapped[str | None] = mapped_column(String(8))
    content_sha256: Mapped[str | None] = mapped_column(String(64))  # what exactly was approved
    decided_at: Mapped[datetime | None] = mapped_column()


class Delegation(Base):
    """Signing/approval authority given by one user to another: KT. (deputy for the head),
    TL. (by order), TUQ. (written, time-limited authorisation; cannot be re-delegated), Q., TM."""

    __tablename__ = "delegations"
    __table_args__ = (CheckConstraint("form in ('KT','TL','TUQ','Q','TM')", name="form"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    delegator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    form: Mapped[str] = mapped_column(String(4))
    type_codes: Mapped[list[str] | None] = mapped_column(JSON)  # scope: document types; null = all
    authorisation_ref: Mapped[str] = mapped_column(String(200), default="")  # the written authorisation
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    # Whether the delegate is currently among the readers of the drafts the delegation covers: set when
    # the readers are recomputed at creation, revocation, and when its validity starts or ends (a periodic
    # sweep compares it with the dates, so a delegation that expires stops granting reading).
    readers_in_effect: Mapped[bool] = mapped_column(default=False)


class SigningKey(Base):
    """A user's (or the agency's) signing key: a PKCS#12 file protected by the PIN, or a token key."""

    __tablename__ = "signing_keys"
    __table_args__ = (CheckConstraint("kind in ('pkcs12','pkcs11')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)  # org key
    kind: Mapped[str] = mapped_column(String(8), default="pkcs12")
    location: Mapped[str] = mapped_column(String(300))  # file path, or token label/key label
    cert_serial: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    not_after: Mapped[datetime] = mapped_column()
    signature_image: Mapped[str | None] = mapped_column(String(300))  # blue signature / red seal PNG path
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class CalendarDay(Base):
    """An override of the built-in working-day calendar: an extra holiday, or a compensating workday."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(String(200), default="")


class AgencyCalendarDay(Base):
    """An override of one agency's calendar (a local holiday, a compensating workday), on top of the
    deployment-wide days of ``calendar_days`` that only the deployment's administrator sets."""

    __tablename__ = "agency_calendar_days"

    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(String(200), default="")


class UserCertificate(Base):
    """A certificate a user registered as theirs: its key stays on their token or with their
    remote-signing provider (split signing); the server keeps only the certificate."""

    __tablename__ = "user_certificates"
    __table_args__ = (UniqueConstraint("user_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))  # of the DER certificate
    subject: Mapped[str] = mapped_column(String(300))
    issuer: Mapped[str] = mapped_column(String(300))
    serial: Mapped[str] = mapped_column(String(64))
    not_after: Mapped[datetime] = mapped_column()
    der: Mapped[bytes] = mapped_column(LargeBinary)
    csc_credential_id: Mapped[str | None] = mapped_column(String(200))  # remote signing: the provider's credential
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column()


class SigningPreparation(Base):
    """A document prepared for a signature made on the signer's side, waiting for the signature
    value. Bound to the document version and content it was prepared from, to the certificate,
    and to an expiry; used once (``used_at``)."""

    __tablename__ = "signing_preparations"
    __table_args__ = (CheckConstraint("mode in ('token','remote')", name="mode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)  # random nonce the signer's side names
    batch_id: Mapped[str | None] = mapped_column(String(64), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    certificate_id: Mapped[int] = mapped_column(ForeignKey("user_certificates.id"))
    mode: Mapped[str] = mapped_column(String(8), default="token")
    version: Mapped[int] = mapped_column()
    base_file_id: Mapped[int] = mapped_column(ForeignKey("document_files.id"))
    content_sha256: Mapped[str] = mapped_column(String(64))  # of the file prepared from
    object_key: Mapped[str] = mapped_column(String(300))  # the prepared PDF (placeholder reserved)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)  # signing.split.PreparedSignature.state()
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column()
