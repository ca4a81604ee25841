"""Volume work on the pages: receive many files (review grid, register in one action), and assign,
sign and issue a selection; every batch has a page that follows its progress (htmx polling)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from docsvc.domain.identity import Actor, Role
from docsvc.errors import InvalidInput
from docsvc.services.incoming import AssignmentInput
from docsvc.services.intake.service import ReviewedRow, suggested_row
from docsvc.services.outgoing import RecipientInput
from docsvc.web.context import container
from docsvc.web.pages import forms
from docsvc.web.pages.base import act, page_actor, page_blueprint, render, requires
from docsvc.web.pages.messages import item_message
from docsvc.web.pages.nav import NavItem

bp = page_blueprint("batches", __name__)
NAV = [NavItem("batches.intake", _l("Receive many"), order=22, roles=frozenset({Role.CLERK}))]

ROW_FIELDS = ("type", "subject", "number_notation", "issuing_body", "issued_date", "urgency", "secrecy",
              "signer_name", "signer_position")


@bp.get("/incoming/batch")
@requires(Role.CLERK)
def intake() -> str:
    return render("batch_intake.html")


@bp.post("/incoming/batch")
@requires(Role.CLERK)
def intake_post() -> Response:
    return act(lambda actor: container().intake.receive_many(actor, forms.uploads("files")),
               done=lambda b: _("%(n)s files received: their details are being read.", n=b["total"]),
               then=lambda b: url_for("batches.show", batch_id=b["id"]),
               on_error=lambda actor, status: render("batch_intake.html", status))


@bp.get("/batches/<int:batch_id>")
def show(batch_id: int) -> str:
    batch = container().batches.get(page_actor(), batch_id)
    rows = [suggested_row(i) for i in batch["items"]] if batch["kind"] == "intake" else []
    return render("batch.html", batch=batch, rows=rows, types=container().document_types(),
                  running=batch["state"] in ("pending", "running"), say=item_message)


@bp.post("/batches/<int:batch_id>/register")
@requires(Role.CLERK)
def register(batch_id: int) -> Response:
    return act(lambda actor: container().intake.register_many(actor, batch_id, _reviewed_rows()),
               done=lambda b: _("Registering %(n)s documents.", n=b["total"]),
               then=lambda b: url_for("batches.show", batch_id=b["id"]),
               on_error=lambda actor, status: show(batch_id))


def _reviewed_rows() -> list[ReviewedRow]:
    """The ticked rows of the grid, each field named ``<field>-<item id>``."""
    rows = []
    for raw in request.form.getlist("pick"):
        if not raw.isdigit():
            raise InvalidInput("invalid row", {"field": "pick"})
        item = int(raw)
        values = {f: forms.text(f"{f}-{item}") for f in ROW_FIELDS}
        if not values["subject"]:
            raise InvalidInput(_("Row %(n)s: enter the subject (trích yếu).", n=item), {"field": f"subject-{item}"})
        if not values["type"]:
            raise InvalidInput(_("Row %(n)s: choose the document type.", n=item), {"field": f"type-{item}"})
        try:
            issued = date.fromisoformat(values["issued_date"]) if values["issued_date"] else None
        except ValueError:
            raise InvalidInput(_("Row %(n)s: the date is not valid.", n=item),
                               {"field": f"issued_date-{item}"}) from None
        rows.append(ReviewedRow(item_id=item, type=values["type"], subject=values["subject"][:500],
                                number_notation=values["number_notation"] or None,
                                issuing_body=values["issuing_body"][:200], issued_date=issued,
                                urgency=values["urgency"] or "normal", secrecy=values["secrecy"] or "none",
                                signer_name=values["signer_name"] or None,
                                signer_position=values["signer_position"] or None,
                                confirm_duplicate=forms.flag(f"confirm-{item}")))
    if not rows:
        raise InvalidInput(_("Tick the rows to register."), {"field": "pick"})
    return rows


def _picked() -> list[int]:
    ids = [int(v) for v in request.form.getlist("documents") if v.isdigit()]
    if not ids:
        raise InvalidInput(_("Select at least one document."), {"field": "documents"})
    return ids


def _started(b: dict[str, Any]) -> str:
    return _("Started for %(n)s documents.", n=b["total"])


def _to_batch(b: dict[str, Any]) -> str:
    return url_for("batches.show", batch_id=b["id"])


@bp.post("/batches/assign")
@requires(Role.LEADER)
def assign() -> Response:
    def call(actor: Actor) -> Any:
        lead = forms.target(forms.text("lead"), "lead")
        shared_days, shared_instruction = forms.optional_int("deadline_days"), forms.text("instruction")

        def own(doc_id: int) -> AssignmentInput:
            """A row's own instruction and deadline, where the leader wrote one; else the shared ones."""
            days = forms.optional_int(f"deadline_days-{doc_id}")
            return AssignmentInput(lead=lead, deadline_days=shared_days if days is None else days,
                                   instruction=forms.text(f"instruction-{doc_id}") or shared_instruction)
        return container().batch_actions.assign_many(actor, [(d, own(d)) for d in _picked()])
    return act(call, done=_started, then=_to_batch,
               on_error=lambda actor, status: redirect(url_for("work.inbox"), 303))


@bp.post("/batches/sign")
@requires(Role.LEADER, Role.UNIT_HEAD)
def sign() -> Response:
    return act(lambda actor: container().batch_actions.sign_many(actor, _picked(), pin=forms.text("pin")),
               done=_started, then=_to_batch,
               on_error=lambda actor, status: redirect(url_for("outgoing.queue", reason="sign"), 303))


@bp.post("/batches/issue")
@requires(Role.CLERK)
def issue() -> Response:
    def call(actor: Actor) -> Any:
        names = [n.strip() for n in forms.text("recipients").split(";") if n.strip()]
        if not names:
            raise InvalidInput(_("Name at least one recipient."), {"field": "recipients"})
        recipients = [RecipientInput(name=n[:200]) for n in names]
        return container().batch_actions.issue_many(actor, [(d, recipients) for d in _picked()])
    return act(call, done=_started, then=_to_batch,
               on_error=lambda actor, status: redirect(url_for("outgoing.queue", reason="issue"), 303))
