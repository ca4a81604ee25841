"""Outgoing documents: the list, a new draft, and the queues of those who sign or issue."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from docsvc.domain.identity import Actor, Role
from docsvc.services.documents import DRAFTERS, DocumentView
from docsvc.web.api.documents import DocumentForm, document_input
from docsvc.web.context import container
from docsvc.web.pages import forms
from docsvc.web.pages.base import act, page_actor, page_blueprint, render, requires, web_origin
from docsvc.web.pages.documents import render_list
from docsvc.web.pages.nav import NavItem

bp = page_blueprint("outgoing", __name__)
NAV = [NavItem("outgoing.index", _l("Outgoing"), order=30),
       NavItem("outgoing.new", _l("New draft"), order=31, roles=frozenset(DRAFTERS)),
       NavItem("outgoing.queue", _l("To sign"), order=32, roles=frozenset({Role.LEADER, Role.UNIT_HEAD}),
               args=(("reason", "sign"),)),
       NavItem("outgoing.queue", _l("To issue"), order=33, roles=frozenset({Role.CLERK}),
               args=(("reason", "issue"),))]

QUEUES = {"sign": _l("Waiting for my signature"), "issue": _l("Signed, waiting to be numbered and issued"),
          "review": _l("Waiting for my review"), "approve": _l("Waiting for my approval")}


@bp.get("/outgoing")
def index() -> str:
    return render_list("outgoing", _("Outgoing documents"))


@bp.get("/outgoing/queue/<reason>")
def queue(reason: str) -> str:
    if reason not in QUEUES:
        abort(404)
    items = [i.to_dict() for i in container().inbox.inbox(page_actor()) if i.reason == reason]
    return render_template("queue.html", title=QUEUES[reason], reason=reason, items=items)


@bp.get("/outgoing/new")
@requires(*DRAFTERS)
def new() -> str:
    return render_form()


def render_form(status: int = 200) -> Any:
    actor = page_actor()
    units = [container().identity.get_organisation(u) for u in sorted(actor.unit_ids)]
    return render("outgoing_new.html", status, types=container().document_types(), units=units)


def _draft(actor: Actor) -> DocumentView:
    files = forms.uploads("file")
    return container().documents.create(actor, document_input(forms.model(DocumentForm, direction="outgoing")),
                                        files[0] if files else None, forms.uploads("attachments"), web_origin())


@bp.post("/outgoing/new")
@requires(*DRAFTERS)
def create() -> Response:
    return act(_draft, done=_("Draft saved. Submit it for approval when it is ready."),
               then=lambda v: url_for("documents.show", doc_id=v.data["id"]),
               on_error=lambda actor, status: render_form(status))
