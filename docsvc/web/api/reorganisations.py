"""Reorganisation of agencies (merge, split, rename): plan, preview, run as a job, status, report PDF."""

from __future__ import annotations

from typing import Any

from flask import Response
from pydantic import Field

from docsvc.domain.identity import Actor
from docsvc.web.api import api
from docsvc.web.api.common import StrictModel
from docsvc.web.api.spec import endpoint
from docsvc.web.context import container, origin


class SuccessorBody(StrictModel):
    organ_id: str = Field(min_length=13, max_length=13)
    name: str | None = Field(default=None, max_length=200)
    abbreviation: str | None = Field(default=None, max_length=20)
    kind: str = "commune"


class UserMoveBody(StrictModel):
    leave: bool = False
    replaced_by: str | None = None
    agency: str | None = None
    roles: list[str] | None = None
    units: list[int] | None = None
    position: str | None = Field(default=None, max_length=200)


class UnitMoveBody(StrictModel):
    agency: str | None = None
    unit: int | None = None


class PlanBody(StrictModel):
    kind: str
    effective_date: str
    decision: str = Field(min_length=1, max_length=200)
    sources: list[str] = Field(min_length=1, max_length=500)
    successors: list[SuccessorBody] = Field(min_length=1, max_length=50)
    users: dict[str, UserMoveBody] = Field(default_factory=dict)
    units: dict[str, UnitMoveBody] = Field(default_factory=dict)


@endpoint(api, "/reorganisations", method="POST", tag="reorganisations", body=PlanBody, status=201,
          summary="Prepare a reorganisation plan (merge, split, rename; province administrator)")
def create_reorganisation(actor: Actor, body: PlanBody) -> dict:
    return container().reorganisations.create(actor, body.model_dump(exclude_none=True), origin())


@endpoint(api, "/reorganisations", tag="reorganisations", summary="The province's reorganisation plans")
def list_reorganisations(actor: Actor) -> Any:
    return {"items": container().reorganisations.list(actor)}


@endpoint(api, "/reorganisations/<int:plan_id>", tag="reorganisations", errors={404: "No such plan"},
          summary="A plan with the job's progress step by step and the before/after checks")
def reorganisation_status(actor: Actor, plan_id: int) -> dict:
    return container().reorganisations.status(actor, plan_id)


@endpoint(api, "/reorganisations/<int:plan_id>/preview", tag="reorganisations", errors={404: "No such plan"},
          summary="Everything the job will move, close, revoke and keep, and what stops it")
def reorganisation_preview(actor: Actor, plan_id: int) -> dict:
    return container().reorganisations.preview(actor, plan_id)


@endpoint(api, "/reorganisations/<int:plan_id>/run", method="POST", tag="reorganisations", status=202,
          errors={404: "No such plan", 409: "The plan has problems or has already run"},
          summary="Run (or resume) the plan as a background job")
def run_reorganisation(actor: Actor, plan_id: int) -> dict:
    return container().reorganisations.start(actor, plan_id, origin())


@endpoint(api, "/reorganisations/<int:plan_id>/report.pdf", tag="reorganisations", produces="application/pdf",
          errors={404: "No such plan"}, summary="The reorganisation report: what moved where, counts, SHA-256")
def reorganisation_report(actor: Actor, plan_id: int) -> Response:
    response = Response(container().reorganisations.report_pdf(actor, plan_id), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="sap-xep-{plan_id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


class CertBatchBody(StrictModel):
    agency: str = Field(min_length=13, max_length=13, description="OrganId of the agency whose people get certificates")
    csv: str = Field(min_length=1, max_length=5_000_000, description="CSV: name,title,unit,email (header first)")


@endpoint(api, "/reorganisations/certificates", method="POST", tag="reorganisations", body=CertBatchBody,
          status=202,
          summary="Issue certificates in bulk from a CSV (a background job; each person enrols with his PIN)")
def create_cert_batch(actor: Actor, body: CertBatchBody) -> dict:
    return container().bulk_certificates.submit(actor, body.agency, body.csv, origin())


@endpoint(api, "/reorganisations/certificates/<int:batch_id>", tag="reorganisations", errors={404: "No such batch"},
          summary="Progress of a bulk certificate batch")
def cert_batch_status(actor: Actor, batch_id: int) -> dict:
    return container().bulk_certificates.status(actor, batch_id)
