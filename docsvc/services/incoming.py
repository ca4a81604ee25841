"""Incoming handling: register → leader's instruction → (re-)assignment → progress → complete.

Also: return to the sender with a reason, and link the reply document. Every step is one
transaction with its audit event; the sender of an internally delivered document sees the edXML
status of its copy (01 arrived, 02 rejected, 03 accepted, 04 assigned, 05 processing, 06 completed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Assignment, Document, DocumentLink, Organisation, ProgressUpdate, Recipient, User
from docsvc.db.uow import Database
from docsvc.domain import policies
from docsvc.domain.documents import Direction, SeriesKey, Status, incoming_series
from docsvc.domain.identity import Actor, RequestOrigin, Role
from docsvc.errors import Conflict, InvalidInput, InvalidState, Msg, NotFound, PermissionDenied
from docsvc.services import audit, registers
from docsvc.services.access import load_readable, refresh_readers
from docsvc.services.calendar import CalendarService
from docsvc.services.documents import DocumentView, document_dict
from docsvc.services.notifications import SUBJECT, Delivery, notify_readers
from docsvc.timeutil import to_vn, vn_today


@dataclass
class Target:
    user_id: int | None = None
    unit_id: int | None = None


@dataclass
class AssignmentInput:
    lead: Target
    co: list[Target] = field(default_factory=list)
    info: list[Target] = field(default_factory=list)
    deadline_days: int | None = None  # working days from today
    deadline: date | None = None
    instruction: str = ""


class IncomingService:
    def __init__(self, db: Database, calendar: CalendarService, *,
                 on_status: Callable[[Session, Document, str, str | None], Any] | None = None) -> None:
        """(Notifications show a document's subject as lists do: ``NotificationService`` applies
        ``DOCSVC_HIDE_TOP_SECRET_SUBJECT`` when they are read.) ``on_status`` tells the exchange what the
        registry and handlers did (edXML status 02-06 to an outside sender)."""
        self.db = db
        # Called in the transaction of each step the sender is told about (02-06); wired in
        # bootstrap to the exchange service, which answers documents received from other systems.
        self.on_status = on_status
        self.calendar = calendar

    # ------------------------------------------------------------ registry
    def register(self, actor: Actor, doc_id: int, *, confirm_duplicate: bool = False,
                 origin: RequestOrigin | None = None) -> DocumentView:
        """Give the next incoming number (consecutive in order of receipt within the year)."""
        with self.db.write() as s:
            doc = self._incoming(s, actor, doc_id)
            policies.may_register(actor, doc).enforce()
            duplicates = _registered_duplicates(s, doc)
            if duplicates and not confirm_duplicate:
                raise Conflict("a document with the same number, notation and issuing body is already "
                               "registered; confirm to register it anyway",
                               {"reason": "possible_duplicate", "duplicates": duplicates})
            year = to_vn(utcnow()).year
            number = registers.allocate(s, SeriesKey(doc.agency_id, "incoming", incoming_series(doc.secrecy), year),
                                        doc.id, actor.user_id)
            doc.arrival_number, doc.register_year = number, year
            doc.register_series = incoming_series(doc.secrecy)
            doc.status = Status.REGISTERED.value
            self._report(s, doc, "03")
            refresh_readers(s, doc)
            notify_readers(s, doc, _users_with_role(s, doc.agency_id, Role.LEADER), "incoming.registered",
                           f"Văn bản đến số {number}: {SUBJECT} — chờ ý kiến chỉ đạo")
            audit.record(s, actor=actor, action="document.register", object_type="document", object_id=doc.id,
                         origin=origin, details={"arrival_number": number, "year": year,
                                                 "series": doc.register_series,
                                                 "duplicate_confirmed": bool(duplicates)})
            return self._view(s, doc)

    def return_to_sender(self, actor: Actor, doc_id: int, reason: str,
                         origin: RequestOrigin | None = None) -> DocumentView:
        if not reason.strip():
            raise InvalidInput(Msg("incoming.say_why_document_goes_back_sender",
                                   "say why the document goes back to its sender"), {"field": "reason"})
        with self.db.write() as s:
            doc = self._incoming(s, actor, doc_id)
            policies.may_return_to_sender(actor, doc).enforce()
            doc.status, doc.status_reason = Status.RETURNED.value, reason.strip()
            self._report(s, doc, "02", reason.strip())
            refresh_readers(s, doc)
            audit.record(s, actor=actor, action="document.return", object_type="document", object_id=doc.id,
                         origin=origin, details={"reason": reason.strip()})
            return self._view(s, doc)

    # ------------------------------------------------------------ instruction and assignment
    def assign(self, actor: Actor, doc_id: int, data: AssignmentInput,
               origin: RequestOrigin | None = None) -> DocumentView:
        """The leader's instruction: one lead handler, co-handlers, readers for information, a deadline."""
        with self.db.write() as s:
            doc = self._incoming(s, actor, doc_id)
            policies.may_assign(actor, doc).enforce()
            deadline = self._deadline(s, doc.agency_id, data.deadline_days, data.deadline)
            targets = [("lead", data.lead)] + [("co", t) for t in data.co] + [("info", t) for t in data.info]
            seen: set[tuple[int | None, int | None]] = set()
            for _, t in targets:
                self._check_target(s, doc, t)
                key = (t.user_id, t.unit_id)
                if key in seen:
                    raise InvalidInput(Msg("incoming.same_person_unit_named_twice",
                                           "the same person or unit is named twice"), {"field": "assignments"})
                seen.add(key)
            for old in s.execute(select(Assignment).where(Assignment.document_id == doc.id,
                                                          Assignment.status == "open")).scalars():
                old.status = "cancelled"  # a new instruction replaces the previous one
            created = []
            for role, t in targets:
                a = Assignment(document_id=doc.id, user_id=t.user_id, unit_id=t.unit_id, role=role,
                               deadline=deadline if role != "info" else None, instruction=data.instruction.strip(),
                               assigned_by=actor.user_id)
                s.add(a)
                created.append(a)
            doc.status, doc.due_date = Status.ASSIGNED.value, deadline or doc.due_date
            s.flush()
            self._report(s, doc, "04")
            refresh_readers(s, doc)
            warnings = []
            for a in created:
                told = notify_handlers(s, doc, a, f"assignment.{a.role}", f"{_ROLE_VI[a.role]}: {SUBJECT}"
                                       + (f" — hạn {a.deadline.strftime('%d/%m/%Y')}" if a.deadline else ""))
                if not told.told:
                    warnings.append(self._nobody_told(s, doc, a, actor))
            audit.record(s, actor=actor, action="document.assign", object_type="document", object_id=doc.id,
                         origin=origin, details={
                             "deadline": deadline.isoformat() if deadline else None,
                             "assignments": [{"role": a.role, "user_id": a.user_id, "unit_id": a.unit_id}
                                             for a in created], "instruction": data.instruction.strip(),
                             "not_notified": [w["unit_id"] for w in warnings]})
            view = self._view(s, doc)
            view.warnings.extend(warnings)
            return view

    def reassign(self, actor: Actor, assignment_id: int, *, user_id: int, deadline_days: int | None = None,
                 deadline: date | None = None, instruction: str = "",
                 origin: RequestOrigin | None = None) -> DocumentView:
        """A unit head passes a unit's (or their own) assignment to an officer of the unit."""
        with self.db.write() as s:
            parent = s.get(Assignment, assignment_id)
            if parent is None:
                raise NotFound(f"assignment {assignment_id} not found")
            doc = self._incoming(s, actor, parent.document_id)
            if not actor.has(Role.UNIT_HEAD):
                raise PermissionDenied(Msg("incoming.only_unit_head_re_assigns_work",
                                           "only a unit head re-assigns work"))
            mine = parent.user_id == actor.user_id or (parent.unit_id is not None and parent.unit_id in actor.unit_ids)
            if not mine:
                raise PermissionDenied(Msg("incoming.you_can_only_re_assign_work",
                                           "you can only re-assign work given to you or to your unit"))
            if parent.status != "open":
                raise InvalidState(f"this assignment is {parent.status}")
            officer = s.get(User, user_id)
            if officer is None or not officer.is_active or not ({u.unit_id for u in officer.units} & actor.unit_ids):
                raise InvalidInput(Msg("incoming.re_assign_active_officer_your_unit",
                                       "re-assign to an active officer of your unit"), {"field": "user_id"})
            if officer.clearance < doc.secrecy:
                raise InvalidInput(f"{officer.full_name} is not cleared for this document", {"field": "user_id"})
            personal = self._deadline(s, doc.agency_id, deadline_days, deadline) or parent.deadline
            if personal and parent.deadline and personal > parent.deadline:
                raise InvalidInput("the personal deadline cannot be later than the unit's deadline "
                                   f"({parent.deadline.strftime('%d/%m/%Y')})", {"field": "deadline"})
            child = Assignment(document_id=doc.id, user_id=officer.id, role=parent.role, deadline=personal,
                               instruction=instruction.strip() or parent.instruction, assigned_by=actor.user_id,
                               parent_id=parent.id)
            parent.status = "reassigned"
            s.add(child)
            s.flush()
            refresh_readers(s, doc)
            notify_readers(s, doc, [officer.id], f"assignment.{child.role}",
                           f"{_ROLE_VI[child.role]} (giao lại): {SUBJECT}")
            audit.record(s, actor=actor, action="document.reassign", object_type="document", object_id=doc.id,
                         origin=origin, details={"from_assignment": parent.id, "to_user": officer.id,
                                                 "deadline": personal.isoformat() if personal else None})
            return self._view(s, doc)

    # ------------------------------------------------------------ handling
    def add_progress(self, actor: Actor, doc_id: int, text: str, percent: int | None = None,
                     origin: RequestOrigin | None = None) -> DocumentView:
        if not text.strip():
            raise InvalidInput(Msg("incoming.write_what_was_done", "write what was done"), {"field": "text"})
        if percent is not None and not 0 <= percent <= 100:
            raise InvalidInput("percent is 0..100", {"field": "percent"})
        with self.db.write() as s:
            doc = self._incoming(s, actor, doc_id)
            mine = self._open_assignment(s, doc, actor)
            policies.may_report_progress(actor, doc, handler=mine is not None).enforce()
            assert mine is not None  # the policy refused otherwise
            if Status(doc.status) is not Status.IN_PROGRESS:
                doc.status = Status.IN_PROGRESS.value
                self._report(s, doc, "05")
            s.add(ProgressUpdate(document_id=doc.id, assignment_id=mine.id, user_id=actor.user_id,
                                 text=text.strip(), percent=percent))
            refresh_readers(s, doc)
            audit.record(s, actor=actor, action="document.progress", object_type="document", object_id=doc.id,
                         origin=origin, details={"percent": percent})
            return self._view(s, doc)

    def link_reply(self, actor: Actor, doc_id: int, reply_id: int,
                   origin: RequestOrigin | None = None) -> DocumentView:
        with self.db.write() as s:
            doc = self._incoming(s, actor, doc_id)
            reply = load_readable(s, actor, reply_id)
            if reply.direction == Direction.INCOMING.value or reply.agency_id != doc.agency_id:
                raise InvalidInput("the reply must be an outgoing document of the same agency",
                                   {"field": "reply_document_id"})
            if self._open_assignment(s, doc, actor) is None and not actor.has(Role.LEADER, Role.CLERK):
                raise PermissionDenied("only a handler links the reply")
            exists = s.execute(select(DocumentLink.id).where(DocumentLink.document_id == doc.id,
                                                             DocumentLink.linked_document_id == reply.id)).first()
            if not exists:
                s.add(DocumentLink(document_id=doc.id, linked_document_id=reply.id, kind="reply",
                                   created_by=actor.user_id))
            audit.record(s, actor=actor, action="document.link_reply", object_type="document", object_id=doc.id,
                         origin=origin, details={"reply_document_id": reply.id})
            return self._view(s, doc)

    def complete(self, actor: Actor, doc_id: int, note: str = "",
                 origin: RequestOrigin | None = None) -> DocumentView:
        """The lead handler (or a leader) closes the handling."""
        with self.db.write() as s:
            doc = self._incoming(s, actor, doc_id)
            mine = self._open_assignment(s, doc, actor)
            policies.may_complete(actor, doc, lead_handler=mine is not None and mine.role == "lead").enforce()
            now = utcnow()
            for a in s.execute(select(Assignment).where(Assignment.document_id == doc.id,
                                                        Assignment.status.in_(["open", "reassigned"]))).scalars():
                a.status, a.completed_at = "done", now
                if a.id == (mine.id if mine else None):
                    a.completion_note = note.strip() or None
            doc.status, doc.completed_at = Status.COMPLETED.value, now
            self._report(s, doc, "06")
            refresh_readers(s, doc)
            audit.record(s, actor=actor, action="document.complete", object_type="document", object_id=doc.id,
                         origin=origin, details={"note": note.strip()})
            return self._view(s, doc)

    def handling(self, actor: Actor, doc_id: int) -> dict[str, Any]:
        """Assignments, progress and links of a document (the processing trace)."""
        with self.db.read() as s:
            doc = load_readable(s, actor, doc_id)
            today = vn_today()
            assignments = list(s.execute(select(Assignment).where(Assignment.document_id == doc.id)
                                         .order_by(Assignment.id)).scalars())
            progress = list(s.execute(select(ProgressUpdate).where(ProgressUpdate.document_id == doc.id)
                                      .order_by(ProgressUpdate.id)).scalars())
            users = _user_names(s, {a.user_id for a in assignments} | {a.assigned_by for a in assignments}
                                | {p.user_id for p in progress})
            units = _unit_names(s, {a.unit_id for a in assignments})
            return {
                "assignments": [{
                    "id": a.id, "role": a.role, "user": users.get(a.user_id), "unit": units.get(a.unit_id),
                    "user_id": a.user_id, "unit_id": a.unit_id,
                    "deadline": a.deadline.isoformat() if a.deadline else None, "status": a.status,
                    "overdue": bool(a.deadline and a.status == "open" and a.deadline < today),
                    "instruction": a.instruction, "assigned_by": users.get(a.assigned_by),
                    "parent_id": a.parent_id, "assigned_at": to_vn(a.assigned_at).isoformat(timespec="seconds")}
                    for a in assignments],
                "progress": [{"user": users.get(p.user_id), "text": p.text, "percent": p.percent,
                              "at": to_vn(p.created_at).isoformat(timespec="seconds")} for p in progress],
                "replies": [link.linked_document_id for link in s.execute(
                    select(DocumentLink).where(DocumentLink.document_id == doc.id)).scalars()],
            }

    # ------------------------------------------------------------ helpers
    def _report(self, s: Session, doc: Document, code: str, note: str | None = None) -> None:
        _report_to_sender(s, doc, code, note)
        if self.on_status is not None:
            self.on_status(s, doc, code, note)

    def _incoming(self, s: Session, actor: Actor, doc_id: int) -> Document:
        doc = load_readable(s, actor, doc_id, for_update=True)
        if doc.direction != Direction.INCOMING.value:
            raise InvalidState("this action applies to incoming documents only")
        return doc

    def _open_assignment(self, s: Session, doc: Document, actor: Actor) -> Assignment | None:
        return open_assignment(s, doc, actor)

    def _deadline(self, s: Session, agency_id: int, days: int | None, explicit: date | None) -> date | None:
        """A deadline in working days counts the working days of the document's agency."""
        if days is not None and explicit is not None:
            raise InvalidInput(Msg("incoming.give_deadline_either_working_days_date",
                                   "give the deadline either in working days or as a date"), {"field": "deadline"})
        today = vn_today()
        if days is not None:
            if not 1 <= days <= 365:
                raise InvalidInput("deadline_days is 1..365 working days", {"field": "deadline_days"})
            return self.calendar.calendar(s, agency_id).add_working_days(today, days)
        if explicit is not None and explicit < today:
            raise InvalidInput(Msg("incoming.deadline_past", "the deadline is in the past"), {"field": "deadline"})
        return explicit

    def _check_target(self, s: Session, doc: Document, t: Target) -> None:
        if (t.user_id is None) == (t.unit_id is None):
            raise InvalidInput("each assignee is exactly one of user_id or unit_id", {"field": "assignments"})
        if t.user_id is not None:
            user = s.get(User, t.user_id)
            if user is None or not user.is_active or user.agency_id != doc.agency_id:
                raise InvalidInput(f"user {t.user_id} is not an active member of this agency",
                                   {"field": "assignments"})
            if user.clearance < doc.secrecy:
                raise InvalidInput(f"{user.full_name} is not cleared for this document", {"field": "assignments"})
        else:
            unit = s.get(Organisation, t.unit_id)
            if unit is None or unit.kind != "unit" or unit.parent_id != doc.agency_id:
                raise InvalidInput(f"unit {t.unit_id} is not a unit of this agency", {"field": "assignments"})

    @staticmethod
    def _nobody_told(s: Session, doc: Document, a: Assignment, actor: Actor) -> dict[str, Any]:
        """A unit with no member who may read the document was given work: tell the leader at once
        (a notification and a warning in the answer), without naming the document to the unit."""
        unit = s.get(Organisation, a.unit_id) if a.unit_id else None
        name = unit.name if unit else f"unit {a.unit_id}"
        notify_readers(s, doc, [actor.user_id], "assignment.undelivered",
                       f"Không ai trong {name} được phép đọc văn bản — chưa báo được việc: {SUBJECT}")
        return {"code": "unit_not_notified", "unit_id": a.unit_id,
                "message": f"nobody in {name} may read this document (clearance): the unit was not notified; "
                           "assign it to a cleared person or have a member cleared"}

    def _view(self, s: Session, doc: Document) -> DocumentView:
        return DocumentView(document_dict(s, doc, hide_subject=False, detail=True))


