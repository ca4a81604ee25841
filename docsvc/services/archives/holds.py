"""Legal holds on a document or a dossier: who placed it, why; blocks every disposal path and every
change of the held records until released (the write-once guard and the storage legal-hold flag)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Document, LegalHold, User
from docsvc.db.uow import Database
from docsvc.domain.archives import DossierStatus
from docsvc.domain.identity import Actor, RequestOrigin
from docsvc.domain.policies import is_system
from docsvc.errors import InvalidInput, InvalidState, Msg, NotFound
from docsvc.services import audit
from docsvc.services.access import load_readable
from docsvc.services.archives.common import HOLD_KEEPERS, document_ids_of, load_dossier, require, required_text
from docsvc.services.archives.locks import ObjectLocks, mark_documents
from docsvc.timeutil import to_vn_iso

REASON_MAX = 2000


class HoldService:
    def __init__(self, db: Database, locks: ObjectLocks) -> None:
        self.db = db
        self.locks = locks

    def place(self, actor: Actor, *, reason: str, document_id: int | None = None,
              dossier_id: int | None = None, origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Hold one document (that the caller may read) or one dossier (of the caller's agency)."""
        require(actor, *HOLD_KEEPERS, message=Msg("archives.archive_agency_leaders_place_legal_holds",
                                                  "the archive or the agency's leaders place legal holds"))
        reason = required_text(reason, "reason", REASON_MAX)
        if (document_id is None) == (dossier_id is None):
            raise InvalidInput(Msg("archives.hold_exactly_one_document_id_dossier",
                                   "hold exactly one of document_id or dossier_id"), {"field": "document_id"})
        with self.db.write() as s:
            if document_id is not None:
                doc = _load_document(s, actor, document_id)
                agency_id, doc_ids = doc.agency_id, [doc.id]
                target = {"document_id": doc.id}
            else:
                dossier = load_dossier(s, actor, dossier_id, for_update=True)  # type: ignore[arg-type]
                if dossier.status == DossierStatus.DESTROYED.value:
                    raise InvalidState(Msg("archives.dossier_content_was_destroyed_nothing_left",
                                           "the dossier's content was destroyed: nothing left to hold"))
                agency_id, doc_ids = dossier.agency_id, document_ids_of(s, [dossier.id])
                target = {"dossier_id": dossier.id}
            active = s.execute(select(LegalHold.id).where(
                LegalHold.released_at.is_(None),
                (LegalHold.document_id == document_id) if document_id is not None
                else (LegalHold.dossier_id == dossier_id))).first()
            if active is not None:
                raise InvalidState(f"legal hold {active.id} is already active on it", {"hold_id": active.id})
            hold = LegalHold(agency_id=agency_id, reason=reason, placed_by=_user_id(s, actor, agency_id), **target)
            s.add(hold)
            s.flush()
            mark_documents(s, doc_ids)
            audit.record(s, actor=actor, action="legal_hold.place", object_type="legal_hold", object_id=hold.id,
                         origin=origin, agency_id=agency_id, details={**target, "reason": reason})
            out = hold_dict(s, hold)
        out["locks"] = self.locks.sync().to_dict()
        return out

    def release(self, actor: Actor, hold_id: int, *, reason: str,
                origin: RequestOrigin | None = None) -> dict[str, Any]:
        require(actor, *HOLD_KEEPERS, message=Msg("archives.archive_agency_leaders_release_legal_holds",
                                                  "the archive or the agency's leaders release legal holds"))
        reason = required_text(reason, "reason", REASON_MAX)
        with self.db.write() as s:
            hold = self._load(s, actor, hold_id, for_update=True)
            if hold.released_at is not None:
                raise InvalidState(f"legal hold {hold_id} was released already")
            hold.released_at, hold.released_by, hold.release_reason = utcnow(), _user_id(s, actor, hold.agency_id), \
                reason
            s.flush()
            doc_ids = [hold.document_id] if hold.document_id else \
                document_ids_of(s, [hold.dossier_id] if hold.dossier_id else [])
            mark_documents(s, doc_ids)
            audit.record(s, actor=actor, action="legal_hold.release", object_type="legal_hold", object_id=hold.id,
                         origin=origin, agency_id=hold.agency_id,
                         details={"document_id": hold.document_id, "dossier_id": hold.dossier_id, "reason": reason})
            out = hold_dict(s, hold)
        out["locks"] = self.locks.sync().to_dict()
        return out

    def list(self, actor: Actor, *, active_only: bool = True, dossier_id: int | None = None
             ) -> list[dict[str, Any]]:
        """The agency's holds the actor may see (optionally only those placed on one dossier)."""
        require(actor, *HOLD_KEEPERS, message=Msg("archives.archive_leaders_follow_legal_holds",
                                                  "the archive and the leaders follow legal holds"))
        with self.db.read() as s:
            q = select(LegalHold).where(LegalHold.agency_id == actor.agency_id)
            if active_only:
                q = q.where(LegalHold.released_at.is_(None))
            if dossier_id is not None:
                q = q.where(LegalHold.dossier_id == dossier_id)
            rows = s.execute(q.order_by(LegalHold.id.desc())).scalars().all()
            return [hold_dict(s, h) for h in rows if _visible(s, actor, h)]

    def get(self, actor: Actor, hold_id: int) -> dict[str, Any]:
        require(actor, *HOLD_KEEPERS, message=Msg("archives.archive_leaders_follow_legal_holds",
                                                  "the archive and the leaders follow legal holds"))
        with self.db.read() as s:
            return hold_dict(s, self._load(s, actor, hold_id))

    @staticmethod
    def _load(s: Session, actor: Actor, hold_id: int, *, for_update: bool = False) -> LegalHold:
        q = select(LegalHold).where(LegalHold.id == hold_id)
        if for_update:
            q = q.with_for_update()
        hold = s.execute(q).scalar_one_or_none()
        if hold is None or (not is_system(actor)
                            and (hold.agency_id != actor.agency_id or not _visible(s, actor, hold))):
            raise NotFound(f"legal hold {hold_id} not found")
        return hold


