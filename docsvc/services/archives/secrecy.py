"""Declassification: protection periods per secrecy level counted from the classification date, a
review list ahead of expiry, decisions to extend or to declassify, and automatic declassification
when a period ends without an extension (Law on Protection of State Secrets).

A declassified document becomes an ordinary one: its readers and index entry are recomputed (its
content becomes searchable, downloads are no longer watermarked), and its dossiers' secrecy follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from docsvc.db.models import Document, Dossier, DossierDocument, SecrecyDecision, User
from docsvc.db.uow import Database
from docsvc.domain.archives import REVIEW_DAYS_AHEAD, add_years, check_extension_years, protection_ends_on
from docsvc.domain.identity import Actor, RequestOrigin, Role, Secrecy, listed_subject
from docsvc.domain.policies import SYSTEM, is_system
from docsvc.errors import InvalidInput, InvalidState, Msg, NotFound
from docsvc.services import audit
from docsvc.services.access import load_readable, readable_filter, refresh_readers
from docsvc.services.archives.common import require, required_text, users_with_role
from docsvc.services.archives.guard import archive_write
from docsvc.services.notifications import SUBJECT, notify_readers
from docsvc.timeutil import to_vn, to_vn_iso, vn_today

TEXT_MAX = 2000


@dataclass(frozen=True)
class Protection:
    level: Secrecy
    classified_on: date
    ends_on: date
    extensions: int

    def days_left(self, today: date) -> int:
        return (self.ends_on - today).days


def classified_on(doc: Document) -> date:
    """The classification date: recorded, else the document's date, else its creation date."""
    return doc.classified_on or doc.issued_date or to_vn(doc.created_at).date()


def protection(s: Session, doc: Document) -> Protection:
    """When the protection of a classified document ends, extensions included."""
    start = classified_on(doc)
    decisions = s.execute(select(SecrecyDecision).where(SecrecyDecision.document_id == doc.id,
                                                        SecrecyDecision.action == "extend")
                          .order_by(SecrecyDecision.id)).scalars().all()
    ends = decisions[-1].protected_until_after if decisions else protection_ends_on(start, doc.secrecy)
    return Protection(Secrecy(doc.secrecy), start, ends, len(decisions))  # type: ignore[arg-type]


