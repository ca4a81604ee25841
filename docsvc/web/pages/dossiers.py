"""Dossiers (hồ sơ): the year's dossier plan (danh mục hồ sơ), a dossier with its Appendix VI
metadata and its documents, the actions its owner, the archive, the registry or the head may take
now (``docsvc.services.dossier_actions``), its export, and filing from the document page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from docsvc.domain.archives import DossierStatus
from docsvc.domain.identity import Actor
from docsvc.errors import InvalidInput, Msg
from docsvc.services.archives.common import HOLD_KEEPERS
from docsvc.services.archives.dossiers import DOSSIER_OWNERS
from docsvc.services.dossier_actions import dossier_actions, longer_retentions, may_keep_plan
from docsvc.timeutil import vn_today
from docsvc.web.api.archives import DossierIn, add_dossier
from docsvc.web.api.search import SearchParams, hit_dict, run_search
from docsvc.web.api.spec import parse_model
from docsvc.web.context import container
from docsvc.web.downloads import dossier_export_response
from docsvc.web.pages import forms
from docsvc.web.pages.archive import TRANSFER_READERS
from docsvc.web.pages.base import act, dispatch, page_actor, page_blueprint, render, web_origin
from docsvc.web.pages.choices import agency_people, agency_units, retention_entries
from docsvc.web.pages.i18n import label
from docsvc.web.pages.nav import NavItem

KEEPERS = frozenset(DOSSIER_OWNERS)
bp = page_blueprint("dossiers", __name__, roles=KEEPERS)
NAV = [NavItem("dossiers.plan", _l("Dossiers"), order=50, roles=KEEPERS)]

PER_PAGE = 50
STATUSES = [s.value for s in DossierStatus]


def _year() -> int:
    year = request.values.get("year", vn_today().year, type=int)
    return max(min(year, 2100), 2000)


# ---------------------------------------------------------------- the dossier plan of a year
@bp.get("/dossiers")
def plan() -> Any:
    return _plan_page()


def _plan_page(status: int = 200, *, adding: bool = False) -> Any:
    actor, c = page_actor(), container()
    year, page = _year(), max(request.args.get("page", 1, type=int), 1)
    chosen = request.args.get("status", "")
    q = (request.args.get("q") or "").strip()[:200]
    plans = c.dossiers.plans(actor)
    items, total = c.dossiers.list(actor, year=year, status=[chosen] if chosen in STATUSES else None, q=q or None,
                                   offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    keeper = may_keep_plan(actor)
    return render("dossier_plan.html", status, year=year, this_year=vn_today().year, plans=plans,
                  plan=next((p for p in plans if p["year"] == year), None), dossiers=items, total=total, page=page,
                  pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), q=q, chosen=chosen, statuses=STATUSES,
                  keeper=keeper, adding=adding, retention=retention_entries(),
                  people=agency_people(actor) if keeper else [], units=agency_units(actor),
                  follows_transfers=actor.has(*TRANSFER_READERS))


@bp.post("/dossiers/plans")
def create_plan() -> Response:
    return act(lambda actor: container().dossiers.create_plan(actor, year=_year(), title=forms.text("title"),
                                                              origin=web_origin()),
               done=lambda p: _("The dossier plan of %(year)s was created.", year=p["year"]),
               then=lambda p: url_for("dossiers.plan", year=p["year"]),
               on_error=lambda actor, status: _plan_page(status))


@bp.post("/dossiers/plans/<int:plan_id>/dossiers")
def add(plan_id: int) -> Response:
    return act(lambda actor: add_dossier(actor, plan_id, forms.model(DossierIn), web_origin()),
               done=lambda d: _("Dossier %(code)s added to the plan.", code=d["file_code"]),
               then=lambda d: url_for("dossiers.show", dossier_id=d["id"]),
               on_error=lambda actor, status: _plan_page(status, adding=True))


# ---------------------------------------------------------------- one dossier
@bp.get("/dossiers/<int:dossier_id>")
def show(dossier_id: int) -> Any:
    return render_dossier(page_actor(), dossier_id)


def render_dossier(actor: Actor, dossier_id: int, status: int = 200) -> Any:
    c = container()
    dossier = c.dossiers.get(actor, dossier_id)  # NotFound for what the actor may not see
    holds = c.holds.list(actor, active_only=False, dossier_id=dossier_id) if actor.has(*HOLD_KEEPERS) else []
    active = next((h for h in holds if h["active"]), None)
    reads = dossier["status"] != "open" or c.documents.reads_any(actor, dossier["agency_id"])
    allowed = set(dossier_actions(actor, dossier, held_directly=active is not None, reads_documents=reads))
    extend_to = longer_retentions(retention_entries(), dossier["retention"]) if "extend_retention" in allowed else []
    if not extend_to:
        allowed.discard("extend_retention")
    find = (request.args.get("find") or "").strip()[:200]
    found, find_error = _find(actor, find) if find and "file" in allowed else ([], None)
    keeper = may_keep_plan(actor)
    return render("dossier.html", status, d=dossier, allowed=allowed, holds=holds, active_hold=active,
                  extend_to=extend_to, retention=retention_entries() if "edit" in allowed else [],
                  people=agency_people(actor) if keeper and "edit" in allowed else [],
                  units=agency_units(actor) if "edit" in allowed else [], keeper=keeper, find=find, found=found,
                  find_error=find_error, filed={x["id"] for x in dossier["documents"]},
                  problems=_closing_problems(dossier["documents"]), follows_transfers=actor.has(*TRANSFER_READERS))


def _find(actor: Actor, q: str) -> tuple[list[dict[str, Any]], str | None]:
    """Documents the user may read matching a number, notation or words (the search index)."""
    try:
        result = run_search(actor, parse_model(SearchParams, {"q": q, "size": 10}))
    except InvalidInput:
        return [], _("The search words could not be understood; try a number such as 15/QĐ-UBND.")
    return [hit_dict(h) for h in result.hits], None


def _closing_problems(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The closing checks that failed, when the close just refused is re-shown; the documents
    they name are given by their number (or subject) when the user may read them."""
    exc = g.get("failed_action")
    details = getattr(exc, "details", None)
    problems = details.get("problems", []) if isinstance(details, dict) else []
    names = {x["id"]: x["number_notation"] or x["subject"][:80] for x in documents}

    def name(doc_id: Any) -> str:
        return names.get(doc_id) or f"#{doc_id}"
    return [{**p, "doc": name(p.get("document_id")), "other": name(p.get("duplicate_of"))} for p in problems]


