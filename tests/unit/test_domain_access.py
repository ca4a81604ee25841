"""Who may read a document: the tokens of actors and documents, and the clearance check."""

from __future__ import annotations

import pytest

from docsvc.domain.access import Relationships, actor_tokens, document_tokens, may_read
from docsvc.domain.documents import Direction, Status
from docsvc.domain.identity import Actor, Role, Secrecy

AGENCY, OTHER_AGENCY = 1, 2


def actor(*roles: Role, user_id: int = 10, units: tuple[int, ...] = (), clearance: Secrecy = Secrecy.NONE,
          agency: int = AGENCY) -> Actor:
    return Actor(user_id=user_id, username=f"u{user_id}", full_name="Người dùng", agency_id=agency,
                 roles=frozenset(roles), clearance=clearance, unit_ids=frozenset(units))


@pytest.mark.parametrize("roles, units, tokens", [
    ((Role.OFFICER,), (), {"user:10"}),
    ((Role.OFFICER,), (3, 4), {"user:10", "unit:3", "unit:4"}),
    ((Role.CLERK,), (), {"user:10", "registry:1"}),
    ((Role.LEADER,), (), {"user:10", "leaders:1"}),
    ((Role.ARCHIVIST,), (), {"user:10", "archivist:1"}),
    ((Role.UNIT_HEAD, Role.ADMIN), (5,), {"user:10", "unit:5"}),  # neither role reads by itself
    ((Role.CLERK, Role.LEADER, Role.ARCHIVIST), (), {"user:10", "registry:1", "leaders:1", "archivist:1"}),
])
def test_actor_tokens(roles: tuple[Role, ...], units: tuple[int, ...], tokens: set[str]) -> None:
    assert actor_tokens(actor(*roles, units=units)) == tokens


@pytest.mark.parametrize("direction, status, extra", [
    # incoming: the registry always; the leaders once it is registered
    (Direction.INCOMING, Status.RECEIVED, {"registry:1"}),
    (Direction.INCOMING, Status.RETURNED, {"registry:1"}),
    (Direction.INCOMING, Status.REGISTERED, {"registry:1", "leaders:1"}),
    (Direction.INCOMING, Status.ASSIGNED, {"registry:1", "leaders:1"}),
    (Direction.INCOMING, Status.IN_PROGRESS, {"registry:1", "leaders:1"}),
    (Direction.INCOMING, Status.COMPLETED, {"registry:1", "leaders:1"}),
    (Direction.INCOMING, Status.WITHDRAWN, {"registry:1", "leaders:1"}),
    # outgoing and internal: nobody beyond the related people while drafted and reviewed
    (Direction.OUTGOING, Status.DRAFT, set()),
    (Direction.OUTGOING, Status.IN_REVIEW, set()),
    (Direction.INTERNAL, Status.APPROVED, set()),
    # the registry once signed (to issue it), the leaders once issued
    (Direction.OUTGOING, Status.SIGNED, {"registry:1"}),
    (Direction.OUTGOING, Status.ISSUED, {"registry:1", "leaders:1"}),
    (Direction.INTERNAL, Status.RECALLED, {"registry:1", "leaders:1"}),
])
def test_document_tokens_by_direction_and_status(direction: Direction, status: Status, extra: set[str]) -> None:
    rel = Relationships(agency_id=AGENCY, direction=direction, status=status, created_by=7, user_ids={8, 9},
                        unit_ids={3})
    assert document_tokens(rel) == {"user:7", "user:8", "user:9", "unit:3", *extra}


def test_archived_documents_are_read_by_the_archivists() -> None:
    rel = Relationships(agency_id=AGENCY, direction=Direction.OUTGOING, status=Status.DRAFT, in_archive=True)
    assert document_tokens(rel) == {"archivist:1"}
    assert document_tokens(Relationships(agency_id=AGENCY, direction=Direction.OUTGOING, status=Status.DRAFT)) == set()


DRAFT = document_tokens(Relationships(agency_id=AGENCY, direction=Direction.OUTGOING, status=Status.DRAFT,
                                      created_by=10, unit_ids={3}))
REGISTERED = document_tokens(Relationships(agency_id=AGENCY, direction=Direction.INCOMING,
                                           status=Status.REGISTERED))


@pytest.mark.parametrize("who, secrecy, tokens, allowed", [
    (actor(Role.OFFICER), 0, DRAFT, True),  # the drafter
    (actor(Role.OFFICER, user_id=11, units=(3,)), 0, DRAFT, True),  # the drafting unit
    (actor(Role.OFFICER, user_id=11), 0, DRAFT, False),  # unrelated
    (actor(Role.LEADER, user_id=11), 0, DRAFT, False),  # a leader does not read every draft
    (actor(Role.CLERK, user_id=11), 0, REGISTERED, True),
    (actor(Role.LEADER, user_id=11), 0, REGISTERED, True),
    (actor(Role.CLERK, user_id=11, agency=OTHER_AGENCY), 0, REGISTERED, False),  # another agency's registry
    # secrecy: related AND cleared to the level
    (actor(Role.OFFICER), 1, DRAFT, False),
    (actor(Role.OFFICER, clearance=Secrecy.MAT), 1, DRAFT, True),
    (actor(Role.OFFICER, clearance=Secrecy.MAT), 2, DRAFT, False),
    (actor(Role.LEADER, user_id=11, clearance=Secrecy.TUYET_MAT), 3, REGISTERED, True),
    (actor(Role.LEADER, user_id=11, clearance=Secrecy.TUYET_MAT), 0, set(), False),  # cleared but unrelated
])
def test_may_read(who: Actor, secrecy: int, tokens: set[str], allowed: bool) -> None:
    assert may_read(who, secrecy, tokens) is allowed
