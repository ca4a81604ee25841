"""Reorganisation of agencies (merge, split, rename): the rules, without SQL.

Decisions this module encodes (DOMAIN.md, "Reorganisation of agencies"):

- A plan names its sources (agencies that cease), its successors (new or existing agencies), the
  effective date and the decision that ordered it. Merge: one or more sources into one successor
  (new, or an existing agency). Split: one source into two or more successors, the unit mapping
  saying which unit goes where; the first successor is the primary one and receives whatever no unit
  decides. Rename: one source into one new successor (new name, new OrganId; the old ones are kept).
- A ceased agency takes no new register numbers; its registers keep their numbers and stay printable.
- Work in handling moves: incoming documents not yet completed and drafts not yet issued go to the
  successor with their assignments, chains and history. Signed-but-not-issued drafts go back to draft:
  the signature was made for the ceased agency (its name in the header, a title whose certificate is
  revoked), and Decree 30 lets only the competent person of the issuing agency sign, so the successor's
  signer re-signs after the header is corrected. The old signed file stays in the document's history.
- Finished records (completed incoming, issued outgoing, dossiers, archived records) are not rewritten:
  they form the closed fonds of the ceased agency (its ``agency_id`` on every row is the provenance),
  kept by the primary successor, whose registry, leaders and archivists read what the ceased
  agency's did.
- Open dossiers of a ceased agency close at the effective date (its work ended then) and join the closed
  fonds like the dossiers closed before; what would have stopped their manager from closing them (no
  retention, a draft filed) is recorded with the closing for the keeper's archivist, not a reason to keep
  a dossier of an agency that no longer exists open. Legal holds and write-once locks are not touched.
- Certificates: the ceased agency's seal is revoked with reason cessationOfOperation, the keys of
  people who leave or whose title changes with affiliationChanged, both at the effective date.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from docsvc.domain.documents import Status
from docsvc.domain.identity import Actor, Role
from docsvc.domain.policies import is_system
from docsvc.errors import InvalidInput, PermissionDenied


class PlanKind(StrEnum):
    MERGE = "merge"
    SPLIT = "split"
    RENAME = "rename"


class AgencyStatus(StrEnum):
    ACTIVE = "active"
    MERGED = "merged"
    SPLIT = "split"
    RENAMED = "renamed"


#: What a source agency becomes when a plan of each kind runs.
CEASED_STATUS = {PlanKind.MERGE: AgencyStatus.MERGED, PlanKind.SPLIT: AgencyStatus.SPLIT,
                 PlanKind.RENAME: AgencyStatus.RENAMED}

#: RFC 5280 reasons used at the effective date.
SEAL_REVOCATION_REASON = "cessation_of_operation"
PERSON_REVOCATION_REASON = "affiliation_changed"

#: Incoming documents still in handling, and drafts not yet issued: they move to the successor.
INCOMING_IN_HANDLING = frozenset({Status.RECEIVED, Status.REGISTERED, Status.ASSIGNED, Status.IN_PROGRESS})
DRAFTS_IN_WORK = frozenset({Status.DRAFT, Status.IN_REVIEW, Status.APPROVED, Status.SIGNED})

#: The job's steps, in order. Each item of a step is done in its own transaction and recorded.
STEPS = ("snapshot", "lifecycle", "units", "users", "incoming", "drafts", "signing_keys", "dossiers", "fonds",
         "verify")

RESIGN_REASON = ("signed for an agency that ceased on {day} ({decision}): the successor's competent signer "
                 "signs again after the header names the successor")


@dataclass(frozen=True)
class SuccessorSpec:
    """An existing agency (``organ_id`` found) or a new one to create with ``name``/``abbreviation``."""

    organ_id: str
    name: str | None = None
    abbreviation: str | None = None
    kind: str = "commune"


@dataclass(frozen=True)
class UserMove:
    """Where one user of a source goes. ``leave``: the account is disabled (never deleted) and his open
    work goes to ``replaced_by``. ``agency`` (an OrganId of a successor), ``roles``, ``units``, ``position``:
    changes; what is not given is kept (units through the unit mapping)."""

    leave: bool = False
    replaced_by: str | None = None
    agency: str | None = None
    roles: tuple[str, ...] | None = None
    units: tuple[int, ...] | None = None
    position: str | None = None


@dataclass(frozen=True)
class UnitMove:
    """Where one unit of a source goes: into an existing ``unit`` of a successor (its people and work follow),
    or, without ``unit``, the unit itself moves under ``agency`` (default: the primary successor)."""

    agency: str | None = None
    unit: int | None = None


@dataclass(frozen=True)
class PlanSpec:
    kind: PlanKind
    effective_date: date
    decision: str
    sources: tuple[str, ...]
    successors: tuple[SuccessorSpec, ...]
    users: Mapping[str, UserMove] = field(default_factory=dict)
    units: Mapping[int, UnitMove] = field(default_factory=dict)

    @property
    def primary(self) -> SuccessorSpec:
        return self.successors[0]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "effective_date": self.effective_date.isoformat(), "decision": self.decision,
                "sources": list(self.sources),
                "successors": [{k: v for k, v in vars(s).items() if v is not None} for s in self.successors],
                "users": {u: {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(m).items()
                              if v not in (None, False)} for u, m in self.users.items()},
                "units": {str(u): {k: v for k, v in vars(m).items() if v is not None} for u, m in self.units.items()}}


def parse_plan(data: Mapping[str, Any]) -> PlanSpec:
    """A plan from its JSON form (the API body, the CLI file, the stored spec); InvalidInput names the field."""
    def need(name: str) -> Any:
        if data.get(name) in (None, "", []):
            raise InvalidInput(f"{name} is required", {"field": name})
        return data[name]
    try:
        kind = PlanKind(need("kind"))
    except ValueError:
        raise InvalidInput("kind is merge, split or rename", {"field": "kind"}) from None
    try:
        day = date.fromisoformat(str(need("effective_date")))
    except ValueError:
        raise InvalidInput("effective_date is a date (YYYY-MM-DD)", {"field": "effective_date"}) from None
    decision = str(need("decision")).strip()[:200]
    sources = tuple(str(s).strip() for s in need("sources"))
    successors = tuple(_successor(s, i) for i, s in enumerate(need("successors")))
    users = {str(k).strip().lower(): _user_move(k, v) for k, v in (data.get("users") or {}).items()}
    units = {_int(k, "units"): _unit_move(k, v) for k, v in (data.get("units") or {}).items()}
    spec = PlanSpec(kind, day, decision, sources, successors, users, units)
    check_shape(spec)
    return spec


def check_shape(spec: PlanSpec) -> None:
    n_src, n_succ = len(spec.sources), len(spec.successors)
    if len(set(spec.sources)) != n_src:
        raise InvalidInput("a source is named twice", {"field": "sources"})
    if len({s.organ_id for s in spec.successors}) != n_succ:
        raise InvalidInput("a successor is named twice", {"field": "successors"})
    if set(spec.sources) & {s.organ_id for s in spec.successors}:
        raise InvalidInput("an agency cannot be both a source and a successor", {"field": "successors"})
    if spec.kind is PlanKind.MERGE and n_succ != 1:
        raise InvalidInput("a merge has exactly one successor", {"field": "successors"})
    if spec.kind is PlanKind.SPLIT and (n_src != 1 or n_succ < 2):
        raise InvalidInput("a split has one source and at least two successors", {"field": "successors"})
    if spec.kind is PlanKind.RENAME and (n_src != 1 or n_succ != 1):
        raise InvalidInput("a rename has one source and one successor", {"field": "successors"})
    targets = {s.organ_id for s in spec.successors}
    for username, move in spec.users.items():
        if move.agency is not None and move.agency not in targets:
            raise InvalidInput(f"user {username}: agency {move.agency} is not a successor", {"field": "users"})
        if move.leave and move.agency is not None:
            raise InvalidInput(f"user {username}: one who leaves goes to no agency", {"field": "users"})
        if move.roles is not None:
            unknown = sorted(set(move.roles) - {r.value for r in Role})
            if unknown:
                raise InvalidInput(f"user {username}: unknown role {unknown[0]!r}", {"field": "users"})
    for unit_id, umove in spec.units.items():
        if umove.agency is not None and umove.agency not in targets:
            raise InvalidInput(f"unit {unit_id}: agency {umove.agency} is not a successor", {"field": "units"})


def may_reorganise(actor: Actor, province_id: int | None, source_parent_ids: Iterable[int | None]) -> None:
    """The province's administrator reorganises the agencies directly under the province (the CLI acts
    as ``SYSTEM``: the deployment's operator)."""
    if is_system(actor):
        return
    if not actor.has(Role.ADMIN):
        raise PermissionDenied("only an administrator prepares and runs a reorganisation")
    if any(p != actor.agency_id for p in source_parent_ids) or province_id != actor.agency_id:
        raise PermissionDenied("a reorganisation is run by the administrator of the province the agencies belong to")


