"""What the current user may do with one document now, and the choices each action offers.

One place for the pages (and any client) to decide which buttons and forms to show. The rules are
the ones the services enforce (roles, agency, state transitions, whose turn it is in the chain,
open assignments); the services still check them on every POST, so this list can only ever be
narrower than what a service accepts, never wider.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.models import Assignment, Document, Organisation, Recipient, User, UserRole, UserUnit
from docsvc.db.uow import Database
from docsvc.domain.approval import StepKind
from docsvc.domain.documents import ASSIGNABLE, EDITABLE, FROZEN, Direction, Status, can_transition
from docsvc.domain.identity import Actor, Role
from docsvc.services.access import load_readable
from docsvc.services.approval import chains
from docsvc.services.archives.common import protection_of
from docsvc.services.incoming import open_assignment
from docsvc.services.outgoing import RECALL_CONFIRMED

INCOMING_ACTIONS = ("register", "return_to_sender", "assign", "reassign", "progress", "complete",
                    "confirm_recall")
OUTGOING_ACTIONS = ("submit", "approve", "reject", "return_for_revision", "sign", "issue", "recall")
COMMON_ACTIONS = ("new_version", "copy")
ALL_ACTIONS = INCOMING_ACTIONS + OUTGOING_ACTIONS + COMMON_ACTIONS

# Decisions a chain step accepts from the person whose turn it is (ApprovalService.decide,
# OutgoingService.sign and .issue).
_STEP_ACTIONS = {StepKind.REVIEW: ("approve", "reject", "return_for_revision"),
                 StepKind.APPROVE: ("approve", "reject", "return_for_revision"),
                 StepKind.SIGN: ("sign", "reject", "return_for_revision"),
                 StepKind.ISSUE: ("issue",)}


@dataclass(frozen=True)
class Option:
    id: int
    label: str


@dataclass
class AllowedActions:
    """The actions ``actor`` may take on the document, with what their forms offer."""

    document_id: int
    actions: frozenset[str]
    step: str | None = None  # the chain step waiting for the actor (review, approve, sign, issue)
    protection: str | None = None  # "archived" or "held": write-once, only copies may be made
    authority_form: str | None = None  # when acting as a delegate (KT., TL., ...)
    reassignable: list[dict[str, Any]] = field(default_factory=list)  # open assignments the actor may pass on
    assignees: list[Option] = field(default_factory=list)  # users cleared for the document
    units: list[Option] = field(default_factory=list)  # units of the document's agency
    officers: list[Option] = field(default_factory=list)  # officers of the actor's units (re-assignment)
    signers: list[Option] = field(default_factory=list)  # leaders who may sign it (submit)
    templates: list[Option] = field(default_factory=list)  # chain templates of the agency (submit)
    agencies: list[Option] = field(default_factory=list)  # other agencies on this system (issue)
    outside: list[Option] = field(default_factory=list)  # outside agencies of the exchange directory (issue)

    def __contains__(self, action: str) -> bool:
        return action in self.actions

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["actions"] = sorted(self.actions)
        return out


class ActionService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def allowed(self, actor: Actor, doc_id: int) -> AllowedActions:
        """NotFound when the document is not readable by ``actor`` (as every read path)."""
        with self.db.read() as s:
            doc = load_readable(s, actor, doc_id)
            actions: set[str] = set()
            result = AllowedActions(doc.id, frozenset())
            if doc.direction == Direction.INCOMING.value:
                actions |= self._incoming(s, doc, actor, result)
            else:
                actions |= self._outgoing(s, doc, actor, result)
            actions |= self._common(doc, actor)
            result.protection = protection_of(s, [doc.id]).get(doc.id)
            if result.protection is not None:  # the write-once guard refuses every change to it
                actions &= {"copy"}
            result.actions = frozenset(actions)
            self._options(s, doc, actor, result)
            return result

    # ------------------------------------------------------------ rules
    def _incoming(self, s: Session, doc: Document, actor: Actor, result: AllowedActions) -> set[str]:
        status, same_agency = Status(doc.status), actor.agency_id == doc.agency_id
        out: set[str] = set()
        registry = actor.has(Role.CLERK) and same_agency
        leader = actor.has(Role.LEADER) and same_agency
        if registry and can_transition(Direction.INCOMING, status, Status.REGISTERED):
            out.add("register")
        if registry and can_transition(Direction.INCOMING, status, Status.RETURNED):
            out.add("return_to_sender")
        if leader and status in ASSIGNABLE:
            out.add("assign")
        mine = open_assignment(s, doc, actor)
        if mine is not None and status in (Status.ASSIGNED, Status.IN_PROGRESS):
            out.add("progress")
        if (leader or (mine is not None and mine.role == "lead")) and \
                can_transition(Direction.INCOMING, status, Status.COMPLETED):
            out.add("complete")
        if actor.has(Role.UNIT_HEAD):
            result.reassignable = [
                {"id": a.id, "role": a.role, "deadline": a.deadline.isoformat() if a.deadline else None}
                for a in s.execute(select(Assignment).where(Assignment.document_id == doc.id,
                                                            Assignment.status == "open")
                                   .order_by(Assignment.id)).scalars()
                if a.user_id == actor.user_id or (a.unit_id is not None and a.unit_id in actor.unit_ids)]
            if result.reassignable:
                out.add("reassign")
        if registry and status is Status.WITHDRAWN and s.execute(select(Recipient.id).where(
                Recipient.incoming_document_id == doc.id, Recipient.status_code != RECALL_CONFIRMED)).first():
            out.add("confirm_recall")
        return out

    def _outgoing(self, s: Session, doc: Document, actor: Actor, result: AllowedActions) -> set[str]:
        direction, status = Direction(doc.direction), Status(doc.status)
        out: set[str] = set()
        if doc.created_by == actor.user_id and status is Status.DRAFT and not doc.content_offline \
                and doc.current_version > 0:
            out.add("submit")
        turn = chains.turn(s, doc, actor)
        if turn is not None:
            kind = StepKind(turn.step.kind)
            result.step, result.authority_form = kind.value, turn.authority_form
            allowed = set(_STEP_ACTIONS[kind])
            if kind is StepKind.ISSUE and not (actor.has(Role.CLERK) and actor.agency_id == doc.agency_id
                                               and can_transition(direction, status, Status.ISSUED)):
                allowed.discard("issue")
            out |= allowed
        if actor.agency_id == doc.agency_id and actor.has(Role.LEADER, Role.CLERK) \
                and can_transition(direction, status, Status.RECALLED):
            out.add("recall")
        return out

    def _common(self, doc: Document, actor: Actor) -> set[str]:
        status = Status(doc.status)
        incoming = doc.direction == Direction.INCOMING.value
        out: set[str] = set()
        if doc.content_destroyed_at is not None:  # destroyed after appraisal: only its metadata is left
            return out
        if status in EDITABLE and not doc.content_offline and (
                actor.has(Role.CLERK) if incoming else doc.created_by == actor.user_id):
            out.add("new_version")
        if actor.has(Role.CLERK) and not doc.content_offline and doc.current_version > 0 \
                and status not in FROZEN and (incoming or status is Status.ISSUED):
            out.add("copy")
        return out

    # ------------------------------------------------------------ form choices
    def _options(self, s: Session, doc: Document, actor: Actor, result: AllowedActions) -> None:
        acts = result.actions
        if "assign" in acts:
            result.assignees = _users(s, doc)
        if acts & {"assign", "issue"}:
            result.units = [Option(o.id, o.name) for o in s.execute(
                select(Organisation).where(Organisation.parent_id == doc.agency_id, Organisation.kind == "unit")
                .order_by(Organisation.name)).scalars()]
        if "reassign" in acts:
            result.officers = [o for o in _users(s, doc, units=actor.unit_ids) if o.id != actor.user_id]
        if "submit" in acts:
            result.signers = _users(s, doc, role=Role.LEADER)
            from docsvc.db.models import ChainTemplate
            result.templates = [Option(t.id, t.name) for t in s.execute(
                select(ChainTemplate).where(ChainTemplate.agency_id == doc.agency_id,
                                            ChainTemplate.active.is_(True)).order_by(ChainTemplate.id)).scalars()]
        if "issue" in acts:
            result.agencies = [Option(o.id, o.name) for o in s.execute(
                select(Organisation).where(Organisation.kind != "unit", Organisation.id != doc.agency_id)
                .order_by(Organisation.name)).scalars()]
            if not doc.secrecy:  # secret documents never go to outside agencies electronically
                from docsvc.db.models import ExchangeAgency
                result.outside = [Option(a.id, f"{a.name} ({a.organ_id})") for a in s.execute(
                    select(ExchangeAgency).where(ExchangeAgency.active.is_(True))
                    .order_by(ExchangeAgency.name)).scalars()]


def _users(s: Session, doc: Document, *, role: Role | None = None, units: frozenset[int] | None = None
           ) -> list[Option]:
    """Active users of the document's agency cleared for it (optionally with a role, or in units)."""
    q = select(User).where(User.agency_id == doc.agency_id, User.is_active.is_(True),
                           User.clearance >= doc.secrecy)
    if role is not None:
        q = q.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role.value)))
    if units is not None:
        q = q.where(User.id.in_(select(UserUnit.user_id).where(UserUnit.unit_id.in_(sorted(units)))))
    return [Option(u.id, f"{u.full_name} — {u.position}" if u.position else u.full_name)
            for u in s.execute(q.order_by(User.full_name)).scalars()]
