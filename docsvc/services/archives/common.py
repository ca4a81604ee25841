"""Helpers shared by the archive services: permissions, loading what the caller may see, the
protection state of documents (archived, held), and the API shapes of dossiers.

The system (CLI on the server, periodic tasks) acts as the explicit ``policies.SYSTEM`` actor: it
passes the permission checks and sees every agency; its actions are audited as "system".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import BindParameter, bindparam, literal_column, select, union_all
from sqlalchemy.orm import Session

from docsvc.db.models import Dossier, DossierDocument, LegalHold, Organisation, RetentionPeriod, User, UserRole
from docsvc.db.rows import must_get
from docsvc.domain.archives import DossierStatus, Retention, Rights
from docsvc.domain.identity import Actor, Role, Secrecy
from docsvc.domain.policies import is_system
from docsvc.errors import InvalidInput, Msg, NotFound, PermissionDenied
from docsvc.services.user_names import user_names
from docsvc.timeutil import to_vn_iso

#: Who keeps the dossier plan and files for anyone: the archive and the registry.
PLAN_KEEPERS = (Role.ARCHIVIST, Role.CLERK)
#: Who decides on holds; the head (leader) approves destruction and declassification.
HOLD_KEEPERS = (Role.ARCHIVIST, Role.LEADER)


def require(actor: Actor, *roles: Role, message: str) -> None:
    if not is_system(actor) and not actor.has(*roles):
        raise PermissionDenied(message)


def required_text(value: str | None, field_name: str, max_len: int) -> str:
    """A required free-text field, stripped; InvalidInput naming the field when empty or too long."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{field_name} is required", {"field": field_name})
    if len(text) > max_len:
        raise InvalidInput(f"{field_name} is longer than {max_len} characters", {"field": field_name})
    return text


def agency_of(actor: Actor, agency_id: int | None) -> int:
    """The agency an action is about: the actor's own (the system must name one)."""
    if not is_system(actor):
        if agency_id is not None and agency_id != actor.agency_id:
            raise PermissionDenied(Msg("archives.you_act_your_own_agency_only", "you act for your own agency only"))
        return actor.agency_id
    if agency_id is None:
        raise NotFound("name the agency")
    return agency_id


def may_see_dossier(actor: Actor, dossier: Dossier) -> bool:
    """Members of the dossier's agency cleared to its level (a dossier of secret documents is secret)."""
    return is_system(actor) or (actor.agency_id == dossier.agency_id and int(actor.clearance) >= dossier.secrecy)


def load_dossier(s: Session, actor: Actor, dossier_id: int, *, for_update: bool = False) -> Dossier:
    q = select(Dossier).where(Dossier.id == dossier_id)
    if for_update:
        q = q.with_for_update()
    dossier = s.execute(q).scalar_one_or_none()
    if dossier is None or not may_see_dossier(actor, dossier):
        raise NotFound(f"dossier {dossier_id} not found")
    return dossier


def may_manage(actor: Actor, dossier: Dossier) -> bool:
    """The dossier's owner, or the agency's archive and registry."""
    return is_system(actor) or actor.has(*PLAN_KEEPERS) or dossier.owner_id == actor.user_id


def require_manager(actor: Actor, dossier: Dossier) -> None:
    if not may_manage(actor, dossier):
        raise PermissionDenied(Msg("archives.only_dossier_owner_archive_registry_manage",
                                   "only the dossier's owner, the archive or the registry manage this dossier"))


def retention_of(s: Session, dossier: Dossier) -> Retention | None:
    if dossier.retention_id is None:
        return None
    return Retention(must_get(s, RetentionPeriod, dossier.retention_id).years)


def document_ids_of(s: Session, dossier_ids: Iterable[int]) -> list[int]:
    ids = list(dossier_ids)
    if not ids:
        return []
    return sorted(set(s.execute(select(DossierDocument.document_id).where(
        DossierDocument.dossier_id.in_(ids))).scalars()))


# ---------------------------------------------------------------- protection (archived / held)
def archived_document_ids(s: Session, doc_ids: Iterable[int]) -> set[int]:
    ids = list(doc_ids)
    if not ids:
        return set()
    return set(s.execute(_archived(ids)).scalars())


def held_document_ids(s: Session, doc_ids: Iterable[int]) -> set[int]:
    """Documents under an active legal hold, directly or through a dossier holding them."""
    ids = list(doc_ids)
    return set(s.execute(union_all(*_documents_held(ids))).scalars()) if ids else set()


def held_dossier_ids(s: Session, dossier_ids: Iterable[int]) -> set[int]:
    """Dossiers under a hold, or holding a document under a hold."""
    ids = list(dossier_ids)
    return set(s.execute(union_all(*_under_hold(ids, held=LegalHold.dossier_id, member=DossierDocument.dossier_id,
                                                via_hold=LegalHold.document_id,
                                                via_member=DossierDocument.document_id))).scalars()) if ids else set()


def protection_of(s: Session, doc_ids: Iterable[int]) -> dict[int, str]:
    """document id → "archived" or "held" for the protected ones among ``doc_ids`` (one query)."""
    ids = [i for i in set(doc_ids) if i is not None]
    if not ids:
        return {}
    out: dict[int, str] = {}
    for doc_id, kind in s.execute(_PROTECTION, {"ids": ids}):
        if kind == "held" or doc_id not in out:  # held wins: its hold is what blocks disposal
            out[doc_id] = kind
    return out


def _archived(ids: list[int] | BindParameter[Any], kind: str | None = None) -> Any:
    """SELECT of the ids among ``ids`` of documents in an archived dossier (and ``kind`` as a 2nd column)."""
    return (select(DossierDocument.document_id, *_kind(kind)).join(Dossier, Dossier.id == DossierDocument.dossier_id)
            .where(DossierDocument.document_id.in_(ids), Dossier.status == DossierStatus.ARCHIVED.value))


