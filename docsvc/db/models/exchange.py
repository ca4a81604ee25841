"""Exchange with other systems (edXML): the agency directory, the outbound queue and what arrived."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from docsvc.db.base import Base, utcnow


class ExchangeAgency(Base):
    """An outside agency (or a company) that documents are sent to: its 13-character OrganId and
    how it is reached. Agencies on this system are organisations; this lists the others."""

    __tablename__ = "exchange_agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    organ_id: Mapped[str] = mapped_column(String(13), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    transport: Mapped[str | None] = mapped_column(String(16))  # broker | folder | email; None: the default
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ExchangeMessage(Base):
    """One message to send (a document package to one outside recipient, or a status answer),
    written in the transaction of the use case and sent after it by the drain, with back-off.
    ``state``: queued (not accepted by a transport yet; ``last_error`` says why when retrying),
    sent (a transport accepted it; ``receipt``), failed (given up; ``last_error``)."""

    __tablename__ = "exchange_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # package | status
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"), index=True)
    document_ref: Mapped[str] = mapped_column(String(100))  # edXML DocumentId of the document concerned
    to_organ_id: Mapped[str | None] = mapped_column(String(13))
    to_email: Mapped[str | None] = mapped_column(String(254))
    transport: Mapped[str | None] = mapped_column(String(16))
    business: Mapped[int] = mapped_column(default=0)  # 0 new, 1 revoke, 2 update, 3 replace
    replaces: Mapped[str | None] = mapped_column(String(100))  # replace: the DocumentId of the replaced document
    status_code: Mapped[str | None] = mapped_column(String(2))  # for status messages
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(8), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class ExchangeInbound(Base):
    """A message that arrived. ``message_id`` is unique: a message delivered twice (at-least-once
    transports) is recognised and acknowledged without being applied again."""

    __tablename__ = "exchange_inbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # package | status | invalid
    transport: Mapped[str] = mapped_column(String(16))
    from_organ_id: Mapped[str | None] = mapped_column(String(13))
    to_organ_id: Mapped[str | None] = mapped_column(String(13))
    document_ref: Mapped[str | None] = mapped_column(String(100))
    business: Mapped[int | None] = mapped_column()
    replaces: Mapped[str | None] = mapped_column(String(100))  # replace: the DocumentId it replaces
    #: the enveloped XML-DSig over the header: valid, or absent (accepted with a warning, see README)
    xml_signature: Mapped[str | None] = mapped_column(String(8))
    status_code: Mapped[str | None] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(12))  # imported | applied | rejected | pending (recall to answer)
    reason: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("recipients.id", ondelete="SET NULL"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    quarantine: Mapped[str | None] = mapped_column(String(500))  # where a rejected message is kept
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationMailPref(Base):
    """A user's notification e-mails: ``mode`` off | immediate | digest (one a day), and the last
    notification already handled (e-mailed, or passed over while off)."""

    __tablename__ = "notification_mail_prefs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(10), default="immediate")
    last_notification_id: Mapped[int] = mapped_column(default=0)
    last_digest_at: Mapped[datetime | None] = mapped_column()