def open_assignments(s: Session, doc: Document) -> list[Assignment]:
    """The open assignments of ``doc``, oldest first."""
    return list(s.execute(select(Assignment).where(Assignment.document_id == doc.id, Assignment.status == "open")
                          .order_by(Assignment.id)).scalars())


def open_assignment(s: Session, doc: Document, actor: Actor,
                    rows: list[Assignment] | None = None) -> Assignment | None:
    """The actor's open assignment on ``doc`` (the most responsible one), or None. ``rows``: the
    document's open assignments when the caller has them already."""
    rows = open_assignments(s, doc) if rows is None else rows
    mine = [a for a in rows if a.user_id == actor.user_id
            or (a.user_id is None and a.unit_id in actor.unit_ids and actor.has(Role.UNIT_HEAD))]
    return min(mine, key=lambda a: ("lead", "co", "info").index(a.role)) if mine else None


_ROLE_VI = {"lead": "Chủ trì xử lý", "co": "Phối hợp xử lý", "info": "Để biết"}


def _registered_duplicates(s: Session, doc: Document) -> list[dict[str, Any]]:
    from docsvc.services.duplicates import registered_with_key
    return registered_with_key(s, doc.agency_id, doc.dup_key, exclude_id=doc.id)


def _report_to_sender(s: Session, doc: Document, code: str, note: str | None = None) -> None:
    """Update the sender's view of an internally delivered copy (edXML status codes)."""
    for r in s.execute(select(Recipient).where(Recipient.incoming_document_id == doc.id)).scalars():
        r.status_code, r.note = code, note or r.note


