"""The transactional outbox: follow-up work written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import OutboxItem
from docsvc.db.uow import after_commit

INDEX = "index"
MAX_BACKOFF = timedelta(minutes=30)


def add(s: Session, topic: str, key: str | int, payload: dict[str, Any] | None = None, *,
        kick: Callable[[], None] | None = None) -> None:
    """Queue ``topic``/``key`` unless the same work is already pending; ``kick`` runs after commit."""
    pending = s.execute(select(OutboxItem.id).where(OutboxItem.topic == topic, OutboxItem.key == str(key),
                                                    OutboxItem.done_at.is_(None))).first()
    if pending is None:
        s.add(OutboxItem(topic=topic, key=str(key), payload=payload or {}))
    if kick is not None and not s.info.get(f"kicked:{topic}"):
        s.info[f"kicked:{topic}"] = True
        after_commit(s, kick)


def index_document(s: Session, document_id: int) -> None:
    add(s, INDEX, document_id, kick=_kick_drain)


def _kick_drain() -> None:
    from docsvc.tasks.app import enqueue
    try:
        enqueue("docsvc.drain_outbox")
    except Exception:  # the broker being down delays indexing; the periodic drain catches up
        import logging
        logging.getLogger("docsvc.outbox").warning("could not kick the outbox drain", exc_info=True)


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s, ... up to 30 minutes between attempts."""
    return min(timedelta(seconds=5 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def due(s: Session, limit: int, topic: str | None = None) -> list[OutboxItem]:
    q = select(OutboxItem).where(OutboxItem.done_at.is_(None), OutboxItem.next_attempt_at <= utcnow())
    if topic:
        q = q.where(OutboxItem.topic == topic)
    q = q.order_by(OutboxItem.id).limit(limit)
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)  # several workers drain without stepping on each other
    return list(s.execute(q).scalars())
