"""Approval chains (templates, submit, approve/reject/return) and delegations of authority."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import (
    ChainDecision,
    ChainInstance,
    ChainStep,
    ChainTemplate,
    Delegation,
    Document,
    DocumentFile,
    DocumentType,
    User,
    UserRole,
    UserUnit,
)
from docsvc.db.rows import must_get
from docsvc.db.uow import Database, read_memo
from docsvc.domain import policies
from docsvc.domain.approval import (
    DEFAULT_CHAIN,
    AuthorityForm,
    StepKind,
    check_new_delegation,
    parse_steps,
    step_complete,
)
from docsvc.domain.documents import Status
from docsvc.domain.identity import Actor, RequestOrigin, Role
from docsvc.domain.policies import is_system
from docsvc.errors import InvalidInput, InvalidState, Msg, NotFound, PermissionDenied
from docsvc.services import audit, delegations
from docsvc.services.access import load_readable, refresh_readers
from docsvc.services.documents import DocumentView, document_dict
from docsvc.services.notifications import SUBJECT, notify_readers
from docsvc.timeutil import to_vn_iso, vn_today


@dataclass(frozen=True)
class Turn:
    """Whose turn it is: the pending decision the actor may take, directly or as a delegate."""

    decision: ChainDecision
    step: ChainStep
    instance: ChainInstance
    delegation: Delegation | None

    @property
    def authority_form(self) -> str | None:
        return AuthorityForm(self.delegation.form).prefix if self.delegation else None


class ApprovalService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------ templates
    def list_templates(self, actor: Actor) -> list[dict[str, Any]]:
        with self.db.read() as s:
            rows = s.execute(select(ChainTemplate).where(ChainTemplate.agency_id == actor.agency_id,
                                                         ChainTemplate.active.is_(True))
                             .order_by(ChainTemplate.id)).scalars()
            return [_template_dict(s, t) for t in rows]

    def save_template(self, actor: Actor, *, agency_id: int, name: str, steps: list[dict[str, Any]],
                      type_code: str | None = None, template_id: int | None = None,
                      origin: RequestOrigin | None = None) -> dict[str, Any]:
        if not is_system(actor) and not (actor.has(Role.ADMIN) and actor.agency_id == agency_id):
            raise PermissionDenied(Msg("approval.only_agency_administrator_edits_approval_chains",
                                       "only the agency's administrator edits approval chains"))
        parse_steps(steps)
        if not name.strip():
            raise InvalidInput(Msg("approval.name_chain", "name the chain"), {"field": "name"})
        with self.db.write() as s:
            type_id = None
            if type_code:
                t = s.execute(select(DocumentType).where(DocumentType.code == type_code)).scalar_one_or_none()
                if t is None and type_code != "cong_van":
                    raise InvalidInput(f"unknown document type {type_code!r}", {"field": "type_code"})
                if t is None:
                    t = s.execute(select(DocumentType).where(DocumentType.kind == "cong_van")).scalars().first()
                if t is None:
                    raise InvalidInput(f"unknown document type {type_code!r}", {"field": "type_code"})
                type_id = t.id
            if template_id is not None:
                tpl = s.get(ChainTemplate, template_id)
                if tpl is None or tpl.agency_id != agency_id:
                    raise NotFound(f"chain template {template_id} not found")
            else:
                tpl = ChainTemplate(agency_id=agency_id, created_by=actor.user_id if not is_system(actor) else None)
                s.add(tpl)
            tpl.name, tpl.steps, tpl.type_id, tpl.active = name.strip(), steps, type_id, True
            s.flush()
            audit.record(s, actor=actor, action="chain_template.save", object_type="chain_template",
                         object_id=tpl.id, origin=origin, agency_id=agency_id,
                         details={"name": tpl.name, "type": type_code, "steps": len(steps)})
            return _template_dict(s, tpl)

    # ------------------------------------------------------------ submit
    def submit(self, actor: Actor, doc_id: int, *, template_id: int | None = None, signer_id: int | None = None,
               origin: RequestOrigin | None = None) -> DocumentView:
        with self.db.write() as s:
            doc = load_readable(s, actor, doc_id, for_update=True)
            policies.may_submit(actor, doc).enforce()
            tpl_steps, tpl_id = chains.template_for(s, doc, template_id)
            instance = chains.instantiate(s, doc, actor, tpl_steps, tpl_id, signer_id)
            doc.status, doc.status_reason = Status.IN_REVIEW.value, None
            chains.activate_next(s, doc, instance)
            refresh_readers(s, doc)
            audit.record(s, actor=actor, action="document.submit", object_type="document", object_id=doc.id,
                         origin=origin, details={"chain": instance.id, "template": tpl_id,
                                                 "sha256": instance.content_sha256})
            return DocumentView(document_dict(s, doc, hide_subject=False, detail=True))

    # ------------------------------------------------------------ decisions
    def decide(self, actor: Actor, doc_id: int, decision: str, reason: str = "",
               origin: RequestOrigin | None = None) -> DocumentView:
        """approve / reject / return for revision, on a review or approve step."""
        if decision not in ("approved", "rejected", "returned"):
            raise InvalidInput("decision is approve, reject or return")
        if decision != "approved" and not reason.strip():
            raise InvalidInput(Msg("approval.say_why_reason_goes_back_drafter",
                                   "say why (the reason goes back to the drafter)"), {"field": "reason"})
        with self.db.write() as s:
            doc = load_readable(s, actor, doc_id, for_update=True)
            turn = chains.turn(s, doc, actor)
            if turn is None:
                raise PermissionDenied(Msg("approval.document_not_waiting_your_decision",
                                           "this document is not waiting for your decision"))
            kind = StepKind(turn.step.kind)
            if kind in (StepKind.SIGN, StepKind.ISSUE) and decision == "approved":
                raise InvalidState("the signer approves by signing (POST .../sign); the registry by issuing")
            if kind is StepKind.ISSUE:
                raise InvalidState("the registry issues or returns the document through the issue action")
            chains.record(s, turn, actor, decision, reason)
            if decision == "approved":
                chains.advance(s, doc, turn.instance, turn.step)
            else:
                chains.send_back(s, doc, turn, decision, reason.strip())
            refresh_readers(s, doc)
            audit.record(s, actor=actor, action=f"document.{_VERB[decision]}", object_type="document",
                         object_id=doc.id, origin=origin,
                         details={"step": turn.step.title, "reason": reason.strip() or None,
                                  "on_behalf_of": turn.decision.user_id if turn.delegation else None,
                                  "sha256": turn.instance.content_sha256})
            return DocumentView(document_dict(s, doc, hide_subject=False, detail=True))

    # ------------------------------------------------------------ views
    def chain(self, actor: Actor, doc_id: int) -> dict[str, Any]:
        with self.db.read() as s:
            doc = load_readable(s, actor, doc_id)
            instances = chain_instances(s, doc.id)
            names: dict[int, str] = {uid: name for uid, name in s.execute(
                select(User.id, User.full_name).where(User.agency_id == doc.agency_id))}
            turn = chains.turn(s, doc, actor, instances=instances)
            return {"my_turn": ({"step": turn.step.kind, "decision_id": turn.decision.id,
                                 "authority_form": turn.authority_form} if turn else None),
                    "chains": [_instance_dict(i, names) for i in instances]}

    # ------------------------------------------------------------ delegations
    def delegate(self, actor: Actor, *, delegate_id: int, form: str, valid_from: date, valid_until: date,
                 authorisation_ref: str = "", type_codes: list[str] | None = None, parent_id: int | None = None,
                 origin: RequestOrigin | None = None) -> dict[str, Any]:
        try:
            authority = AuthorityForm(form.rstrip(".").upper())
        except ValueError:
            raise InvalidInput("form is one of KT, TL, TUQ, Q, TM", {"field": "form"}) from None
        if not actor.has(Role.LEADER, Role.UNIT_HEAD):
            raise PermissionDenied("only leaders and unit heads delegate their authority")
        with self.db.write() as s:
            parent = s.get(Delegation, parent_id) if parent_id else None
            if parent_id and (parent is None or parent.delegate_id != actor.user_id):
                raise InvalidInput("parent_id must be a delegation made to you", {"field": "parent_id"})
            check_new_delegation(authority, valid_from, valid_until, authorisation_ref,
                                 AuthorityForm(parent.form) if parent else None, vn_today())
            delegate = s.get(User, delegate_id)
            if delegate is None or not delegate.is_active or delegate.agency_id != actor.agency_id:
                raise InvalidInput("the delegate must be an active user of your agency", {"field": "delegate_id"})
            if delegate_id == actor.user_id:
                raise InvalidInput("you cannot delegate to yourself", {"field": "delegate_id"})
            row = Delegation(agency_id=actor.agency_id, delegator_id=actor.user_id, delegate_id=delegate_id,
                             form=authority.value, type_codes=type_codes or None,
                             authorisation_ref=authorisation_ref.strip(), valid_from=valid_from,
                             valid_until=valid_until, parent_id=parent_id, created_by=actor.user_id)
            s.add(row)
            s.flush()
            _apply_readers(s, row, vn_today())
            audit.record(s, actor=actor, action="delegation.create", object_type="delegation", object_id=row.id,
                         origin=origin, details={"delegate": delegate_id, "form": authority.value,
                                                 "from": valid_from.isoformat(), "until": valid_until.isoformat(),
                                                 "types": type_codes, "ref": authorisation_ref.strip()})
            return _delegation_dict(row, {delegate.id: delegate.full_name})

    def revoke_delegation(self, actor: Actor, delegation_id: int, origin: RequestOrigin | None = None) -> None:
        with self.db.write() as s:
            row = s.get(Delegation, delegation_id)
            if row is None or row.delegator_id != actor.user_id:
                raise NotFound(f"delegation {delegation_id} not found")
            row.revoked_at = utcnow()
            refreshed = _apply_readers(s, row, vn_today())
            audit.record(s, actor=actor, action="delegation.revoke", object_type="delegation", object_id=row.id,
                         origin=origin, details={"documents_refreshed": refreshed})

    def sync_delegation_readers(self) -> int:
        """Periodic: recompute the readers of the drafts of every delegation that started or ended
        (expired) since its readers were last computed. Returns how many delegations changed."""
        today = vn_today()
        with self.db.write() as s:
            rows = delegations.changed_since_applied(s, today)
            for row in rows:
                refreshed = _apply_readers(s, row, today)
                audit.record(s, actor=None, action="delegation.readers", object_type="delegation", object_id=row.id,
                             agency_id=row.agency_id, details={"in_effect": row.readers_in_effect,
                                                               "documents_refreshed": refreshed})
            return len(rows)

    def delegations(self, actor: Actor) -> list[dict[str, Any]]:
        with self.db.read() as s:
            rows = s.execute(select(Delegation).where((Delegation.delegator_id == actor.user_id)
                                                      | (Delegation.delegate_id == actor.user_id))
                             .order_by(Delegation.id)).scalars().all()
            names = {u.id: u.full_name for u in s.execute(select(User).where(User.agency_id == actor.agency_id))
                     .scalars()}
            return [_delegation_dict(r, names) for r in rows]


def _apply_readers(s: Session, row: Delegation, day: date) -> int:
    """Recompute the readers of the documents waiting for ``row``'s delegator (its delegate reads
    them only while it is in effect) and record that state on the row. Returns how many."""
    row.readers_in_effect = delegations.in_effect(row, day)
    s.flush()
    doc_ids = delegations.documents_waiting_for(s, [row.delegator_id])
    for doc in s.execute(select(Document).where(Document.id.in_(doc_ids)).order_by(Document.id)).scalars():
        refresh_readers(s, doc)
    return len(doc_ids)


class Chains:
    """Chain mechanics inside a caller's transaction (stateless; shared by the services that
    act on chains: approval, signing, issuing)."""

    def template_for(self, s: Session, doc: Document, template_id: int | None
                      ) -> tuple[list[dict[str, Any]], int | None]:
        if template_id is not None:
            tpl = s.get(ChainTemplate, template_id)
            if tpl is None or tpl.agency_id != doc.agency_id or not tpl.active:
                raise InvalidInput(f"chain template {template_id} does not exist here", {"field": "template_id"})
            return tpl.steps, tpl.id
        candidates = s.execute(select(ChainTemplate).where(
            ChainTemplate.agency_id == doc.agency_id, ChainTemplate.active.is_(True),
            (ChainTemplate.type_id == doc.type_id) | ChainTemplate.type_id.is_(None))
            .order_by(ChainTemplate.type_id.is_(None), ChainTemplate.id)).scalars().first()
        return (candidates.steps, candidates.id) if candidates else (DEFAULT_CHAIN, None)

    def instantiate(self, s: Session, doc: Document, actor: Actor, raw_steps: list[dict[str, Any]],
                     template_id: int | None, signer_id: int | None) -> ChainInstance:
        specs = parse_steps(raw_steps)
        sha = _current_sha(s, doc)
        instance = ChainInstance(document_id=doc.id, template_id=template_id, content_sha256=sha,
                                 version=doc.current_version, submitted_by=actor.user_id)
        for position, spec in enumerate(specs):
            users = self._resolve(s, doc, spec.approvers, exclude=actor.user_id if spec.kind in (
                StepKind.REVIEW, StepKind.APPROVE) else None)
            if spec.kind is StepKind.SIGN and signer_id is not None:
                if signer_id not in users:
                    raise InvalidInput(Msg("approval.chosen_signer_not_among_chain_signers",
                                           "the chosen signer is not among this chain's signers"),
                                       {"field": "signer_id"})
                users = [signer_id]
            if not users and spec.kind is StepKind.REVIEW:
                continue  # e.g. the drafter is the unit head: no one else reviews
            if not users:
                raise InvalidInput(f"nobody can take the step '{spec.title}' (check users, roles and clearance)",
                                   {"field": "template_id"})
            step = ChainStep(position=position, kind=spec.kind.value, mode=spec.mode, title=spec.title)
            step.decisions = [ChainDecision(user_id=u) for u in users]
            instance.steps.append(step)
        s.add(instance)
        s.flush()
        return instance

    def _resolve(self, s: Session, doc: Document, approvers: tuple[dict[str, Any], ...],
                 exclude: int | None) -> list[int]:
        users: list[int] = []
        for a in approvers:
            if "user_id" in a:
                found = [a["user_id"]]
            else:
                q = (select(User.id).join(UserRole, UserRole.user_id == User.id)
                     .where(User.agency_id == doc.agency_id, UserRole.role == a["role"]))
                if a.get("unit") == "drafting":
                    units = [doc.drafting_unit_id] if doc.drafting_unit_id else list(s.execute(
                        select(UserUnit.unit_id).where(UserUnit.user_id == doc.created_by)).scalars())
                    q = q.join(UserUnit, UserUnit.user_id == User.id).where(UserUnit.unit_id.in_(units))
                found = list(s.execute(q.order_by(User.id)).scalars())
            eligible = set(s.execute(select(User.id).where(  # one query per approver entry, not per person
                User.id.in_(found), User.is_active.is_(True), User.agency_id == doc.agency_id,
                User.clearance >= doc.secrecy)).scalars()) if found else set()
            for user_id in found:
                if user_id in eligible and user_id != exclude and user_id not in users:
                    users.append(user_id)
        return users

    def turn(self, s: Session, doc: Document, actor: Actor, kind: StepKind | None = None, *,
             instances: list[ChainInstance] | None = None) -> Turn | None:
        """The pending decision ``actor`` may take now on ``doc`` (own, or as a valid delegate).
        ``instances``: the document's chains when the caller loaded them already (not queried again)."""
        if instances is None and read_memo(s, "chain_instances") is not None:
            instances = chain_instances(s, doc.id)  # a read: the page's boxes share one load
        instance = (active_instance(s, doc.id) if instances is None
                    else next((i for i in instances if i.status == "active"), None))
        if instance is None:
            return None
        step = next((st for st in instance.steps if st.status == "active"), None)
        if step is None or (kind is not None and step.kind != kind.value):
            return None
        pending = [d for d in step.decisions if d.decision is None]
        own = next((d for d in pending if d.user_id == actor.user_id), None)
        if own is not None:
            return Turn(own, step, instance, None)
        covering = delegations.covering_any(s, [d.user_id for d in pending], actor.user_id, doc.doc_type.code,
                                            vn_today())  # one query, whatever the number of pending people
        for d in pending:
            if d.user_id in covering:
                return Turn(d, step, instance, covering[d.user_id])
        return None

    def record(self, s: Session, turn: Turn, actor: Actor, decision: str, reason: str = "") -> None:
        turn.decision.decision = decision
        turn.decision.reason = reason.strip() or None
        turn.decision.decided_by = actor.user_id
        turn.decision.decided_at = utcnow()
        turn.decision.content_sha256 = turn.instance.content_sha256
        if turn.delegation is not None:
            turn.decision.delegation_id = turn.delegation.id
            turn.decision.authority_form = turn.delegation.form

    def advance(self, s: Session, doc: Document, instance: ChainInstance, step: ChainStep) -> None:
        """Close ``step`` when its mode is satisfied and open the next one."""
        if not step_complete(step.mode, [d.decision for d in step.decisions]):
            return
        step.status = "done"
        self.activate_next(s, doc, instance)

    def activate_next(self, s: Session, doc: Document, instance: ChainInstance) -> None:
        nxt = next((st for st in instance.steps if st.status == "waiting"), None)
        if nxt is None:
            instance.status, instance.finished_at = "completed", utcnow()
            return
        nxt.status = "active"
        if nxt.kind == StepKind.SIGN.value:
            doc.status = Status.APPROVED.value
        elif nxt.kind == StepKind.ISSUE.value:
            doc.status = Status.SIGNED.value
        s.flush()
        notify_readers(s, doc, [d.user_id for d in nxt.decisions], f"chain.{nxt.kind}", f"{nxt.title}: {SUBJECT}")

    def send_back(self, s: Session, doc: Document, turn: Turn, decision: str, reason: str) -> None:
        turn.step.status = "rejected" if decision == "rejected" else "returned"
        turn.instance.status, turn.instance.finished_at = turn.step.status, utcnow()
        doc.status = Status.DRAFT.value
        doc.status_reason = f"{'Từ chối' if decision == 'rejected' else 'Trả lại để chỉnh sửa'}: {reason}"
        notify_readers(s, doc, [doc.created_by] if doc.created_by else [], f"chain.{decision}",
                       f"{doc.status_reason}: {SUBJECT}")

    def restart_on_new_version(self, s: Session, doc: Document, actor: Actor) -> None:
        """A new content version voids every approval given so far: the chain starts over."""
        instance = active_instance(s, doc.id)
        if instance is None:
            return
        instance.status, instance.finished_at = "superseded", utcnow()
        for step in instance.steps:
            if step.status in ("waiting", "active"):
                step.status = "superseded"
        template_steps, template_id = self.template_for(s, doc, instance.template_id)
        signers = [d.user_id for st in instance.steps if st.kind == StepKind.SIGN.value for d in st.decisions]
        fresh = self.instantiate(s, doc, actor, template_steps, template_id,
                                  signers[0] if len(signers) == 1 else None)
        doc.status = Status.IN_REVIEW.value
        self.activate_next(s, doc, fresh)
        audit.record(s, actor=actor, action="chain.restart", object_type="document", object_id=doc.id,
                     details={"superseded": instance.id, "chain": fresh.id, "sha256": fresh.content_sha256})


