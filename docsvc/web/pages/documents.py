"""The document page: metadata, preview, signatures and their verdict, processing history, and
the actions the current user may take now (computed by ``ActionService``; each POST goes to the
service that enforces the same rules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import (
    Response,  # what jsonify() and redirect() are typed to return; flask.Response derives from it
)

from docsvc.domain.identity import Actor
from docsvc.errors import InvalidInput, Msg
from docsvc.services.documents import RENDITION_ORDER, DocumentView
from docsvc.services.incoming import AssignmentInput
from docsvc.services.outgoing import RecipientInput
from docsvc.web.api.common import INT_MAX
from docsvc.web.context import container
from docsvc.web.downloads import content_response
from docsvc.web.pages import forms
from docsvc.web.pages.base import (
    dispatch,
    json_action,
    page_actor,
    page_blueprint,
    raise_item_error,
    render,
    web_origin,
)
from docsvc.web.pages.document_archive import document_archive

bp = page_blueprint("documents", __name__)

@bp.get("/documents/<int:doc_id>")
def show(doc_id: int) -> tuple[str, int] | str:
    return render_document(page_actor(), doc_id)


def render_document(actor: Actor, doc_id: int, status: int = 200) -> tuple[str, int] | str:
    c = container()
    doc = c.documents.get(actor, doc_id, web_origin()).to_dict()  # NotFound for what the actor may not read
    incoming = doc["direction"] == "incoming"
    show_accesses = request.args.get("accesses") == "1"
    with c.db.shared_read():  # the boxes (and the page's frame) read one snapshot in one transaction
        history = c.documents.history(actor, doc_id, accesses=show_accesses,
                                      before_seq=_before_seq())
        return render(
            "document.html", status, doc=doc, allowed=c.actions.allowed(actor, doc_id), history=history.items,
            older_history=history.older,
            show_accesses=show_accesses, preview=_preview(doc),
            handling=c.incoming.handling(actor, doc_id) if incoming else None,
            chain=None if incoming else c.approval.chain(actor, doc_id),
            recipients=c.outgoing.recipients(actor, doc_id) if doc["status"] in ("issued", "recalled") else [],
            archive=document_archive(actor, doc), signing_modes={"local_port": c.settings.local_signer_port,
                                                                 "remote": bool(c.settings.csc_url)})


def _before_seq() -> int | None:
    """``?before=N``: the page of the history that ends before event N."""
    raw = request.args.get("before")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= INT_MAX:
        raise InvalidInput("'before' must be the number of an event of the history", {"field": "before"})
    return int(raw)


def _preview(doc: dict[str, Any]) -> str | None:
    """The content type of the file the preview shows (the content route's default rendition)."""
    if doc["content_offline"] or doc.get("content_destroyed_at"):
        return None
    current = [f for f in doc["files"] if f["version"] == doc["current_version"] and f["role"] in RENDITION_ORDER]
    return min(current, key=lambda f: (RENDITION_ORDER[f["role"]], -f["id"]))["content_type"] if current else None


@bp.get("/documents/<int:doc_id>/content")
def content(doc_id: int) -> Response:
    """The file inline, for the preview (secret content watermarked, every access audited)."""
    return content_response(page_actor(), doc_id, file_id=request.args.get("file_id", type=int), version=None,
                            origin=web_origin())


@bp.get("/documents/<int:doc_id>/signatures")
def signatures(doc_id: int) -> str:
    """The signatures' verdict (loaded into the document page by htmx, or opened as a page)."""
    check = container().signature_check.check(page_actor(), doc_id, file_id=request.args.get("file_id", type=int),
                                              origin=web_origin())
    fragment = request.headers.get("HX-Request") == "true"
    return render_template("signatures_fragment.html" if fragment else "signatures.html", check=check, doc_id=doc_id)


# ---------------------------------------------------------------- actions (POST)
def _assign(actor: Actor, doc_id: int) -> DocumentView:
    data = AssignmentInput(lead=forms.target(forms.text("lead"), "lead"), co=forms.targets("co"),
                           info=forms.targets("info"), deadline_days=forms.optional_int("deadline_days"),
                           deadline=forms.optional_date("deadline"), instruction=forms.text("instruction"))
    return container().incoming.assign(actor, doc_id, data, web_origin())


def _reassign(actor: Actor, doc_id: int) -> DocumentView:
    assignment_id, user_id = forms.optional_int("assignment_id"), forms.optional_int("user_id")
    if assignment_id is None or user_id is None:
        raise InvalidInput(Msg("pages.re_assign_active_officer_your_unit",
                               "re-assign to an active officer of your unit"), {"field": "user_id"})
    return container().incoming.reassign(actor, assignment_id, user_id=user_id,
                                         deadline_days=forms.optional_int("deadline_days"),
                                         deadline=forms.optional_date("deadline"),
                                         instruction=forms.text("instruction"), origin=web_origin())


def _issue(actor: Actor, doc_id: int) -> DocumentView:
    recipients = ([RecipientInput(agency_id=i) for i in forms.int_list("agency")]
                  + [RecipientInput(unit_id=i) for i in forms.int_list("unit")]
                  + [RecipientInput(name=line.strip()) for line in forms.text("outside").splitlines() if line.strip()]
                  + container().exchange.directory_recipients(forms.int_list("outside_agency")))
    return container().outgoing.issue(actor, doc_id, recipients=recipients, origin=web_origin())


def _exchange_update(actor: Actor, doc_id: int) -> Any:
    """Corrected metadata from the form (prefilled with the current values); the service sends what changed."""
    changes = {"subject": forms.text("subject"), "due_date": forms.optional_date("due_date"),
               "signer_name": forms.text("signer_name"), "signer_position": forms.text("signer_position"),
               "page_amount": forms.optional_int("page_amount")}
    return container().exchange.send_update(actor, doc_id, reason=forms.text("reason"), changes=changes,
                                            origin=web_origin())


def _exchange_replace(actor: Actor, doc_id: int) -> Any:
    replacement = forms.optional_int("replacement_id")
    if replacement is None:
        raise InvalidInput("choose the replacing document", {"field": "replacement_id"})
    return container().exchange.send_replacement(actor, doc_id, replacement_id=replacement,
                                                 reason=forms.text("reason"), origin=web_origin())


def _page_positions(actor: Actor, doc_id: int) -> Any:
    """The registry's positions of the number and date on the page (PDF points, from the form)."""
    from docsvc.services.page_positions import Position

    def position(kind: str) -> Position | None:
        page, x, y = (forms.optional_float(f"{kind}_{k}") for k in ("page", "x", "y"))
        if page is None and x is None and y is None:
            return None
        if page is None or x is None or y is None:
            raise InvalidInput("give the page, x and y of the position", {"field": kind})
        return Position(int(page), x, y, forms.optional_float(f"{kind}_size") or 13.0)
    return container().outgoing.set_page_positions(actor, doc_id, number=position("number"), date=position("date"),
                                                   place=forms.text("place") or None, origin=web_origin())


def _new_version(actor: Actor, doc_id: int) -> DocumentView:
    files = forms.uploads("file")
    if len(files) != 1:
        raise InvalidInput(Msg("pages.document_file_pdf_scan_required",
                               "the document's file (PDF or scan) is required"), {"field": "file"})
    return container().documents.add_version(actor, doc_id, files[0], web_origin())


def _decide(decision: str, field: str) -> Callable[[Actor, int], DocumentView]:
    return lambda actor, doc_id: container().approval.decide(actor, doc_id, decision, forms.text(field),
                                                             web_origin())


def _number(view: DocumentView) -> str:
    return view.data.get("number_notation") or ""


def _sign_remote(actor: Actor, doc_id: int) -> DocumentView:
    """Remote signing of this one document (the provider's PIN/OTP authorises it)."""
    c = container()
    result = c.remote_signing.sign(actor, [doc_id], pin=request.form.get("pin") or None,
                                   otp=request.form.get("otp") or None, origin=web_origin())
    raise_item_error(result["items"][0])
    return c.documents.get(actor, doc_id, web_origin())


# action → (service call, message on success)
def _unnotified(view: DocumentView) -> str:
    """The answer's warnings about units or agencies nobody in which may read the document (not told)."""
    return "".join(" " + w["message"] for w in view.warnings
                   if w.get("code") in ("unit_not_notified", "recipient_not_notified"))


ACTIONS: dict[str, tuple[Callable[[Actor, int], Any], Callable[[Any], str]]] = {
    "register": (lambda a, d: container().incoming.register(a, d, confirm_duplicate=forms.flag("confirm_duplicate"),
                                                            origin=web_origin()),
                 lambda v: _("Registered with incoming number %(n)s.", n=v.data["arrival_number"])),
    "return_to_sender": (lambda a, d: container().incoming.return_to_sender(a, d, forms.text("reason"), web_origin()),
                         lambda v: _("Returned to the sender.")),
    "assign": (_assign, lambda v: _("Instruction recorded and handlers notified.") + _unnotified(v)),
    "reassign": (_reassign, lambda v: _("Passed on to the officer.")),
    "progress": (lambda a, d: container().incoming.add_progress(a, d, forms.text("text"), forms.optional_int("percent"),
                                                                web_origin()),
                 lambda v: _("Progress recorded.")),
    "complete": (lambda a, d: container().incoming.complete(a, d, forms.text("note"), web_origin()),
                 lambda v: _("Handling completed.")),
    "confirm_recall": (lambda a, d: container().outgoing.confirm_recall(a, d, origin=web_origin()),
                       lambda v: _("Recall confirmed.")),
    "submit": (lambda a, d: container().approval.submit(a, d, template_id=forms.optional_int("template_id"),
                                                        signer_id=forms.optional_int("signer_id"), origin=web_origin()),
               lambda v: _("Submitted for approval.")),
    "approve": (_decide("approved", "comment"), lambda v: _("Approved.")),
    "reject": (_decide("rejected", "reason"), lambda v: _("Rejected: the draft went back to its drafter.")),
    "return_for_revision": (_decide("returned", "reason"), lambda v: _("Returned to the drafter for revision.")),
    "sign": (lambda a, d: container().outgoing.sign(a, d, pin=request.form.get("pin", ""), origin=web_origin()),
             lambda v: _("Signed digitally.")),
    "sign_remote": (_sign_remote, lambda v: _("Signed digitally.")),
    "issue": (_issue, lambda v: _("Issued as %(number)s.", number=_number(v)) + _unnotified(v)),
    "recall": (lambda a, d: container().outgoing.recall(a, d, reason=forms.text("reason"), origin=web_origin()),
               lambda v: _("Recalled.")),
    "exchange_update": (_exchange_update, lambda v: _("Update queued for %(n)s outside recipients.",
                                                      n=len(v["queued"]))),
    "exchange_replace": (_exchange_replace, lambda v: _("Replacement queued for %(n)s outside recipients.",
                                                        n=len(v["queued"]))),
    "copy": (lambda a, d: container().outgoing.copy(a, d, form=forms.text("form", "SY"), origin=web_origin()),
             lambda v: _("Electronic copy %(number)s made.", number=_number(v))),
    "new_version": (_new_version, lambda v: _("New version uploaded.")),
    "page_positions": (_page_positions, lambda v: _("Positions of the number and date saved.")),
}


@bp.post("/documents/<int:doc_id>/sign-token/prepare")
def token_prepare(doc_id: int) -> tuple[Response, int]:
    """The signing page's call before docsvc-signer signs: the data to be signed (JSON)."""
    body = request.get_json(silent=True) or {}
    return json_action(lambda actor: container().split_signing.prepare(
        actor, doc_id, body.get("certificate"), mode="token").to_dict(), 201)


@bp.post("/documents/<int:doc_id>/sign-token/finish")
def token_finish(doc_id: int) -> tuple[Response, int]:
    """The signature value docsvc-signer made: embedded, time-stamped, recorded (JSON: where to go)."""
    from docsvc.services.split_signing import parse_signature
    body = request.get_json(silent=True) or {}

    def finish(actor: Actor) -> dict[str, Any]:
        svc = container().split_signing
        svc.check_document(actor, str(body.get("prepared_id", "")), doc_id)
        svc.finish(actor, str(body.get("prepared_id", "")), parse_signature(body.get("signature")),
                   origin=web_origin())
        flash(_("Signed digitally."), "success")
        return {"redirect": url_for("documents.show", doc_id=doc_id)}
    return json_action(finish, 200)


@bp.post("/documents/<int:doc_id>/<action>")
def perform(doc_id: int, action: str) -> Any:
    return dispatch(ACTIONS, action, doc_id,
                    then=lambda v: url_for("documents.show", doc_id=v.data["id"] if action == "copy" else doc_id),
                    on_error=lambda actor, status: render_document(actor, doc_id, status))


# ---------------------------------------------------------------- lists (incoming, outgoing)
PER_PAGE = 25


def render_list(direction: str, title: str, *, statuses: list[str] | None = None) -> str:
    """Documents of one direction the user may read, urgent first, with simple filters."""
    page = max(request.args.get("page", 1, type=int), 1)
    status = [s for s in request.args.getlist("status") if s] or statuses
    q = (request.args.get("q") or "").strip()[:200] or None
    items, total = container().documents.list(page_actor(), direction=direction, status=status, q=q,
                                              offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    return render_template("list.html", title=title, direction=direction, items=[i.to_dict() for i in items],
                           total=total, page=page, pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), q=q or "",
                           status=request.args.get("status", ""))