def _users_with_role(s: Session, agency_id: int, role: Role, *, min_clearance: int = 0) -> list[int]:
    from docsvc.db.models import UserRole
    return list(s.execute(select(User.id).join(UserRole, UserRole.user_id == User.id).where(
        User.agency_id == agency_id, UserRole.role == role.value, User.is_active.is_(True),
        User.clearance >= min_clearance)).scalars())


def _people_of(s: Session, a: Assignment) -> list[int]:
    """Who to tell about an assignment: the user, or the heads of the unit."""
    if a.user_id:
        return [a.user_id]
    from docsvc.db.models import UserRole, UserUnit
    return list(s.execute(select(User.id).join(UserUnit, UserUnit.user_id == User.id)
                          .join(UserRole, UserRole.user_id == User.id)
                          .where(UserUnit.unit_id == a.unit_id, UserRole.role == Role.UNIT_HEAD.value,
                                 User.is_active.is_(True))).scalars())


def _members_of(s: Session, unit_id: int) -> list[int]:
    from docsvc.db.models import UserUnit
    return list(s.execute(select(User.id).join(UserUnit, UserUnit.user_id == User.id)
                          .where(UserUnit.unit_id == unit_id, User.is_active.is_(True))).scalars())


def notify_handlers(s: Session, doc: Document, a: Assignment, kind: str, message: str, *,
                    dedupe: str | None = None) -> Delivery:
    """Tell the handlers of an assignment who may read ``doc``: the user, or the unit's heads; when no
    head of a unit may read it, the unit's cleared members instead (the unit must still act).
    ``told`` is empty when nobody could be told."""
    delivery = notify_readers(s, doc, _people_of(s, a), kind, message, dedupe=dedupe)
    if delivery.told or a.unit_id is None:
        return delivery
    fallback = notify_readers(s, doc, _members_of(s, a.unit_id), kind, message, dedupe=dedupe)
    return Delivery(fallback.sent, fallback.told, delivery.dropped + fallback.dropped)


def _user_names(s: Session, ids: set[int | None]) -> dict[int | None, str]:
    wanted = sorted(i for i in ids if i)
    return dict(s.execute(select(User.id, User.full_name).where(User.id.in_(wanted))).all()) if wanted else {}


def _unit_names(s: Session, ids: set[int | None]) -> dict[int | None, str]:
    wanted = sorted(i for i in ids if i)
    return dict(s.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))).all()) \
        if wanted else {}