chains = Chains()

_VERB = {"approved": "approve", "rejected": "reject", "returned": "return_for_revision"}


def chain_instances(s: Session, doc_id: int) -> list[ChainInstance]:
    """Every chain of the document, oldest first (loaded once per read-only transaction)."""
    memo = read_memo(s, "chain_instances")
    if memo is not None and doc_id in memo:
        return list(memo[doc_id])
    rows = list(s.execute(select(ChainInstance).where(ChainInstance.document_id == doc_id)
                          .order_by(ChainInstance.id)).scalars())
    if memo is not None:
        memo[doc_id] = rows
    return list(rows)


def active_instance(s: Session, doc_id: int) -> ChainInstance | None:
    return s.execute(select(ChainInstance).where(ChainInstance.document_id == doc_id,
                                                 ChainInstance.status == "active")).scalar_one_or_none()


def _current_sha(s: Session, doc: Document) -> str:
    main = s.execute(select(DocumentFile).where(DocumentFile.document_id == doc.id, DocumentFile.role == "main",
                                                DocumentFile.version == doc.current_version)
                     .order_by(DocumentFile.id.desc())).scalars().first()
    if main is None:
        raise InvalidState("the draft has no file to approve")
    return main.sha256


def _template_dict(s: Session, t: ChainTemplate) -> dict[str, Any]:
    type_code = None
    if t.type_id:
        dt = must_get(s, DocumentType, t.type_id)
        type_code = dt.code or "cong_van"
    return {"id": t.id, "name": t.name, "type_code": type_code, "steps": t.steps}


