"""In-app notifications (new work, reminders, escalations) — the one door through which a message
about a document reaches people.

A notification is a channel like any read path (DESIGN.md, Security rules): it carries a document's
subject or id only to people who may read that document. So:

- ``notify_readers`` is the only way to send a message about a document. It keeps, among the
  candidate recipients, the users who may read the document now (clearance ≥ secrecy AND a
  relationship token, the same ``may_read`` rule as every read path), and reports the others as
  dropped so the caller can fall back to other people or warn the sender.
- ``notify`` sends messages that carry no document facts (dossier lists, archive alerts); it has no
  ``document_id`` and its callers must not put a document's subject or number in the text.
- The subject is not stored: a message holds the placeholder ``{subject}`` and
  ``NotificationService.list`` fills it in when it is read, with the subject lists show
  (``DOCSVC_HIDE_TOP_SECRET_SUBJECT`` hides a Tuyệt mật one). A notification whose document the user
  may no longer read (clearance lowered, grant revoked, assignment cancelled) is not listed at all.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Document, Notification, User
from docsvc.db.rows import rows_affected
from docsvc.db.uow import Database
from docsvc.domain.access import document_tokens, may_read
from docsvc.domain.identity import Actor, listed_subject
from docsvc.services.access import readable_condition, relationships_of
from docsvc.services.identity import actor_of
from docsvc.timeutil import to_vn_iso

#: Where a message about a document shows the document's subject (filled in when it is read).
SUBJECT = "{subject}"
#: How much of a subject a notification shows.
SUBJECT_CHARS = 120


@dataclass(frozen=True)
class Delivery:
    """Who was told about a document, and which candidates were left out because they may not read it."""

    sent: int  # notifications written (a de-duplicated one already sent counts 0)
    told: tuple[int, ...]
    dropped: tuple[int, ...]


def readers_among(s: Session, doc: Document, user_ids: Iterable[int]) -> tuple[list[int], list[int]]:
    """(users among ``user_ids`` who may read ``doc`` now, the others) — active users only."""
    wanted = sorted({u for u in user_ids if u})
    if not wanted:
        return [], []
    tokens = document_tokens(relationships_of(s, doc))
    users = {u.id: u for u in s.execute(select(User).where(User.id.in_(wanted))).scalars()}
    keep = [u for u in wanted if u in users and users[u].is_active
            and may_read(actor_of(users[u]), doc.secrecy, tokens)]
    return keep, [u for u in wanted if u not in keep]


def notify_readers(s: Session, doc: Document, user_ids: Iterable[int], kind: str, message: str, *,
                   dedupe: str | None = None) -> Delivery:
    """Tell those of ``user_ids`` who may read ``doc`` (``message`` may hold ``SUBJECT``)."""
    told, dropped = readers_among(s, doc, user_ids)
    sent = _insert(s, told, kind, message, document_id=doc.id, dedupe=dedupe)
    return Delivery(sent, tuple(told), tuple(dropped))


def notify(s: Session, user_ids: Iterable[int], kind: str, message: str, *, dedupe: str | None = None) -> int:
    """A message that names no document (no subject, number or id of one): use ``notify_readers`` otherwise.
    (Its text is shown as written: ``SUBJECT`` is filled in only for a notification about a document.)"""
    return _insert(s, sorted(set(user_ids)), kind, message, document_id=None, dedupe=dedupe)


def _insert(s: Session, user_ids: list[int], kind: str, message: str, *, document_id: int | None,
            dedupe: str | None) -> int:
    """With ``dedupe`` a notification is written at most once per user and key."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    sent = 0
    for user_id in user_ids:
        key = f"{dedupe}:{user_id}" if dedupe else None
        result = s.execute(insert(Notification).values(
            user_id=user_id, kind=kind, document_id=document_id, message=message, dedupe_key=key,
            created_at=utcnow()).on_conflict_do_nothing().returning(Notification.id))
        sent += len(result.all())  # (rowcount is -1 for this statement on PostgreSQL)
    return sent


class NotificationService:
    def __init__(self, db: Database, *, hide_top_secret_subject: bool) -> None:
        self.db = db
        self.hide_top_secret_subject = hide_top_secret_subject

    def list(self, actor: Actor, unread_only: bool, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """The actor's notifications, leaving out those about a document the actor may no longer read."""
        q = select(Notification, Document.subject, Document.secrecy) \
            .outerjoin(Document, Document.id == Notification.document_id) \
            .where(Notification.user_id == actor.user_id,
                   or_(Notification.document_id.is_(None), readable_condition(actor)))
        if unread_only:
            q = q.where(Notification.read_at.is_(None))
        with self.db.read() as s:
            total = s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = s.execute(q.order_by(Notification.id.desc()).offset(offset).limit(limit)).all()
            return [{"id": n.id, "kind": n.kind, "document_id": n.document_id,
                     "message": self._message(n.message, subject, secrecy),
                     "created_at": to_vn_iso(n.created_at), "read": n.read_at is not None}
                    for n, subject, secrecy in rows], total

    def mark_read(self, actor: Actor, ids: builtins.list[int] | None) -> int:
        with self.db.write() as s:
            q = update(Notification).where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
            if ids:
                q = q.where(Notification.id.in_(ids))
            return rows_affected(s, q.values(read_at=utcnow()))

    def _message(self, message: str, subject: str | None, secrecy: int | None) -> str:
        return fill_subject(message, subject, secrecy, hide_top_secret_subject=self.hide_top_secret_subject)


def fill_subject(message: str, subject: str | None, secrecy: int | None, *, hide_top_secret_subject: bool) -> str:
    """A stored notification as its reader sees it: ``SUBJECT`` replaced by the document's subject as
    lists show it (a Tuyệt mật one hidden when so configured). Call only for a reader of the document."""
    if subject is None or SUBJECT not in message:
        return message
    return message.replace(SUBJECT, listed_subject(subject[:SUBJECT_CHARS], secrecy or 0, hide_top_secret_subject))