def _visible(s: Session, actor: Actor, hold: LegalHold) -> bool:
    """A hold reveals its target: only those who may see the document or the dossier see it."""
    try:
        if hold.document_id is not None:
            _load_document(s, actor, hold.document_id)
        else:
            load_dossier(s, actor, hold.dossier_id)  # type: ignore[arg-type]
    except NotFound:
        return False
    return True


def _load_document(s: Session, actor: Actor, document_id: int) -> Document:
    if is_system(actor):
        doc = s.get(Document, document_id)
        if doc is None:
            raise NotFound(f"document {document_id} not found")
        return doc
    doc = load_readable(s, actor, document_id)
    if doc.agency_id != actor.agency_id:
        raise NotFound(f"document {document_id} not found")
    return doc


def _user_id(s: Session, actor: Actor, agency_id: int) -> int:
    """Who acts: the caller, or for the system the agency's first archivist or leader."""
    if not is_system(actor):
        return actor.user_id
    from docsvc.domain.identity import Role
    from docsvc.services.archives.common import users_with_role
    for role in (Role.ARCHIVIST, Role.LEADER):
        ids = users_with_role(s, agency_id, role)
        if ids:
            return ids[0]
    raise InvalidState(Msg("archives.agency_has_no_archivist_leader_record",
                           "the agency has no archivist or leader to record as the holder"))


def hold_dict(s: Session, h: LegalHold) -> dict[str, Any]:
    placed = s.get(User, h.placed_by)
    released = s.get(User, h.released_by) if h.released_by else None
    return {"id": h.id, "agency_id": h.agency_id, "document_id": h.document_id, "dossier_id": h.dossier_id,
            "reason": h.reason, "active": h.released_at is None,
            "placed_by": {"id": placed.id, "full_name": placed.full_name} if placed else None,
            "placed_at": to_vn_iso(h.placed_at),
            "released_by": {"id": released.id, "full_name": released.full_name} if released else None,
            "released_at": to_vn_iso(h.released_at), "release_reason": h.release_reason}
