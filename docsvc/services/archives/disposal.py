"""Disposal of records past their retention: the nightly listing, the appraisal council's review, the
head's decision, then destruction of the content with a destruction record (metadata is kept).

Never listed, never destroyed: permanent records, records under a legal hold (re-checked at every
step), dossiers still open, records already in an open list, and dossiers the council decided to keep.
A document filed in several dossiers loses its content only when none of the others keeps it.
Rows change first (one transaction); stored objects are deleted after commit, and an object whose
deletion fails is an unreferenced leftover that the orphan sweep removes later.
"""

from __future__ import annotations

import builtins
import logging
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import (
    DisposalItem,
    DisposalList,
    Document,
    DocumentFile,
    Dossier,
    DossierDocument,
    Organisation,
    RetentionPeriod,
    User,
)
from docsvc.db.rows import must_get
from docsvc.db.uow import Database
from docsvc.domain.archives import DisposalStatus, DossierStatus, Retention, check_disposal_transition, disposable
from docsvc.domain.documents import number_notation
from docsvc.domain.identity import Actor, RequestOrigin, Role, Secrecy, listed_subject
from docsvc.domain.policies import SYSTEM, is_system
from docsvc.errors import InvalidInput, InvalidState, Msg, NotFound
from docsvc.services import audit
from docsvc.services.access import refresh_readers
from docsvc.services.archives.common import dossier_dict, held_dossier_ids, require, required_text, users_with_role
from docsvc.services.archives.guard import archive_write
from docsvc.services.archives.locks import ObjectLocks
from docsvc.services.notifications import notify
from docsvc.timeutil import to_vn_iso, vn_today
from storage import ObjectStore

log = logging.getLogger("docsvc.archives.disposal")

#: Dossiers a disposal list may hold: closed (kept by the unit) or archived.
LISTABLE = (DossierStatus.CLOSED.value, DossierStatus.ARCHIVED.value)
OPEN_LISTS = tuple(s.value for s in (DisposalStatus.PROPOSED, DisposalStatus.REVIEWED, DisposalStatus.APPROVED))
TEXT_MAX = 4000


