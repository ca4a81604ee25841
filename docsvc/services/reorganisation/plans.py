"""The reorganisation plan: create, preview, run (as a background job), status and report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from docsvc.db.models import (
    Assignment,
    ChainDecision,
    ChainInstance,
    ChainStep,
    Document,
    Dossier,
    LegalHold,
    Organisation,
    RegisterCounter,
    ReorgItem,
    ReorgPlan,
    SigningKey,
    User,
)
from docsvc.db.uow import Database
from docsvc.domain.documents import Status
from docsvc.domain.identity import Actor, RequestOrigin
from docsvc.domain.policies import is_system
from docsvc.domain.reorganisation import (
    DRAFTS_IN_WORK,
    INCOMING_IN_HANDLING,
    STEPS,
    AgencyStatus,
    PlanSpec,
    UnitMove,
    may_reorganise,
    parse_plan,
)
from docsvc.errors import InvalidState, NotFound, PermissionDenied
from docsvc.services import audit
from docsvc.timeutil import VN_TZ, to_vn_iso

log = logging.getLogger(__name__)


@dataclass
class Resolved:
    """A plan's names resolved against the database (successors may not exist yet: id None)."""

    spec: PlanSpec
    sources: dict[str, Organisation] = field(default_factory=dict)
    successors: dict[str, Organisation | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def source_ids(self) -> list[int]:
        return sorted(o.id for o in self.sources.values())


def resolve(s: Session, spec: PlanSpec, *, running: bool = False) -> Resolved:
    r = Resolved(spec)
    for organ_id in spec.sources:
        org = _org(s, organ_id)
        if org is None:
            r.problems.append(f"source {organ_id}: no such agency")
            continue
        if org.kind in ("unit", "province"):
            r.problems.append(f"source {organ_id}: only a commune or a department is reorganised")
        if org.status != AgencyStatus.ACTIVE.value and not running:
            r.problems.append(f"source {organ_id}: already {org.status}")
        r.sources[organ_id] = org
    for succ in spec.successors:
        org = _org(s, succ.organ_id)
        if org is None and not (succ.name and succ.abbreviation):
            r.problems.append(f"successor {succ.organ_id}: a new agency needs a name and an abbreviation")
        if org is not None and org.status != AgencyStatus.ACTIVE.value:
            r.problems.append(f"successor {succ.organ_id}: is {org.status}, not active")
        r.successors[succ.organ_id] = org
    users = {u.username: u for u in s.execute(select(User).where(User.agency_id.in_(r.source_ids))).scalars()}
    for username, move in spec.users.items():
        if username not in users:
            r.problems.append(f"user {username}: not a user of a source agency")
        if move.leave and move.replaced_by:
            repl = s.execute(select(User).where(User.username == move.replaced_by)).scalar_one_or_none()
            if repl is None or not repl.is_active or (move.replaced_by in spec.users
                                                       and spec.users[move.replaced_by].leave):
                r.problems.append(f"user {username}: replacement {move.replaced_by} is not a user who stays")
    for username, user in users.items():
        planned = spec.users.get(username)
        if planned and planned.leave and not planned.replaced_by and open_work_of(s, user.id):
            r.problems.append(f"user {username} leaves with open work and no replaced_by")
    return r


def open_work_of(s: Session, user_id: int) -> int:
    """Open assignments and pending approvals of ``user_id`` (what must go to a replacement)."""
    assignments = s.execute(select(func.count()).select_from(Assignment).where(
        Assignment.user_id == user_id, Assignment.status == "open")).scalar_one()
    pending = s.execute(select(func.count()).select_from(ChainDecision)
                        .join(ChainStep, ChainStep.id == ChainDecision.step_id)
                        .join(ChainInstance, ChainInstance.id == ChainStep.instance_id)
                        .where(ChainDecision.user_id == user_id, ChainDecision.decision.is_(None),
                               ChainInstance.status == "active")).scalar_one()
    return int(assignments) + int(pending)


def revocation_moment(spec: PlanSpec) -> datetime:
    """The start of the effective date (Vietnam time), never earlier than now: a back-dated revocation
    would turn signatures made in good faith before the job ran into invalid ones. Rounded up to the next
    whole second, because CRLs and OCSP responses carry whole seconds: a signature made in the second the
    job started must not look as if it came after the revocation."""
    start = datetime.combine(spec.effective_date, time(0, 0), tzinfo=VN_TZ).astimezone(UTC)
    moment = max(start, datetime.now(UTC))
    return moment.replace(microsecond=0) + timedelta(seconds=1) if moment.microsecond else moment


def _org(s: Session, organ_id: str) -> Organisation | None:
    return s.execute(select(Organisation).where(Organisation.organ_id == organ_id)).scalar_one_or_none()


class Runner(Protocol):
    """What the service needs of the job runner (``runner.ReorganisationRunner``, which imports this module)."""

    def run(self, plan_id: int) -> dict[str, Any]: ...


class ReorganisationService:
    def __init__(self, db: Database, runner_factory: Callable[[], Runner], enqueue: Callable[..., None] | None = None,
                 *, font_path: str | None = None) -> None:
        self.db = db
        self._runner_factory = runner_factory
        self.enqueue = enqueue
        self.font_path = font_path

    # ------------------------------------------------------------ plan
    def create(self, actor: Actor, data: dict[str, Any], origin: RequestOrigin | None = None) -> dict[str, Any]:
        spec = parse_plan(data)
        with self.db.write() as s:
            r = resolve(s, spec)
            self._authorise(s, actor, r)
            plan = ReorgPlan(kind=spec.kind.value, effective_date=spec.effective_date, decision=spec.decision,
                             spec=spec.to_dict(), created_by=None if is_system(actor) else actor.user_id)
            s.add(plan)
            s.flush()
            audit.record(s, actor=actor, action="reorg.plan", object_type="reorganisation", object_id=plan.id,
                         origin=origin, details={"kind": spec.kind.value, "sources": list(spec.sources),
                                                 "successors": [x.organ_id for x in spec.successors]})
            return self._view(s, plan)

    def list(self, actor: Actor) -> list[dict[str, Any]]:
        with self.db.read() as s:
            plans = s.execute(select(ReorgPlan).order_by(ReorgPlan.id.desc())).scalars().all()
            out = []
            for plan in plans:
                try:
                    self._authorise(s, actor, resolve(s, parse_plan(plan.spec), running=True))
                except PermissionDenied:  # plans of another province are not listed
                    log.debug("plan %s is not listed for %s", plan.id, actor.username)
                else:
                    out.append(self._view(s, plan))
            return out

    def status(self, actor: Actor, plan_id: int) -> dict[str, Any]:
        with self.db.read() as s:
            plan = self._load(s, actor, plan_id)
            return self._view(s, plan)

    def preview(self, actor: Actor, plan_id: int) -> dict[str, Any]:
        """Everything the job will move, close, revoke and keep, and what stops it (``problems``).
        Documents are named by id, number and state, never by subject (the administrator may not read them)."""
        with self.db.read() as s:
            plan = self._load(s, actor, plan_id)
            spec = parse_plan(plan.spec)
            r = resolve(s, spec, running=plan.status != "draft")
            return {"plan": self._view(s, plan), **preview_of(s, r)}

    # ------------------------------------------------------------ job
    def start(self, actor: Actor, plan_id: int, origin: RequestOrigin | None = None, *,
              background: bool = True) -> dict[str, Any]:
        """Check the plan and hand it to a background job (in embedded mode it runs now; ``background=False``:
        in this process, the CLI's way). A failed run leaves the plan 'failed' with the reason."""
        with self.db.write() as s:
            plan = self._load(s, actor, plan_id)
            if plan.status == "done":
                raise InvalidState("this reorganisation has already run")
            if plan.status == "draft":
                r = resolve(s, parse_plan(plan.spec))
                if r.problems:
                    raise InvalidState("the plan has problems: fix them first (see the preview)",
                                       {"problems": r.problems})
            audit.record(s, actor=actor, action="reorg.run", object_type="reorganisation", object_id=plan.id,
                         origin=origin, details={"resumed": plan.status != "draft"})
        try:
            if background and self.enqueue is not None:
                self.enqueue("docsvc.reorganisation_run", plan_id)
            else:
                self.run(plan_id)
        except Exception:
            log.warning("reorganisation %s stopped", plan_id, exc_info=True)
        return self.status(actor, plan_id)

    def run(self, plan_id: int) -> dict[str, Any]:
        """Run (or resume) the job; the worker's entry point."""
        return self._runner_factory().run(plan_id)

    def report_pdf(self, actor: Actor, plan_id: int) -> bytes:
        from docsvc.services.reorganisation.report import render
        with self.db.read() as s:
            plan = self._load(s, actor, plan_id)
            view = self._view(s, plan)
            items = s.execute(select(ReorgItem).where(ReorgItem.plan_id == plan.id)
                              .order_by(ReorgItem.id)).scalars().all()
            rows = [(i.step, i.item_key, i.details) for i in items]
            before, after = plan.before or {}, plan.after or {}
        return render(view, rows, before, after, font_path=self.font_path)

    # ------------------------------------------------------------ helpers
    def _authorise(self, s: Session, actor: Actor, r: Resolved) -> None:
        parents = [o.parent_id for o in r.sources.values()]
        province = parents[0] if parents else None
        may_reorganise(actor, province, parents)

    def _load(self, s: Session, actor: Actor, plan_id: int) -> ReorgPlan:
        plan = s.get(ReorgPlan, plan_id)
        if plan is None:
            raise NotFound(f"reorganisation {plan_id} not found")
        try:
            self._authorise(s, actor, resolve(s, parse_plan(plan.spec), running=True))
        except PermissionDenied:  # another province's plan is not revealed
            raise NotFound(f"reorganisation {plan_id} not found") from None
        return plan

    def _view(self, s: Session, plan: ReorgPlan) -> dict[str, Any]:
        done = dict(s.execute(select(ReorgItem.step, func.count()).where(ReorgItem.plan_id == plan.id)
                              .group_by(ReorgItem.step)).all())
        return {"id": plan.id, "kind": plan.kind, "status": plan.status,
                "effective_date": plan.effective_date.isoformat(), "decision": plan.decision, "spec": plan.spec,
                "current_step": plan.current_step, "last_error": plan.last_error,
                "progress": [{"step": step, "done": int(done.get(step, 0))} for step in STEPS],
                "created_at": to_vn_iso(plan.created_at), "started_at": to_vn_iso(plan.started_at),
                "finished_at": to_vn_iso(plan.finished_at),
                "checks": _checks(plan)}


def _checks(plan: ReorgPlan) -> dict[str, Any] | None:
    if not plan.before:
        return None
    out: dict[str, Any] = {"before": {"counts": plan.before.get("counts"), "sha256": plan.before.get("sha256")}}
    if plan.after:
        out["after"] = {"counts": plan.after.get("counts"), "sha256": plan.after.get("sha256"),
                        "problems": plan.after.get("problems", [])}
    return out


def unit_moves(s: Session, r: Resolved) -> dict[int, UnitMove]:
    """Every unit of the sources with where it goes (the default: the unit moves under the primary successor)."""
    units = s.execute(select(Organisation).where(Organisation.parent_id.in_(r.source_ids),
                                                 Organisation.kind == "unit").order_by(Organisation.id)).scalars()
    return {u.id: r.spec.units.get(u.id, UnitMove()) for u in units}


def preview_of(s: Session, r: Resolved) -> dict[str, Any]:
    spec, ids = r.spec, r.source_ids
    primary = spec.primary.organ_id

    def doc_row(d: Document, action: str) -> dict[str, Any]:
        return {"id": d.id, "agency_id": d.agency_id, "direction": d.direction, "status": d.status,
                "number": d.code_number, "notation": d.code_notation, "arrival_number": d.arrival_number,
                "secrecy": d.secrecy, "action": action}

    docs = s.execute(select(Document).where(Document.agency_id.in_(ids)).order_by(Document.id)).scalars().all()
    incoming = [doc_row(d, "move") for d in docs
                if d.direction == "incoming" and Status(d.status) in INCOMING_IN_HANDLING]
    drafts = [doc_row(d, "back_to_draft_for_resigning" if d.status == Status.SIGNED.value else "move")
              for d in docs if d.direction != "incoming" and Status(d.status) in DRAFTS_IN_WORK]
    moving = {x["id"] for x in incoming + drafts}
    users = []
    for u in s.execute(select(User).where(User.agency_id.in_(ids)).order_by(User.id)).scalars():
        move = spec.users.get(u.username)
        users.append({"id": u.id, "username": u.username, "action": "leave" if move and move.leave else "move",
                      "to": None if move and move.leave else ((move.agency if move else None) or primary),
                      "replaced_by": move.replaced_by if move else None, "open_work": open_work_of(s, u.id)})
    units = [{"id": uid, "to_agency": m.agency or primary, "into_unit": m.unit} for uid, m in unit_moves(s, r).items()]
    registers = [{"agency_id": c.agency_id, "register": c.register, "series": c.series, "year": c.year,
                  "last_number": c.last_number, "action": "close"}
                 for c in s.execute(select(RegisterCounter).where(RegisterCounter.agency_id.in_(ids))
                                    .order_by(RegisterCounter.agency_id, RegisterCounter.register,
                                              RegisterCounter.series, RegisterCounter.year)).scalars()]
    leaving_ids = {u["id"] for u in users if u["action"] == "leave"}
    keys = [{"id": k.id, "serial": k.cert_serial, "subject": k.subject,
             "reason": "cessationOfOperation" if k.agency_id else "affiliationChanged"}
            for k in s.execute(select(SigningKey).where(SigningKey.revoked_at.is_(None),
                                                        (SigningKey.agency_id.in_(ids))
                                                        | SigningKey.user_id.in_([u["id"] for u in users] or [-1]))
                               .order_by(SigningKey.id)).scalars()]
    dossiers = dict(s.execute(select(Dossier.status, func.count()).where(Dossier.agency_id.in_(ids))
                              .group_by(Dossier.status)).all())
    closing = [{"id": d.id, "file_code": d.file_code, "action": "close",
                "closed_on": spec.effective_date.isoformat()}
               for d in s.execute(select(Dossier).where(Dossier.agency_id.in_(ids), Dossier.status == "open")
                                  .order_by(Dossier.id)).scalars()]
    holds = s.execute(select(func.count()).select_from(LegalHold).where(LegalHold.agency_id.in_(ids),
                                                                         LegalHold.released_at.is_(None))).scalar_one()
    return {"problems": r.problems,
            "successors": [{"organ_id": k, "exists": v is not None, "id": v.id if v else None,
                            "name": v.name if v else next(x.name for x in spec.successors if x.organ_id == k)}
                           for k, v in r.successors.items()],
            "sources": [{"organ_id": k, "id": v.id, "name": v.name} for k, v in r.sources.items()],
            "units": units, "users": users, "incoming": incoming, "drafts": drafts, "registers": registers,
            "signing_keys": keys, "leaving": sorted(leaving_ids), "dossiers": closing,
            "fonds": {"documents": len([d for d in docs if d.id not in moving]), "dossiers": dossiers,
                      "legal_holds": holds, "keeper": primary}}
