"""Deadline reminders and overdue escalation (run daily by Celery beat, or the embedded scheduler).

- one working day before a lead/co-handler's deadline (or on the day itself): a reminder to the
  people handling it;
- once the deadline has passed: an overdue notice to them and an escalation to the heads of
  their unit, or to the leader who assigned it when there is no unit head above them.
Each notice goes out once per assignment and deadline (notifications are de-duplicated), so the
sweep can run as often as wanted and after an outage without repeating itself. Every notice names
the document, so it reaches only people who may read it (``notify_readers``): a unit head not
cleared for it is skipped (the escalation then goes to the leader who assigned it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.models import Assignment, Document, User, UserRole, UserUnit
from docsvc.db.uow import Database
from docsvc.domain.documents import Status
from docsvc.domain.identity import Role
from docsvc.services.calendar import CalendarService
from docsvc.services.incoming import notify_handlers
from docsvc.services.notifications import SUBJECT, notify_readers
from docsvc.timeutil import vn_today

_HANDLING = (Status.ASSIGNED.value, Status.IN_PROGRESS.value)


@dataclass
class SweepReport:
    reminders: int = 0
    overdue: int = 0
    escalations: int = 0


class DeadlineService:
    def __init__(self, db: Database, calendar: CalendarService) -> None:
        self.db = db
        self.calendar = calendar

    def sweep(self, today: date | None = None) -> SweepReport:
        today = today or vn_today()
        report = SweepReport()
        with self.db.write() as s:
            pending = (select(Assignment, Document).join(Document, Document.id == Assignment.document_id)
                       .where(Assignment.status == "open", Assignment.role.in_(["lead", "co"]),
                              Assignment.deadline.is_not(None), Document.status.in_(_HANDLING)))
            agencies = s.execute(pending.with_only_columns(Document.agency_id).distinct()).scalars().all()
            rows: list[Any] = []  # (Assignment, Document) rows
            for agency_id in sorted(agencies):  # each agency counts its own working days
                soon = self.calendar.calendar(s, agency_id).add_working_days(today, 1)  # remind the working day before
                rows += s.execute(pending.where(Document.agency_id == agency_id, Assignment.deadline <= soon)).all()
            for a, doc in rows:
                if a.deadline >= today:
                    report.reminders += notify_handlers(
                        s, doc, a, "deadline.reminder", f"Sắp đến hạn {a.deadline:%d/%m/%Y}: {SUBJECT}",
                        dedupe=f"remind:{a.id}:{a.deadline}").sent
                    continue
                told = notify_handlers(s, doc, a, "deadline.overdue", f"Quá hạn từ {a.deadline:%d/%m/%Y}: {SUBJECT}",
                                       dedupe=f"overdue:{a.id}:{a.deadline}")
                report.overdue += told.sent
                handlers = list(told.told) or ([a.user_id] if a.user_id else [])
                message = f"Văn bản quá hạn xử lý ({a.deadline:%d/%m/%Y}): {SUBJECT}"
                dedupe = f"escalate:{a.id}:{a.deadline}"
                escalated = notify_readers(s, doc, _supervisors(s, a, handlers), "deadline.escalated", message,
                                           dedupe=dedupe)
                if not escalated.told:  # no supervisor may read it: the leader who assigned it
                    escalated = notify_readers(s, doc, [a.assigned_by], "deadline.escalated", message, dedupe=dedupe)
                report.escalations += escalated.sent
        return report


def _supervisors(s: Session, a: Assignment, handlers: list[int]) -> list[int]:
    """The heads of the handlers' units (not the handlers themselves), else who assigned it."""
    units = [a.unit_id] if a.unit_id else list(s.execute(
        select(UserUnit.unit_id).where(UserUnit.user_id.in_(handlers))).scalars())
    heads = set(s.execute(select(User.id).join(UserUnit, UserUnit.user_id == User.id)
                          .join(UserRole, UserRole.user_id == User.id)
                          .where(UserUnit.unit_id.in_(units), UserRole.role == Role.UNIT_HEAD.value,
                                 User.is_active.is_(True))).scalars()) - set(handlers)
    return sorted(heads) or [a.assigned_by]