class DisposalService:
    def __init__(self, db: Database, store: ObjectStore, locks: ObjectLocks, *,
                 hide_top_secret_subject: bool = True) -> None:
        self.db = db
        self.store = store  # storage.ObjectStore
        self.locks = locks
        self.hide = hide_top_secret_subject

    # ------------------------------------------------------------ listing (nightly)
    def expired(self, s: Session, agency_id: int, today: date) -> list[Dossier]:
        """Dossiers of the agency past their retention that may be proposed for destruction."""
        rows = s.execute(select(Dossier, RetentionPeriod.years).join(
            RetentionPeriod, RetentionPeriod.id == Dossier.retention_id).where(
            Dossier.agency_id == agency_id, Dossier.status.in_(LISTABLE), Dossier.work_ended_on.is_not(None),
            RetentionPeriod.years.is_not(None)).order_by(Dossier.id)).all()
        candidates = [d for d, years in rows if disposable(Retention(years), d.work_ended_on, today)]
        if not candidates:
            return []
        ids = [d.id for d in candidates]
        excluded = held_dossier_ids(s, ids)
        excluded |= set(s.execute(select(DisposalItem.dossier_id).join(
            DisposalList, DisposalList.id == DisposalItem.list_id).join(
            Dossier, Dossier.id == DisposalItem.dossier_id).where(
            DisposalItem.dossier_id.in_(ids),
            (DisposalList.status.in_(OPEN_LISTS) & (DisposalItem.decision != "withheld"))
            # kept by a decision: until the dossier gets another retention (which may expire again)
            | ((DisposalItem.decision == "keep") & (DisposalItem.retention_id == Dossier.retention_id))
        )).scalars())
        return [d for d in candidates if d.id not in excluded]

    def propose(self, actor: Actor = SYSTEM, *, today: date | None = None) -> list[dict[str, Any]]:
        """Add every newly expired dossier to its agency's proposed list of its secrecy level
        (created when none is open) and tell the archivists. The nightly task runs it for every
        agency (``SYSTEM``); an archivist runs it for their own. Idempotent."""
        require(actor, Role.ARCHIVIST, message=Msg("archives.archive_lists_expired_records",
                                                   "the archive lists expired records"))
        today = today or vn_today()
        out = []
        with self.db.write() as s:
            agencies = [actor.agency_id] if not is_system(actor) else list(s.execute(
                select(Organisation.id).where(Organisation.kind != "unit").order_by(Organisation.id)).scalars())
            for agency in agencies:
                by_level: dict[int, list[Dossier]] = {}
                for d in self.expired(s, agency, today):
                    if is_system(actor) or d.secrecy <= int(actor.clearance):
                        by_level.setdefault(d.secrecy, []).append(d)
                for level, dossiers in sorted(by_level.items()):
                    lst = s.execute(select(DisposalList).where(
                        DisposalList.agency_id == agency, DisposalList.secrecy == level,
                        DisposalList.status == DisposalStatus.PROPOSED.value)).scalars().first()
                    if lst is None:
                        lst = DisposalList(agency_id=agency, secrecy=level, status=DisposalStatus.PROPOSED.value,
                                           listed_on=today)
                        s.add(lst)
                        s.flush()
                    for d in dossiers:
                        s.add(DisposalItem(list_id=lst.id, dossier_id=d.id, retention_id=d.retention_id,
                                           decision="destroy"))
                    s.flush()
                    audit.record(s, actor=actor, action="disposal.list", object_type="disposal_list",
                                 object_id=lst.id, agency_id=agency,
                                 details={"added": [d.file_code for d in dossiers], "listed_on": today.isoformat()})
                    people = [u for u in users_with_role(s, agency, Role.ARCHIVIST)
                              if must_get(s, User, u).clearance >= level]
                    notify(s, people, "archive.disposal_listed",
                           f"{len(dossiers)} hồ sơ hết thời hạn bảo quản được đưa vào danh mục hủy số {lst.id}",
                           dedupe=f"disposal-listed:{lst.id}:{today}")
                    out.append({"list_id": lst.id, "agency_id": agency, "added": len(dossiers)})
        return out

    # ------------------------------------------------------------ reading
    def list(self, actor: Actor, *, status: list[str] | None = None,
             secrecy: Secrecy | None = None) -> list[dict[str, Any]]:
        """The agency's lists within the actor's clearance, by status and secrecy level (one list
        per level)."""
        _require_reader(actor)
        with self.db.read() as s:
            q = select(DisposalList).where(DisposalList.agency_id == actor.agency_id,
                                           DisposalList.secrecy <= int(actor.clearance))
            if status:
                q = q.where(DisposalList.status.in_(status))
            if secrecy is not None:
                q = q.where(DisposalList.secrecy == int(secrecy))
            rows = s.execute(q.order_by(DisposalList.id.desc())).scalars()
            return [list_dict(s, lst, self.hide, items=False) for lst in rows]

    def get(self, actor: Actor, list_id: int) -> dict[str, Any]:
        _require_reader(actor)
        with self.db.read() as s:
            return list_dict(s, _load(s, actor, list_id), self.hide)

    # ------------------------------------------------------------ appraisal
    def review(self, actor: Actor, list_id: int, *, opinion: str, members: builtins.list[str],
               keep: dict[int, str] | None = None, origin: RequestOrigin | None = None) -> dict[str, Any]:
        """The appraisal council's review, recorded by the archive: its members, its opinion, and the
        dossiers it wants kept (dossier id → why). Dossiers held meanwhile are withheld."""
        require(actor, Role.ARCHIVIST, message=Msg("archives.archive_records_appraisal_council_review",
                                                   "the archive records the appraisal council's review"))
        opinion = required_text(opinion, "opinion", TEXT_MAX)
        members = [m.strip() for m in members if m and m.strip()]
        if len(members) < 3:
            raise InvalidInput(Msg("archives.appraisal_council_has_least_3_members",
                                   "an appraisal council has at least 3 members"), {"field": "members"})
        keep = keep or {}
        with self.db.write() as s:
            lst = _load(s, actor, list_id, for_update=True)
            check_disposal_transition(DisposalStatus(lst.status), DisposalStatus.REVIEWED)
            items = _items(s, lst)
            unknown = set(keep) - {i.dossier_id for i in items}
            if unknown:
                raise InvalidInput(f"dossier {min(unknown)} is not on this list", {"field": "keep"})
            held = held_dossier_ids(s, [i.dossier_id for i in items])
            for item in items:
                if item.dossier_id in held:
                    item.decision, item.note = "withheld", "under a legal hold"
                elif item.dossier_id in keep:
                    item.decision, item.note = "keep", required_text(keep[item.dossier_id], "keep", TEXT_MAX)
            lst.status, lst.reviewed_by, lst.reviewed_at = DisposalStatus.REVIEWED.value, _uid(actor), utcnow()
            lst.council_opinion, lst.council_members = opinion, members
            audit.record(s, actor=actor, action="disposal.review", object_type="disposal_list", object_id=lst.id,
                         origin=origin, agency_id=lst.agency_id,
                         details={"members": members, "keep": sorted(keep), "withheld": sorted(held)})
            leaders = [u for u in users_with_role(s, lst.agency_id, Role.LEADER)
                       if must_get(s, User, u).clearance >= lst.secrecy]
            notify(s, leaders, "archive.disposal_reviewed",
                   f"Danh mục hủy tài liệu số {lst.id} đã được Hội đồng xác định giá trị thẩm định, chờ quyết định",
                   dedupe=f"disposal-reviewed:{lst.id}")
            return list_dict(s, lst, self.hide)

    def decide(self, actor: Actor, list_id: int, *, approve: bool, decision_ref: str = "",
               reason: str = "", origin: RequestOrigin | None = None) -> dict[str, Any]:
        """The head's decision: approve destruction (with the decision's number) or refuse it."""
        require(actor, Role.LEADER, message=Msg("archives.head_agency_decides_destruction",
                                                "the head of the agency decides on destruction"))
        with self.db.write() as s:
            lst = _load(s, actor, list_id, for_update=True)
            target = DisposalStatus.APPROVED if approve else DisposalStatus.REJECTED
            if lst.status == DisposalStatus.PROPOSED.value:
                raise InvalidState(Msg("archives.appraisal_council_reviews_list_before_head",
                                       "the appraisal council reviews the list before the head decides"),
                                   {"status": lst.status})
            check_disposal_transition(DisposalStatus(lst.status), target)
            if approve:
                lst.decision_ref = required_text(decision_ref, "decision_ref", 100)
            else:
                lst.rejection_reason = required_text(reason, "reason", TEXT_MAX)
                for item in _items(s, lst):
                    if item.decision == "destroy":
                        item.decision, item.note = "keep", f"destruction refused: {lst.rejection_reason}"[:TEXT_MAX]
            lst.status, lst.decided_by, lst.decided_at = target.value, _uid(actor), utcnow()
            audit.record(s, actor=actor, action="disposal.approve" if approve else "disposal.reject",
                         object_type="disposal_list", object_id=lst.id, origin=origin, agency_id=lst.agency_id,
                         details={"decision_ref": lst.decision_ref, "reason": lst.rejection_reason})
            return list_dict(s, lst, self.hide)

    # ------------------------------------------------------------ destruction
    def destroy(self, actor: Actor, list_id: int, *, origin: RequestOrigin | None = None,
                today: date | None = None) -> dict[str, Any]:
        """Destroy the content of the approved dossiers: files and their stored objects go, the
        documents' and dossiers' metadata stay, and the list keeps the destruction record."""
        require(actor, Role.ARCHIVIST, message=Msg("archives.archive_carries_out_approved_destruction",
                                                   "the archive carries out an approved destruction"))
        today = today or vn_today()
        with self.db.write() as s:
            lst = _load(s, actor, list_id, for_update=True)
            check_disposal_transition(DisposalStatus(lst.status), DisposalStatus.DESTROYED)
            items = [i for i in _items(s, lst) if i.decision == "destroy"]
            held = held_dossier_ids(s, [i.dossier_id for i in items])
            destroying: list[Dossier] = []
            for item in items:
                d = must_get(s, Dossier, item.dossier_id)
                retention = Retention(must_get(s, RetentionPeriod, d.retention_id).years) if d.retention_id else None
                if d.id in held:
                    item.decision, item.note = "withheld", "placed under a legal hold after the decision"
                elif retention is None or not disposable(retention, d.work_ended_on, today):
                    item.decision, item.note = "withheld", "its retention was extended after the decision"
                else:
                    destroying.append(d)
            ids = {d.id for d in destroying}
            record_dossiers, doomed_keys = [], set()
            now = utcnow()
            with archive_write(s, "destruction after appraisal"):
                for d in destroying:
                    entry, keys = self._destroy_dossier(s, d, ids, now)
                    record_dossiers.append(entry)
                    doomed_keys |= keys
                for item in _items(s, lst):
                    if item.decision == "destroy":
                        item.decision = "destroyed"
                lst.status, lst.destroyed_by, lst.destroyed_at = DisposalStatus.DESTROYED.value, _uid(actor), now
                lst.destruction_record = {
                    "destroyed_at": to_vn_iso(now), "decision_ref": lst.decision_ref,
                    "destroyed_by": _name(s, lst.destroyed_by), "council_members": lst.council_members,
                    "dossiers": record_dossiers, "dossier_total": len(record_dossiers),
                    "doc_total": sum(len(e["documents"]) for e in record_dossiers)}
                s.flush()
            still_used = set(s.execute(select(DocumentFile.object_key).where(
                DocumentFile.object_key.in_(sorted(doomed_keys)))).scalars()) if doomed_keys else set()
            audit.record(s, actor=actor, action="disposal.destroy", object_type="disposal_list", object_id=lst.id,
                         origin=origin, agency_id=lst.agency_id,
                         details={"dossiers": [e["file_code"] for e in record_dossiers],
                                  "decision_ref": lst.decision_ref})
            out = list_dict(s, lst, self.hide)
            doomed = sorted(doomed_keys - still_used)
        out["objects"] = self._delete_objects(doomed)
        return out

    @staticmethod
    def _destroy_dossier(s: Session, d: Dossier, destroying: set[int], now: Any) -> tuple[dict[str, Any], set[str]]:
        documents, keys = [], set()
        for doc in s.execute(select(Document).join(DossierDocument, DossierDocument.document_id == Document.id)
                             .where(DossierDocument.dossier_id == d.id).order_by(Document.id)).scalars():
            kept_by = [code for (code,) in s.execute(
                select(Dossier.file_code).join(DossierDocument, DossierDocument.dossier_id == Dossier.id).where(
                    DossierDocument.document_id == doc.id, Dossier.id.not_in(destroying),
                    Dossier.status != DossierStatus.DESTROYED.value))]
            entry = {"id": doc.id, "number_notation": number_notation(doc.code_number, doc.code_notation) or None,
                     "subject": doc.subject, "secrecy": doc.secrecy,
                     "files": [{"role": f.role, "sha256": f.sha256, "size": f.size} for f in doc.files]}
            if kept_by:
                entry["content_kept"] = f"also filed in {', '.join(sorted(kept_by))}"
            elif doc.content_destroyed_at is None:
                keys |= {f.object_key for f in doc.files}
                _delete_files(s, doc)
                doc.content_destroyed_at = now
                s.flush()
                refresh_readers(s, doc)
            documents.append(entry)
        d.status, d.destroyed_at = DossierStatus.DESTROYED.value, now
        return {"dossier_id": d.id, "file_code": d.file_code, "title": d.title, "documents": documents}, keys

    def _delete_objects(self, keys: builtins.list[str]) -> dict[str, Any]:
        from storage.errors import ObjectNotFound, StorageError
        self.locks.sync()  # a released hold's flag must be off before the delete
        deleted, left = 0, []
        for key in keys:
            try:
                self.store.delete(key)
                deleted += 1
            except ObjectNotFound:
                deleted += 1
            except StorageError as exc:  # left for the orphan sweep (no row references it any more)
                log.warning("destroyed content %s not deleted yet: %s", key, exc)
                left.append(key)
        return {"deleted": deleted, "left_for_sweep": len(left)}