def _documents_held(ids: list[int] | BindParameter[Any], kind: str | None = None) -> list[Any]:
    return _under_hold(ids, held=LegalHold.document_id, member=DossierDocument.document_id,
                       via_hold=LegalHold.dossier_id, via_member=DossierDocument.dossier_id, kind=kind)


def _under_hold(ids: list[int] | BindParameter[Any], *, held: Any, member: Any, via_hold: Any, via_member: Any,
                kind: str | None = None) -> list[Any]:
    """The SELECTs (to join by UNION ALL) of the ids among ``ids`` whose own hold column (``held``) is
    under an active hold, or that are linked through the dossier–document table (``member`` ↔
    ``via_member``) to a record whose hold column ``via_hold`` is."""
    active = LegalHold.released_at.is_(None)
    return [select(held, *_kind(kind)).where(held.in_(ids), active),
            select(member, *_kind(kind)).join(LegalHold, via_hold == via_member).where(member.in_(ids), active)]


def _kind(kind: str | None) -> list[Any]:
    return [] if kind is None else [literal_column(f"'{kind}'").label("kind")]


_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
#: :func:`protection_of`'s statement, built once (every document page asks): (document id, kind).
_PROTECTION = union_all(_archived(_IDS, "archived"), *_documents_held(_IDS, "held"))


# ---------------------------------------------------------------- people to tell
def users_with_role(s: Session, agency_id: int, role: Role) -> list[int]:
    return list(s.execute(select(User.id).join(UserRole, UserRole.user_id == User.id).where(
        User.agency_id == agency_id, UserRole.role == role.value, User.is_active.is_(True))).scalars())


# ---------------------------------------------------------------- shapes
def retention_dict(row: RetentionPeriod) -> dict[str, Any]:
    r = Retention(row.years)
    return {"id": row.id, "code": row.code, "version": row.version, "description": row.description,
            "years": row.years, "permanent": r.permanent, "label": r.label_vi, "key": r.key,
            "legal_basis": row.legal_basis, "current": row.is_current, "change_reason": row.change_reason,
            "created_at": to_vn_iso(row.created_at), "superseded_at": to_vn_iso(row.superseded_at)}


def dossier_dicts(s: Session, rows: Iterable[Dossier], *, held: set[int] | None = None) -> list[dict[str, Any]]:
    """:func:`dossier_dict` of many dossiers, with their retention periods, owners' names, units and
    holds (unless given) loaded in one query each rather than per dossier."""
    dossiers = list(rows)
    retention_ids = sorted({d.retention_id for d in dossiers if d.retention_id})
    unit_ids = sorted({d.unit_id for d in dossiers if d.unit_id})
    # Kept referenced while the dossiers are shaped: dossier_dict's s.get() then finds them in the
    # session (its identity map holds objects only while something else does).
    loaded = [*s.execute(select(RetentionPeriod).where(RetentionPeriod.id.in_(retention_ids))).scalars(),
              *s.execute(select(Organisation).where(Organisation.id.in_(unit_ids))).scalars()] if dossiers else []
    user_names(s, [d.owner_id for d in dossiers])
    held = held_dossier_ids(s, [d.id for d in dossiers]) if held is None else held
    out = [dossier_dict(s, d, held=d.id in held) for d in dossiers]
    del loaded
    return out


def dossier_dict(s: Session, d: Dossier, *, held: bool | None = None) -> dict[str, Any]:
    """A dossier with its Appendix VI metadata names alongside."""
    retention_row = s.get(RetentionPeriod, d.retention_id) if d.retention_id else None
    retention = Retention(retention_row.years) if retention_row else None
    owner = user_names(s, [d.owner_id]).get(d.owner_id) if d.owner_id else None
    unit = s.get(Organisation, d.unit_id) if d.unit_id else None
    status, rights, secrecy = DossierStatus(d.status), Rights(d.rights), Secrecy(d.secrecy)
    if held is None:
        held = bool(held_dossier_ids(s, [d.id]))
    expires = retention.expires_on(d.work_ended_on) if retention and d.work_ended_on else None
    return {
        "id": d.id, "plan_id": d.plan_id, "agency_id": d.agency_id, "year": d.year,
        "notation": d.notation, "file_code": d.file_code,  # FileCode
        "title": d.title,  # Title
        "retention": retention_dict(retention_row) if retention_row else None,
        "maintenance": retention.label_vi if retention else None,  # Maintenance
        "rights": rights.value, "rights_label": rights.label_vi,  # Rights
        "language": d.language, "description": d.description,  # Language, Description
        "start_date": _iso(d.start_date), "end_date": _iso(d.end_date),  # StartDate, EndDate
        "doc_total": d.doc_total, "page_total": d.page_total,  # DocTotal, PageTotal
        "status": status.value, "status_label": status.label_vi,
        "secrecy": secrecy.key, "secrecy_label": secrecy.label_vi,
        "owner": {"id": d.owner_id, "full_name": owner} if owner is not None else None,
        "unit": {"id": unit.id, "name": unit.name, "abbreviation": unit.abbreviation} if unit else None,
        "construction": d.construction, "settlement_date": _iso(d.settlement_date),
        "work_ended_on": _iso(d.work_ended_on), "retention_expires_on": _iso(expires),
        "transfer_due_on": _iso(d.transfer_due_on), "transfer_id": d.transfer_id,
        "opened_at": to_vn_iso(d.opened_at), "closed_at": to_vn_iso(d.closed_at),
        "archived_at": to_vn_iso(d.archived_at), "destroyed_at": to_vn_iso(d.destroyed_at),
        "legal_hold": held,
    }


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None