def _instance_dict(i: ChainInstance, names: dict[int, str]) -> dict[str, Any]:
    return {"id": i.id, "status": i.status, "version": i.version, "content_sha256": i.content_sha256,
            "created_at": to_vn_iso(i.created_at), "finished_at": to_vn_iso(i.finished_at),
            "steps": [{"position": st.position, "kind": st.kind, "mode": st.mode, "title": st.title,
                       "status": st.status,
                       "decisions": [{"id": d.id, "user_id": d.user_id, "user": names.get(d.user_id),
                                      "decision": d.decision, "reason": d.reason,
                                      "decided_by": names.get(d.decided_by) if d.decided_by else None,
                                      "authority_form": d.authority_form, "decided_at": to_vn_iso(d.decided_at)}
                                     for d in st.decisions]} for st in i.steps]}


def _delegation_dict(r: Delegation, names: dict[int, str]) -> dict[str, Any]:
    return {"id": r.id, "delegator_id": r.delegator_id, "delegator": names.get(r.delegator_id),
            "delegate_id": r.delegate_id, "delegate": names.get(r.delegate_id), "form": r.form,
            "type_codes": r.type_codes, "authorisation_ref": r.authorisation_ref,
            "valid_from": r.valid_from.isoformat(), "valid_until": r.valid_until.isoformat(),
            "revoked": r.revoked_at is not None}
