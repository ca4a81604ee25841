"""Who may read a document: one rule for every read path (get, download, list, search, counts).

A user reads a document only if cleared to its secrecy level AND related to it (DOMAIN.md). The
relationship is expressed as tokens: a document carries the tokens of everyone related to it, an
actor carries their own tokens, and the two sets must meet. The same tokens are stored in the
database (``document_readers``) and in the search index, so every path trims identically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from docsvc.domain.documents import Direction, Status
from docsvc.domain.identity import Actor, Role

# States of an outgoing/internal document in which the registry handles it.
_REGISTRY_SEES_OUTGOING = frozenset({Status.SIGNED, Status.ISSUED, Status.RECALLED})
# States of an incoming document in which it has been presented to the agency's leaders.
_LEADERS_SEE_INCOMING = frozenset({Status.REGISTERED, Status.ASSIGNED, Status.IN_PROGRESS, Status.COMPLETED,
                                   Status.WITHDRAWN})


def user_token(user_id: int) -> str:
    return f"user:{user_id}"


def unit_token(unit_id: int) -> str:
    return f"unit:{unit_id}"


def registry_token(agency_id: int) -> str:
    return f"registry:{agency_id}"


def leaders_token(agency_id: int) -> str:
    return f"leaders:{agency_id}"


def archivist_token(agency_id: int) -> str:
    return f"archivist:{agency_id}"


def actor_tokens(actor: Actor) -> frozenset[str]:
    tokens = {user_token(actor.user_id)} | {unit_token(u) for u in actor.unit_ids}
    if actor.has(Role.CLERK):
        tokens.add(registry_token(actor.agency_id))
    if actor.has(Role.LEADER):
        tokens.add(leaders_token(actor.agency_id))
    if actor.has(Role.ARCHIVIST):
        tokens.add(archivist_token(actor.agency_id))
    return frozenset(tokens)


@dataclass
class Relationships:
    """Everything that relates people to one document (gathered by the services)."""

    agency_id: int
    direction: Direction
    status: Status
    created_by: int | None = None
    user_ids: set[int] = field(default_factory=set)  # approvers, signers, assignees, grantees
    unit_ids: set[int] = field(default_factory=set)  # assigned or recipient units, unit grants
    in_archive: bool = False  # filed in a closed dossier / transferred to the agency archive
    # successors of a ceased agency (reorganisation): they read what the document's agency read
    keeper_agency_ids: set[int] = field(default_factory=set)


def document_tokens(rel: Relationships) -> set[str]:
    tokens = {user_token(u) for u in rel.user_ids} | {unit_token(u) for u in rel.unit_ids}
    if rel.created_by is not None:
        tokens.add(user_token(rel.created_by))
    for agency_id in sorted({rel.agency_id} | rel.keeper_agency_ids):
        if rel.direction is Direction.INCOMING:
            tokens.add(registry_token(agency_id))
            if rel.status in _LEADERS_SEE_INCOMING:
                tokens.add(leaders_token(agency_id))
        elif rel.status in _REGISTRY_SEES_OUTGOING:
            tokens.add(registry_token(agency_id))
            if rel.status is not Status.SIGNED:
                tokens.add(leaders_token(agency_id))
        if rel.in_archive:
            tokens.add(archivist_token(agency_id))
    return tokens


def may_read(actor: Actor, secrecy: int, tokens: Iterable[str]) -> bool:
    return int(actor.clearance) >= secrecy and not actor_tokens(actor).isdisjoint(tokens)
