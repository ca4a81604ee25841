"""The archive's overview (Lưu trữ): what waits for the archivist and the head, and the tabs of the
archive pages (transfers, legal holds, disposal, declassification), each for the roles its
service allows."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

from docsvc.domain.archives import OPEN_DISPOSAL
from docsvc.domain.identity import Role
from docsvc.services.archives.common import HOLD_KEEPERS
from docsvc.services.archives.transfers import TRANSFER_READERS as TRANSFER_READERS_SERVICE
from docsvc.web.context import container
from docsvc.web.pages.base import optional_actor, page_actor, page_blueprint, render
from docsvc.web.pages.nav import NavItem

#: Who follows transfers and reads the handover records (the transfer service's rule).
TRANSFER_READERS = frozenset(TRANSFER_READERS_SERVICE)
#: Who follows legal holds, disposal and the protection periods of secret documents.
HOLD_READERS = frozenset(HOLD_KEEPERS)
DISPOSAL_READERS = frozenset({Role.ARCHIVIST, Role.LEADER})
SECRECY_READERS = frozenset({Role.LEADER, Role.ARCHIVIST})
ARCHIVE_STAFF = DISPOSAL_READERS

bp = page_blueprint("archive", __name__, url_prefix="/archive", roles=ARCHIVE_STAFF)
NAV = [NavItem("archive.overview", _l("Archive"), order=60, roles=ARCHIVE_STAFF)]

TABS = [("archive.overview", _l("Overview"), ARCHIVE_STAFF), ("transfers.due", _l("Transfers"), TRANSFER_READERS),
        ("transfers.records", _l("Handover records"), TRANSFER_READERS),
        ("holds.index", _l("Legal holds"), HOLD_READERS), ("disposal.index", _l("Disposal"), DISPOSAL_READERS),
        ("secrecy.review", _l("Declassification"), SECRECY_READERS)]


def archive_tabs() -> list[dict[str, Any]]:
    """The archive tabs the signed-in user may open."""
    actor = optional_actor()
    if actor is None:
        return []
    return [{"href": url_for(endpoint), "label": text} for endpoint, text, roles in TABS if actor.has(*roles)]


@bp.app_context_processor
def _tabs() -> dict[str, Any]:
    return {"archive_tabs": archive_tabs}


@bp.get("/")
def overview() -> Any:
    actor, c = page_actor(), container()
    due = c.transfers.due(actor, within_days=30)
    return render("archive.html", due=due, overdue=[d for d in due if d["overdue"]],
                  holds=c.holds.list(actor), lists=c.disposal.list(actor, status=[s.value for s in OPEN_DISPOSAL]),
                  review=c.secrecy.review_list(actor), archivist=actor.has(Role.ARCHIVIST),
                  leader=actor.has(Role.LEADER))
