"""Dossier plans and dossiers: plan, open, file documents (no copy), close with the decree's checks,
reopen, construction settlement, retention extension."""

from __future__ import annotations

import builtins
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Document, DocumentFile, Dossier, DossierDocument, DossierPlan, Organisation, User
from docsvc.db.rows import must_get, total_of
from docsvc.db.uow import Database
from docsvc.domain.archives import (
    DossierStatus,
    FiledDocument,
    Retention,
    Rights,
    check_dossier_transition,
    check_notation,
    chronological,
    closing_problems,
    file_code,
    must_transfer,
    transfer_due_on,
)
from docsvc.domain.documents import number_notation
from docsvc.domain.identity import Actor, RequestOrigin, Role, Secrecy, listed_subject
from docsvc.domain.policies import is_system
from docsvc.errors import Conflict, InvalidInput, InvalidState, Msg, NotFound, PermissionDenied
from docsvc.services import audit
from docsvc.services.access import load_readable, readable_filter, refresh_readers
from docsvc.services.archives.common import (
    HOLD_KEEPERS,
    PLAN_KEEPERS,
    agency_of,
    dossier_dict,
    dossier_dicts,
    load_dossier,
    may_see_dossier,
    require,
    require_manager,
    required_text,
    retention_of,
)
from docsvc.services.archives.guard import archive_write
from docsvc.services.archives.locks import ObjectLocks, mark_documents
from docsvc.services.archives.retention import current_entry
from docsvc.timeutil import to_vn, to_vn_iso, vn_today

#: Who may add a dossier they own to the plan (the plan keepers add any).
DOSSIER_OWNERS = (Role.OFFICER, Role.UNIT_HEAD, Role.LEADER, *PLAN_KEEPERS)
#: Best rendition first: what the archive keeps as "the" content of a document.
CONTENT_ORDER = {"issued": 0, "copy": 1, "signed": 2, "main": 3}


def content_file(doc: Document) -> DocumentFile | None:
    """The record's content: the issued original (latest rendition), else the copy, the signed or
    the uploaded file of the current version."""
    files = [f for f in doc.files if f.version == doc.current_version and f.role in CONTENT_ORDER]
    return min(files, key=lambda f: (CONTENT_ORDER[f.role], -f.id)) if files else None


def document_date(doc: Document) -> date | None:
    """The date a document takes in its dossier's chronological order."""
    if doc.issued_date:
        return doc.issued_date
    if doc.arrival_at:
        return to_vn(doc.arrival_at).date()
    return to_vn(doc.created_at).date() if doc.created_at else None


def filed_documents(s: Session, dossier_id: int) -> list[Document]:
    return list(s.execute(select(Document).join(DossierDocument, DossierDocument.document_id == Document.id)
                          .where(DossierDocument.dossier_id == dossier_id).order_by(Document.id)).scalars())


