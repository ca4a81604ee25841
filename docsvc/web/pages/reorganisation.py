"""Reorganising agencies (the province's administrator): plans, their preview, the run and its progress,
the report. The reorganisation service decides who may do what."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from docsvc.domain.identity import Role
from docsvc.errors import InvalidInput
from docsvc.web.context import container
from docsvc.web.pages.base import act, page_actor, page_blueprint, render, web_origin
from docsvc.web.pages.nav import NavItem

ADMINS = frozenset({Role.ADMIN})
bp = page_blueprint("reorg", __name__, url_prefix="/admin/reorganisations", roles=ADMINS)
NAV = [NavItem("reorg.index", _l("Reorganisation"), order=74, roles=ADMINS)]


def _index(status: int = 200) -> Any:
    return render("reorganisations.html", status, plans=container().reorganisations.list(page_actor()))


@bp.get("")
def index() -> Any:
    return _index()


def _parsed_plan() -> dict[str, Any]:
    try:
        data = json.loads(request.form.get("plan", ""))
    except ValueError as exc:
        raise InvalidInput(f"the plan is not JSON: {exc}", {"field": "plan"}) from None
    if not isinstance(data, dict):
        raise InvalidInput("the plan is a JSON object", {"field": "plan"})
    return data


@bp.post("")
def create() -> Response:
    return act(lambda actor: container().reorganisations.create(actor, _parsed_plan(), web_origin()),
               done=lambda p: _("Plan %(id)s prepared: check its preview before running it.", id=p["id"]),
               then=lambda p: url_for("reorg.show", plan_id=p["id"]), on_error=lambda actor, status: _index(status))


def _show(plan_id: int, status: int = 200) -> Any:
    return render("reorganisation.html", status, preview=container().reorganisations.preview(page_actor(), plan_id))


@bp.get("/<int:plan_id>")
def show(plan_id: int) -> Any:
    return _show(plan_id)


@bp.post("/<int:plan_id>/run")
def run(plan_id: int) -> Response:
    return act(lambda actor: container().reorganisations.start(actor, plan_id, web_origin()),
               done=lambda p: _("Reorganisation %(id)s: %(status)s.", id=plan_id, status=p["status"]),
               then=url_for("reorg.show", plan_id=plan_id), on_error=lambda actor, status: _show(plan_id, status))


@bp.get("/<int:plan_id>/report.pdf")
def report(plan_id: int) -> Response:
    response = Response(container().reorganisations.report_pdf(page_actor(), plan_id), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="sap-xep-{plan_id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
