"""In-app notifications (new work, reminders, escalations)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Notification
from docsvc.db.uow import Database
from docsvc.domain.identity import Actor
from docsvc.timeutil import to_vn_iso


def notify(s: Session, user_ids: Iterable[int], kind: str, message: str, *, document_id: int | None = None,
           dedupe: str | None = None) -> int:
    """Notify users; with ``dedupe`` a notification is sent at most once per user and key."""
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    sent = 0
    for user_id in sorted(set(user_ids)):
        key = f"{dedupe}:{user_id}" if dedupe else None
        result = s.execute(insert(Notification).values(
            user_id=user_id, kind=kind, document_id=document_id, message=message, dedupe_key=key,
            created_at=utcnow()).on_conflict_do_nothing().returning(Notification.id))
        sent += len(result.all())  # (rowcount is -1 for this statement on PostgreSQL)
    return sent


class NotificationService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, actor: Actor, unread_only: bool, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        q = select(Notification).where(Notification.user_id == actor.user_id)
        if unread_only:
            q = q.where(Notification.read_at.is_(None))
        with self.db.read() as s:
            total = s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = s.execute(q.order_by(Notification.id.desc()).offset(offset).limit(limit)).scalars().all()
            return [{"id": n.id, "kind": n.kind, "document_id": n.document_id, "message": n.message,
                     "created_at": to_vn_iso(n.created_at), "read": n.read_at is not None} for n in rows], total

    def mark_read(self, actor: Actor, ids: builtins.list[int] | None) -> int:
        with self.db.write() as s:
            q = update(Notification).where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
            if ids:
                q = q.where(Notification.id.in_(ids))
            result = s.execute(q.values(read_at=utcnow()))
            return result.rowcount or 0 if isinstance(result, CursorResult) else 0
