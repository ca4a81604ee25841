"""What the current user may do with one document now, and the choices each action offers.

One place for the pages (and any client) to decide which buttons and forms to show. Each action is
offered exactly when its policy in ``docsvc.domain.policies`` says yes, the same policy the service
enforces on every POST, so the list and the services cannot disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.models import Document, Organisation, Recipient, User, UserRole, UserUnit
from docsvc.db.uow import Database
from docsvc.domain import policies
from docsvc.domain.approval import StepKind
from docsvc.domain.documents import Direction
from docsvc.domain.identity import Actor, Role
from docsvc.services.access import load_readable
from docsvc.services.approval import chains
from docsvc.services.archives.common import protection_of
from docsvc.services.exchange.service import sent_outside
from docsvc.services.incoming import open_assignment, open_assignments
from docsvc.services.outgoing import awaiting_confirmation

INCOMING_ACTIONS = ("register", "return_to_sender", "assign", "reassign", "progress", "complete",
                    "confirm_recall")
OUTGOING_ACTIONS = ("submit", "approve", "reject", "return_for_revision", "sign", "issue", "recall",
                    "page_positions", "exchange_update", "exchange_replace")
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
    replacements: list[Option] = field(default_factory=list)  # issued documents that may replace it (exchange)

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
        open_ones = open_assignments(s, doc)
        mine = open_assignment(s, doc, actor, open_ones)
        recipient = s.execute(select(Recipient).where(Recipient.incoming_document_id == doc.id)).scalars().first()
        offered = {
            "register": policies.may_register(actor, doc),
            "return_to_sender": policies.may_return_to_sender(actor, doc),
            "assign": policies.may_assign(actor, doc),
            "progress": policies.may_report_progress(actor, doc, handler=mine is not None),
            "complete": policies.may_complete(actor, doc, lead_handler=mine is not None and mine.role == "lead"),
            "confirm_recall": policies.may_confirm_recall(
                actor, doc, awaiting_confirmation=awaiting_confirmation(recipient)),
        }
        out = {action for action, decision in offered.items() if decision}
        if actor.has(Role.UNIT_HEAD):
            result.reassignable = [
                {"id": a.id, "role": a.role, "deadline": a.deadline.isoformat() if a.deadline else None}
                for a in open_ones
                if a.user_id == actor.user_id or (a.unit_id is not None and a.unit_id in actor.unit_ids)]
            if result.reassignable:
                out.add("reassign")
        return out

    def _outgoing(self, s: Session, doc: Document, actor: Actor, result: AllowedActions) -> set[str]:
        went_out = sent_outside(s, doc.id)
        out = {action for action, decision in {
            "submit": policies.may_submit(actor, doc),
            "recall": policies.may_recall(actor, doc),
            "page_positions": policies.may_place_positions(actor, doc),
            "exchange_update": policies.may_update_outside(actor, doc, sent_outside=went_out),
            "exchange_replace": policies.may_replace_outside(actor, doc, sent_outside=went_out),
        }.items() if decision}
        turn = chains.turn(s, doc, actor)
        if turn is not None:
            kind = StepKind(turn.step.kind)
            result.step, result.authority_form = kind.value, turn.authority_form
            allowed = set(_STEP_ACTIONS[kind])
            if kind is StepKind.ISSUE and not policies.may_issue(actor, doc, issue_turn=True):
                allowed.discard("issue")
            out |= allowed
        return out

    def _common(self, doc: Document, actor: Actor) -> set[str]:
        return {action for action, decision in {
            "new_version": policies.may_add_version(actor, doc),
            "copy": policies.may_copy(actor, doc),
        }.items() if decision}

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
        if "exchange_replace" in acts:
            candidates = s.execute(select(Document).where(
                Document.agency_id == doc.agency_id, Document.id != doc.id,
                Document.direction != Direction.INCOMING.value, Document.status == "issued", Document.secrecy == 0)
                .order_by(Document.id.desc()).limit(50)).scalars()
            result.replacements = [Option(d.id, f"{d.code_number}/{d.code_notation} — {d.subject[:80]}")
                                   for d in candidates if policies.may_replace_with(actor, doc, d)]
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
    q = select(User.id, User.full_name, User.position).where(  # the columns shown (not the users' roles, units)
        User.agency_id == doc.agency_id, User.is_active.is_(True), User.clearance >= doc.secrecy)
    if role is not None:
        q = q.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role.value)))
    if units is not None:
        q = q.where(User.id.in_(select(UserUnit.user_id).where(UserUnit.unit_id.in_(sorted(units)))))
    return [Option(uid, f"{name} — {position}" if position else name)
            for uid, name, position in s.execute(q.order_by(User.full_name))]
