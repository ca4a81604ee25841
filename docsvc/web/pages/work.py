"""My work: everything waiting for me (urgent first, overdue marked) and my notifications."""

from __future__ import annotations

from flask import Response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from docsvc.domain.identity import Role
from docsvc.web.context import container
from docsvc.web.pages import choices
from docsvc.web.pages.base import act, page_actor, page_blueprint
from docsvc.web.pages.nav import NavItem

bp = page_blueprint("work", __name__)
NAV = [NavItem("work.inbox", _l("My work"), order=10)]


@bp.get("/work")
def inbox() -> str:
    actor = page_actor()
    items = [i.to_dict() for i in container().inbox.inbox(actor)]
    notes, unread = container().notifications.list(actor, True, 0, 20)
    leader = actor.has(Role.LEADER) and any(i["reason"] == "instruct" for i in items)
    return render_template("work.html", items=items, notifications=notes, unread=unread, pickable=leader,
                           assignees=choices.agency_people(actor) if leader else [],
                           units=choices.agency_units(actor) if leader else [])


@bp.post("/notifications/read")
def mark_read() -> Response:
    return act(lambda actor: container().notifications.mark_read(actor, None),
               done=lambda n: _("%(n)s notifications marked read.", n=n), then=url_for("work.inbox"),
               on_error=lambda actor, status: redirect(url_for("work.inbox"), 303))
