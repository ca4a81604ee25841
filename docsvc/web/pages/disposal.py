"""Disposal of records past their retention: the lists, "list now" (archive), the appraisal
council's review (archive), the head's decision (leaders), destruction after a confirmation
(archive) and the destruction record kept afterwards."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from docsvc.domain.archives import DisposalStatus
from docsvc.domain.identity import Actor, Role, Secrecy
from docsvc.errors import InvalidInput, Msg
from docsvc.web.context import container
from docsvc.web.pages import forms
from docsvc.web.pages.archive import DISPOSAL_READERS
from docsvc.web.pages.base import act, dispatch, page_actor, page_blueprint, render, web_origin

bp = page_blueprint("disposal", __name__, url_prefix="/archive/disposal", roles=DISPOSAL_READERS)
STATUSES = [s.value for s in DisposalStatus]
LEVELS = [s.key for s in Secrecy]

# Notes the disposal service writes on a list's items (the council's own reasons stay as written).
NOTES = {"under a legal hold": _l("under a legal hold"),
         "placed under a legal hold after the decision": _l("placed under a legal hold after the decision"),
         "its retention was extended after the decision": _l("its retention was extended after the decision")}
REFUSED = "destruction refused: "
KEPT_BY = "also filed in "


def note_text(note: str | None) -> str:
    """An item's note (or a document's ``content_kept``) in the user's language."""
    if not note:
        return ""
    if note in NOTES:
        return str(NOTES[note])
    if note.startswith(REFUSED):
        return _("destruction refused: %(reason)s", reason=note[len(REFUSED):])
    if note.startswith(KEPT_BY):
        return _("content kept: also filed in %(codes)s", codes=note[len(KEPT_BY):])
    return note


@bp.get("")
def index() -> Any:
    return _lists_page()


def _lists_page(status: int = 200) -> Any:
    actor = page_actor()
    chosen, level = request.args.get("status", ""), request.args.get("secrecy", "")
    lists = container().disposal.list(actor, status=[chosen] if chosen in STATUSES else None,
                                      secrecy=Secrecy.parse(level) if level in LEVELS else None)
    return render("disposal_lists.html", status, lists=lists, statuses=STATUSES, chosen=chosen, level=level,
                  levels=LEVELS[:int(actor.clearance) + 1], archivist=actor.has(Role.ARCHIVIST))


@bp.post("/propose")
def propose() -> Response:
    def done(listed: list[dict[str, Any]]) -> str:
        added = sum(x["added"] for x in listed)
        return _("%(n)s dossiers past their retention were listed for disposal.", n=added) if added else \
            _("No further dossier is past its retention.")
    return act(lambda actor: container().disposal.propose(actor), done=done, then=url_for("disposal.index"),
               on_error=lambda actor, status: _lists_page(status))


@bp.get("/<int:list_id>")
def show(list_id: int) -> Any:
    return render_list(page_actor(), list_id)


def render_list(actor: Actor, list_id: int, status: int = 200, template: str = "disposal_list.html") -> Any:
    lst = container().disposal.get(actor, list_id)
    return render(template, status, lst=lst, archivist=actor.has(Role.ARCHIVIST), leader=actor.has(Role.LEADER),
                  to_destroy=[i for i in lst["items"] if i["decision"] == "destroy"], note_text=note_text)


def _review(actor: Actor, list_id: int) -> dict[str, Any]:
    members = [line.strip() for line in forms.text("members").splitlines() if line.strip()]
    keep = {i: forms.text(f"keep_reason_{i}") for i in forms.int_list("keep")}
    return container().disposal.review(actor, list_id, opinion=forms.text("opinion"), members=members, keep=keep,
                                       origin=web_origin())


def _decide(actor: Actor, list_id: int) -> dict[str, Any]:
    decision = forms.text("decision")
    if decision not in ("approve", "refuse"):
        raise InvalidInput(Msg("pages.choose_approve_refuse", "choose approve or refuse"), {"field": "approve"})
    return container().disposal.decide(actor, list_id, approve=decision == "approve",
                                       decision_ref=forms.text("decision_ref"), reason=forms.text("reason"),
                                       origin=web_origin())


def _destroy(actor: Actor, list_id: int) -> dict[str, Any]:
    if not forms.flag("confirm"):
        raise InvalidInput(Msg("pages.tick_confirmation_destruction_cannot_undone",
                               "tick the confirmation: destruction cannot be undone"), {"field": "confirm"})
    return container().disposal.destroy(actor, list_id, origin=web_origin())


STEPS = {
    "review": (_review, lambda r: _("The council's review is recorded; the head decides next.")),
    "decide": (_decide, lambda r: _("Destruction approved.") if r["status"] == "approved" else
               _("Destruction refused: the records are kept.")),
    "destroy": (_destroy, lambda r: _("The content was destroyed; the destruction record is kept below.")),
}


@bp.post("/<int:list_id>/<step>")
def perform(list_id: int, step: str) -> Response:
    template = "disposal_destroy.html" if step == "destroy" else "disposal_list.html"
    return dispatch(STEPS, step, list_id, then=url_for("disposal.show", list_id=list_id),
                    on_error=lambda actor, status: render_list(actor, list_id, status, template))


@bp.get("/<int:list_id>/destroy")
def confirm_destroy(list_id: int) -> Any:
    """The confirmation step before destruction: what goes, what stays."""
    return render_list(page_actor(), list_id, template="disposal_destroy.html")
