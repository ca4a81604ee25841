"""Server-rendered pages for clerks, officers, leaders, archivists and administrators.

Each module of ``PAGE_MODULES`` is one area of the interface and exposes:

- ``bp``: a blueprint made with :func:`docsvc.web.pages.base.page_blueprint` (sign-in, roles,
  CSRF and error pages come with it);
- ``NAV``: its menu entries (:class:`docsvc.web.pages.nav.NavItem`), each with the roles that see it.

A new area (as the archive pages were) is one new module in this package added to ``PAGE_MODULES``: its
blueprint is registered and its entries join the menu for the roles they name; no other file changes. Views
are thin: parse the form, call one service through ``docsvc.web.context.container()``, render.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from flask import Blueprint, Flask, request

from docsvc.domain.identity import Actor
from docsvc.web.pages.nav import Navigation

PAGE_MODULES: list[str] = [
    "docsvc.web.pages.auth",  # login, logout, language, profile (signing key)
    "docsvc.web.pages.work",  # my work: inbox and notifications
    "docsvc.web.pages.documents",  # the document page and its actions
    "docsvc.web.pages.incoming",  # incoming documents: list, register
    "docsvc.web.pages.batches",  # volume work: receive many, assign/sign/issue a selection, batch progress
    "docsvc.web.pages.outgoing",  # outgoing: drafts, new draft, signing and issuing queues
    "docsvc.web.pages.registers",
    "docsvc.web.pages.reports",  # the dashboard and its exports (CSV, XLSX, PDF)  # registers of the year, print to PDF
    "docsvc.web.pages.search",  # search with filters, facets, highlights
    "docsvc.web.pages.admin",  # users, units, approval chains
    "docsvc.web.pages.dossiers",  # dossier plans, dossiers, filing, closing, export
    "docsvc.web.pages.archive",  # the archive's overview and tabs
    "docsvc.web.pages.transfers",  # transfers to the agency archive, handover records
    "docsvc.web.pages.holds",  # legal holds
    "docsvc.web.pages.disposal",  # disposal lists, council review, decision, destruction
    "docsvc.web.pages.secrecy",  # protection periods: review, extension, declassification
    "docsvc.web.pages.retention",  # the retention catalogue (admin)
    "docsvc.web.pages.reorganisation",  # merge, split, rename agencies (the province's admin)
]


def register_pages(app: Flask, modules: Sequence[str] | None = None) -> Navigation:
    """Install sessions, languages and the page modules on ``app``; returns its menu."""
    from docsvc.web.context import container
    from docsvc.web.pages.base import configure_sessions, csrf_token, optional_actor
    from docsvc.web.pages.i18n import install_i18n

    settings = app.extensions["docsvc"].settings
    configure_sessions(app, settings)
    install_i18n(app)
    nav = Navigation()
    for name in modules if modules is not None else PAGE_MODULES:
        module = importlib.import_module(name)
        app.register_blueprint(module.bp)
        nav.add(getattr(module, "NAV", ()))
    app.register_blueprint(Blueprint("assets", __name__, static_folder="../static", static_url_path="/static"))
    app.extensions["docsvc_nav"] = nav
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.context_processor
    def _page_context() -> dict[str, object]:
        if request.blueprint in (None, "api"):
            return {}
        actor = optional_actor()
        return {"actor": actor, "nav": nav.for_actor(actor) if actor else [],
                "agency_name": _agency_name(actor) if actor else None}

    def _agency_name(actor: Actor) -> str:
        # read with the actor at sign-in of the request; asked for only when the actor was made elsewhere
        return actor.agency_name or container().identity.get_organisation(actor.agency_id).name

    return nav


def wants_page() -> bool:
    """Errors outside the API (and its health and PKI routes) are answered with a page."""
    path = request.path
    return not (path.startswith(("/api/", "/pki/")) or path == "/health")
