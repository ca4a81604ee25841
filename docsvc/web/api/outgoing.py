"""Outgoing documents: approval chains (submit, approve, reject, return), templates, delegations."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from flask import Response
from pydantic import Field

from docsvc.domain.identity import Actor
from docsvc.web.api import api
from docsvc.web.api.common import StrictModel
from docsvc.web.api.documents import DocumentOut
from docsvc.web.api.spec import endpoint
from docsvc.web.context import container, origin


class SubmitIn(StrictModel):
    template_id: int | None = Field(None, ge=1, description="default: the agency's chain for this type")
    signer_id: int | None = Field(None, ge=1, description="who signs, among the chain's signers")


class ApproveIn(StrictModel):
    comment: str = Field("", max_length=4000)


class ReasonIn(StrictModel):
    reason: str = Field(min_length=1, max_length=4000)


class Approver(StrictModel):
    user_id: int | None = Field(None, ge=1)
    role: Literal["unit_head", "leader", "clerk", "officer"] | None = None
    unit: Literal["drafting"] | None = None


class StepIn(StrictModel):
    kind: Literal["review", "approve", "sign", "issue"]
    mode: Literal["all", "any"] = "all"
    title: str | None = Field(None, max_length=200)
    approvers: list[Approver] = []


class TemplateIn(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    type_code: str | None = Field(None, max_length=10, description="document type, or omit for every type")
    steps: list[StepIn] = Field(min_length=2, max_length=20)


class DelegationIn(StrictModel):
    delegate_id: int = Field(ge=1)
    form: Literal["KT", "TL", "TUQ", "Q", "TM"]
    valid_from: date
    valid_until: date
    authorisation_ref: str = Field("", max_length=200, description="the written authorisation (required for TUQ)")
    type_codes: list[str] | None = Field(None, description="document types covered; omit for all")
    parent_id: int | None = Field(None, ge=1)


def _steps(body: TemplateIn) -> list[dict[str, Any]]:
    return [{**step.model_dump(exclude={"approvers"}, exclude_none=True),
             "approvers": [a.model_dump(exclude_none=True) for a in step.approvers]} for step in body.steps]


@endpoint(api, "/documents/<int:doc_id>/submit", method="POST", tag="outgoing", body=SubmitIn,
          summary="Submit a draft: starts its approval chain", response=DocumentOut)
def submit(actor: Actor, doc_id: int, body: SubmitIn) -> dict:
    return container().approval.submit(actor, doc_id, template_id=body.template_id, signer_id=body.signer_id,
                                       origin=origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/approve", method="POST", tag="outgoing", body=ApproveIn,
          summary="Approve the current step (bound to the content's SHA-256)", response=DocumentOut)
def approve(actor: Actor, doc_id: int, body: ApproveIn) -> dict:
    return container().approval.decide(actor, doc_id, "approved", body.comment, origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/reject", method="POST", tag="outgoing", body=ReasonIn,
          summary="Reject (reason required): the chain stops, the draft goes back", response=DocumentOut)
def reject(actor: Actor, doc_id: int, body: ReasonIn) -> dict:
    return container().approval.decide(actor, doc_id, "rejected", body.reason, origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/return-for-revision", method="POST", tag="outgoing", body=ReasonIn,
          summary="Return for revision (reason required)", response=DocumentOut)
def return_for_revision(actor: Actor, doc_id: int, body: ReasonIn) -> dict:
    return container().approval.decide(actor, doc_id, "returned", body.reason, origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/chain", tag="outgoing", summary="The document's approval chains")
def chain(actor: Actor, doc_id: int) -> dict:
    return container().approval.chain(actor, doc_id)


@endpoint(api, "/chain-templates", tag="outgoing", summary="Approval chain templates of your agency")
def templates(actor: Actor) -> dict:
    return {"items": container().approval.list_templates(actor)}


@endpoint(api, "/chain-templates", method="POST", tag="outgoing", body=TemplateIn, status=201,
          summary="Create a chain template (admin)")
def create_template(actor: Actor, body: TemplateIn) -> dict:
    return container().approval.save_template(actor, agency_id=actor.agency_id, name=body.name, steps=_steps(body),
                                              type_code=body.type_code, origin=origin())


@endpoint(api, "/chain-templates/<int:template_id>", method="PUT", tag="outgoing", body=TemplateIn,
          summary="Change a chain template (admin); running chains keep their steps")
def update_template(actor: Actor, template_id: int, body: TemplateIn) -> dict:
    return container().approval.save_template(actor, agency_id=actor.agency_id, name=body.name, steps=_steps(body),
                                              type_code=body.type_code, template_id=template_id, origin=origin())


@endpoint(api, "/delegations", tag="outgoing", summary="Delegations you gave or received")
def delegations(actor: Actor) -> dict:
    return {"items": container().approval.delegations(actor)}


@endpoint(api, "/delegations", method="POST", tag="outgoing", body=DelegationIn, status=201,
          summary="Delegate signing/approval authority (KT., TL., TUQ., Q., TM.)")
def create_delegation(actor: Actor, body: DelegationIn) -> dict:
    return container().approval.delegate(actor, origin=origin(), **body.model_dump())


@endpoint(api, "/delegations/<int:delegation_id>", method="DELETE", tag="outgoing", status=204,
          summary="Revoke a delegation you gave")
def revoke_delegation(actor: Actor, delegation_id: int) -> Response:
    container().approval.revoke_delegation(actor, delegation_id, origin())
    return Response(status=204)


# ---------------------------------------------------------------- signing, issuing, recall, copies
class SignIn(StrictModel):
    pin: str = Field(min_length=1, max_length=64, description="the PIN of your signing key")


class RecipientIn(StrictModel):
    agency_id: int | None = Field(None, ge=1, description="an agency on this system: delivered as incoming")
    unit_id: int | None = Field(None, ge=1, description="a unit of the issuing agency")
    name: str | None = Field(None, min_length=1, max_length=200, description="an outside body")
    organ_id: str | None = Field(None, max_length=13)


class IssueIn(StrictModel):
    recipients: list[RecipientIn] = Field(min_length=1, max_length=500)


class CopyIn(StrictModel):
    form: Literal["SY", "SL", "TrS"] = Field("SY", description="sao y, sao lục or trích sao")


class PinIn(StrictModel):
    pin: str = Field(min_length=6, max_length=64, description="protects your new signing key")


class PositionIn(StrictModel):
    page: int = Field(ge=1, le=100000, description="page number, from 1")
    x: float = Field(ge=0, le=2000, description="left end of the text's baseline, PDF points from the left")
    y: float = Field(ge=0, le=2000, description="baseline, PDF points from the bottom of the page")
    size: float = Field(13.0, ge=6, le=30, description="font size in points")


class PagePositionsIn(StrictModel):
    number: PositionIn | None = Field(None, description="where 'Số: 05/QĐ-UBND' is printed")
    date: PositionIn | None = Field(None, description="where '<place>, ngày 07 tháng 12 năm 2026' is printed")
    place: str | None = Field(None, max_length=100, description="the place name printed before the date")


@endpoint(api, "/documents/<int:doc_id>/page-positions", method="PUT", tag="outgoing", body=PagePositionsIn,
          summary="Where page 1 gets the number and date, for a draft without 'Số:' / 'ngày … tháng … năm' "
                  "(registry, before signing)")
def page_positions(actor: Actor, doc_id: int, body: PagePositionsIn) -> dict:
    from docsvc.services.page_positions import Position
    number = Position(**body.number.model_dump()) if body.number else None
    date_ = Position(**body.date.model_dump()) if body.date else None
    return {"positions": container().outgoing.set_page_positions(actor, doc_id, number=number, date=date_,
                                                                 place=body.place, origin=origin())}


@endpoint(api, "/documents/<int:doc_id>/sign", method="POST", tag="outgoing", body=SignIn, response=DocumentOut,
          summary="Sign the approved document digitally (your turn, or as a valid delegate)")
def sign(actor: Actor, doc_id: int, body: SignIn) -> dict:
    return container().outgoing.sign(actor, doc_id, pin=body.pin, origin=origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/issue", method="POST", tag="outgoing", body=IssueIn, response=DocumentOut,
          summary="Issue: number and date, organisation signature, recipients, delivery (registry)")
def issue(actor: Actor, doc_id: int, body: IssueIn) -> dict:
    from docsvc.services.outgoing import RecipientInput
    recipients = [RecipientInput(**r.model_dump()) for r in body.recipients]
    return container().outgoing.issue(actor, doc_id, recipients=recipients, origin=origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/recipients", tag="outgoing",
          summary="Recipients of an issued document and the status of each copy (edXML codes)")
def recipients(actor: Actor, doc_id: int) -> dict:
    return {"items": container().outgoing.recipients(actor, doc_id)}


@endpoint(api, "/documents/<int:doc_id>/recall", method="POST", tag="outgoing", body=ReasonIn, response=DocumentOut,
          summary="Recall an issued document: frozen here, withdrawn at its recipients")
def recall(actor: Actor, doc_id: int, body: ReasonIn) -> dict:
    return container().outgoing.recall(actor, doc_id, reason=body.reason, origin=origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/confirm-recall", method="POST", tag="incoming", response=DocumentOut,
          summary="Confirm that a recalled copy was removed from use (receiving registry)")
def confirm_recall(actor: Actor, doc_id: int) -> dict:
    return container().outgoing.confirm_recall(actor, doc_id, origin=origin()).to_dict()


@endpoint(api, "/documents/<int:doc_id>/copies", method="POST", tag="outgoing", body=CopyIn, response=DocumentOut,
          status=201, summary="Make an electronic copy (sao y, sao lục, trích sao) with its own number")
def make_copy(actor: Actor, doc_id: int, body: CopyIn) -> dict:
    return container().outgoing.copy(actor, doc_id, form=body.form, origin=origin()).to_dict()


@endpoint(api, "/me/signing-key", tag="outgoing", summary="Your signing certificate")
def my_signing_key(actor: Actor) -> dict:
    return container().enrolment.my_key(actor)


@endpoint(api, "/me/signing-key", method="POST", tag="outgoing", body=PinIn, status=201,
          summary="Get a signing certificate from the internal CA, protected by your PIN")
def enrol_signing_key(actor: Actor, body: PinIn) -> dict:
    return container().enrolment.enrol(actor, body.pin, origin=origin())
