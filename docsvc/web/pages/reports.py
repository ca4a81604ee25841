"""The reports dashboard: charts (server-rendered SVG), tables, exports (CSV, XLSX, printable PDF)."""

from __future__ import annotations

from flask import Response, request
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from docsvc.services.reports.charts import handling_bars, monthly_bars
from docsvc.services.reports.dashboard import REPORT_READERS
from docsvc.timeutil import vn_today
from docsvc.web.api.reports import export_response
from docsvc.web.context import container
from docsvc.web.pages.base import page_actor, page_blueprint, render, requires
from docsvc.web.pages.choices import agency_units
from docsvc.web.pages.nav import NavItem

bp = page_blueprint("reports", __name__)
NAV = [NavItem("reports.dashboard", _l("Reports"), order=60, roles=frozenset(REPORT_READERS))]


def _query() -> tuple[int, int | None]:
    year = request.args.get("year", type=int) or vn_today().year
    unit = request.args.get("unit_id", type=int)
    return year, unit


@bp.get("/reports")
@requires(*REPORT_READERS)
def dashboard() -> str:
    actor = page_actor()
    year, unit = _query()
    d = container().reports.dashboard(actor, year=year, unit_id=unit)
    data = d.to_dict()
    charts = {"received": Markup(monthly_bars(d.received, title=f"Văn bản đến {year}")),  # noqa: S704 (escaped SVG)
              "issued": Markup(monthly_bars(d.issued, title=f"Văn bản đi {year}")),  # noqa: S704
              "units": Markup(handling_bars(d.handling_units, title="Xử lý theo đơn vị"))}  # noqa: S704
    return render("reports.html", d=data, charts=charts, year=year, unit_id=unit, units=agency_units(actor),
                  this_year=vn_today().year)


@bp.get("/reports/export/<fmt>")
@requires(*REPORT_READERS)
def export(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx", "pdf"):
        from flask import abort
        abort(404)
    year, unit = _query()
    return export_response(page_actor(), year, unit, fmt)