class SecrecyService:
    def __init__(self, db: Database, *, hide_top_secret_subject: bool) -> None:
        self.db = db
        self.hide_top_secret_subject = hide_top_secret_subject

    def review_list(self, actor: Actor, *, within_days: int = REVIEW_DAYS_AHEAD,
                    today: date | None = None) -> list[dict[str, Any]]:
        """Classified documents the caller may read whose protection ends within ``within_days``
        (or has ended), soonest first."""
        require(actor, Role.LEADER, Role.ARCHIVIST, message=Msg("archives.head_archive_review_protection_periods",
                                                                "the head and the archive review protection periods"))
        if not 0 <= within_days <= 3660:
            raise InvalidInput(Msg("archives.within_days_0_3660", "within_days is 0..3660"), {"field": "within_days"})
        today = today or vn_today()
        with self.db.read() as s:
            docs = s.execute(readable_filter(select(Document).where(
                Document.agency_id == actor.agency_id, Document.secrecy > 0), actor)).scalars().all()
            out = []
            for doc in docs:
                p = protection(s, doc)
                if p.days_left(today) <= within_days:
                    out.append(self._entry(s, doc, p, today))
            return sorted(out, key=lambda e: (e["protected_until"], e["document_id"]))

    def get(self, actor: Actor, document_id: int, today: date | None = None) -> dict[str, Any]:
        today = today or vn_today()
        with self.db.read() as s:
            doc = load_readable(s, actor, document_id)
            out: dict[str, Any] = {"document_id": doc.id, "secrecy": Secrecy(doc.secrecy).key,
                                   "decisions": _decisions(s, doc.id)}
            if doc.secrecy:
                out.update(self._entry(s, doc, protection(s, doc), today))
            return out

    def extend(self, actor: Actor, document_id: int, *, years: int, reason: str, decision_ref: str,
               origin: RequestOrigin | None = None, today: date | None = None) -> dict[str, Any]:
        """The head extends the protection by at most one period of the level (decided at least
        60 days before the end; a later extension is accepted and marked late)."""
        require(actor, Role.LEADER, message=Msg("archives.head_agency_extends_protection_periods",
                                                "the head of the agency extends protection periods"))
        reason = required_text(reason, "reason", TEXT_MAX)
        decision_ref = required_text(decision_ref, "decision_ref", 100)
        today = today or vn_today()
        with self.db.write() as s:
            doc = self._load(s, actor, document_id)
            p = protection(s, doc)
            years = check_extension_years(years, doc.secrecy)
            if p.ends_on <= today:
                raise InvalidState(f"the protection ended on {p.ends_on:%d/%m/%Y}: the document is declassified "
                                   "(classify it anew with a new decision)", {"protected_until": p.ends_on.isoformat()})
            late = p.days_left(today) < REVIEW_DAYS_AHEAD
            until = add_years(p.ends_on, years)
            s.add(SecrecyDecision(document_id=doc.id, action="extend", from_level=doc.secrecy, to_level=doc.secrecy,
                                  protected_until_before=p.ends_on, protected_until_after=until, reason=reason,
                                  decision_ref=decision_ref, decided_by=None if is_system(actor) else actor.user_id))
            audit.record(s, actor=actor, action="secrecy.extend", object_type="document", object_id=doc.id,
                         origin=origin, agency_id=doc.agency_id,
                         details={"from": p.ends_on.isoformat(), "to": until.isoformat(), "years": years,
                                  "decision_ref": decision_ref, "late": late})
            s.flush()
            out = self._entry(s, doc, protection(s, doc), today)
            out["late"] = late
            return out

    def declassify(self, actor: Actor, document_id: int, *, reason: str, decision_ref: str,
                   origin: RequestOrigin | None = None, today: date | None = None) -> dict[str, Any]:
        """The head declassifies a document before (or at) the end of its protection."""
        require(actor, Role.LEADER, message=Msg("archives.head_agency_declassifies_documents",
                                                "the head of the agency declassifies documents"))
        reason = required_text(reason, "reason", TEXT_MAX)
        decision_ref = required_text(decision_ref, "decision_ref", 100)
        today = today or vn_today()
        with self.db.write() as s:
            doc = self._load(s, actor, document_id)
            p = protection(s, doc)
            self._declassify(s, doc, p, action="declassify", reason=reason, decision_ref=decision_ref,
                             actor=actor, origin=origin)
            return {"document_id": doc.id, "secrecy": Secrecy.NONE.key, "decisions": _decisions(s, doc.id)}

    def sweep(self, today: date | None = None) -> dict[str, int]:
        """The daily task: declassify what reached the end of its protection without an extension,
        and tell the agency's cleared leaders about documents entering the review window."""
        today = today or vn_today()
        declassified = notices = 0
        with self.db.write() as s:
            for doc in s.execute(select(Document).where(Document.secrecy > 0).order_by(Document.id)).scalars().all():
                p = protection(s, doc)
                if p.ends_on <= today:
                    self._declassify(s, doc, p, action="auto_declassify",
                                     reason=f"hết thời hạn bảo vệ bí mật nhà nước ngày {p.ends_on:%d/%m/%Y}",
                                     decision_ref="", actor=SYSTEM, origin=None)
                    declassified += 1
                elif p.days_left(today) <= REVIEW_DAYS_AHEAD:
                    notices += notify_readers(s, doc, users_with_role(s, doc.agency_id, Role.LEADER),
                                              "secrecy.review",
                                              f"Văn bản {Secrecy(doc.secrecy).label_vi} hết thời hạn bảo vệ ngày "
                                              f"{p.ends_on:%d/%m/%Y}: xem xét gia hạn hoặc giải mật — {SUBJECT}",
                                              dedupe=f"secrecy-review:{doc.id}:{p.ends_on}").sent
        return {"declassified": declassified, "notices": notices}

    # ------------------------------------------------------------ internals
    @staticmethod
    def _load(s: Session, actor: Actor, document_id: int) -> Document:
        doc = s.get(Document, document_id) if is_system(actor) else \
            load_readable(s, actor, document_id, for_update=True)
        if doc is None or (not is_system(actor) and doc.agency_id != actor.agency_id):
            raise NotFound(f"document {document_id} not found")
        if not doc.secrecy:
            raise InvalidState(Msg("archives.document_not_classified", "the document is not classified"))
        return doc

    @staticmethod
    def _declassify(s: Session, doc: Document, p: Protection, *, action: str, reason: str, decision_ref: str,
                    actor: Actor, origin: RequestOrigin | None) -> None:
        level = doc.secrecy
        s.add(SecrecyDecision(document_id=doc.id, action=action, from_level=level, to_level=0,
                              protected_until_before=p.ends_on, protected_until_after=None, reason=reason,
                              decision_ref=decision_ref, decided_by=None if is_system(actor) else actor.user_id))
        with archive_write(s, "declassification"):
            doc.secrecy = 0
            s.flush()
            for dossier in s.execute(select(Dossier).join(DossierDocument, DossierDocument.dossier_id == Dossier.id)
                                     .where(DossierDocument.document_id == doc.id)).scalars().all():
                highest = s.execute(select(func.max(Document.secrecy)).join(
                    DossierDocument, DossierDocument.document_id == Document.id).where(
                    DossierDocument.dossier_id == dossier.id)).scalar() or 0
                dossier.secrecy = highest  # the dossier's rights stay as decided (restricted until changed)
            refresh_readers(s, doc)  # readers, index entry (content now indexed), watermark no longer applied
        audit.record(s, actor=actor, action=f"secrecy.{action}", object_type="document", object_id=doc.id,
                     origin=origin, agency_id=doc.agency_id,
                     details={"from_level": Secrecy(level).key, "protected_until": p.ends_on.isoformat(),
                              "decision_ref": decision_ref, "reason": reason})

    def _entry(self, s: Session, doc: Document, p: Protection, today: date) -> dict[str, Any]:
        subject = listed_subject(doc.subject, doc.secrecy, self.hide_top_secret_subject)
        return {"document_id": doc.id, "subject": subject,
                "secrecy": p.level.key, "secrecy_label": p.level.label_vi,
                "classified_on": p.classified_on.isoformat(), "protected_until": p.ends_on.isoformat(),
                "days_left": p.days_left(today), "extensions": p.extensions,
                "decide_by": (p.ends_on - timedelta(days=REVIEW_DAYS_AHEAD)).isoformat()}


def _decisions(s: Session, document_id: int) -> list[dict[str, Any]]:
    rows = s.execute(select(SecrecyDecision).where(SecrecyDecision.document_id == document_id)
                     .order_by(SecrecyDecision.id)).scalars()
    out = []
    for d in rows:
        user = s.get(User, d.decided_by) if d.decided_by else None
        out.append({"id": d.id, "action": d.action, "from_level": Secrecy(d.from_level).key,
                    "to_level": Secrecy(d.to_level).key, "protected_until_before": d.protected_until_before.isoformat(),
                    "protected_until_after": d.protected_until_after.isoformat() if d.protected_until_after else None,
                    "reason": d.reason, "decision_ref": d.decision_ref,
                    "decided_by": user.full_name if user else "system", "decided_at": to_vn_iso(d.decided_at)})
    return out

