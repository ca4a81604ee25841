"""Documents, their files and versions, readers (access), grants, links, registers and the outbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docsvc.db.base import Base, utcnow


class DocumentType(Base):
    """Types and their abbreviations live in data (DOMAIN.md): QĐ, TB, ...; a công văn has none."""

    __tablename__ = "document_types"
    __table_args__ = (CheckConstraint("kind in ('typed','cong_van','copy')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="typed")
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("direction in ('incoming','outgoing','internal')", name="direction"),
        CheckConstraint("urgency between 0 and 3", name="urgency"),
        CheckConstraint("secrecy between 0 and 3", name="secrecy"),
        Index("ix_documents_agency_direction_status", "agency_id", "direction", "status"),
        Index("ix_documents_dup_key", "agency_id", "dup_key"),
        # the reports dashboard reads everything it counts from these two (no table row per document)
        Index("ix_documents_report_arrival", "agency_id", "direction", "arrival_at", "type_id", "secrecy",
              "arrival_number", "completed_at", "id"),
        Index("ix_documents_report_issued", "agency_id", "issued_date", "direction", "status", "type_id", "secrecy",
              "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    direction: Mapped[str] = mapped_column(String(10))
    type_id: Mapped[int] = mapped_column(ForeignKey("document_types.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    subject: Mapped[str] = mapped_column(String(500))
    code_number: Mapped[str | None] = mapped_column(String(11))  # Appendix VI CodeNumber
    code_notation: Mapped[str | None] = mapped_column(String(30))  # Appendix VI CodeNotation
    issued_date: Mapped[date | None] = mapped_column(Date)
    issuing_body: Mapped[str] = mapped_column(String(200), default="")  # OrganName
    issuing_organ_id: Mapped[str | None] = mapped_column(String(13))  # OrganId
    dup_key: Mapped[str | None] = mapped_column(String(300))
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signer_position: Mapped[str | None] = mapped_column(String(200))
    authority_form: Mapped[str | None] = mapped_column(String(8))  # KT., TL., TUQ., Q., TM.
    urgency: Mapped[int] = mapped_column(default=0)
    secrecy: Mapped[int] = mapped_column(default=0)
    classified_on: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    page_amount: Mapped[int | None] = mapped_column()
    language: Mapped[str] = mapped_column(String(10), default="vi")
    description: Mapped[str] = mapped_column(Text, default="")
    arrival_at: Mapped[datetime | None] = mapped_column()
    arrival_number: Mapped[int | None] = mapped_column()
    received_via: Mapped[str | None] = mapped_column(String(16))  # electronic, paper, internal
    drafting_unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    content_offline: Mapped[bool] = mapped_column(default=False)  # secret content kept off this system
    content_destroyed_at: Mapped[datetime | None] = mapped_column()  # destroyed after appraisal; metadata kept
    current_version: Mapped[int] = mapped_column(default=0)
    register_series: Mapped[str | None] = mapped_column(String(16))
    register_year: Mapped[int | None] = mapped_column()
    source_document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))  # copy / delivery source
    status_reason: Mapped[str | None] = mapped_column(Text)  # why returned / recalled / rejected
    # where page 1 gets the number and the date when the draft does not show "Số:" / "ngày … tháng … năm"
    page_positions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    completed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    doc_type: Mapped[DocumentType] = relationship(lazy="joined")
    files: Mapped[list[DocumentFile]] = relationship(back_populates="document", order_by="DocumentFile.id",
                                                     cascade="all, delete-orphan")


class DocumentFile(Base):
    """A stored object of a document. ``role``: main (content version N, uploaded), attachment,
    signed (the signer's signature over main N), issued (the registry's signed original),
    text (text extracted from a born-digital PDF), ocr_text (text recognised from a scan, kept beside
    the original, which is never rewritten), copy (an electronic copy)."""

    __tablename__ = "document_files"
    __table_args__ = (
        CheckConstraint("role in ('main','attachment','signed','issued','issued_att','text','ocr_text','copy')",
                        name="role"),
        Index("ix_document_files_doc_version", "document_id", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    role: Mapped[str] = mapped_column(String(12))
    object_key: Mapped[str] = mapped_column(String(200), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    page_count: Mapped[int | None] = mapped_column()
    encrypted: Mapped[bool] = mapped_column(default=False)
    base_file_id: Mapped[int | None] = mapped_column(ForeignKey("document_files.id"))
    validation: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # signature validation report
    # kinds of active content in a PDF (docsvc.services.active_content); renditions inherit their base's
    active_content: Mapped[list[str] | None] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="files")


class DocumentReader(Base):
    """Who may read a document, as tokens (``user:7``, ``unit:5``, ``registry:2``, ...).

    Maintained by the services whenever a relationship changes; the same tokens go to the search
    index, so lists, search hits, counts and facets all trim by one rule (docsvc.domain.access)."""

    __tablename__ = "document_readers"
    # the documents one reader token reads, from the index alone (access.readable_condition(many=True))
    __table_args__ = (Index("ix_document_readers_token_document", "token", "document_id"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(40), primary_key=True)


class DocumentGrant(Base):
    """An explicit grant of read access to a user or a unit, with the reason (need to know)."""

    __tablename__ = "document_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class DocumentLink(Base):
    """A reply document linked to the incoming document it answers, and similar links."""

    __tablename__ = "document_links"
    __table_args__ = (UniqueConstraint("document_id", "linked_document_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    linked_document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="reply")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RegisterCounter(Base):
    """The last number given in a register series; locked while a number is allocated."""

    __tablename__ = "register_counters"

    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    register: Mapped[str] = mapped_column(String(10), primary_key=True)  # incoming | outgoing
    series: Mapped[str] = mapped_column(String(16), primary_key=True)  # normal | secret | copy
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class RegisterEntry(Base):
    """One line of a register. The unique constraint makes a duplicate number impossible."""

    __tablename__ = "register_entries"
    __table_args__ = (
        UniqueConstraint("agency_id", "register", "series", "year", "number", name="uq_register_entries_number"),
        UniqueConstraint("register", "document_id", name="uq_register_entries_document"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    register: Mapped[str] = mapped_column(String(10))
    series: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column()
    number: Mapped[int] = mapped_column()
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")


class OutboxItem(Base):
    """Work to do after a commit (index a document, ...), written in the same transaction as the change.

    A drain task claims one due item at a time with a lease (``lease_token``; ``next_attempt_at``
    is the lease's end while claimed, renewed while the work is alive). A failure of the item's own
    work (unreadable file, a limit hit, a worker lost mid-item) counts in ``failures`` and backs
    off; at the configured maximum the item is quarantined (``quarantined_at``, reason in
    ``last_error``) until an administrator releases it. Backend outages back off without counting."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "done_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column()
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    lease_token: Mapped[str | None] = mapped_column(String(32))
    quarantined_at: Mapped[datetime | None] = mapped_column()
