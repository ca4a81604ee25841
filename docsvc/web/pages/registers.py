"""The registers of the year (the decree's columns) with a printable PDF of each."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import lazy_gettext as _l

from docsvc.domain.identity import Role
from docsvc.services.register_book import SERIES
from docsvc.timeutil import vn_today
from docsvc.web.context import container
from docsvc.web.downloads import register_pdf_response
from docsvc.web.pages.base import page_actor, page_blueprint, web_origin
from docsvc.web.pages.nav import NavItem

# Who sees the menu entry: the register service (which decides) lets these roles read registers.
READERS = frozenset({Role.CLERK, Role.LEADER, Role.ARCHIVIST})
bp = page_blueprint("registers", __name__)
NAV = [NavItem("registers.book", _l("Registers"), order=40, roles=READERS, args=(("register", "incoming"),))]

# English titles of the decree's columns (the Vietnamese ones come with the register).
COLUMNS_EN = {"arrival_date": "Arrival date", "arrival_number": "Incoming no.", "issuing_body": "Issuing body",
              "number_notation": "Number, notation", "document_date": "Date", "type_and_subject": "Type and subject",
              "recipient": "Recipient unit or person", "passed_on": "Passed on", "receipt": "Receipt",
              "notes": "Notes", "signer": "Signer", "recipients": "Recipients", "copy_keeper": "Copy kept by",
              "copies": "Copies", "date_sent": "Date sent"}


def _query(register: str) -> tuple[int, str]:
    if register not in ("incoming", "outgoing"):
        abort(404)
    year = request.args.get("year", vn_today().year, type=int)
    series = request.args.get("series", "normal")
    return max(min(year, 2100), 2000), series if series in SERIES else "normal"


@bp.get("/registers/<register>")
def book(register: str) -> str:
    year, series = _query(register)
    data = container().registers.book(page_actor(), register, year, series, web_origin())
    return render_template("register.html", book=data, register=register, year=year, series=series,
                           series_options=SERIES, columns_en=COLUMNS_EN, this_year=vn_today().year)


@bp.get("/registers/<register>/pdf")
def pdf(register: str) -> Response:
    year, series = _query(register)
    return register_pdf_response(page_actor(), register, year, series, web_origin())
