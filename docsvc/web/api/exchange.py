"""Exchange with other systems (edXML): the agency directory, a document's exchange, recall answers."""

from __future__ import annotations

from datetime import date
from typing import Literal

from flask import request
from pydantic import Field

from docsvc.domain.identity import Actor
from docsvc.errors import InvalidInput
from docsvc.web.api import api
from docsvc.web.api.common import StrictModel
from docsvc.web.api.spec import endpoint
from docsvc.web.context import container, origin

MAX_CSV_BYTES = 8 * 1024 * 1024


class DirectoryQuery(StrictModel):
    q: str = Field("", max_length=200, description="part of a name or an OrganId")


class AgencyIn(StrictModel):
    organ_id: str = Field(min_length=13, max_length=13, description="13-character agency code, e.g. 000.00.00.G22")
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(None, max_length=254)
    transport: Literal["broker", "folder", "email"] | None = None
    active: bool = True


class RecallAnswerIn(StrictModel):
    accept: bool
    reason: str = Field("", max_length=4000, description="required when refusing")


@endpoint(api, "/exchange/agencies", tag="exchange", query=DirectoryQuery,
          summary="Recipient picker: agencies on this system and outside agencies (OrganId)")
def directory(actor: Actor, query: DirectoryQuery) -> dict:
    return {"items": container().exchange.directory(actor, query.q)}


@endpoint(api, "/exchange/agencies", method="POST", tag="exchange", body=AgencyIn, status=201,
          summary="Add or change an outside agency of the directory (admin, registry)")
def save_agency(actor: Actor, body: AgencyIn) -> dict:
    return container().exchange.save_agency(actor, **body.model_dump(), origin=origin())


@endpoint(api, "/exchange/agencies/import", method="POST", tag="exchange", files={"file": "CSV"},
          summary="Import the directory from CSV (organ_id,name[,email][,transport][,active]); all rows or none")
def import_agencies(actor: Actor) -> dict:
    upload = request.files.get("file")
    data = upload.read(MAX_CSV_BYTES + 1) if upload is not None else request.get_data(cache=False)[:MAX_CSV_BYTES + 1]
    if not data:
        raise InvalidInput("send the CSV as the file field or as the body", {"field": "file"})
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput("the CSV is larger than 8 MB", {"field": "file"})
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV must be UTF-8", {"field": "file"}) from None
    report = container().exchange.import_csv(actor, text, origin=origin())
    return {"created": report.created, "updated": report.updated}


@endpoint(api, "/exchange/rejected", tag="exchange",
          summary="Messages addressed to your agency that were rejected (reason; kept in quarantine)")
def rejected(actor: Actor) -> dict:
    return {"items": container().exchange.rejected(actor)}


@endpoint(api, "/documents/<int:doc_id>/exchange", tag="exchange",
          summary="A document's edXML messages: sent (queued/sent/failed, attempts, reason) and received")
def document_exchange(actor: Actor, doc_id: int) -> dict:
    return container().exchange.document_exchange(actor, doc_id)


@endpoint(api, "/documents/<int:doc_id>/recall-answer", method="POST", tag="exchange", body=RecallAnswerIn,
          summary="Answer a sender's recall of a document received by exchange: accept (15) or refuse (16)")
def recall_answer(actor: Actor, doc_id: int, body: RecallAnswerIn) -> dict:
    return container().exchange.answer_recall(actor, doc_id, accept=body.accept, reason=body.reason,
                                              origin=origin())


class UpdateOutsideIn(StrictModel):
    reason: str = Field(min_length=1, max_length=2000, description="what the update corrects (BussinessDocReason)")
    subject: str | None = Field(None, min_length=1, max_length=500, description="the corrected subject (trích yếu)")
    due_date: date | None = Field(None, description="the corrected due date (null clears it)")
    signer_name: str | None = Field(None, max_length=200)
    signer_position: str | None = Field(None, max_length=200)
    page_amount: int | None = Field(None, ge=1, le=100000)


class ReplaceOutsideIn(StrictModel):
    replacement_id: int = Field(ge=1, description="an issued document of your agency that replaces this one")
    reason: str = Field(min_length=1, max_length=2000, description="why it is replaced (BussinessDocReason)")


@endpoint(api, "/documents/<int:doc_id>/exchange-update", method="POST", tag="exchange", body=UpdateOutsideIn,
          summary="Correct an issued document's metadata (subject, due date, signer, pages) and send the update "
                  "(edXML business type 2) to every outside recipient that has it (issuing registry)")
def exchange_update(actor: Actor, doc_id: int, body: UpdateOutsideIn) -> dict:
    changes = body.model_dump(exclude_unset=True)
    reason = changes.pop("reason")
    return container().exchange.send_update(actor, doc_id, reason=reason, changes=changes, origin=origin())


@endpoint(api, "/documents/<int:doc_id>/exchange-replace", method="POST", tag="exchange", body=ReplaceOutsideIn,
          summary="Send another issued document to this document's outside recipients as its replacement (edXML "
                  "business type 3, naming the replaced DocumentId); each becomes a recipient of the replacement")
def exchange_replace(actor: Actor, doc_id: int, body: ReplaceOutsideIn) -> dict:
    return container().exchange.send_replacement(actor, doc_id, replacement_id=body.replacement_id,
                                                 reason=body.reason, origin=origin())


# ---------------------------------------------------------------- notification e-mails
class MailModeIn(StrictModel):
    mode: Literal["off", "immediate", "digest"] = Field(description="off, each notification, or one digest a day")


@endpoint(api, "/me/notification-email", tag="notifications",
          summary="Your notification e-mails: off, immediate or a daily digest (to your e-mail address)")
def notification_email(actor: Actor) -> dict:
    return container().mail_notifications.preference(actor)


@endpoint(api, "/me/notification-email", method="PUT", tag="notifications", body=MailModeIn,
          summary="Turn your notification e-mails off or on (immediate, or a daily digest)")
def set_notification_email(actor: Actor, body: MailModeIn) -> dict:
    return container().mail_notifications.set_mode(actor, body.mode)
