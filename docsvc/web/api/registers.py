"""The outgoing and incoming registers, as JSON and as printable PDF."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import Field

from docsvc.domain.identity import Actor
from docsvc.timeutil import vn_today
from docsvc.web.api import api
from docsvc.web.api.common import StrictModel
from docsvc.web.api.spec import endpoint
from docsvc.web.context import container, origin
from docsvc.web.downloads import register_pdf_response


class RegisterQuery(StrictModel):
    year: int = Field(default_factory=lambda: vn_today().year, ge=2000, le=2100)
    series: Literal["normal", "secret", "copy"] = "normal"
    agency_id: int | None = Field(None, ge=1, description="an agency yours succeeded (its closed registers)")


@endpoint(api, "/registers/<any(incoming,outgoing):register>", tag="registers", query=RegisterQuery,
          summary="A register of the year (the decree's columns), in number order")
def register_json(actor: Actor, register: str, query: RegisterQuery) -> dict:
    return container().registers.book(actor, register, query.year, query.series, origin(),
                                      query.agency_id).to_dict()


@endpoint(api, "/registers/<any(incoming,outgoing):register>/pdf", tag="registers", query=RegisterQuery,
          summary="The register as a printable PDF (A4 landscape)", produces="application/pdf")
def register_pdf(actor: Actor, register: str, query: RegisterQuery) -> Response:
    return register_pdf_response(actor, register, query.year, query.series, origin(), query.agency_id)
