"""The transactional outbox: follow-up work written in the same transaction as the change."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import OutboxItem
from docsvc.db.uow import after_commit
from docsvc.services.dispatch import DISPATCH_INFO, NoTaskRunner, TaskDispatch

log = logging.getLogger("docsvc.outbox")

INDEX = "index"
MAX_BACKOFF = timedelta(minutes=30)


def add(s: Session, topic: str, key: str | int, payload: dict[str, Any] | None = None, *,
        kick: Callable[[], None] | None = None) -> None:
    """Queue ``topic``/``key`` unless the same work is already pending; ``kick`` runs after commit.
    A quarantined item is not pending: the change gets its own item."""
    pending = s.execute(select(OutboxItem.id).where(OutboxItem.topic == topic, OutboxItem.key == str(key),
                                                    OutboxItem.done_at.is_(None),
                                                    OutboxItem.quarantined_at.is_(None))).first()
    if pending is None:
        s.add(OutboxItem(topic=topic, key=str(key), payload=payload or {}))
    if kick is not None and not s.info.get(f"kicked:{topic}"):
        s.info[f"kicked:{topic}"] = True
        after_commit(s, kick)


def index_document(s: Session, document_id: int) -> None:
    dispatch: TaskDispatch | None = s.info.get(DISPATCH_INFO)
    add(s, INDEX, document_id, kick=(lambda: kick_drain(dispatch)) if dispatch is not None else None)


def schedule_drain(s: Session) -> None:
    """Kick the outbox drain after ``s`` commits (through the container's task dispatch)."""
    dispatch: TaskDispatch | None = s.info.get(DISPATCH_INFO)
    if dispatch is not None:
        after_commit(s, lambda: kick_drain(dispatch))


def kick_drain(dispatch: TaskDispatch) -> None:
    try:
        dispatch.kick("docsvc.drain_outbox")  # off the request thread: extraction and OCR are slow
    except NoTaskRunner:
        log.debug("no task runner in this process: the periodic drain indexes the change")
    except Exception:  # the broker being down delays indexing; the periodic drain catches up
        log.warning("could not kick the outbox drain", exc_info=True)


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s, ... up to 30 minutes between attempts."""
    return min(timedelta(seconds=5 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def due(s: Session, limit: int, topic: str | None = None) -> list[OutboxItem]:
    q = select(OutboxItem).where(OutboxItem.done_at.is_(None), OutboxItem.quarantined_at.is_(None),
                                 OutboxItem.next_attempt_at <= utcnow())
    if topic:
        q = q.where(OutboxItem.topic == topic)
    q = q.order_by(OutboxItem.id).limit(limit)
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)  # several workers drain without stepping on each other
    return list(s.execute(q).scalars())


#: The open items of one topic and key (read by every document view: built once).
_OPEN_ITEMS = select(OutboxItem.quarantined_at, OutboxItem.last_error).where(
    OutboxItem.topic == bindparam("topic"), OutboxItem.key == bindparam("key"), OutboxItem.done_at.is_(None))


def state_of(s: Session, topic: str, key: str | int) -> tuple[str, str | None]:
    """("quarantined", reason), ("processing", last error or None) while work waits or runs, or
    ("done", None) when nothing is left for ``topic``/``key``."""
    rows = s.execute(_OPEN_ITEMS, {"topic": topic, "key": str(key)}).all()
    quarantined = [r for r in rows if r.quarantined_at is not None]
    if quarantined:
        return "quarantined", quarantined[0].last_error
    if rows:
        return "processing", rows[0].last_error
    return "done", None

