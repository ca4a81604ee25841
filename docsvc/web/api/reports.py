"""Reports: the dashboard of an agency or unit, and its exports."""

from __future__ import annotations

from typing import Literal

from flask import Response
from pydantic import Field

from docsvc.domain.identity import Actor
from docsvc.web.api import api
from docsvc.web.api.common import StrictModel
from docsvc.web.api.spec import endpoint
from docsvc.web.context import container


class DashboardQuery(StrictModel):
    year: int | None = Field(None, ge=2000, le=2100)
    unit_id: int | None = Field(None, ge=1, description="one unit of your agency (default: the whole agency)")


class ExportQuery(DashboardQuery):
    format: Literal["csv", "xlsx", "pdf"] = "csv"


@endpoint(api, "/reports/dashboard", tag="reports", query=DashboardQuery,
          summary="Received and issued per month and type, handling on time/late/overdue per unit and officer, "
                  "average handling time, overdue list (leaders, unit heads, registry; only what you may read)")
def dashboard(actor: Actor, query: DashboardQuery) -> dict:
    return container().reports.dashboard(actor, year=query.year, unit_id=query.unit_id).to_dict()


@endpoint(api, "/reports/dashboard/export", tag="reports", query=ExportQuery,
          summary="The dashboard as CSV, XLSX or a printable PDF")
def dashboard_export(actor: Actor, query: ExportQuery) -> Response:
    return export_response(actor, query.year, query.unit_id, query.format)


def export_response(actor: Actor, year: int | None, unit_id: int | None, fmt: str) -> Response:
    from docsvc.services.reports import export
    c = container()
    d = c.reports.dashboard(actor, year=year, unit_id=unit_id)
    if fmt == "xlsx":
        body, mime = export.to_xlsx(d), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "pdf":
        body, mime = export.to_pdf(d, c.identity.get_organisation(actor.agency_id).name), "application/pdf"
    else:
        body, mime = export.to_csv(d), "text/csv; charset=utf-8"
    response = Response(body, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="bao-cao-{d.year}.{fmt}"'
    return response
