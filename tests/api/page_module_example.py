"""A page module as a later area (the archive pages) will add one: a blueprint and menu entries."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from docsvc.domain.identity import Role
from docsvc.web.pages.base import page_actor, page_blueprint
from docsvc.web.pages.nav import NavItem

ARCHIVISTS = frozenset({Role.ARCHIVIST})
bp = page_blueprint("example_archive", __name__, url_prefix="/example-archive", roles=ARCHIVISTS)
NAV = [NavItem("example_archive.index", _l("Example archive"), order=60, roles=ARCHIVISTS)]


@bp.get("/")
def index() -> str:
    return f"archive of {page_actor().username}"


@bp.post("/")
def change() -> str:
    return "changed"
