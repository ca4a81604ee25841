"""Administration of the retention catalogue (thời hạn bảo quản): the current entries and their
versions, a new entry, and a change (a new version with its reason; dossiers keep theirs)."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from docsvc.domain.identity import Actor, Role
from docsvc.web.context import container
from docsvc.web.pages import forms
from docsvc.web.pages.base import act, page_actor, page_blueprint, render, web_origin
from docsvc.web.pages.nav import NavItem

ADMINS = frozenset({Role.ADMIN})
bp = page_blueprint("retention", __name__, url_prefix="/admin/retention", roles=ADMINS)
NAV = [NavItem("retention.catalogue", _l("Retention periods"), order=73, roles=ADMINS)]


def _years() -> int | None:
    """None for permanent (vĩnh viễn), else the number of years given."""
    return None if forms.text("kind") == "permanent" else forms.optional_int("years") or 0


@bp.get("")
def catalogue() -> Any:
    return _catalogue_page()


def _catalogue_page(status: int = 200) -> Any:
    everything = request.args.get("all") == "1"
    return render("retention.html", status, entries=container().retention.list(include_superseded=everything),
                  everything=everything)


@bp.post("")
def add() -> Response:
    return act(lambda actor: container().retention.add(actor, code=forms.text("code"),
                                                       description=forms.text("description"), years=_years(),
                                                       legal_basis=forms.text("legal_basis"), origin=web_origin()),
               done=lambda e: _("Retention entry %(code)s added.", code=e["code"]),
               then=lambda e: url_for("retention.entry", code=e["code"]),
               on_error=lambda actor, status: _catalogue_page(status))


@bp.get("/<code>")
def entry(code: str) -> Any:
    return _entry_page(page_actor(), code)


def _entry_page(actor: Actor, code: str, status: int = 200) -> Any:
    versions = container().retention.versions(code)  # NotFound for an unknown code
    return render("retention_entry.html", status, code=code, versions=versions, current=versions[-1])


@bp.post("/<code>")
def change(code: str) -> Response:
    return act(lambda actor: container().retention.change(
        actor, code, description=forms.text("description") or None, years=_years(),
        legal_basis=forms.text("legal_basis"), reason=forms.text("reason"), origin=web_origin()),
        done=lambda e: _("Retention entry %(code)s changed: version %(version)s.", code=e["code"],
                         version=e["version"]),
        then=url_for("retention.entry", code=code), on_error=lambda actor, status: _entry_page(actor, code, status))
