"""Legal holds: the active (or all) holds of the agency with what they hold, placing one on a
document or a dossier, and releasing one, each with its reason (the archive and the head)."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask_babel import gettext as _

from docsvc.domain.archives import DossierStatus
from docsvc.domain.identity import Actor
from docsvc.web.context import container
from docsvc.web.pages import forms
from docsvc.web.pages.archive import HOLD_READERS
from docsvc.web.pages.base import act, page_actor, page_blueprint, render, web_origin

bp = page_blueprint("holds", __name__, url_prefix="/archive/holds", roles=HOLD_READERS)
DOSSIERS_SHOWN = 500


@bp.get("")
def index() -> Any:
    return _holds_page()


def _holds_page(status: int = 200) -> Any:
    actor, c = page_actor(), container()
    everything = request.args.get("all") == "1"
    holds = c.holds.list(actor, active_only=not everything)
    documents = c.documents.summaries(actor, [h["document_id"] for h in holds if h["document_id"]])
    dossiers, _total = c.dossiers.list(actor, limit=DOSSIERS_SHOWN)
    named = {d["id"]: d for d in dossiers}
    for h in holds:  # a held dossier beyond the first page of the list is still named
        if h["dossier_id"] and h["dossier_id"] not in named:
            named[h["dossier_id"]] = c.dossiers.get(actor, h["dossier_id"])
    return render("holds.html", status, holds=holds, everything=everything, documents=documents, dossiers=named,
                  holdable=[d for d in dossiers if d["status"] != DossierStatus.DESTROYED.value])


def _place(actor: Actor) -> dict[str, Any]:
    target = forms.text("target", "document")
    return container().holds.place(
        actor, reason=forms.text("reason"), origin=web_origin(),
        document_id=forms.optional_int("document_id") if target == "document" else None,
        dossier_id=forms.optional_int("dossier_id") if target == "dossier" else None)


@bp.post("")
def place() -> Response:
    return act(_place, done=lambda h: _("Legal hold placed."), then=url_for("holds.index"),
               on_error=lambda actor, status: _holds_page(status))


@bp.post("/<int:hold_id>/release")
def release(hold_id: int) -> Response:
    return act(lambda actor: container().holds.release(actor, hold_id, reason=forms.text("reason"),
                                                       origin=web_origin()),
               done=lambda h: _("Legal hold released."), then=url_for("holds.index"),
               on_error=lambda actor, status: _holds_page(status))
