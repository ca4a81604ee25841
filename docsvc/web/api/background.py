"""Background work seen by administrators: quarantined outbox items, and their release."""

from __future__ import annotations

from docsvc.domain.identity import Actor
from docsvc.web.api import api
from docsvc.web.api.common import PageQuery, page_of
from docsvc.web.api.spec import endpoint
from docsvc.web.context import container, origin


@endpoint(api, "/admin/quarantine", summary="Background work that failed too often and is no longer retried (admin)",
          tag="admin", query=PageQuery)
def list_quarantine(actor: Actor, query: PageQuery) -> dict:
    """Items of documents of the administrator's agency and below: the document, the failures and
    the reason (e.g. the extraction's CPU-time or page limit). The document is indexed without its text."""
    return page_of(container().quarantine.list(actor), query)


@endpoint(api, "/admin/quarantine/<int:item_id>/release", method="POST", tag="admin",
          summary="Retry a quarantined item (admin; audited)", errors={404: "No such quarantined item"})
def release_quarantine(actor: Actor, item_id: int) -> dict:
    return container().quarantine.release(actor, item_id, origin())
