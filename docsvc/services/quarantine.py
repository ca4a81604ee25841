"""Quarantined background work: listed for administrators, released (retried) one by one.

An outbox item whose own work failed ``DOCSVC_OUTBOX_MAX_FAILURES`` times (a hostile or broken
file, a limit hit, a worker lost mid-item) stops being retried (see
:mod:`docsvc.services.indexing`). An administrator sees it with its reason and may release it
for one more round of attempts; the release is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Document, OutboxItem
from docsvc.db.uow import Database
from docsvc.domain.identity import Actor, Role
from docsvc.errors import NotFound, PermissionDenied
from docsvc.services import audit, outbox
from docsvc.services.identity import _within as within_organisation
from docsvc.timeutil import to_vn_iso


class QuarantineService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def list(self, actor: Actor, *, limit: int = 200) -> list[dict[str, Any]]:
        """Quarantined items of documents of the administrator's agency and the agencies below it
        (no subject: an administrator is not necessarily cleared to read the document)."""
        _require_admin(actor)
        with self.db.read() as s:
            items = s.execute(select(OutboxItem).where(OutboxItem.quarantined_at.is_not(None),
                                                       OutboxItem.done_at.is_(None))
                              .order_by(OutboxItem.quarantined_at.desc(), OutboxItem.id.desc())).scalars()
            return [_item_dict(item) for item in items
                    if _administers(s, actor, _agency_of_item(s, item))][:limit]

    def release(self, actor: Actor, item_id: int, origin: Any = None) -> dict[str, Any]:
        """Retry a quarantined item: its failures start again from zero, the drain is kicked."""
        _require_admin(actor)
        with self.db.write() as s:
            item = s.get(OutboxItem, item_id)
            agency_id = _agency_of_item(s, item) if item is not None else None
            if item is None or item.quarantined_at is None or item.done_at is not None \
                    or not _administers(s, actor, agency_id):
                raise NotFound(f"no quarantined item {item_id}")
            audit.record(s, actor=actor, action="outbox.release", object_type="outbox", object_id=item.id,
                         origin=origin, details={"topic": item.topic, "key": item.key, "failures": item.failures,
                                                 "reason": (item.last_error or "")[:500]})
            item.quarantined_at, item.failures, item.lease_token = None, 0, None
            item.next_attempt_at = utcnow()
            if item.topic == outbox.INDEX:
                outbox.schedule_drain(s)
            return _item_dict(item)


def _require_admin(actor: Actor) -> None:
    if not actor.has(Role.ADMIN):
        raise PermissionDenied("only administrators see and release quarantined background work")


def _agency_of_item(s: Session, item: OutboxItem) -> int | None:
    if item.topic != outbox.INDEX or not item.key.isdigit():
        return None
    doc = s.get(Document, int(item.key))
    return doc.agency_id if doc is not None else None


def _administers(s: Session, actor: Actor, agency_id: int | None) -> bool:
    """Items of deleted documents (no agency) are shown to every administrator."""
    return agency_id is None or within_organisation(s, agency_id, actor.agency_id)


def _item_dict(item: OutboxItem) -> dict[str, Any]:
    return {"id": item.id, "topic": item.topic, "document_id": int(item.key) if item.key.isdigit() else None,
            "failures": item.failures, "attempts": item.attempts, "reason": item.last_error,
            "created_at": to_vn_iso(item.created_at), "quarantined_at": to_vn_iso(item.quarantined_at)}
