"""Transfer of closed dossiers to the agency archive: due dates, alerts 30 days ahead, the handover
record, and from then on write-once storage (compliance retention until the retention ends)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import ArchiveTransfer, Dossier, User
from docsvc.db.rows import must_get
from docsvc.db.uow import Database
from docsvc.domain.archives import DossierStatus, check_dossier_transition, lock_until, must_transfer, transfer_alert_on
from docsvc.domain.documents import number_notation
from docsvc.domain.identity import Actor, RequestOrigin, Role
from docsvc.domain.policies import is_system
from docsvc.errors import InvalidInput, InvalidState, Msg, NotFound
from docsvc.services import audit
from docsvc.services.access import refresh_readers
from docsvc.services.archives.common import (
    PLAN_KEEPERS,
    dossier_dict,
    load_dossier,
    require,
    retention_of,
    users_with_role,
)
from docsvc.services.archives.dossiers import content_file, filed_documents
from docsvc.services.archives.guard import archive_write
from docsvc.services.archives.locks import ObjectLocks, mark_documents
from docsvc.services.notifications import notify
from docsvc.timeutil import to_vn, to_vn_iso, vn_today

MAX_DOSSIERS_PER_TRANSFER = 500
#: Who follows transfers and reads handover records (they list dossier titles and file digests).
TRANSFER_READERS = (Role.ARCHIVIST, *PLAN_KEEPERS, Role.LEADER)


class TransferService:
    def __init__(self, db: Database, locks: ObjectLocks) -> None:
        self.db = db
        self.locks = locks

    def due(self, actor: Actor, *, within_days: int = 30, today: date | None = None) -> list[dict[str, Any]]:
        """Closed dossiers waiting for transfer whose due date is within ``within_days`` (or past)."""
        require(actor, *TRANSFER_READERS, message=Msg("archives.archive_registry_leaders_follow_transfers",
                                                      "the archive, the registry and the leaders follow transfers"))
        today = today or vn_today()
        with self.db.read() as s:
            rows = s.execute(select(Dossier).where(
                Dossier.agency_id == actor.agency_id, Dossier.status == DossierStatus.CLOSED.value,
                Dossier.transfer_due_on.is_not(None), Dossier.secrecy <= int(actor.clearance))
                .order_by(Dossier.transfer_due_on, Dossier.id)).scalars()
            out = []
            for d in rows:
                if d.transfer_due_on is None:  # excluded by the query already
                    continue
                days_left = (d.transfer_due_on - today).days
                if days_left <= within_days:
                    out.append({**dossier_dict(s, d), "days_left": days_left, "overdue": days_left < 0})
            return out

    def alert(self, today: date | None = None) -> int:
        """Tell owners and archivists 30 days before a transfer falls due, and once when overdue
        (each notice once per dossier and due date). Returns how many notices went out."""
        today = today or vn_today()
        sent = 0
        with self.db.write() as s:
            rows = s.execute(select(Dossier).where(Dossier.status == DossierStatus.CLOSED.value,
                                                   Dossier.transfer_due_on.is_not(None))).scalars().all()
            for d in rows:
                due = d.transfer_due_on
                if due is None or today < transfer_alert_on(due):  # None: excluded by the query already
                    continue
                people = set(users_with_role(s, d.agency_id, Role.ARCHIVIST))
                if d.owner_id:
                    people.add(d.owner_id)
                people = {u for u in people if must_get(s, User, u).clearance >= d.secrecy}
                if today > due:
                    sent += notify(s, people, "archive.transfer_overdue",
                                   f"Quá hạn nộp lưu từ {due:%d/%m/%Y}: hồ sơ {d.file_code} — {d.title[:120]}",
                                   dedupe=f"transfer-overdue:{d.id}:{due}")
                else:
                    sent += notify(s, people, "archive.transfer_due",
                                   f"Hạn nộp lưu {due:%d/%m/%Y}: hồ sơ {d.file_code} — {d.title[:120]}",
                                   dedupe=f"transfer-due:{d.id}:{due}")
        return sent

    def transfer(self, actor: Actor, dossier_ids: list[int], *, delivered_by_id: int | None = None,
                 note: str = "", origin: RequestOrigin | None = None) -> dict[str, Any]:
        """The archive receives closed dossiers: a numbered handover record lists each dossier, its
        documents and their SHA-256; the records become write-once (compliance retention until the
        retention ends, applied to every stored object right after commit)."""
        require(actor, Role.ARCHIVIST, message=Msg("archives.agency_archive_archivist_receives_transfers",
                                                   "the agency archive (archivist) receives transfers"))
        ids = sorted(set(dossier_ids))
        if not ids or len(ids) > MAX_DOSSIERS_PER_TRANSFER:
            raise InvalidInput(f"transfer 1..{MAX_DOSSIERS_PER_TRANSFER} dossiers", {"field": "dossier_ids"})
        with self.db.write() as s:
            dossiers = [load_dossier(s, actor, i, for_update=True) for i in ids]
            agencies = {d.agency_id for d in dossiers}
            if len(agencies) != 1:
                raise InvalidInput(Msg("archives.one_transfer_covers_dossiers_one_agency",
                                       "one transfer covers dossiers of one agency"), {"field": "dossier_ids"})
            agency_id = agencies.pop()
            if delivered_by_id is not None:
                deliverer = s.get(User, delivered_by_id)
                if deliverer is None or deliverer.agency_id != agency_id:
                    raise InvalidInput(f"user {delivered_by_id} is not a member of this agency",
                                       {"field": "delivered_by_id"})
            entries = [self._entry(s, d) for d in dossiers]
            year = to_vn(utcnow()).year
            number = (s.execute(select(func.max(ArchiveTransfer.number)).where(
                ArchiveTransfer.agency_id == agency_id, ArchiveTransfer.year == year)).scalar() or 0) + 1
            record = {"dossiers": entries, "dossier_total": len(entries),
                      "doc_total": sum(e["doc_total"] for e in entries),
                      "page_total": sum(e["page_total"] for e in entries)}
            receiver = _first_archivist(s, agency_id) if is_system(actor) else actor.user_id
            transfer = ArchiveTransfer(agency_id=agency_id, year=year, number=number, received_by=receiver,
                                       delivered_by=delivered_by_id, note=note.strip(), record=record)
            s.add(transfer)
            s.flush()
            now = utcnow()
            doc_ids: list[int] = []
            for d in dossiers:
                with archive_write(s, "transfer"):
                    d.status, d.archived_at, d.transfer_id = DossierStatus.ARCHIVED.value, now, transfer.id
                    s.flush()
                docs = filed_documents(s, d.id)
                doc_ids += [doc.id for doc in docs]
                for doc in docs:
                    refresh_readers(s, doc)  # archive status in the index
            mark_documents(s, doc_ids)
            audit.record(s, actor=actor, action="archive.transfer", object_type="archive_transfer",
                         object_id=transfer.id, origin=origin, agency_id=agency_id,
                         details={"number": number, "year": year, "dossiers": [d.file_code for d in dossiers]})
            out = transfer_dict(s, transfer)
        out["locks"] = self.locks.sync().to_dict()
        return out

    def get(self, actor: Actor, transfer_id: int) -> dict[str, Any]:
        require(actor, *TRANSFER_READERS, message="the archive, the registry and the leaders read handover records")
        with self.db.read() as s:
            t = s.get(ArchiveTransfer, transfer_id)
            if t is None or t.agency_id != actor.agency_id or not _may_read_record(s, actor, t):
                raise NotFound(f"transfer {transfer_id} not found")
            return transfer_dict(s, t)

    def list(self, actor: Actor) -> list[dict[str, Any]]:
        require(actor, *TRANSFER_READERS, message="the archive, the registry and the leaders read handover records")
        with self.db.read() as s:
            rows = s.execute(select(ArchiveTransfer).where(ArchiveTransfer.agency_id == actor.agency_id)
                             .order_by(ArchiveTransfer.id.desc())).scalars()
            return [transfer_dict(s, t, summary=True) for t in rows if _may_read_record(s, actor, t)]

    @staticmethod
    def _entry(s: Session, d: Dossier) -> dict[str, Any]:
        check_dossier_transition(DossierStatus(d.status), DossierStatus.ARCHIVED)
        retention = retention_of(s, d)
        if retention is None or d.work_ended_on is None:
            raise InvalidState(f"dossier {d.file_code} has no retention or end of work", {"dossier_id": d.id})
        if not must_transfer(retention):
            raise InvalidState(f"dossier {d.file_code} is kept {retention.label_vi}: dossiers kept less than "
                               "5 years stay with the unit", {"dossier_id": d.id})
        documents = []
        for doc in filed_documents(s, d.id):
            content = content_file(doc)
            documents.append({"id": doc.id, "number_notation": number_notation(doc.code_number, doc.code_notation),
                              "content_sha256": content.sha256 if content else None,
                              "files": [{"role": f.role, "sha256": f.sha256, "size": f.size} for f in doc.files]})
        return {"dossier_id": d.id, "file_code": d.file_code, "title": d.title, "maintenance": retention.label_vi,
                "start_date": d.start_date.isoformat() if d.start_date else None,
                "end_date": d.end_date.isoformat() if d.end_date else None,
                "doc_total": d.doc_total or 0, "page_total": d.page_total or 0, "secrecy": d.secrecy,
                "locked_until": to_vn_iso(lock_until(retention, d.work_ended_on)), "documents": documents}


def transfer_dict(s: Session, t: ArchiveTransfer, *, summary: bool = False) -> dict[str, Any]:
    receiver = s.get(User, t.received_by)
    deliverer = s.get(User, t.delivered_by) if t.delivered_by else None
    out: dict[str, Any] = {
        "id": t.id, "agency_id": t.agency_id, "number": f"{t.number:02d}/BBGN-{t.year}", "year": t.year,
        "transferred_at": to_vn_iso(t.transferred_at),
        "received_by": {"id": receiver.id, "full_name": receiver.full_name} if receiver else None,
        "delivered_by": {"id": deliverer.id, "full_name": deliverer.full_name} if deliverer else None,
        "note": t.note, "dossier_total": t.record.get("dossier_total"), "doc_total": t.record.get("doc_total"),
        "page_total": t.record.get("page_total")}
    if not summary:
        out["dossiers"] = t.record.get("dossiers", [])
    return out


def _may_read_record(s: Session, actor: Actor, t: ArchiveTransfer) -> bool:
    """A handover record lists dossier titles: readable by those cleared for every dossier in it."""
    return all(int(actor.clearance) >= e.get("secrecy", 0) for e in t.record.get("dossiers", []))


def _first_archivist(s: Session, agency_id: int) -> int:
    ids = users_with_role(s, agency_id, Role.ARCHIVIST)
    if not ids:
        raise InvalidState(Msg("archives.agency_has_no_archivist_receive_transfer",
                               "the agency has no archivist to receive the transfer"))
    return ids[0]
