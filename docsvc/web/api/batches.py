"""Batch actions: receive many files, register them after review, assign, sign and issue many."""

from __future__ import annotations

from datetime import date
from typing import BinaryIO, Literal, cast

from flask import request
from pydantic import Field, model_validator

from docsvc.domain.identity import Actor
from docsvc.services.documents import Upload
from docsvc.services.incoming import AssignmentInput
from docsvc.services.intake.service import ReviewedRow
from docsvc.services.outgoing import RecipientInput
from docsvc.web.api import api
from docsvc.web.api.common import StrictModel
from docsvc.web.api.incoming import AssignIn, _target
from docsvc.web.api.spec import endpoint
from docsvc.web.context import container


class ReviewedRowIn(StrictModel):
    item_id: int = Field(ge=1, description="the row (item) of the intake batch")
    type: str = Field(min_length=1, max_length=100, description="type code (QĐ, TB, ...) or cong_van")
    subject: str = Field(min_length=1, max_length=500)
    number_notation: str | None = Field(None, max_length=42)
    issuing_body: str = Field("", max_length=200)
    issued_date: date | None = None
    urgency: Literal["normal", "khan", "thuong_khan", "hoa_toc"] = "normal"
    secrecy: Literal["none", "mat", "toi_mat", "tuyet_mat"] = "none"
    signer_name: str | None = Field(None, max_length=200)
    signer_position: str | None = Field(None, max_length=200)
    received_via: Literal["electronic", "paper"] = "electronic"
    confirm_duplicate: bool = False


class RegisterManyIn(StrictModel):
    rows: list[ReviewedRowIn] = Field(min_length=1, max_length=500)


class AssignRowIn(AssignIn):
    document_id: int = Field(ge=1)


class AssignManyIn(StrictModel):
    document_ids: list[int] = Field([], max_length=500, description="with ``assignment``: one instruction for all")
    assignment: AssignIn | None = None
    rows: list[AssignRowIn] = Field([], max_length=500, description="or one instruction per document")

    @model_validator(mode="after")
    def _one_form(self) -> AssignManyIn:
        if bool(self.rows) == bool(self.document_ids):
            raise ValueError("give either document_ids with one assignment, or rows")
        if self.document_ids and self.assignment is None:
            raise ValueError("give the assignment shared by document_ids")
        return self


class SignManyIn(StrictModel):
    document_ids: list[int] = Field(min_length=1, max_length=500)
    pin: str = Field(min_length=1, max_length=200)


class RecipientIn(StrictModel):
    agency_id: int | None = Field(None, ge=1)
    unit_id: int | None = Field(None, ge=1)
    name: str | None = Field(None, max_length=200)
    organ_id: str | None = Field(None, max_length=13)


class IssueManyIn(StrictModel):
    document_ids: list[int] = Field(min_length=1, max_length=500, description="numbers follow this order")
    recipients: list[RecipientIn] = Field(min_length=1, max_length=200, description="for every document")


def _assignment(a: AssignIn) -> AssignmentInput:
    return AssignmentInput(lead=_target(a.lead), co=[_target(t) for t in a.co], info=[_target(t) for t in a.info],
                           deadline_days=a.deadline_days, deadline=a.deadline, instruction=a.instruction)


@endpoint(api, "/batches/intake", method="POST", tag="batches", status=202,
          summary="Receive many files at once (clerk): metadata is read from each in the background",
          files={"files": "PDFs or scans (repeatable), or ZIP files of them"},
          errors={400: "No file, too many files, or an unreadable ZIP"})
def batch_intake(actor: Actor) -> dict:
    """Answers at once with the batch; follow it with ``GET /batches/{id}``: each row gets the fields
    read from the document, the low-confidence ones, duplicates and problems. A file that fails the
    upload checks is a failed row with its reason."""
    # werkzeug types the stream IO[bytes]; it is the binary file object Upload takes
    uploads = [Upload(f.filename or "file", cast(BinaryIO, f.stream)) for f in request.files.getlist("files") if f]
    return container().intake.receive_many(actor, uploads)


@endpoint(api, "/batches/<int:batch_id>", tag="batches", summary="Progress and per-item results of a batch",
          errors={404: "No such batch"})
def batch_get(actor: Actor, batch_id: int) -> dict:
    return container().batches.get(actor, batch_id)


@endpoint(api, "/batches/<int:batch_id>/register", method="POST", tag="batches", body=RegisterManyIn, status=202,
          summary="Register the reviewed rows of an intake batch (clerk), in the background",
          errors={409: "The files are still being read"})
def batch_register(actor: Actor, batch_id: int, body: RegisterManyIn) -> dict:
    rows = [ReviewedRow(**r.model_dump()) for r in body.rows]
    return container().intake.register_many(actor, batch_id, rows)


@endpoint(api, "/batches/assign", method="POST", tag="batches", body=AssignManyIn, status=202,
          summary="Assign many incoming documents (leader): one instruction for all, or one per row")
def batch_assign(actor: Actor, body: AssignManyIn) -> dict:
    if body.rows:
        rows = [(r.document_id, _assignment(r)) for r in body.rows]
    else:
        shared = _assignment(body.assignment)  # type: ignore[arg-type]
        rows = [(doc_id, shared) for doc_id in body.document_ids]
    return container().batch_actions.assign_many(actor, rows)


@endpoint(api, "/batches/sign", method="POST", tag="batches", body=SignManyIn, status=202,
          summary="Sign many documents with the PIN entered once (signer)",
          errors={403: "Wrong PIN (checked before the batch starts)"})
def batch_sign(actor: Actor, body: SignManyIn) -> dict:
    return container().batch_actions.sign_many(actor, body.document_ids, pin=body.pin)


@endpoint(api, "/batches/issue", method="POST", tag="batches", body=IssueManyIn, status=202,
          summary="Issue many documents (registry): numbers in the order given, per-document results")
def batch_issue(actor: Actor, body: IssueManyIn) -> dict:
    recipients = [RecipientInput(**r.model_dump()) for r in body.recipients]
    return container().batch_actions.issue_many(actor, [(d, recipients) for d in body.document_ids])