def _document_id() -> int:
    doc_id = forms.optional_int("document_id")
    if doc_id is None:
        raise InvalidInput(Msg("pages.give_document_id_choose_from_search",
                               "give the document's ID or choose it from the search"), {"field": "document_id"})
    return doc_id


def _required_date(name: str) -> Any:
    value = forms.optional_date(name)
    if value is None:
        raise InvalidInput(f"{name} is required", {"field": name})
    return value


def _edit(actor: Actor, dossier_id: int) -> dict[str, Any]:
    return container().dossiers.update(
        actor, dossier_id, title=forms.text("title"), retention_code=forms.text("retention_code") or None,
        owner_id=forms.optional_int("owner_id") if may_keep_plan(actor) else None,
        unit_id=forms.optional_int("unit_id"), rights=forms.text("rights") or None,
        description=forms.text("description"), construction=forms.flag("construction"), origin=web_origin())


def _release(actor: Actor, dossier_id: int) -> dict[str, Any]:
    hold_id = forms.optional_int("hold_id")
    if hold_id is None:
        abort(404)
    return container().holds.release(actor, hold_id, reason=forms.text("reason"), origin=web_origin())


# action → (service call, message on success)
ACTIONS: dict[str, tuple[Callable[[Actor, int], Any], Callable[[Any], str]]] = {
    "open": (lambda a, d: container().dossiers.open(a, d, web_origin()), lambda r: _("Dossier opened.")),
    "edit": (_edit, lambda r: _("Dossier saved.")),
    "file": (lambda a, d: container().dossiers.file(a, d, _document_id(), web_origin()),
             lambda r: _("Document filed in the dossier.")),
    "unfile": (lambda a, d: container().dossiers.unfile(a, d, _document_id(), web_origin()),
               lambda r: _("Document removed from the dossier.")),
    "close": (lambda a, d: container().dossiers.close(a, d, work_ended_on=forms.optional_date("work_ended_on"),
                                                      settlement_date=forms.optional_date("settlement_date"),
                                                      origin=web_origin()),
              lambda r: _("Dossier closed: %(docs)s documents, %(pages)s pages.", docs=r["doc_total"],
                          pages=r["page_total"])),
    "reopen": (lambda a, d: container().dossiers.reopen(a, d, reason=forms.text("reason"), origin=web_origin()),
               lambda r: _("Dossier reopened.")),
    "settlement": (lambda a, d: container().dossiers.set_settlement(a, d, _required_date("settlement_date"),
                                                                    web_origin()),
                   lambda r: _("Final settlement recorded.")),
    "extend_retention": (lambda a, d: container().dossiers.extend_retention(
        a, d, retention_code=forms.text("retention_code"), reason=forms.text("reason"), origin=web_origin()),
        lambda r: _("Retention extended to %(retention)s.", retention=label("retention", r["retention"]["key"]))),
    "hold": (lambda a, d: container().holds.place(a, reason=forms.text("reason"), dossier_id=d, origin=web_origin()),
             lambda r: _("Legal hold placed.")),
    "release": (_release, lambda r: _("Legal hold released.")),
}


@bp.post("/dossiers/<int:dossier_id>/<action>")
def perform(dossier_id: int, action: str) -> Any:
    return dispatch(ACTIONS, action, dossier_id, then=url_for("dossiers.show", dossier_id=dossier_id),
                    on_error=lambda actor, status: render_dossier(actor, dossier_id, status))


@bp.get("/dossiers/<int:dossier_id>/export")
def export(dossier_id: int) -> Response:
    """The dossier's ZIP (originals, PDF/A renditions, Appendix VI XML, SHA-256 manifest)."""
    return dossier_export_response(page_actor(), dossier_id, renditions=request.args.get("renditions") != "0",
                                   origin=web_origin())


# ---------------------------------------------------------------- from the document page
@bp.post("/documents/<int:doc_id>/file")
def file_document(doc_id: int) -> Any:
    from docsvc.web.pages.documents import render_document

    def call(actor: Actor) -> Any:
        dossier_id = forms.optional_int("dossier_id")
        if dossier_id is None:
            raise InvalidInput(Msg("pages.choose_dossier", "choose a dossier"), {"field": "dossier_id"})
        return container().dossiers.file(actor, dossier_id, doc_id, web_origin())
    return act(call, done=lambda r: _("Document filed in the dossier."), then=url_for("documents.show", doc_id=doc_id),
               on_error=lambda actor, status: render_document(actor, doc_id, status))
