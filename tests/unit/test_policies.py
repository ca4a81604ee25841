"""The permission policy of each capability, as a table: (policy, actor, document, facts) → outcome.

Outcome is "ok", or the error class the service raises ("forbidden" = PermissionDenied, "state" =
InvalidState, ...). The services and the list of offered actions both call these functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pytest

from docsvc.domain import policies
from docsvc.domain.documents import Direction
from docsvc.domain.identity import Actor, Role, Secrecy
from docsvc.errors import Gone, InvalidInput, InvalidState, PermissionDenied

AGENCY, OTHER = 1, 2


def actor(*roles: Role, agency: int = AGENCY, user_id: int = 10, clearance: Secrecy = Secrecy.TUYET_MAT) -> Actor:
    return Actor(user_id=user_id, username=f"u{user_id}", full_name="Người dùng", agency_id=agency,
                 roles=frozenset(roles), clearance=clearance)


@dataclass
class Doc:
    direction: str
    status: str
    agency_id: int = AGENCY
    created_by: int | None = 10
    secrecy: int = 0
    content_offline: bool = False
    current_version: int = 1
    content_destroyed_at: datetime | None = None


CLERK, LEADER, OFFICER = actor(Role.CLERK), actor(Role.LEADER), actor(Role.OFFICER)
FOREIGN_CLERK, FOREIGN_LEADER = actor(Role.CLERK, agency=OTHER), actor(Role.LEADER, agency=OTHER)
DRAFTER, STRANGER = actor(Role.OFFICER, user_id=10), actor(Role.OFFICER, user_id=11)
HEAD = actor(Role.UNIT_HEAD, user_id=12)
SYS = policies.SYSTEM


def incoming(status: str, **kw: Any) -> Doc:
    return Doc("incoming", status, **kw)


def outgoing(status: str, **kw: Any) -> Doc:
    return Doc("outgoing", status, **kw)


P = policies
CASES: list[tuple[str, Callable[..., policies.Decision], Actor, Any, dict[str, Any], Any]] = [
    # signing keys: those who sign documents hold one
    ("key: leader", P.may_hold_signing_key, LEADER, (), {}, "ok"),
    ("key: officer", P.may_hold_signing_key, OFFICER, (), {}, "ok"),
    ("key: archivist", P.may_hold_signing_key, actor(Role.ARCHIVIST), (), {}, PermissionDenied),
    ("key: administrator", P.may_hold_signing_key, actor(Role.ADMIN), (), {}, PermissionDenied),
    # new documents: the registry receives, the drafters draft, within their clearance
    ("create: registry receives", P.may_create, CLERK, (Direction.INCOMING, Secrecy.NONE), {}, "ok"),
    ("create: officer receives", P.may_create, OFFICER, (Direction.INCOMING, Secrecy.NONE), {}, PermissionDenied),
    ("create: officer drafts", P.may_create, OFFICER, (Direction.OUTGOING, Secrecy.NONE), {}, "ok"),
    ("create: archivist drafts", P.may_create, actor(Role.ARCHIVIST), (Direction.OUTGOING, Secrecy.NONE), {},
     PermissionDenied),
    ("create: above clearance", P.may_create, actor(Role.OFFICER, clearance=Secrecy.MAT),
     (Direction.OUTGOING, Secrecy.TOI_MAT), {}, PermissionDenied),
    # register / return to sender: the agency's registry, on a received document
    ("register: registry", P.may_register, CLERK, incoming("received"), {}, "ok"),
    ("register: twice", P.may_register, CLERK, incoming("registered"), {}, InvalidState),
    ("register: another agency", P.may_register, FOREIGN_CLERK, incoming("received"), {}, PermissionDenied),
    ("register: leader", P.may_register, LEADER, incoming("received"), {}, PermissionDenied),
    ("register: outgoing", P.may_register, CLERK, outgoing("draft"), {}, InvalidState),
    ("register: system", P.may_register, SYS, incoming("received"), {}, "ok"),
    ("return: registry", P.may_return_to_sender, CLERK, incoming("received"), {}, "ok"),
    ("return: registered", P.may_return_to_sender, CLERK, incoming("registered"), {}, InvalidState),
    ("return: officer", P.may_return_to_sender, OFFICER, incoming("received"), {}, PermissionDenied),
    # assign: a leader of the agency, once registered
    ("assign: leader", P.may_assign, LEADER, incoming("registered"), {}, "ok"),
    ("assign: re-instruct", P.may_assign, LEADER, incoming("in_progress"), {}, "ok"),
    ("assign: not registered", P.may_assign, LEADER, incoming("received"), {}, InvalidState),
    ("assign: completed", P.may_assign, LEADER, incoming("completed"), {}, InvalidState),
    ("assign: foreign leader", P.may_assign, FOREIGN_LEADER, incoming("registered"), {}, PermissionDenied),
    ("assign: registry", P.may_assign, CLERK, incoming("registered"), {}, PermissionDenied),
    # progress: a handler with an open assignment, while handling
    ("progress: handler", P.may_report_progress, OFFICER, incoming("assigned"), {"handler": True}, "ok"),
    ("progress: again", P.may_report_progress, OFFICER, incoming("in_progress"), {"handler": True}, "ok"),
    ("progress: reopens", P.may_report_progress, OFFICER, incoming("completed"), {"handler": True}, "ok"),
    ("progress: withdrawn", P.may_report_progress, OFFICER, incoming("withdrawn"), {"handler": True},
     InvalidState),
    ("progress: not a handler", P.may_report_progress, LEADER, incoming("assigned"), {"handler": False},
     PermissionDenied),
    # complete: the lead handler or a leader
    ("complete: lead", P.may_complete, OFFICER, incoming("in_progress"), {"lead_handler": True}, "ok"),
    ("complete: co-handler", P.may_complete, OFFICER, incoming("in_progress"), {"lead_handler": False},
     PermissionDenied),
    ("complete: leader", P.may_complete, LEADER, incoming("registered"), {"lead_handler": False}, "ok"),
    ("complete: foreign leader", P.may_complete, FOREIGN_LEADER, incoming("registered"), {"lead_handler": False},
     PermissionDenied),
    ("complete: twice", P.may_complete, LEADER, incoming("completed"), {"lead_handler": False}, InvalidState),
    # confirm a recall: the receiving registry, on a withdrawn copy not yet confirmed
    ("confirm recall", P.may_confirm_recall, CLERK, incoming("withdrawn"), {"awaiting_confirmation": True}, "ok"),
    ("confirm recall: done", P.may_confirm_recall, CLERK, incoming("withdrawn"), {"awaiting_confirmation": False},
     InvalidState),
    ("confirm recall: not recalled", P.may_confirm_recall, CLERK, incoming("assigned"),
     {"awaiting_confirmation": True}, InvalidState),
    ("confirm recall: sender", P.may_confirm_recall, FOREIGN_CLERK, incoming("withdrawn"),
     {"awaiting_confirmation": True}, PermissionDenied),
    # submit: the drafter, a draft with a file
    ("submit: drafter", P.may_submit, DRAFTER, outgoing("draft"), {}, "ok"),
    ("submit: someone else", P.may_submit, STRANGER, outgoing("draft"), {}, PermissionDenied),
    ("submit: in review", P.may_submit, DRAFTER, outgoing("in_review"), {}, InvalidState),
    ("submit: no file", P.may_submit, DRAFTER, outgoing("draft", current_version=0), {}, InvalidState),
    ("submit: offline", P.may_submit, DRAFTER, outgoing("draft", content_offline=True), {}, InvalidState),
    ("submit: incoming", P.may_submit, DRAFTER, incoming("received"), {}, InvalidState),
    # page positions: the registry, before the signature
    ("positions: registry", P.may_place_positions, CLERK, outgoing("approved"), {}, "ok"),
    ("positions: signed", P.may_place_positions, CLERK, outgoing("signed"), {}, InvalidState),
    ("positions: incoming", P.may_place_positions, CLERK, incoming("received"), {}, InvalidState),
    ("positions: officer", P.may_place_positions, DRAFTER, outgoing("draft"), {}, PermissionDenied),
    # issue: the agency's registry, a signed document, its turn in the chain
    ("issue: registry", P.may_issue, CLERK, outgoing("signed"), {"issue_turn": True}, "ok"),
    ("issue: not its turn", P.may_issue, CLERK, outgoing("signed"), {"issue_turn": False}, PermissionDenied),
    ("issue: unsigned", P.may_issue, CLERK, outgoing("approved"), {"issue_turn": True}, InvalidState),
    ("issue: twice", P.may_issue, CLERK, outgoing("issued"), {"issue_turn": True}, InvalidState),
    ("issue: foreign registry", P.may_issue, FOREIGN_CLERK, outgoing("signed"), {"issue_turn": True},
     PermissionDenied),
    ("issue: leader", P.may_issue, LEADER, outgoing("signed"), {"issue_turn": True}, PermissionDenied),
    ("issue: system", P.may_issue, SYS, outgoing("signed"), {"issue_turn": False}, "ok"),
    # recall: the issuing agency's leaders or registry, an issued document
    ("recall: leader", P.may_recall, LEADER, outgoing("issued"), {}, "ok"),
    ("recall: registry", P.may_recall, CLERK, outgoing("issued"), {}, "ok"),
    ("recall: twice", P.may_recall, LEADER, outgoing("recalled"), {}, InvalidState),
    ("recall: draft", P.may_recall, LEADER, outgoing("draft"), {}, InvalidState),
    ("recall: recipient's leader", P.may_recall, FOREIGN_LEADER, outgoing("issued"), {}, PermissionDenied),
    ("recall: officer", P.may_recall, DRAFTER, outgoing("issued"), {}, PermissionDenied),
    # new version: the drafter of an editable draft, the registry for a received document
    ("version: drafter", P.may_add_version, DRAFTER, outgoing("in_review"), {}, "ok"),
    ("version: stranger", P.may_add_version, STRANGER, outgoing("draft"), {}, PermissionDenied),
    ("version: signed", P.may_add_version, DRAFTER, outgoing("signed"), {}, InvalidState),
    ("version: received", P.may_add_version, CLERK, incoming("received"), {}, "ok"),
    ("version: received, officer", P.may_add_version, OFFICER, incoming("received"), {}, PermissionDenied),
    ("version: offline", P.may_add_version, DRAFTER, outgoing("draft", content_offline=True), {}, InvalidInput),
    ("version: destroyed", P.may_add_version, CLERK, incoming("received", content_destroyed_at=datetime(2026, 1, 1)),
     {}, Gone),
    # copy: the registry, an issued or received document with its content
    ("copy: issued", P.may_copy, CLERK, outgoing("issued"), {}, "ok"),
    ("copy: received", P.may_copy, CLERK, incoming("completed"), {}, "ok"),
    ("copy: draft", P.may_copy, CLERK, outgoing("draft"), {}, InvalidState),
    ("copy: recalled", P.may_copy, CLERK, outgoing("recalled"), {}, InvalidState),
    ("copy: withdrawn", P.may_copy, CLERK, incoming("withdrawn"), {}, InvalidState),
    ("copy: offline", P.may_copy, CLERK, outgoing("issued", content_offline=True), {}, InvalidState),
    ("copy: no file", P.may_copy, CLERK, incoming("received", current_version=0), {}, InvalidState),
    ("copy: destroyed", P.may_copy, CLERK, outgoing("issued", content_destroyed_at=datetime(2026, 1, 1)), {}, Gone),
    ("copy: leader", P.may_copy, LEADER, outgoing("issued"), {}, PermissionDenied),
    # update / replace at outside recipients: the issuing registry, an issued plain document that went out
    ("update outside: registry", P.may_update_outside, CLERK, outgoing("issued"), {"sent_outside": True}, "ok"),
    ("update outside: never sent", P.may_update_outside, CLERK, outgoing("issued"), {"sent_outside": False},
     InvalidState),
    ("update outside: secret", P.may_update_outside, CLERK, outgoing("issued", secrecy=1), {"sent_outside": True},
     InvalidState),
    ("update outside: leader", P.may_update_outside, LEADER, outgoing("issued"), {"sent_outside": True},
     PermissionDenied),
    ("update outside: another agency", P.may_update_outside, FOREIGN_CLERK, outgoing("issued"),
     {"sent_outside": True}, PermissionDenied),
    ("replace outside: registry", P.may_replace_outside, CLERK, outgoing("issued"), {"sent_outside": True}, "ok"),
    ("replace outside: a draft", P.may_replace_outside, CLERK, outgoing("signed"), {"sent_outside": True},
     InvalidState),
    ("replace outside: received", P.may_replace_outside, CLERK, incoming("completed"), {"sent_outside": True},
     InvalidState),
    ("replace with: issued by the registry", P.may_replace_with, CLERK, (outgoing("issued"), outgoing("issued")),
     {}, "ok"),
    ("replace with: leader", P.may_replace_with, LEADER, (outgoing("issued"), outgoing("issued")), {},
     PermissionDenied),
    # grants: the agency's leaders and registry
    ("grant: leader", P.may_grant, LEADER, outgoing("draft"), {}, "ok"),
    ("grant: registry", P.may_grant, CLERK, incoming("received"), {}, "ok"),
    ("grant: officer", P.may_grant, HEAD, outgoing("draft"), {}, PermissionDenied),
    ("grant: foreign leader", P.may_grant, FOREIGN_LEADER, outgoing("draft"), {}, PermissionDenied),
]


@pytest.mark.parametrize("name, policy, who, doc, facts, outcome", CASES, ids=[c[0] for c in CASES])
def test_policy_table(name: str, policy: Callable[..., policies.Decision], who: Actor, doc: Any,
                      facts: dict[str, Any], outcome: Any) -> None:
    decision = policy(who, *doc) if isinstance(doc, tuple) else policy(who, doc, **facts)
    if outcome == "ok":
        assert decision and decision.refusal is None
        decision.enforce()
        return
    assert not decision and decision.refusal is outcome and decision.message
    with pytest.raises(outcome):
        decision.enforce()


def test_every_policy_is_in_the_table() -> None:
    tabled = {c[1] for c in CASES}
    public = {getattr(policies, n) for n in policies.__all__ if n.startswith("may_") and n != "may_read"}
    assert public == tabled


def test_the_system_is_explicit_and_fails_closed_elsewhere() -> None:
    """SYSTEM passes every policy, but has no roles or agency: code that forgets to ask
    ``is_system`` refuses it instead of letting it through."""
    assert policies.is_system(policies.SYSTEM)
    assert not policies.is_system(None) and not policies.is_system(replace(CLERK))
    assert policies.SYSTEM.roles == frozenset() and not policies.SYSTEM.has(*Role)
    for _, policy, _, doc, facts, _ in CASES:
        assert policy(policies.SYSTEM, *doc) if isinstance(doc, tuple) else policy(policies.SYSTEM, doc, **facts)
    # a look-alike with the same fields is not the system
    impostor = replace(policies.SYSTEM)
    assert not policies.is_system(impostor)
    assert not policies.may_register(impostor, incoming("received"))


def test_a_replacement_is_another_issued_plain_document_of_the_same_agency() -> None:
    """The checks of a replacement that hold for everyone, the system included."""
    old = outgoing("issued")
    for new, outcome in ((old, InvalidState), (outgoing("signed"), InvalidState),
                         (outgoing("issued", agency_id=OTHER), InvalidState), (incoming("completed"), InvalidState),
                         (outgoing("issued", secrecy=1), InvalidState), (outgoing("issued"), None)):
        for who in (CLERK, SYS):
            decision = policies.may_replace_with(who, old, new)
            assert decision.refusal is outcome, (new, who)
