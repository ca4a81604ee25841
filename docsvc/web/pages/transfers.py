"""Transfers to the agency archive: dossiers falling due (overdue marked), the archivist's handover
of closed dossiers, and the numbered handover records (dossiers, documents and their SHA-256)."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask_babel import gettext as _

from docsvc.domain.identity import Actor, Role
from docsvc.errors import InvalidInput, Msg
from docsvc.services.dossier_actions import dossier_actions
from docsvc.web.context import container
from docsvc.web.pages import forms
from docsvc.web.pages.archive import TRANSFER_READERS
from docsvc.web.pages.base import act, page_actor, page_blueprint, render, web_origin
from docsvc.web.pages.choices import agency_people

bp = page_blueprint("transfers", __name__, url_prefix="/archive/transfers", roles=TRANSFER_READERS)
DEFAULT_WITHIN = 30
CLOSED_SHOWN = 500


def _within() -> int:
    return max(min(request.args.get("within", DEFAULT_WITHIN, type=int), 3660), 0)


@bp.get("")
def due() -> Any:
    return _due_page()


def _due_page(status: int = 200) -> Any:
    actor, c = page_actor(), container()
    within = _within()
    due = c.transfers.due(actor, within_days=within)
    others: list[dict[str, Any]] = []
    archivist = actor.has(Role.ARCHIVIST)
    if archivist:  # closed dossiers not due yet (or not dated: construction without settlement) may go too
        listed = {d["id"] for d in due}
        closed, _total = c.dossiers.list(actor, status=["closed"], limit=CLOSED_SHOWN)
        others = [d for d in closed
                  if d["id"] not in listed and "transfer" in dossier_actions(actor, d, held_directly=False)]
    chosen = set(forms.int_list("dossier_ids")) if request.method == "POST" else \
        {v for v in request.args.getlist("select", type=int)}
    return render("transfers_due.html", status, within=within, due=due, others=others, archivist=archivist,
                  chosen=chosen, people=agency_people(actor) if archivist else [])


@bp.post("")
def make() -> Response:
    def call(actor: Actor) -> Any:
        ids = forms.int_list("dossier_ids")
        if not ids:
            raise InvalidInput(Msg("pages.choose_dossiers_transfer",
                                   "choose the dossiers to transfer"), {"field": "dossier_ids"})
        return container().transfers.transfer(actor, ids, delivered_by_id=forms.optional_int("delivered_by_id"),
                                               note=forms.text("note"), origin=web_origin())
    return act(call, done=lambda t: _("Handover record %(number)s made: the dossiers are in the agency archive.",
                                      number=t["number"]),
               then=lambda t: url_for("transfers.record", transfer_id=t["id"]),
               on_error=lambda actor, status: _due_page(status))


@bp.get("/records")
def records() -> Any:
    return render("transfers_records.html", records=container().transfers.list(page_actor()))


@bp.get("/<int:transfer_id>")
def record(transfer_id: int) -> Any:
    return render("transfer_record.html", t=container().transfers.get(page_actor(), transfer_id))