# ---------------------------------------------------------------- helpers
def _delete_files(s: Session, doc: Document) -> None:
    """Delete every file row of the document, renditions before what they derive from (the
    ``base_file_id`` references have no ORM relationship to order the deletes)."""
    remaining = list(doc.files)
    while remaining:
        bases = {f.base_file_id for f in remaining if f.base_file_id is not None}
        leaves = [f for f in remaining if f.id not in bases] or remaining
        for f in leaves:
            doc.files.remove(f)
            s.delete(f)
        s.flush()
        remaining = [f for f in remaining if f not in leaves]


def _require_reader(actor: Actor) -> None:
    require(actor, Role.ARCHIVIST, Role.LEADER, message=Msg("archives.archive_leaders_follow_disposal",
                                                            "the archive and the leaders follow disposal"))


def _load(s: Session, actor: Actor, list_id: int, *, for_update: bool = False) -> DisposalList:
    q = select(DisposalList).where(DisposalList.id == list_id)
    if for_update:
        q = q.with_for_update()
    lst = s.execute(q).scalar_one_or_none()
    if lst is None or (not is_system(actor) and (lst.agency_id != actor.agency_id
                                              or lst.secrecy > int(actor.clearance))):
        raise NotFound(f"disposal list {list_id} not found")
    return lst


