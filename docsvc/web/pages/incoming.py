"""Incoming documents: the list, and the registry's form to receive and register one."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from docsvc.domain.identity import Actor, Role
from docsvc.services.documents import DocumentView
from docsvc.web.api.documents import DocumentForm, document_input
from docsvc.web.context import container
from docsvc.web.pages import forms
from docsvc.web.pages.base import act, page_blueprint, render, requires, web_origin
from docsvc.web.pages.documents import render_list
from docsvc.web.pages.nav import NavItem

bp = page_blueprint("incoming", __name__)
NAV = [NavItem("incoming.index", _l("Incoming"), order=20),
       NavItem("incoming.new", _l("Register incoming"), order=21, roles=frozenset({Role.CLERK}))]


@bp.get("/incoming")
def index() -> str:
    return render_list("incoming", _("Incoming documents"))


@bp.get("/incoming/new")
@requires(Role.CLERK)
def new() -> str:
    return render_form()


def render_form(status: int = 200) -> Any:
    return render("incoming_new.html", status, types=container().document_types())


def _receive(actor: Actor) -> DocumentView:
    """Receive the document; register it at once unless it may be a duplicate (then the
    document page shows the warning and asks the clerk to confirm)."""
    files = forms.uploads("file")
    view = container().documents.create(actor, document_input(forms.model(DocumentForm, direction="incoming")),
                                        files[0] if files else None, forms.uploads("attachments"), web_origin())
    if forms.flag("register_now") and not view.warnings:
        view = container().incoming.register(actor, view.data["id"], origin=web_origin())
    return view


def _received_message(view: DocumentView) -> str:
    if view.data.get("arrival_number"):
        return _("Registered with incoming number %(n)s.", n=view.data["arrival_number"])
    if view.warnings:
        return _("Received. It may be a duplicate: check it before registering.")
    return _("Received. Register it to give it an incoming number.")


@bp.post("/incoming/new")
@requires(Role.CLERK)
def create() -> Response:
    return act(_receive, done=_received_message, then=lambda v: url_for("documents.show", doc_id=v.data["id"]),
               on_error=lambda actor, status: render_form(status))

