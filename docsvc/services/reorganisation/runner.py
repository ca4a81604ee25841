"""The reorganisation job: idempotent and resumable.

Each step lists its items from the database as it is now; each item is done in its own transaction
together with its ``reorg_items`` row, so a crash loses at most the item in flight and a re-run skips
what is recorded (the unique (plan, step, item) row makes a concurrent second runner fail that item's
transaction instead of doing it twice). Every item writes an audit event."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import (
    AgencySuccession,
    ApiToken,
    ArchiveFonds,
    Assignment,
    ChainDecision,
    ChainInstance,
    ChainStep,
    Document,
    Dossier,
    Organisation,
    RegisterCounter,
    ReorgItem,
    ReorgPlan,
    SigningKey,
    User,
    UserRole,
    UserUnit,
)
from docsvc.db.rows import must_get
from docsvc.db.uow import Database
from docsvc.domain.documents import Status
from docsvc.domain.reorganisation import (
    CEASED_STATUS,
    DRAFTS_IN_WORK,
    INCOMING_IN_HANDLING,
    PERSON_REVOCATION_REASON,
    RESIGN_REASON,
    SEAL_REVOCATION_REASON,
    STEPS,
    PlanSpec,
    compare_manifests,
    parse_plan,
)
from docsvc.errors import InvalidState, NotFound
from docsvc.services import audit
from docsvc.services.access import refresh_readers
from docsvc.services.reorganisation import manifest
from docsvc.services.reorganisation.plans import (
    Resolved,
    resolve,
    revocation_moment,
    unit_moves,
)

log = logging.getLogger(__name__)


@dataclass
class Context:
    plan_id: int
    spec: PlanSpec
    source_ids: list[int]
    successor_ids: dict[str, int] = field(default_factory=dict)  # OrganId → id (after "lifecycle")
    unit_target: dict[int, int] = field(default_factory=dict)  # old unit → unit it becomes
    unit_agency: dict[int, int] = field(default_factory=dict)  # old unit → successor agency
    user_agency: dict[int, int] = field(default_factory=dict)  # user → successor agency (after "users")

    @property
    def primary_id(self) -> int:
        return self.successor_ids[self.spec.primary.organ_id]

    @property
    def actor_name(self) -> str:
        return f"reorganisation #{self.plan_id}"


class ReorganisationRunner:
    def __init__(self, db: Database, revoke: Callable[[str, str, Any], None]) -> None:
        """``revoke(serial_hex, reason, at)`` revokes a certificate at the internal CA."""
        self.db = db
        self.revoke = revoke

    def run(self, plan_id: int) -> dict[str, Any]:
        with self.db.write() as s:
            plan = s.get(ReorgPlan, plan_id, with_for_update=True)
            if plan is None:
                raise NotFound(f"reorganisation {plan_id} not found")
            if plan.status == "done":
                return {"id": plan.id, "status": plan.status}
            plan.status, plan.last_error = "running", None
            plan.started_at = plan.started_at or utcnow()
            spec = parse_plan(plan.spec)
            r = resolve(s, spec, running=True)
            if len(r.sources) != len(spec.sources):
                raise InvalidState("a source agency of the plan no longer exists", {"problems": r.problems})
        ctx = Context(plan_id, spec, r.source_ids)
        try:
            for step in STEPS:
                with self.db.write() as s:
                    must_get(s, ReorgPlan, plan_id).current_step = step
                getattr(self, f"_{step}")(ctx)
        except Exception as exc:
            with self.db.write() as s:
                plan = must_get(s, ReorgPlan, plan_id)
                plan.status, plan.last_error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            raise
        with self.db.write() as s:
            plan = must_get(s, ReorgPlan, plan_id)
            problems = (plan.after or {}).get("problems", [])
            plan.status = "failed" if problems else "done"
            plan.last_error = "; ".join(problems)[:2000] or None
            plan.finished_at = utcnow()
            plan.current_step = None
            audit.record(s, actor=None, actor_name=ctx.actor_name, action="reorg.finished",
                         object_type="reorganisation", object_id=plan_id,
                         details={"status": plan.status, "problems": problems})
            return {"id": plan.id, "status": plan.status}

    # ------------------------------------------------------------ item bookkeeping
    def _item(self, ctx: Context, step: str, key: str, work: Callable[[Session], dict[str, Any] | None],
              *, agency_id: int | None = None) -> bool:
        """Do one item in its own transaction, unless it is recorded as done. True when done now."""
        with self.db.write() as s:
            if s.execute(select(ReorgItem.id).where(ReorgItem.plan_id == ctx.plan_id, ReorgItem.step == step,
                                                    ReorgItem.item_key == key)).first():
                return False
            row = ReorgItem(plan_id=ctx.plan_id, step=step, item_key=key, details={})
            s.add(row)
            s.flush()  # a second runner's same item fails here, before doing anything
            details = work(s) or {}
            row.details = details
            audit.record(s, actor=None, actor_name=ctx.actor_name, action=f"reorg.{step}", object_type="reorganisation",
                         object_id=ctx.plan_id, agency_id=agency_id, details={"item": key, **details})
        return True

    def _done(self, s: Session, ctx: Context, step: str) -> dict[str, dict[str, Any]]:
        return {i.item_key: i.details for i in s.execute(select(ReorgItem).where(
            ReorgItem.plan_id == ctx.plan_id, ReorgItem.step == step)).scalars()}

    # ------------------------------------------------------------ steps
    def _snapshot(self, ctx: Context) -> None:
        def work(s: Session) -> dict[str, Any]:
            doc_ids = list(s.execute(select(Document.id).where(Document.agency_id.in_(ctx.source_ids))).scalars())
            user_ids = list(s.execute(select(User.id).where(User.agency_id.in_(ctx.source_ids))).scalars())
            before = manifest.take(s, doc_ids, ctx.source_ids, user_ids)
            before["registers"] = [
                {"agency_id": c.agency_id, "register": c.register, "series": c.series, "year": c.year,
                 "last_number": c.last_number}
                for c in s.execute(select(RegisterCounter).where(RegisterCounter.agency_id.in_(ctx.source_ids))
                                   .order_by(RegisterCounter.agency_id, RegisterCounter.register,
                                             RegisterCounter.series, RegisterCounter.year)).scalars()]
            before["user_ids"] = user_ids
            must_get(s, ReorgPlan, ctx.plan_id).before = before
            return {"documents": len(doc_ids), "sha256": before["sha256"]}
        self._item(ctx, "snapshot", "manifest", work)

    def _lifecycle(self, ctx: Context) -> None:
        spec = ctx.spec
        for succ in spec.successors:
            def create(s: Session, succ: Any = succ) -> dict[str, Any]:
                org = s.execute(select(Organisation).where(Organisation.organ_id == succ.organ_id)).scalar_one_or_none()
                if org is not None:
                    return {"organ_id": succ.organ_id, "id": org.id, "created": False}
                parent = must_get(s, Organisation, ctx.source_ids[0]).parent_id
                org = Organisation(kind=succ.kind, name=succ.name, abbreviation=succ.abbreviation,
                                   organ_id=succ.organ_id, parent_id=parent)
                s.add(org)
                s.flush()
                return {"organ_id": succ.organ_id, "id": org.id, "created": True}
            self._item(ctx, "lifecycle", f"successor:{succ.organ_id}", create)
        with self.db.read() as s:
            ctx.successor_ids = {d["organ_id"]: d["id"] for k, d in self._done(s, ctx, "lifecycle").items()
                                 if k.startswith("successor:")}
        for source_id in ctx.source_ids:
            def cease(s: Session, source_id: int = source_id) -> dict[str, Any]:
                org = must_get(s, Organisation, source_id)
                org.status = CEASED_STATUS[spec.kind].value
                org.ceased_on, org.ceased_by = spec.effective_date, spec.decision
                for i, succ in enumerate(spec.successors):
                    s.add(AgencySuccession(predecessor_id=source_id, successor_id=ctx.successor_ids[succ.organ_id],
                                           kind=spec.kind.value, is_primary=i == 0, effective_date=spec.effective_date,
                                           decision=spec.decision, plan_id=ctx.plan_id))
                s.add(ArchiveFonds(origin_agency_id=source_id, keeper_agency_id=ctx.primary_id, origin_name=org.name,
                                   origin_organ_id=org.organ_id, closed_on=spec.effective_date, plan_id=ctx.plan_id))
                return {"agency_id": source_id, "name": org.name, "organ_id": org.organ_id, "status": org.status,
                        "registers_closed": True}
            self._item(ctx, "lifecycle", f"source:{source_id}", cease, agency_id=source_id)

    def _units(self, ctx: Context) -> None:
        with self.db.read() as s:
            r = Resolved(ctx.spec)
            r.sources = {str(i): must_get(s, Organisation, i) for i in ctx.source_ids}
            moves = unit_moves(s, r)
        for unit_id, move in moves.items():
            agency = ctx.successor_ids[move.agency] if move.agency else ctx.primary_id

            def work(s: Session, unit_id: int = unit_id, agency: int = agency, into: int | None = move.unit
                     ) -> dict[str, Any]:
                unit = must_get(s, Organisation, unit_id)
                if into is None:
                    unit.parent_id = agency
                    return {"unit": unit_id, "name": unit.name, "moved_under": agency, "becomes": unit_id}
                return {"unit": unit_id, "name": unit.name, "merged_into": into, "agency": agency, "becomes": into}
            self._item(ctx, "units", f"unit:{unit_id}", work, agency_id=agency)
        with self.db.read() as s:
            for d in self._done(s, ctx, "units").values():
                ctx.unit_target[d["unit"]] = d["becomes"]
                ctx.unit_agency[d["unit"]] = d.get("agency") or d["moved_under"]

    def _users(self, ctx: Context) -> None:
        with self.db.read() as s:
            users = [(u.id, u.username) for u in s.execute(
                select(User).where(User.agency_id.in_(ctx.source_ids)).order_by(User.id)).scalars()]
        for user_id, username in users:
            move = ctx.spec.users.get(username)

            def work(s: Session, user_id: int = user_id, move: Any = move) -> dict[str, Any]:
                user = must_get(s, User, user_id)
                old_units = [u.unit_id for u in user.units]
                if move is not None and move.leave:
                    user.is_active = False  # disabled, never deleted: history keeps pointing at him
                    for token in s.execute(select(ApiToken).where(ApiToken.user_id == user_id,
                                                                  ApiToken.revoked_at.is_(None))).scalars():
                        token.revoked_at = utcnow()
                    return {"user": user_id, "username": user.username, "left": True,
                            "replaced_by": move.replaced_by, "from_agency": user.agency_id}
                target = self._user_target(ctx, move, old_units)
                units = list(move.units) if move is not None and move.units is not None else \
                    sorted({ctx.unit_target.get(u, u) for u in old_units})
                old_agency = user.agency_id
                user.agency_id = target
                _replace(user.units, "unit_id", set(units), lambda u: UserUnit(user_id=user_id, unit_id=u))
                if move is not None and move.roles is not None:
                    _replace(user.roles, "role", set(move.roles), lambda r: UserRole(user_id=user_id, role=r))
                if move is not None and move.position is not None:
                    user.position = move.position
                return {"user": user_id, "username": user.username, "from_agency": old_agency, "to_agency": target,
                        "units": units, "roles": sorted(r.role for r in user.roles)}
            self._item(ctx, "users", f"user:{user_id}", work)
        with self.db.read() as s:
            for d in self._done(s, ctx, "users").values():
                if not d.get("left"):
                    ctx.user_agency[d["user"]] = d["to_agency"]

    def _user_target(self, ctx: Context, move: Any, units: list[int]) -> int:
        if move is not None and move.agency:
            return ctx.successor_ids[move.agency]
        for u in units:
            if u in ctx.unit_agency:
                return ctx.unit_agency[u]
        return ctx.primary_id

    def _replacements(self, s: Session, ctx: Context) -> dict[int, int]:
        """Users who leave → the user who takes over their open work."""
        out = {}
        for d in self._done(s, ctx, "users").values():
            if d.get("left") and d.get("replaced_by"):
                out[d["user"]] = s.execute(select(User.id).where(User.username == d["replaced_by"])).scalar_one()
        return out

    def _doc_target(self, ctx: Context, s: Session, doc: Document) -> int:
        units = [doc.drafting_unit_id] if doc.drafting_unit_id else []
        lead = s.execute(select(Assignment).where(Assignment.document_id == doc.id, Assignment.role == "lead",
                                                  Assignment.status == "open")
                         .order_by(Assignment.id)).scalars().first()
        if lead is not None and lead.unit_id:
            units.insert(0, lead.unit_id)
        for u in units:
            if u in ctx.unit_agency:
                return ctx.unit_agency[u]
        for user_id in ([lead.user_id] if lead is not None and lead.user_id else []) + [doc.created_by]:
            if user_id in ctx.user_agency:
                return ctx.user_agency[user_id]
        return ctx.primary_id

    def _incoming(self, ctx: Context) -> None:
        with self.db.read() as s:
            ids = list(s.execute(select(Document.id).where(
                Document.agency_id.in_(ctx.source_ids), Document.direction == "incoming",
                Document.status.in_([x.value for x in INCOMING_IN_HANDLING])).order_by(Document.id)).scalars())
            replacements = self._replacements(s, ctx)
        for doc_id in ids:
            def work(s: Session, doc_id: int = doc_id) -> dict[str, Any]:
                doc = _locked_document(s, doc_id)
                old, target = doc.agency_id, self._doc_target(ctx, s, doc)
                doc.agency_id = target
                moved = self._remap_assignments(s, ctx, doc, replacements)
                if doc.drafting_unit_id in ctx.unit_target:
                    doc.drafting_unit_id = ctx.unit_target[doc.drafting_unit_id]
                refresh_readers(s, doc)
                return {"document": doc_id, "from_agency": old, "to_agency": target, "status": doc.status,
                        "assignments_reassigned": moved}
            self._item(ctx, "incoming", f"document:{doc_id}", work)

    def _remap_assignments(self, s: Session, ctx: Context, doc: Document, replacements: dict[int, int]) -> int:
        """Open assignments keep their deadline and instruction: a unit merged into another points at that
        one; one of a person who leaves is closed as re-assigned and given anew to the replacement."""
        count = 0
        for a in s.execute(select(Assignment).where(Assignment.document_id == doc.id, Assignment.status == "open")
                           .order_by(Assignment.id)).scalars().all():
            if a.unit_id in ctx.unit_target and ctx.unit_target[a.unit_id] != a.unit_id:
                a.unit_id = ctx.unit_target[a.unit_id]
                count += 1
            if a.user_id in replacements:
                a.status = "reassigned"
                s.add(Assignment(document_id=doc.id, user_id=replacements[a.user_id], unit_id=a.unit_id, role=a.role,
                                 deadline=a.deadline, instruction=a.instruction, assigned_by=a.assigned_by,
                                 parent_id=a.id))
                count += 1
        s.flush()
        return count

    def _drafts(self, ctx: Context) -> None:
        with self.db.read() as s:
            ids = list(s.execute(select(Document.id).where(
                Document.agency_id.in_(ctx.source_ids), Document.direction != "incoming",
                Document.status.in_([x.value for x in DRAFTS_IN_WORK])).order_by(Document.id)).scalars())
            replacements = self._replacements(s, ctx)
        for doc_id in ids:
            def work(s: Session, doc_id: int = doc_id) -> dict[str, Any]:
                doc = _locked_document(s, doc_id)
                old, target = doc.agency_id, self._doc_target(ctx, s, doc)
                old_status = doc.status
                doc.agency_id = target
                if doc.drafting_unit_id in ctx.unit_target:
                    doc.drafting_unit_id = ctx.unit_target[doc.drafting_unit_id]
                repointed = 0
                for d in s.execute(select(ChainDecision).join(ChainStep, ChainStep.id == ChainDecision.step_id)
                                   .join(ChainInstance, ChainInstance.id == ChainStep.instance_id)
                                   .where(ChainInstance.document_id == doc_id, ChainInstance.status == "active",
                                          ChainDecision.decision.is_(None))).scalars():
                    if d.user_id in replacements:
                        d.user_id = replacements[d.user_id]
                        repointed += 1
                if old_status == Status.SIGNED.value:
                    for inst in s.execute(select(ChainInstance).where(
                            ChainInstance.document_id == doc_id,
                            ChainInstance.status.in_(("active", "completed")))).scalars():
                        inst.status, inst.finished_at = "superseded", utcnow()
                        for step in inst.steps:
                            if step.status in ("waiting", "active"):
                                step.status = "superseded"
                    doc.status = Status.DRAFT.value
                    doc.status_reason = RESIGN_REASON.format(day=ctx.spec.effective_date.strftime("%d/%m/%Y"),
                                                             decision=ctx.spec.decision)
                refresh_readers(s, doc)
                return {"document": doc_id, "from_agency": old, "to_agency": target, "status": old_status,
                        "now": doc.status, "approvers_repointed": repointed}
            self._item(ctx, "drafts", f"document:{doc_id}", work)

    def _signing_keys(self, ctx: Context) -> None:
        at = revocation_moment(ctx.spec)
        with self.db.read() as s:
            user_ids = (must_get(s, ReorgPlan, ctx.plan_id).before or {}).get("user_ids", [])
            keys = [(k.id, k.cert_serial, k.agency_id is not None) for k in s.execute(
                select(SigningKey).where(SigningKey.revoked_at.is_(None),
                                         SigningKey.agency_id.in_(ctx.source_ids)
                                         | SigningKey.user_id.in_(user_ids or [-1])).order_by(SigningKey.id)).scalars()]
        for key_id, serial, is_seal in keys:
            reason = SEAL_REVOCATION_REASON if is_seal else PERSON_REVOCATION_REASON

            def work(s: Session, key_id: int = key_id, serial: str = serial, reason: str = reason) -> dict[str, Any]:
                self.revoke(serial, reason, at)  # idempotent at the CA: a re-run keeps the first date
                must_get(s, SigningKey, key_id).revoked_at = at
                return {"key": key_id, "serial": serial, "reason": reason, "at": at.isoformat()}
            self._item(ctx, "signing_keys", f"key:{key_id}", work)

    def _dossiers(self, ctx: Context) -> None:
        """Open dossiers of the ceased agencies close at the effective date and join the fonds; what would
        have stopped a manager's close is recorded with it (domain.reorganisation)."""
        from docsvc.domain.archives import DossierStatus
        from docsvc.services.archives.dossiers import closing_problems_of, seal_dossier
        with self.db.read() as s:
            ids = list(s.execute(select(Dossier.id).where(Dossier.agency_id.in_(ctx.source_ids),
                                                          Dossier.status == DossierStatus.OPEN.value)
                                 .order_by(Dossier.id)).scalars())
        ended = ctx.spec.effective_date
        for dossier_id in ids:
            def work(s: Session, dossier_id: int = dossier_id) -> dict[str, Any]:
                d = s.execute(select(Dossier).where(Dossier.id == dossier_id).with_for_update()).scalar_one()
                if d.status != DossierStatus.OPEN.value:  # closed by its manager meanwhile
                    return {"dossier": d.id, "file_code": d.file_code, "status": d.status, "closed": False}
                problems = [p["message"] for p in closing_problems_of(s, d)]
                seal_dossier(s, d, ended)
                details = {"dossier": d.id, "file_code": d.file_code, "closed": True,
                           "work_ended_on": ended.isoformat(), "doc_total": d.doc_total, "problems": problems}
                audit.record(s, actor=None, actor_name=ctx.actor_name, action="dossier.close", object_type="dossier",
                             object_id=d.id, agency_id=d.agency_id,
                             details={**details, "reason": f"the agency ceased ({ctx.spec.decision})"})
                return details
            self._item(ctx, "dossiers", f"dossier:{dossier_id}", work)

    def _fonds(self, ctx: Context) -> None:
        """The records that stay with the ceased agency (its provenance) become readable by the keeper."""
        with self.db.read() as s:
            ids = list(s.execute(select(Document.id).where(Document.agency_id.in_(ctx.source_ids))
                                 .order_by(Document.id)).scalars())
        for doc_id in ids:
            def work(s: Session, doc_id: int = doc_id) -> dict[str, Any]:
                doc = must_get(s, Document, doc_id)
                refresh_readers(s, doc)
                return {"document": doc_id, "origin_agency": doc.agency_id, "keeper": ctx.primary_id,
                        "status": doc.status}
            self._item(ctx, "fonds", f"document:{doc_id}", work)

    def _verify(self, ctx: Context) -> None:
        def work(s: Session) -> dict[str, Any]:
            plan = must_get(s, ReorgPlan, ctx.plan_id)
            before = plan.before or {}
            after = manifest.take(s, [int(k) for k in before.get("records", {})], ctx.source_ids,
                                  before.get("user_ids", []))
            after["problems"] = compare_manifests(before, after)
            after["registers_after"] = [
                {"agency_id": c.agency_id, "register": c.register, "series": c.series, "year": c.year,
                 "last_number": c.last_number}
                for c in s.execute(select(RegisterCounter).where(RegisterCounter.agency_id.in_(ctx.source_ids))
                                   .order_by(RegisterCounter.agency_id, RegisterCounter.register,
                                             RegisterCounter.series, RegisterCounter.year)).scalars()]
            if after["registers_after"] != before.get("registers"):
                after["problems"].append("a register of a ceased agency changed")
            plan.after = after
            return {"sha256_before": before.get("sha256"), "sha256_after": after["sha256"],
                    "problems": after["problems"]}
        self._item(ctx, "verify", "manifest", work)


def _replace(rows: list[Any], attr: str, wanted: set[Any], make: Callable[[Any], Any]) -> None:
    """Make a collection of association rows hold exactly ``wanted`` (kept rows are not re-inserted)."""
    for row in [r for r in rows if getattr(r, attr) not in wanted]:
        rows.remove(row)
    have = {getattr(r, attr) for r in rows}
    rows.extend(make(v) for v in sorted(wanted - have))


def _locked_document(s: Session, doc_id: int) -> Document:
    """The document, its row locked (``of=Document``: PostgreSQL refuses FOR UPDATE on the outer join that
    loads its type)."""
    return s.execute(select(Document).where(Document.id == doc_id).with_for_update(of=Document)).scalar_one()