def _items(s: Session, lst: DisposalList) -> list[DisposalItem]:
    return list(s.execute(select(DisposalItem).where(DisposalItem.list_id == lst.id)
                          .order_by(DisposalItem.id)).scalars())


def _uid(actor: Actor) -> int | None:
    return actor.user_id if not is_system(actor) else None


def _name(s: Session, user_id: int | None) -> str | None:
    user = s.get(User, user_id) if user_id else None
    return user.full_name if user else None


def _masked(record: dict[str, Any] | None, hide_top_secret: bool) -> dict[str, Any] | None:
    """The destruction record as shown: subjects of Tuyệt mật documents hidden where the
    deployment hides them (the stored record keeps them)."""
    if not record:
        return record
    return {**record, "dossiers": [
        {**d, "documents": [{**doc, "subject": listed_subject(doc["subject"], doc.get("secrecy", 0), hide_top_secret)}
                            for doc in d["documents"]]} for d in record.get("dossiers", [])]}


def list_dict(s: Session, lst: DisposalList, hide_top_secret: bool, *, items: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": lst.id, "agency_id": lst.agency_id, "status": lst.status, "secrecy": lst.secrecy,
        "listed_on": lst.listed_on.isoformat(),
        "reviewed_by": _name(s, lst.reviewed_by), "reviewed_at": to_vn_iso(lst.reviewed_at),
        "council_opinion": lst.council_opinion, "council_members": lst.council_members,
        "decided_by": _name(s, lst.decided_by), "decided_at": to_vn_iso(lst.decided_at),
        "decision_ref": lst.decision_ref, "rejection_reason": lst.rejection_reason,
        "destroyed_by": _name(s, lst.destroyed_by), "destroyed_at": to_vn_iso(lst.destroyed_at),
        "item_total": s.execute(select(func.count()).select_from(DisposalItem)
                                .where(DisposalItem.list_id == lst.id)).scalar_one()}
    if items:
        rows = _items(s, lst)
        held = held_dossier_ids(s, [i.dossier_id for i in rows])
        out["items"] = [{"dossier": dossier_dict(s, must_get(s, Dossier, i.dossier_id), held=i.dossier_id in held),
                         "decision": i.decision, "note": i.note} for i in rows]
        out["destruction_record"] = _masked(lst.destruction_record, hide_top_secret)
    return out

