"""What the current user may do with one dossier now, for the pages to show only those actions.

The rules are the archive services' own (``docsvc.services.archives``): who manages a dossier (its
owner, the archive, the registry), who keeps holds and extends retention (the archive, the head),
who receives transfers (the archive), and which states allow what. The services still check every
POST; ``tests/api/test_dossier_actions.py`` drives dossiers through their states and checks that
every action not offered here is refused by its service, and that each step taken was offered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from docsvc.domain.archives import DossierStatus, Retention, must_transfer
from docsvc.domain.identity import Actor, Role
from docsvc.services.archives.common import HOLD_KEEPERS, PLAN_KEEPERS
from docsvc.services.archives.dossiers import DOSSIER_OWNERS
from docsvc.services.archives.export import EXPORTABLE

DOSSIER_ACTIONS = ("edit", "open", "file", "unfile", "close", "reopen", "settlement", "extend_retention", "export",
                   "hold", "release", "transfer")
_EDITABLE = (DossierStatus.PLANNED.value, DossierStatus.OPEN.value)
_BEFORE_TRANSFER = (DossierStatus.PLANNED.value, DossierStatus.OPEN.value, DossierStatus.CLOSED.value)


def may_keep_dossiers(actor: Actor) -> bool:
    """Roles that add (their own) dossiers to the plan and file documents."""
    return actor.has(*DOSSIER_OWNERS)


def may_keep_plan(actor: Actor) -> bool:
    """The archive and the registry create plans and add dossiers for anyone."""
    return actor.has(*PLAN_KEEPERS)


def manages(actor: Actor, dossier: Mapping[str, Any]) -> bool:
    """The dossier's owner, or the agency's archive and registry (``common.may_manage``)."""
    owner = dossier.get("owner") or {}
    return actor.has(*PLAN_KEEPERS) or owner.get("id") == actor.user_id


def dossier_actions(actor: Actor, dossier: Mapping[str, Any], *, held_directly: bool,
                    reads_documents: bool = True) -> frozenset[str]:
    """The actions on ``dossier`` (a ``dossier_dict``) offered to ``actor``; ``held_directly``: an
    active legal hold is placed on the dossier itself (not only on a document in it);
    ``reads_documents``: the actor may read some document of the agency — filing needs one (an
    archivist keeps the plan but reads only the documents of closed dossiers)."""
    status, out = dossier["status"], set()
    if manages(actor, dossier):
        if status in _EDITABLE:
            out.add("edit")
        if status == DossierStatus.PLANNED.value:
            out.add("open")
        if status == DossierStatus.OPEN.value:
            out |= {"file", "unfile", "close"} if reads_documents else {"unfile", "close"}
        if status == DossierStatus.CLOSED.value:
            out.add("reopen")
        if dossier.get("construction") and status in _BEFORE_TRANSFER:
            out.add("settlement")
        if status in EXPORTABLE:
            out.add("export")
    if actor.has(*HOLD_KEEPERS) and status != DossierStatus.DESTROYED.value:
        out.add("extend_retention")
        out.add("release" if held_directly else "hold")
    retention = dossier.get("retention")
    if (actor.has(Role.ARCHIVIST) and status == DossierStatus.CLOSED.value and retention
            and dossier.get("work_ended_on") and must_transfer(Retention(retention["years"]))):
        out.add("transfer")
    return frozenset(out)


def longer_retentions(entries: Iterable[Mapping[str, Any]],
                      current: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """Catalogue entries a dossier's retention may be extended to (never shorter, never the same)."""
    if current is None:
        return list(entries)
    now = Retention(current["years"])
    return [e for e in entries if Retention(e["years"]).longer_than(now)]
