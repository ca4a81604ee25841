"""Choices the archive forms offer: people and units of the user's agency, the retention catalogue."""

from __future__ import annotations

from typing import Any

from docsvc.domain.identity import Actor
from docsvc.web.context import container


def agency_people(actor: Actor) -> list[dict[str, Any]]:
    """Active members of the user's agency, by name (owner of a dossier, who hands dossiers over)."""
    users = container().identity.list_users(actor, actor.agency_id)
    return sorted(({"id": u.id, "label": f"{u.full_name} — {u.position}" if u.position else u.full_name}
                   for u in users if u.is_active), key=lambda o: o["label"])


def agency_units(actor: Actor) -> list[dict[str, Any]]:
    """The units directly under the user's agency."""
    return [{"id": o.id, "label": o.name} for o in container().identity.list_organisations()
            if o.kind == "unit" and o.parent_id == actor.agency_id]


def retention_entries() -> list[dict[str, Any]]:
    """The current entries of the retention catalogue, by code."""
    return container().retention.list()