def record_digest(document_id: int, file_sha256s: Iterable[str]) -> str:
    """SHA-256 over a record's identity and the SHA-256 of each of its stored files (order-free)."""
    h = hashlib.sha256(f"document:{document_id}".encode())
    for sha in sorted(file_sha256s):
        h.update(b"|" + sha.encode())
    return h.hexdigest()


def manifest_digest(records: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(records.items())).encode()).hexdigest()


def compare_manifests(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What was lost or changed between the two manifests (empty: nothing)."""
    problems = []
    b, a = before.get("records", {}), after.get("records", {})
    for key in sorted(set(b) - set(a), key=int):
        problems.append(f"document {key} is missing")
    for key in sorted(set(b) & set(a), key=int):
        if b[key] != a[key]:
            problems.append(f"document {key}: files changed (SHA-256 differs)")
    for name in ("register_entries", "dossiers", "dossier_documents", "users"):
        if before.get("counts", {}).get(name) != after.get("counts", {}).get(name):
            problems.append(f"{name}: {before.get('counts', {}).get(name)} before, "
                            f"{after.get('counts', {}).get(name)} after")
    return problems


def _successor(raw: Any, i: int) -> SuccessorSpec:
    if not isinstance(raw, Mapping) or not str(raw.get("organ_id") or "").strip():
        raise InvalidInput(f"successors[{i}] needs an organ_id", {"field": "successors"})
    organ_id = str(raw["organ_id"]).strip()
    if len(organ_id) != 13:
        raise InvalidInput(f"successors[{i}]: an OrganId has 13 characters", {"field": "successors"})
    return SuccessorSpec(organ_id, raw.get("name"), raw.get("abbreviation"), str(raw.get("kind") or "commune"))


def _user_move(key: Any, raw: Any) -> UserMove:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"users.{key} is an object", {"field": "users"})
    roles = raw.get("roles")
    units = raw.get("units")
    return UserMove(leave=bool(raw.get("leave", False)),
                    replaced_by=str(raw["replaced_by"]).strip().lower() if raw.get("replaced_by") else None,
                    agency=raw.get("agency"), roles=tuple(roles) if roles is not None else None,
                    units=tuple(_int(u, "users") for u in units) if units is not None else None,
                    position=raw.get("position"))


def _unit_move(key: Any, raw: Any) -> UnitMove:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"units.{key} is an object", {"field": "units"})
    return UnitMove(agency=raw.get("agency"), unit=_int(raw["unit"], "units") if raw.get("unit") is not None else None)


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name}: {value!r} is not an id", {"field": name}) from None


#: Columns of the CSV of people whose certificates are issued in bulk.
PEOPLE_COLUMNS = ("name", "title", "unit", "email")
#: The most people one CSV may hold (Da Nang re-issued about 3,000 signatures in all).
MAX_PEOPLE = 10_000


def parse_people_csv(text: str) -> list[dict[str, Any]]:
    """The rows of a CSV with the columns ``name, title, unit, email`` (header first), each with its line
    number; InvalidInput lists every bad line at once (``details.lines``)."""
    import csv
    import io
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if sorted(header) != sorted(PEOPLE_COLUMNS):
        raise InvalidInput(f"the CSV's header is {', '.join(PEOPLE_COLUMNS)}", {"field": "csv"})
    rows, problems, seen = [], [], set()
    for line, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        email = row["email"].lower()
        if not row["name"] or len(row["name"]) > 200:
            problems.append({"line": line, "message": "a name of 1 to 200 characters is required"})
        elif "@" not in email or len(email) > 200:
            problems.append({"line": line, "message": "an e-mail address is required"})
        elif email in seen:
            problems.append({"line": line, "message": f"{email} is listed twice"})
        else:
            seen.add(email)
            rows.append({"line": line, "name": row["name"], "title": row["title"][:200], "unit": row["unit"],
                         "email": email})
    if len(rows) + len(problems) > MAX_PEOPLE:
        raise InvalidInput(f"at most {MAX_PEOPLE} people per CSV", {"field": "csv"})
    if problems:
        raise InvalidInput(f"{len(problems)} line(s) of the CSV are wrong", {"field": "csv", "lines": problems})
    if not rows:
        raise InvalidInput("the CSV lists nobody", {"field": "csv"})
    return rows
