"""Declassification review: classified documents whose protection ends within N days (60 by
default), and the head's decisions on a document page's secrecy box: extend the protection, or
declassify (each with the reason and the decision's number)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request, url_for
from flask_babel import gettext as _

from docsvc.domain.archives import REVIEW_DAYS_AHEAD
from docsvc.domain.identity import Actor, Role
from docsvc.web.context import container
from docsvc.web.pages import forms
from docsvc.web.pages.archive import SECRECY_READERS
from docsvc.web.pages.base import dispatch, page_actor, page_blueprint, render, web_origin
from docsvc.web.pages.i18n import vn_date

bp = page_blueprint("secrecy", __name__, url_prefix="/archive/secrecy", roles=SECRECY_READERS)


@bp.get("")
def review() -> Any:
    actor = page_actor()
    within = max(min(request.args.get("within", REVIEW_DAYS_AHEAD, type=int), 3660), 0)
    return render("secrecy_review.html", items=container().secrecy.review_list(actor, within_days=within),
                  within=within, leader=actor.has(Role.LEADER))


DECISIONS: dict[str, tuple[Callable[[Actor, int], Any], Callable[[Any], str]]] = {
    "extend": (lambda a, d: container().secrecy.extend(a, d, years=forms.optional_int("years") or 0,
                                                       reason=forms.text("reason"),
                                                       decision_ref=forms.text("decision_ref"), origin=web_origin()),
               lambda r: _("Protection extended until %(date)s.", date=vn_date(r["protected_until"]))
               + (" " + _("Decided less than 60 days before the end: recorded as late.") if r.get("late") else "")),
    "declassify": (lambda a, d: container().secrecy.declassify(a, d, reason=forms.text("reason"),
                                                               decision_ref=forms.text("decision_ref"),
                                                               origin=web_origin()),
                   lambda r: _("Declassified: it is now an ordinary document.")),
}


@bp.post("/documents/<int:doc_id>/<decision>")
def decide(doc_id: int, decision: str) -> Response:
    from docsvc.web.pages.documents import render_document
    return dispatch(DECISIONS, decision, doc_id, then=url_for("documents.show", doc_id=doc_id) + "#secrecy",
                    on_error=lambda actor, status: render_document(actor, doc_id, status))