class DossierService:
    def __init__(self, db: Database, locks: ObjectLocks, *, hide_top_secret_subject: bool = True) -> None:
        self.db = db
        self.locks = locks
        self.hide_top_secret_subject = hide_top_secret_subject

    # ------------------------------------------------------------ plans
    def create_plan(self, actor: Actor, *, year: int, title: str = "", agency_id: int | None = None,
                    origin: RequestOrigin | None = None) -> dict[str, Any]:
        require(actor, *PLAN_KEEPERS, message=Msg("archives.archive_registry_keeps_dossier_plan",
                                                  "the archive or the registry keeps the dossier plan"))
        agency_id = agency_of(actor, agency_id)
        if not 2000 <= year <= 2100:
            raise InvalidInput(Msg("archives.year_must_2000_2100", "year must be 2000..2100"), {"field": "year"})
        with self.db.write() as s:
            agency = s.get(Organisation, agency_id)
            if agency is None or agency.kind == "unit":
                raise NotFound(f"agency {agency_id} not found")
            if not agency.organ_id:
                raise InvalidState(Msg("archives.agency_has_no_organid_dossier_filecodes",
                                       "the agency has no OrganId: dossier FileCodes need it (set it first)"))
            if s.execute(select(DossierPlan.id).where(DossierPlan.agency_id == agency_id,
                                                      DossierPlan.year == year)).first():
                raise Conflict(f"the {year} dossier plan exists already", {"field": "year"})
            plan = DossierPlan(agency_id=agency_id, year=year,
                               title=(title.strip() or f"Danh mục hồ sơ năm {year}")[:300],
                               created_by=actor.user_id if not is_system(actor) else None)
            s.add(plan)
            s.flush()
            audit.record(s, actor=actor, action="dossier_plan.create", object_type="dossier_plan",
                         object_id=plan.id, origin=origin, agency_id=agency_id, details={"year": year})
            return _plan_dict(plan, [])

    def plans(self, actor: Actor, agency_id: int | None = None) -> list[dict[str, Any]]:
        """The agency's plans, newest year first (the system names the agency)."""
        agency_id = agency_of(actor, agency_id)
        with self.db.read() as s:
            rows = s.execute(select(DossierPlan).where(DossierPlan.agency_id == agency_id)
                             .order_by(DossierPlan.year.desc())).scalars().all()
            return [_plan_dict(p, None) for p in rows]

    def plan(self, actor: Actor, plan_id: int) -> dict[str, Any]:
        """The plan with the dossiers the caller may see, in notation order."""
        with self.db.read() as s:
            plan = s.get(DossierPlan, plan_id)
            if plan is None or (not is_system(actor) and actor.agency_id != plan.agency_id):
                raise NotFound(f"dossier plan {plan_id} not found")
            dossiers = [d for d in s.execute(select(Dossier).where(Dossier.plan_id == plan.id)
                                             .order_by(Dossier.notation)).scalars() if may_see_dossier(actor, d)]
            return _plan_dict(plan, dossier_dicts(s, dossiers))

    # ------------------------------------------------------------ dossiers
    def add(self, actor: Actor, plan_id: int, *, notation: str, title: str, retention_code: str | None = None,
            owner_id: int | None = None, unit_id: int | None = None, construction: bool = False,
            rights: str | None = None, description: str = "", language: str = "vi", secrecy: str | int = 0,
            open_now: bool = False, origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Add a dossier to the plan. The archive and the registry add dossiers for anyone; officers,
        unit heads and leaders add their own (they become its owner)."""
        require(actor, *DOSSIER_OWNERS, message=Msg("archives.your_role_cannot_keep_dossiers",
                                                    "your role cannot keep dossiers"))
        keeper = is_system(actor) or actor.has(*PLAN_KEEPERS)
        if not keeper:
            if owner_id not in (None, actor.user_id):
                raise PermissionDenied(Msg("archives.you_add_dossiers_you_own_archive",
                                           "you add dossiers you own; the archive assigns other owners"))
            owner_id = actor.user_id
        notation = check_notation(notation)
        title = required_text(title, "title", 1000)
        level = _secrecy(secrecy)
        if not is_system(actor) and int(actor.clearance) < level:
            raise PermissionDenied(f"your clearance does not cover {level.label_vi} dossiers")
        with self.db.write() as s:
            plan = s.get(DossierPlan, plan_id)
            if plan is None or (not is_system(actor) and actor.agency_id != plan.agency_id):
                raise NotFound(f"dossier plan {plan_id} not found")
            agency = must_get(s, Organisation, plan.agency_id)
            if not agency.organ_id:
                raise InvalidState("the agency has no OrganId: dossier FileCodes need it (set it first)")
            dossier = Dossier(plan_id=plan.id, agency_id=plan.agency_id, year=plan.year, notation=notation,
                              file_code=file_code(agency.organ_id, plan.year, notation), title=title,
                              retention_id=current_entry(s, retention_code).id if retention_code else None,
                              owner_id=_check_owner(s, plan.agency_id, owner_id),
                              unit_id=_check_unit(s, plan.agency_id, unit_id),
                              status=DossierStatus.PLANNED.value, secrecy=int(level),
                              rights=_rights(rights, level).value, language=(language or "vi")[:10],
                              description=description.strip(), construction=construction,
                              created_by=actor.user_id if not is_system(actor) else None)
            if s.execute(select(Dossier.id).where(Dossier.plan_id == plan.id, Dossier.notation == notation)).first():
                raise Conflict(f"the plan has a dossier {notation} already", {"field": "notation"})
            s.add(dossier)
            try:
                s.flush()
            except IntegrityError:
                raise Conflict(f"the FileCode {dossier.file_code} is taken", {"field": "notation"}) from None
            if open_now:
                dossier.status, dossier.opened_at = DossierStatus.OPEN.value, utcnow()
            audit.record(s, actor=actor, action="dossier.create", object_type="dossier", object_id=dossier.id,
                         origin=origin, agency_id=dossier.agency_id,
                         details={"file_code": dossier.file_code, "open": open_now})
            return dossier_dict(s, dossier, held=False)

    def update(self, actor: Actor, dossier_id: int, *, title: str | None = None,
               retention_code: str | None = None, owner_id: int | None = None, unit_id: int | None = None,
               rights: str | None = None, description: str | None = None, construction: bool | None = None,
               origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Change a dossier while it is planned or open (closing fixes its metadata)."""
        with self.db.write() as s:
            d = load_dossier(s, actor, dossier_id, for_update=True)
            require_manager(actor, d)
            if d.status not in (DossierStatus.PLANNED.value, DossierStatus.OPEN.value):
                raise InvalidState(Msg("archives.closed_dossier_metadata_fixed_reopen_first",
                                       "a closed dossier's metadata is fixed (reopen it first)"),
                                   {"status": d.status})
            changes: dict[str, Any] = {}
            if title is not None:
                d.title = changes["title"] = required_text(title, "title", 1000)
            if retention_code is not None:
                d.retention_id = current_entry(s, retention_code).id
                changes["retention_code"] = retention_code
            if owner_id is not None:
                if not is_system(actor) and not actor.has(*PLAN_KEEPERS):
                    raise PermissionDenied(Msg("archives.archive_registry_change_dossier_owner",
                                               "the archive or the registry change a dossier's owner"))
                d.owner_id = changes["owner_id"] = _check_owner(s, d.agency_id, owner_id)
            if unit_id is not None:
                d.unit_id = changes["unit_id"] = _check_unit(s, d.agency_id, unit_id)
            if rights is not None:
                d.rights = changes["rights"] = _rights(rights, Secrecy(d.secrecy)).value
            if description is not None:
                d.description = changes["description"] = description.strip()
            if construction is not None:
                d.construction = changes["construction"] = construction
            audit.record(s, actor=actor, action="dossier.update", object_type="dossier", object_id=d.id,
                         origin=origin, agency_id=d.agency_id, details=changes)
            return dossier_dict(s, d)

    def find(self, actor: Actor, ref: str) -> int:
        """The id of a dossier named by its id or its FileCode (NotFound, as for any dossier the
        actor may not see)."""
        with self.db.read() as s:
            q = select(Dossier).where(Dossier.id == int(ref)) if ref.isdigit() else \
                select(Dossier).where(Dossier.file_code == ref)
            found = s.execute(q).scalars().first()
            if found is None or not may_see_dossier(actor, found):
                raise NotFound(f"no dossier {ref!r}")
            return found.id

    def get(self, actor: Actor, dossier_id: int) -> dict[str, Any]:
        """The dossier and the documents in it the caller may read (chronological order)."""
        with self.db.read() as s:
            d = load_dossier(s, actor, dossier_id)
            q = select(Document, DossierDocument).join(DossierDocument, DossierDocument.document_id == Document.id) \
                .where(DossierDocument.dossier_id == d.id)
            if not is_system(actor):
                q = readable_filter(q, actor)
            rows = list(s.execute(q).all())
            rows.sort(key=lambda r: (r[1].ordinal is None, r[1].ordinal or 0, document_date(r[0]) or date.max,
                                     r[0].id))
            out = dossier_dict(s, d)
            out["documents"] = [_filed_dict(doc, link, self.hide_top_secret_subject) for doc, link in rows]
            return out

    def list(self, actor: Actor, *, year: int | None = None, status: list[str] | None = None,
             q: str | None = None, owner_id: int | None = None, offset: int = 0, limit: int = 50
             ) -> tuple[list[dict[str, Any]], int]:
        query = select(Dossier).where(Dossier.agency_id == actor.agency_id,
                                      Dossier.secrecy <= int(actor.clearance))
        if year:
            query = query.where(Dossier.year == year)
        if status:
            query = query.where(Dossier.status.in_(status))
        if owner_id:
            query = query.where(Dossier.owner_id == owner_id)
        if q:
            like = f"%{q.strip()}%"
            query = query.where(or_(Dossier.title.ilike(like), Dossier.file_code.ilike(like)))
        with self.db.read() as s:
            rows = s.execute(query.order_by(Dossier.year.desc(), Dossier.notation).offset(offset).limit(limit)
                             ).scalars().all()
            total = total_of(s, query, rows, offset=offset, limit=limit)
            return dossier_dicts(s, rows), total

    def of_document(self, actor: Actor, document_id: int) -> builtins.list[dict[str, Any]]:
        """The dossiers holding a document the caller may read (those the caller may see)."""
        with self.db.read() as s:
            load_readable(s, actor, document_id)
            rows = s.execute(select(Dossier).join(DossierDocument, DossierDocument.dossier_id == Dossier.id)
                             .where(DossierDocument.document_id == document_id).order_by(Dossier.id)).scalars()
            return dossier_dicts(s, [d for d in rows if may_see_dossier(actor, d)])

    # ------------------------------------------------------------ lifecycle
    def open(self, actor: Actor, dossier_id: int, origin: RequestOrigin | None = None) -> dict[str, Any]:
        with self.db.write() as s:
            d = load_dossier(s, actor, dossier_id, for_update=True)
            require_manager(actor, d)
            check_dossier_transition(DossierStatus(d.status), DossierStatus.OPEN)
            if d.status != DossierStatus.PLANNED.value:
                raise InvalidState(Msg("archives.use_reopen_closed_dossier",
                                       "use reopen for a closed dossier"), {"status": d.status})
            d.status, d.opened_at = DossierStatus.OPEN.value, utcnow()
            audit.record(s, actor=actor, action="dossier.open", object_type="dossier", object_id=d.id,
                         origin=origin, agency_id=d.agency_id)
            return dossier_dict(s, d)

    def file(self, actor: Actor, dossier_id: int, document_id: int,
             origin: RequestOrigin | None = None) -> dict[str, Any]:
        """File a document the caller may read into an open dossier of the same agency. The same
        document may sit in several dossiers; nothing is copied."""
        with self.db.write() as s:
            d = load_dossier(s, actor, dossier_id, for_update=True)
            require_manager(actor, d)
            if d.status != DossierStatus.OPEN.value:
                raise InvalidState(Msg("archives.documents_filed_into_open_dossiers_only",
                                       "documents are filed into open dossiers only"), {"status": d.status})
            doc = load_readable(s, actor, document_id)
            if doc.agency_id != d.agency_id:
                raise InvalidInput(Msg("archives.file_documents_your_own_agency_received",
                                       "file documents of your own agency (a received copy is your agency's)"),
                                   {"field": "document_id"})
            if s.get(DossierDocument, (d.id, doc.id)) is not None:
                raise Conflict(f"document {doc.id} is in this dossier already", {"document_id": doc.id})
            s.add(DossierDocument(dossier_id=d.id, document_id=doc.id, filed_by=actor.user_id))
            if doc.secrecy > d.secrecy:  # a dossier is as secret as its most secret document
                d.secrecy, d.rights = doc.secrecy, Rights.RESTRICTED.value
                for other in filed_documents(s, d.id):  # who may know of the dossier changed: re-index them
                    if other.id != doc.id:
                        refresh_readers(s, other)
            refresh_readers(s, doc)  # new dossier fields in the index
            audit.record(s, actor=actor, action="dossier.file", object_type="dossier", object_id=d.id,
                         origin=origin, agency_id=d.agency_id, details={"document_id": doc.id})
            return {"dossier_id": d.id, "document_id": doc.id, "filed_at": to_vn_iso(utcnow())}

    def unfile(self, actor: Actor, dossier_id: int, document_id: int,
               origin: RequestOrigin | None = None) -> None:
        with self.db.write() as s:
            d = load_dossier(s, actor, dossier_id, for_update=True)
            require_manager(actor, d)
            if d.status != DossierStatus.OPEN.value:
                raise InvalidState(Msg("archives.documents_removed_from_open_dossiers_only",
                                       "documents are removed from open dossiers only"), {"status": d.status})
            link = s.get(DossierDocument, (d.id, document_id))
            if link is None:
                raise NotFound(f"document {document_id} is not in this dossier")
            doc = load_readable(s, actor, document_id)
            s.delete(link)
            s.flush()
            refresh_readers(s, doc)
            audit.record(s, actor=actor, action="dossier.unfile", object_type="dossier", object_id=d.id,
                         origin=origin, agency_id=d.agency_id, details={"document_id": document_id})

    def close(self, actor: Actor, dossier_id: int, *, work_ended_on: date | None = None,
              settlement_date: date | None = None, origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Close when the work ends: retention set, no drafts, no duplicates. Fixes the documents'
        order (DocOrdinal), dates and counts, and the transfer due date; the archive may now read it."""
        today = vn_today()
        ended = work_ended_on or today
        if ended > today:
            raise InvalidInput(Msg("archives.work_cannot_end_future",
                                   "the work cannot end in the future"), {"field": "work_ended_on"})
        if settlement_date and settlement_date > today:
            raise InvalidInput(Msg("archives.settlement_date_cannot_future",
                                   "the settlement date cannot be in the future"), {"field": "settlement_date"})
        with self.db.write() as s:
            d = load_dossier(s, actor, dossier_id, for_update=True)
            require_manager(actor, d)
            check_dossier_transition(DossierStatus(d.status), DossierStatus.CLOSED)
            docs = filed_documents(s, d.id)
            facts = [_facts(doc) for doc in docs]
            problems = closing_problems(facts, d.retention_id is not None)
            if problems:
                raise InvalidState(f"the dossier cannot be closed: {problems[0]['message']}"
                                   + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                                   {"problems": problems})
            if settlement_date:
                d.settlement_date = settlement_date
            seal_dossier(s, d, ended, docs)
            audit.record(s, actor=actor, action="dossier.close", object_type="dossier", object_id=d.id,
                         origin=origin, agency_id=d.agency_id,
                         details={"doc_total": d.doc_total, "page_total": d.page_total,
                                  "work_ended_on": ended.isoformat(), "transfer_due_on":
                                  d.transfer_due_on.isoformat() if d.transfer_due_on else None})
            return dossier_dict(s, d)

    def reopen(self, actor: Actor, dossier_id: int, *, reason: str,
               origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Reopen a closed dossier that has not been transferred (documents to add or remove)."""
        reason = required_text(reason, "reason", 2000)
        with self.db.write() as s:
            d = load_dossier(s, actor, dossier_id, for_update=True)
            require_manager(actor, d)
            if d.status != DossierStatus.CLOSED.value:
                raise InvalidState(Msg("archives.only_closed_dossier_that_was_not",
                                       "only a closed dossier that was not transferred is reopened"),
                                   {"status": d.status})
            check_dossier_transition(DossierStatus.CLOSED, DossierStatus.OPEN)
            d.status, d.closed_at, d.transfer_due_on = DossierStatus.OPEN.value, None, None
            s.flush()
            for doc in filed_documents(s, d.id):
                refresh_readers(s, doc)
            audit.record(s, actor=actor, action="dossier.reopen", object_type="dossier", object_id=d.id,
                         origin=origin, agency_id=d.agency_id, details={"reason": reason})
            return dossier_dict(s, d)

    def set_settlement(self, actor: Actor, dossier_id: int, settlement_date: date,
                       origin: RequestOrigin | None = None) -> dict[str, Any]:
        """A construction dossier's final settlement: the transfer falls due 3 months later."""
        if settlement_date > vn_today():
            raise InvalidInput(Msg("archives.settlement_date_cannot_future",
                                   "the settlement date cannot be in the future"), {"field": "settlement_date"})
        with self.db.write() as s:
            d = load_dossier(s, actor, dossier_id, for_update=True)
            require_manager(actor, d)
            if not d.construction:
                raise InvalidState(Msg("archives.only_construction_dossiers_have_final_settlement",
                                       "only construction dossiers have a final settlement"))
            if d.status in (DossierStatus.ARCHIVED.value, DossierStatus.DESTROYED.value):
                raise InvalidState(Msg("archives.dossier_was_transferred_already",
                                       "the dossier was transferred already"), {"status": d.status})
            d.settlement_date = settlement_date
            self._set_due(s, d)
            audit.record(s, actor=actor, action="dossier.settlement", object_type="dossier", object_id=d.id,
                         origin=origin, agency_id=d.agency_id, details={"settlement_date": settlement_date.isoformat()})
            return dossier_dict(s, d)

    def extend_retention(self, actor: Actor, dossier_id: int, *, retention_code: str, reason: str,
                         origin: RequestOrigin | None = None) -> dict[str, Any]:
        """Give a dossier a longer retention (never a shorter one); archived records get the longer
        storage lock at once."""
        require(actor, *HOLD_KEEPERS, message=Msg("archives.archive_head_extend_retention",
                                                  "the archive or the head extend a retention"))
        reason = required_text(reason, "reason", 2000)
        with self.db.write() as s:
            d = load_dossier(s, actor, dossier_id, for_update=True)
            if d.status == DossierStatus.DESTROYED.value:
                raise InvalidState(Msg("archives.dossier_was_destroyed", "the dossier was destroyed"))
            entry = current_entry(s, retention_code)
            old = retention_of(s, d)
            new = Retention(entry.years)
            if old is not None and not new.longer_than(old):
                raise InvalidInput(f"retention can only be extended: {new.label_vi} is not longer than "
                                   f"{old.label_vi}", {"field": "retention_code"})
            with archive_write(s, "retention extension"):
                d.retention_id = entry.id
                if d.status == DossierStatus.CLOSED.value:
                    self._set_due(s, d)
                s.flush()
            archived = d.status == DossierStatus.ARCHIVED.value
            doc_ids = [doc.id for doc in filed_documents(s, d.id)]
            if archived:
                mark_documents(s, doc_ids)
            for doc in filed_documents(s, d.id):
                refresh_readers(s, doc)  # the indexed retention changes
            audit.record(s, actor=actor, action="dossier.extend_retention", object_type="dossier", object_id=d.id,
                         origin=origin, agency_id=d.agency_id,
                         details={"from": old.key if old else None, "to": new.key, "code": entry.code,
                                  "version": entry.version, "reason": reason})
            out = dossier_dict(s, d)
        if archived:
            out["locks"] = self.locks.sync().to_dict()
        return out

    # ------------------------------------------------------------ internals
    @staticmethod
    def _set_due(s: Session, d: Dossier) -> None:
        retention = retention_of(s, d)
        d.transfer_due_on = transfer_due_on(work_ended_on=d.work_ended_on, construction=d.construction,
                                            settlement_date=d.settlement_date) \
            if retention is not None and must_transfer(retention) else None


def closing_problems_of(s: Session, d: Dossier) -> list[dict[str, Any]]:
    """What would stop ``d`` from being closed by its manager (no retention, drafts, duplicates)."""
    return closing_problems([_facts(doc) for doc in filed_documents(s, d.id)], d.retention_id is not None)


def seal_dossier(s: Session, d: Dossier, ended: date, docs: list[Document] | None = None) -> None:
    """Close ``d`` as of ``ended`` (the caller checked the transition and audits): the documents' order
    (DocOrdinal), the dates and counts, the transfer due date; the agency's archive may now read them.
    Used by the manager's close and by a reorganisation closing the open dossiers of an agency that ceased."""
    docs = filed_documents(s, d.id) if docs is None else docs
    facts = [_facts(doc) for doc in docs]
    for ordinal, f in enumerate(chronological(facts), start=1):
        must_get(s, DossierDocument, (d.id, f.document_id)).ordinal = ordinal
    dates = [f.sort_date for f in facts if f.sort_date]
    d.start_date, d.end_date = (min(dates), max(dates)) if dates else (None, None)
    d.doc_total, d.page_total = len(facts), sum(f.page_amount or 0 for f in facts)
    d.work_ended_on = ended
    DossierService._set_due(s, d)
    d.status, d.closed_at = DossierStatus.CLOSED.value, utcnow()
    s.flush()
    for doc in docs:
        refresh_readers(s, doc)  # the agency's archivists may now read them (within clearance)


def _facts(doc: Document) -> FiledDocument:
    content = content_file(doc)
    return FiledDocument(document_id=doc.id, status=doc.status, dup_key=doc.dup_key,
                         content_sha256=content.sha256 if content else None, sort_date=document_date(doc),
                         page_amount=doc.page_amount)


def _filed_dict(doc: Document, link: DossierDocument, hide_top_secret: bool) -> dict[str, Any]:
    return {"id": doc.id, "ordinal": link.ordinal, "direction": doc.direction, "status": doc.status,
            "number_notation": number_notation(doc.code_number, doc.code_notation) or None,
            "subject": listed_subject(doc.subject, doc.secrecy, hide_top_secret),
            "date": (document_date(doc) or date.min).isoformat(),
            "secrecy": Secrecy(doc.secrecy).key, "page_amount": doc.page_amount,
            "filed_at": to_vn_iso(link.filed_at)}


def _plan_dict(plan: DossierPlan, dossiers: list[dict[str, Any]] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": plan.id, "agency_id": plan.agency_id, "year": plan.year, "title": plan.title,
                           "created_at": to_vn_iso(plan.created_at)}
    if dossiers is not None:
        out["dossiers"] = dossiers
    return out


def _check_owner(s: Session, agency_id: int, owner_id: int | None) -> int | None:
    if owner_id is None:
        return None
    user = s.get(User, owner_id)
    if user is None or not user.is_active or user.agency_id != agency_id:
        raise InvalidInput(f"user {owner_id} is not a member of this agency", {"field": "owner_id"})
    return user.id


def _check_unit(s: Session, agency_id: int, unit_id: int | None) -> int | None:
    if unit_id is None:
        return None
    unit = s.get(Organisation, unit_id)
    node, hops = unit, 0
    while node is not None and node.kind == "unit" and hops < 20:
        node, hops = (s.get(Organisation, node.parent_id) if node.parent_id else None), hops + 1
    if unit is None or unit.kind != "unit" or node is None or node.id != agency_id:
        raise InvalidInput(f"unit {unit_id} is not a unit of this agency", {"field": "unit_id"})
    return unit.id


def _secrecy(value: str | int) -> Secrecy:
    try:
        return Secrecy.parse(value)
    except (ValueError, KeyError):
        raise InvalidInput(f"invalid secrecy {value!r}", {"field": "secrecy"}) from None


def _rights(value: str | None, level: Secrecy) -> Rights:
    if value is None:
        return Rights.RESTRICTED if level else Rights.PUBLIC
    try:
        rights = Rights(value)
    except ValueError:
        raise InvalidInput(Msg("archives.rights_public_restricted",
                               "rights is public or restricted"), {"field": "rights"}) from None
    if level and rights is Rights.PUBLIC:
        raise InvalidInput(Msg("archives.dossier_secret_documents_cannot_public",
                               "a dossier of secret documents cannot be public"), {"field": "rights"})
    return rights

