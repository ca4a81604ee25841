"""'My work': everything waiting for the current user, urgent first, with overdue flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from docsvc.db.models import Assignment, ChainDecision, ChainInstance, ChainStep, Document
from docsvc.db.uow import Database
from docsvc.domain.documents import Direction, Status
from docsvc.domain.identity import Actor, Role
from docsvc.services.access import readable_filter
from docsvc.services.delegations import delegations_to, rule_of
from docsvc.services.documents import document_dict
from docsvc.services.user_names import user_names
from docsvc.timeutil import vn_today

# What the user is asked to do, by reason (shown in the inbox).
ACTIONS = {
    "register": "Vào sổ văn bản đến",
    "instruct": "Cho ý kiến chỉ đạo, phân công",
    "handle": "Xử lý (chủ trì)",
    "co_handle": "Phối hợp xử lý",
    "for_information": "Để biết",
    "review": "Xem xét, cho ý kiến",
    "approve": "Phê duyệt",
    "sign": "Ký số",
    "issue": "Cấp số, ký số cơ quan và phát hành",
    "revise": "Chỉnh sửa theo ý kiến",
}


@dataclass
class InboxItem:
    reason: str
    document: dict[str, Any]
    deadline: date | None
    overdue: bool
    urgency: int
    since: str | None
    ref_id: int | None = None  # the assignment or decision this item is about

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "action": ACTIONS[self.reason], "document": self.document,
                "deadline": self.deadline.isoformat() if self.deadline else None, "overdue": self.overdue,
                "ref_id": self.ref_id}


class InboxService:
    def __init__(self, db: Database, *, hide_top_secret_subject: bool) -> None:
        self.db = db
        self.hide = hide_top_secret_subject

    def inbox(self, actor: Actor) -> list[InboxItem]:
        today = vn_today()
        with self.db.read() as s:
            items: list[InboxItem] = []
            if actor.has(Role.CLERK):
                items += self._docs(s, actor, "register", and_(
                    Document.direction == Direction.INCOMING.value, Document.status == Status.RECEIVED.value))
            if actor.has(Role.LEADER):
                items += self._docs(s, actor, "instruct", and_(
                    Document.direction == Direction.INCOMING.value, Document.status == Status.REGISTERED.value))
            items += self._docs(s, actor, "revise", and_(
                Document.direction != Direction.INCOMING.value, Document.status == Status.DRAFT.value,
                Document.created_by == actor.user_id, Document.status_reason.is_not(None)))
            items += self._assignments(s, actor, today)
            items += self._decisions(s, actor)
        items.sort(key=lambda i: (-i.urgency, not i.overdue, i.deadline or date.max, i.document["id"]))
        return items

    def _docs(self, s: Session, actor: Actor, reason: str, condition: Any) -> list[InboxItem]:
        q = readable_filter(select(Document).where(condition, Document.agency_id == actor.agency_id), actor)
        today = vn_today()
        out = []
        docs = s.execute(q.order_by(Document.id).limit(500)).scalars().all()
        user_names(s, [d.created_by for d in docs])
        for d in docs:
            overdue = bool(d.due_date and d.due_date < today)
            out.append(InboxItem(reason, self._doc(s, d), d.due_date, overdue, d.urgency, None))
        return out

    def _assignments(self, s: Session, actor: Actor, today: date) -> list[InboxItem]:
        mine = or_(Assignment.user_id == actor.user_id,
                   and_(Assignment.user_id.is_(None), Assignment.unit_id.in_(sorted(actor.unit_ids)))
                   if actor.has(Role.UNIT_HEAD) and actor.unit_ids else false())
        q = readable_filter(select(Assignment, Document).join(Document, Document.id == Assignment.document_id)
                            .where(Assignment.status == "open", mine), actor)
        reason = {"lead": "handle", "co": "co_handle", "info": "for_information"}
        rows = s.execute(q.limit(1000)).all()
        user_names(s, [d.created_by for _a, d in rows])
        return [InboxItem(reason[a.role], self._doc(s, d), a.deadline,
                          bool(a.deadline and a.deadline < today), d.urgency, None, ref_id=a.id)
                for a, d in rows]

    def _decisions(self, s: Session, actor: Actor) -> list[InboxItem]:
        """Decisions waiting for the actor, and those of people who delegated to them (KT., TUQ., ...)
        where the delegation covers the document today (the same rule as taking the decision)."""
        today = vn_today()
        delegated = delegations_to(s, actor.user_id, today)
        whose = {actor.user_id} | {d.delegator_id for d in delegated}
        q = readable_filter(
            select(ChainDecision, ChainStep, Document)
            .join(ChainStep, ChainStep.id == ChainDecision.step_id)
            .join(ChainInstance, ChainInstance.id == ChainStep.instance_id)
            .join(Document, Document.id == ChainInstance.document_id)
            .where(ChainDecision.user_id.in_(sorted(whose)), ChainDecision.decision.is_(None),
                   ChainStep.status == "active", ChainInstance.status == "active"), actor)
        items, seen = [], set()
        rows = s.execute(q.order_by(ChainDecision.id).limit(1000)).all()
        user_names(s, [row[2].created_by for row in rows])
        for dec, step, d in sorted(rows, key=lambda row: (row[0].user_id != actor.user_id, row[0].id)):  # own first
            if (dec.user_id != actor.user_id and not any(
                    g.delegator_id == dec.user_id and rule_of(g).covers(today, d.doc_type.code) for g in delegated)):
                continue
            if d.id in seen:  # one item per document, even when several of its decisions are the actor's to take
                continue
            seen.add(d.id)
            items.append(InboxItem(step.kind if step.kind in ACTIONS else "approve", self._doc(s, d), d.due_date,
                                   bool(d.due_date and d.due_date < today), d.urgency, None, ref_id=dec.id))
        return items

    def _doc(self, s: Session, d: Document) -> dict[str, Any]:
        return document_dict(s, d, hide_subject=self.hide, detail=False)
