"""Succession of ceased agencies: where work addressed to one goes, and who keeps its records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.models import AgencySuccession, Document, Organisation
from docsvc.domain.access import Relationships
from docsvc.domain.reorganisation import AgencyStatus

#: Longest chain of successions followed (a commune merged, its successor merged again, ...).
MAX_HOPS = 8


@dataclass(frozen=True)
class Redirect:
    """``agency_id`` ceased; its (primary, still active) successor is ``successor_id``."""

    agency_id: int
    successor_id: int
    note: str


def _primary_successor(s: Session, agency_id: int) -> AgencySuccession | None:
    return s.execute(select(AgencySuccession).where(AgencySuccession.predecessor_id == agency_id)
                     .order_by(AgencySuccession.is_primary.desc(), AgencySuccession.id)).scalars().first()


def redirect_of(s: Session, agency_id: int) -> Redirect | None:
    """The active successor of a ceased agency (None: the agency is active, or has no successor)."""
    org = s.get(Organisation, agency_id)
    if org is None or org.status == AgencyStatus.ACTIVE.value:
        return None
    current, first = agency_id, None
    for _ in range(MAX_HOPS):
        link = _primary_successor(s, current)
        if link is None:
            return None
        first = first or link
        current = link.successor_id
        successor = s.get(Organisation, current)
        if successor is not None and successor.status == AgencyStatus.ACTIVE.value:
            note = (f"{org.name} ({org.organ_id or org.id}) đã chấm dứt hoạt động từ "
                    f"{first.effective_date.strftime('%d/%m/%Y')} theo {first.decision}; văn bản được chuyển "
                    f"đến cơ quan kế thừa {successor.name} ({successor.organ_id or successor.id})")
            return Redirect(agency_id, current, note)
    return None


def keepers_of(s: Session, agency_id: int) -> set[int]:
    """Every agency that succeeded ``agency_id``, directly or through later reorganisations."""
    return _walk(s, {agency_id}, forward=True)


def predecessors_of(s: Session, agency_ids: Iterable[int]) -> set[int]:
    """Every agency whose records ``agency_ids`` keep: those they succeeded, directly or through earlier
    reorganisations (the reverse of ``keepers_of``)."""
    return _walk(s, set(agency_ids), forward=False)


def _walk(s: Session, start: set[int], *, forward: bool) -> set[int]:
    """The agencies reached from ``start`` along successions (towards successors when ``forward``,
    else towards predecessors), at most ``MAX_HOPS`` reorganisations deep."""
    src, dst = ((AgencySuccession.predecessor_id, AgencySuccession.successor_id) if forward
                else (AgencySuccession.successor_id, AgencySuccession.predecessor_id))
    found: set[int] = set()
    frontier = start
    for _ in range(MAX_HOPS):
        if not frontier:
            break
        nxt = set(s.execute(select(dst).where(src.in_(sorted(frontier)))).scalars()) - found
        found |= nxt
        frontier = nxt
    return found


def holdings_of(s: Session, organ_ids: Iterable[str]) -> list[int]:
    """The agencies whose records a search "of agency X" covers: X itself and every agency X took over
    (its closed fonds). Raises ``InvalidInput`` naming an OrganId that is no agency."""
    from docsvc.errors import InvalidInput
    wanted = list(dict.fromkeys(organ_ids))
    found = dict(s.execute(select(Organisation.organ_id, Organisation.id).where(
        Organisation.organ_id.in_(wanted), Organisation.kind != "unit")).all())
    unknown = [o for o in wanted if o not in found]
    if unknown:
        raise InvalidInput(f"no agency {unknown[0]}", {"field": "agency"})
    ids = set(found.values())
    return sorted(ids | predecessors_of(s, ids))


#: Steps of the reorganisation job that move a document to a successor (their items say where from).
MOVING_STEPS = ("incoming", "drafts")


def provenance_index_fields(s: Session, doc: Document) -> dict[str, Any]:
    """The search index's provenance of a document (name and OrganId of each agency it comes from), so a
    search for a former agency finds it, accents optional as in any text: the agency that ceased for a record
    of its closed fonds, and the agency a document in handling was moved from."""
    from docsvc.db.models import ReorgItem
    origins = [doc.agency_id]
    origins += [d.get("from_agency") for d in s.execute(select(ReorgItem.details).where(
        ReorgItem.item_key == f"document:{doc.id}", ReorgItem.step.in_(MOVING_STEPS))).scalars()]
    names: list[str] = []
    for agency_id in dict.fromkeys(a for a in origins if a is not None):
        org = s.get(Organisation, agency_id)
        if org is not None and org.status != AgencyStatus.ACTIVE.value:
            names += [v for v in (org.name, org.organ_id) if v]
    return {"provenance": names} if names else {}


def successor_relationships(s: Session, doc: Document, rel: Relationships) -> None:
    """The successors of a ceased agency read its records as it did (registry, leaders, archive)."""
    org = s.get(Organisation, doc.agency_id)
    if org is not None and org.status != AgencyStatus.ACTIVE.value:
        rel.keeper_agency_ids |= keepers_of(s, doc.agency_id)

