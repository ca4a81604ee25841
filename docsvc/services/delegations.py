"""Which delegations are in effect, and what they let their delegates read (queries, no writes).

A delegation (KT., TL., TUQ., Q., TM.) lets its delegate take the delegator's pending decisions in
approval chains, signing included, within its scope (document types) and validity period. To take a
decision the delegate must read the document: while the delegation is in effect, its delegate is a
reader of every document whose active chain still waits for the delegator (``delegate_readers``,
used by ``access.relationships_of``). One rule (``DelegationRule.covers``) answers both questions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from docsvc.db.models import ChainDecision, ChainInstance, ChainStep, Delegation, Document
from docsvc.domain.approval import AuthorityForm, DelegationRule

# Steps whose pending decisions a delegate may be asked to take (now or later in the chain).
_OPEN_STEPS = ("waiting", "active")


def rule_of(row: Delegation) -> DelegationRule:
    return DelegationRule(AuthorityForm(row.form), row.valid_from, row.valid_until,
                          tuple(row.type_codes) if row.type_codes else None, row.revoked_at is not None)


def in_effect(row: Delegation, day: date) -> bool:
    """In force on ``day`` (not revoked, within its dates), whatever the document type."""
    return row.revoked_at is None and row.valid_from <= day <= row.valid_until


def in_effect_clause(day: date) -> ColumnElement[bool]:
    """:func:`in_effect` as a SQL condition on ``Delegation`` (to select before ``covers`` checks the type)."""
    return and_(Delegation.revoked_at.is_(None), Delegation.valid_from <= day, Delegation.valid_until >= day)


def delegations_to(s: Session, delegate_id: int, day: date) -> list[Delegation]:
    """The delegations to ``delegate_id`` in effect on ``day``."""
    return list(s.execute(select(Delegation).where(Delegation.delegate_id == delegate_id, in_effect_clause(day))
                          .order_by(Delegation.id)).scalars())


def covering_any(s: Session, delegator_ids: Iterable[int], delegate_id: int, type_code: str | None, day: date
                 ) -> dict[int, Delegation]:
    """Delegator id → the newest delegation from that delegator to ``delegate_id`` that covers a
    document of ``type_code`` on ``day`` (one query for all of ``delegator_ids``; absent: none covers)."""
    ids = sorted(set(delegator_ids))
    out: dict[int, Delegation] = {}
    if not ids:
        return out
    for row in s.execute(select(Delegation).where(Delegation.delegator_id.in_(ids),
                                                  Delegation.delegate_id == delegate_id)
                         .order_by(Delegation.id.desc())).scalars():
        if row.delegator_id not in out and rule_of(row).covers(day, type_code):
            out[row.delegator_id] = row
    return out


def _pending_query(doc_id: int | None = None):  # type: ignore[no-untyped-def]
    q = (select(ChainDecision.user_id, ChainInstance.document_id)
         .join(ChainStep, ChainDecision.step_id == ChainStep.id)
         .join(ChainInstance, ChainStep.instance_id == ChainInstance.id)
         .where(ChainInstance.status == "active", ChainStep.status.in_(_OPEN_STEPS),
                ChainDecision.decision.is_(None)))
    return q if doc_id is None else q.where(ChainInstance.document_id == doc_id)


def delegate_readers(s: Session, doc: Document, day: date) -> set[int]:
    """Delegates who read ``doc`` on ``day``: its active chain waits for their delegator, and the
    delegation covers the document's type on that day."""
    waiting_for = set(s.execute(_pending_query(doc.id)).scalars())
    if not waiting_for:
        return set()
    type_code = doc.doc_type.code
    rows = s.execute(select(Delegation).where(Delegation.delegator_id.in_(sorted(waiting_for)),
                                              Delegation.agency_id == doc.agency_id, in_effect_clause(day))).scalars()
    return {r.delegate_id for r in rows if rule_of(r).covers(day, type_code)}


def documents_waiting_for(s: Session, delegator_ids: Iterable[int]) -> list[int]:
    """Ids of the documents whose active chain still waits for one of ``delegator_ids``."""
    ids = sorted(set(delegator_ids))
    if not ids:
        return []
    rows = s.execute(_pending_query().where(ChainDecision.user_id.in_(ids))).all()
    return sorted({doc_id for _, doc_id in rows})


def changed_since_applied(s: Session, day: date) -> list[Delegation]:
    """Delegations whose effect on ``day`` differs from the one the readers were last computed
    with: started (valid_from reached) or ended (expired or revoked) since (for the sweep)."""
    now_in_effect = in_effect_clause(day)
    return list(s.execute(select(Delegation).where(or_(
        and_(Delegation.readers_in_effect.is_(False), now_in_effect),
        and_(Delegation.readers_in_effect.is_(True), ~now_in_effect))).order_by(Delegation.id)).scalars())
