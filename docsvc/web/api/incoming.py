"""Incoming handling, the 'my work' inbox, notifications, the calendar and document types."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator

from docsvc.domain.identity import Actor
from docsvc.services.incoming import AssignmentInput, Target
from docsvc.web.api import api
from docsvc.web.api.common import PageQuery, StrictModel, page_of
from docsvc.web.api.documents import DocumentOut
from docsvc.web.api.spec import endpoint
from docsvc.web.context import container, origin


class RegisterIn(StrictModel):
    confirm_duplicate: bool = Field(False, description="register although a duplicate is already registered")


class ReasonIn(StrictModel):
    reason: str = Field(min_length=1, max_length=2000)


class TargetIn(StrictModel):
    user_id: int | None = Field(None, ge=1)
    unit_id: int | None = Field(None, ge=1)


class AssignIn(StrictModel):
    lead: TargetIn = Field(description="the lead handler (chủ trì): a user or a unit")
    co: list[TargetIn] = Field([], max_length=50, description="co-handlers (phối hợp)")
    info: list[TargetIn] = Field([], max_length=100, description="for information (để biết)")
    deadline_days: int | None = Field(None, ge=1, le=365, description="deadline in working days from today")
    deadline: date | None = None
    instruction: str = Field("", max_length=4000, description="the leader's instruction (ý kiến chỉ đạo)")


class ReassignIn(StrictModel):
    user_id: int = Field(ge=1)
    deadline_days: int | None = Field(None, ge=1, le=365)
    deadline: date | None = None
    instruction: str = Field("", max_length=4000)


class ProgressIn(StrictModel):
    text: str = Field(min_length=1, max_length=4000)
    percent: int | None = Field(None, ge=0, le=100)


class LinkIn(StrictModel):
    reply_document_id: int = Field(ge=1)


class CompleteIn(StrictModel):
    note: str = Field("", max_length=4000)


class NotificationQuery(PageQuery):
    unread: bool = False


class MarkReadIn(StrictModel):
    ids: list[int] | None = Field(None, description="omit to mark everything read")


class CalendarQuery(StrictModel):
    year: int = Field(ge=2000, le=2100)
    agency_id: int | None = Field(None, ge=1, description="whose calendar (default: your agency's)")
    national: bool = Field(False, description="the deployment-wide days only")


class CalendarDayIn(StrictModel):
    day: date
    workday: bool
    name: str = Field(min_length=1, max_length=200)
    agency_id: int | None = Field(None, ge=1, description="the agency whose calendar changes (default: yours)")
    national: bool = Field(False, description="a day of the whole deployment (its administrator only)")

    @field_validator("day")
    @classmethod
    def _in_calendar(cls, day: date) -> date:
        if not 2000 <= day.year <= 2100:  # the years the working-day calendar (and its lunar holidays) covers
            raise ValueError("the working-day calendar covers the years 2000 to 2100")
        return day


def _target(t: TargetIn) -> Target:
    return Target(user_id=t.user_id, unit_id=t.unit_id)


@endpoint(api, "/documents/<int:doc_id>/register", method="POST", tag="incoming", body=RegisterIn,
          summary="Register a received document with the next incoming number (clerk)", response=DocumentOut,
          errors={409: "Possible duplicate (confirm to register anyway) or wrong state"})
def register_document(actor: Actor, doc_id: int, body: RegisterIn) -> dict:
    return container().incoming.register(actor, doc_id, confirm_duplicate=body.confirm_duplicate,
                                         origin=origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/return", method="POST", tag="incoming", body=ReasonIn,
          summary="Return a received document to its sender with a reason (clerk)", response=DocumentOut)
def return_document(actor: Actor, doc_id: int, body: ReasonIn) -> dict:
    return container().incoming.return_to_sender(actor, doc_id, body.reason, origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/assignments", method="POST", tag="incoming", body=AssignIn,
          summary="Leader's instruction: lead handler, co-handlers, for-information, deadline",
          response=DocumentOut, status=201)
def assign_document(actor: Actor, doc_id: int, body: AssignIn) -> dict:
    data = AssignmentInput(lead=_target(body.lead), co=[_target(t) for t in body.co],
                           info=[_target(t) for t in body.info], deadline_days=body.deadline_days,
                           deadline=body.deadline, instruction=body.instruction)
    return container().incoming.assign(actor, doc_id, data, origin()).to_dict()


@endpoint(api, "/assignments/<int:assignment_id>/reassign", method="POST", tag="incoming", body=ReassignIn,
          summary="A unit head passes an assignment to an officer with a personal deadline",
          response=DocumentOut, status=201)
def reassign(actor: Actor, assignment_id: int, body: ReassignIn) -> dict:
    return container().incoming.reassign(actor, assignment_id, user_id=body.user_id,
                                         deadline_days=body.deadline_days, deadline=body.deadline,
                                         instruction=body.instruction, origin=origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/handling", tag="incoming",
          summary="Assignments, progress and replies of a document")
def handling(actor: Actor, doc_id: int) -> dict:
    return container().incoming.handling(actor, doc_id)


@endpoint(api, "/documents/<int:doc_id>/progress", method="POST", tag="incoming", body=ProgressIn,
          summary="Report progress on a document you handle", response=DocumentOut, status=201)
def progress(actor: Actor, doc_id: int, body: ProgressIn) -> dict:
    return container().incoming.add_progress(actor, doc_id, body.text, body.percent, origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/replies", method="POST", tag="incoming", body=LinkIn,
          summary="Link the reply document", response=DocumentOut, status=201)
def link_reply(actor: Actor, doc_id: int, body: LinkIn) -> dict:
    return container().incoming.link_reply(actor, doc_id, body.reply_document_id, origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/complete", method="POST", tag="incoming", body=CompleteIn,
          summary="Complete the handling (lead handler or leader)", response=DocumentOut)
def complete(actor: Actor, doc_id: int, body: CompleteIn) -> dict:
    return container().incoming.complete(actor, doc_id, body.note, origin()).to_dict()


@endpoint(api, "/inbox", tag="work", summary="My work: what waits for me, urgent first", query=PageQuery)
def inbox(actor: Actor, query: PageQuery) -> dict:
    return page_of(container().inbox.inbox(actor), query)


@endpoint(api, "/notifications", tag="work", summary="My notifications", query=NotificationQuery)
def notifications(actor: Actor, query: NotificationQuery) -> dict:
    items, total = container().notifications.list(actor, query.unread, query.offset, query.per_page)
    return page_of(items, query, total)


@endpoint(api, "/notifications/read", method="POST", tag="work", body=MarkReadIn,
          summary="Mark notifications read")
def mark_read(actor: Actor, body: MarkReadIn) -> dict:
    return {"marked": container().notifications.mark_read(actor, body.ids)}


def _calendar_of(actor: Actor, agency_id: int | None, national: bool) -> int | None:
    return None if national else (agency_id or actor.agency_id)


@endpoint(api, "/calendar", tag="admin", query=CalendarQuery,
          summary="Holidays and compensating working days of a year, of an agency (default: yours)",
          errors={404: "No such agency"})
def calendar_year(actor: Actor, query: CalendarQuery) -> dict:
    return {"items": container().calendar.year(query.year, _calendar_of(actor, query.agency_id, query.national))}


@endpoint(api, "/calendar", method="PUT", tag="admin", body=CalendarDayIn,
          summary="Mark a day of an agency's calendar (its admin) or of the deployment's (the deployment admin) "
                  "as a holiday or a (compensating) working day", errors={404: "No such agency"})
def calendar_set(actor: Actor, body: CalendarDayIn) -> dict:
    container().calendar.set_day(actor, body.day, workday=body.workday, name=body.name, agency_id=body.agency_id,
                                 national=body.national, origin=origin())
    return {"items": container().calendar.year(body.day.year, _calendar_of(actor, body.agency_id, body.national))}


@endpoint(api, "/document-types", tag="documents", summary="Document types and their abbreviations")
def document_types() -> dict:
    return {"items": container().document_types()}
