"""Maintaining and enforcing read access: the ``document_readers`` tokens and the clearance rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, delete, exists, select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import (
    Assignment,
    ChainDecision,
    ChainInstance,
    ChainStep,
    Document,
    DocumentGrant,
    DocumentReader,
    Recipient,
)
from docsvc.db.uow import read_memo
from docsvc.domain.access import Relationships, actor_tokens, document_tokens
from docsvc.domain.documents import Direction, Status
from docsvc.domain.identity import Actor
from docsvc.errors import NotFound
from docsvc.services import outbox
from docsvc.services.delegations import delegate_readers
from docsvc.timeutil import vn_today

RelationshipSource = Callable[[Session, Document, Relationships], None]
#: Where a unit of work's session finds the extra relationship sources of later capabilities
#: (e.g. archive dossiers), wired by ``docsvc.bootstrap`` into ``Database(session_info=...)``.
RELATIONSHIP_SOURCES_INFO = "relationship_sources"


def relationships_of(s: Session, doc: Document) -> Relationships:
    rel = Relationships(agency_id=doc.agency_id, direction=Direction(doc.direction), status=Status(doc.status),
                        created_by=doc.created_by)
    for user_id, unit_id in s.execute(select(Assignment.user_id, Assignment.unit_id).where(
            Assignment.document_id == doc.id, Assignment.status != "cancelled")):
        if user_id:
            rel.user_ids.add(user_id)
        if unit_id:
            rel.unit_ids.add(unit_id)
    rel.user_ids.update(s.execute(
        select(ChainDecision.user_id).join(ChainStep, ChainDecision.step_id == ChainStep.id)
        .join(ChainInstance, ChainStep.instance_id == ChainInstance.id)
        .where(ChainInstance.document_id == doc.id)).scalars())
    rel.user_ids.update(u for u in s.execute(
        select(ChainDecision.decided_by).join(ChainStep, ChainDecision.step_id == ChainStep.id)
        .join(ChainInstance, ChainStep.instance_id == ChainInstance.id)
        .where(ChainInstance.document_id == doc.id)).scalars() if u)
    # Delegates (KT., TL., TUQ., ...) of the people the active chain waits for, while their delegation
    # covers the document; ``ApprovalService.sync_delegation_readers`` recomputes when one starts or ends.
    rel.user_ids.update(delegate_readers(s, doc, vn_today()))
    for user_id, unit_id in s.execute(select(DocumentGrant.user_id, DocumentGrant.unit_id).where(
            DocumentGrant.document_id == doc.id, DocumentGrant.revoked_at.is_(None))):
        if user_id:
            rel.user_ids.add(user_id)
        if unit_id:
            rel.unit_ids.add(unit_id)
    if doc.status in (Status.ISSUED, Status.RECALLED):
        rel.unit_ids.update(u for u in s.execute(select(Recipient.unit_id).where(
            Recipient.document_id == doc.id)).scalars() if u)
    source: RelationshipSource
    for source in s.info.get(RELATIONSHIP_SOURCES_INFO, ()):
        source(s, doc, rel)
    return rel


def refresh_readers(s: Session, doc: Document) -> set[str]:
    """Recompute who may read ``doc`` and queue its re-indexing (same transaction).

    Every service that changes a document or a relationship to it calls this; bumping
    ``updated_at`` gives the index a newer version, so a stale write can never win."""
    doc.updated_at = utcnow()
    s.flush()
    tokens = document_tokens(relationships_of(s, doc))
    current = set(s.execute(select(DocumentReader.token).where(DocumentReader.document_id == doc.id)).scalars())
    if current != tokens:
        if current - tokens:
            s.execute(delete(DocumentReader).where(DocumentReader.document_id == doc.id,
                                                   DocumentReader.token.in_(current - tokens)))
        s.add_all(DocumentReader(document_id=doc.id, token=t) for t in sorted(tokens - current))
    outbox.index_document(s, doc.id)
    return tokens


def readable_condition(actor: Actor, *, many: bool = False) -> ColumnElement[bool]:
    """SQL condition on ``Document``: ``actor`` may read it (clearance + relationship).

    The relationship (one of the actor's tokens among the document's readers) is written in one of
    two shapes of the same rule: by default a correlated EXISTS, tested row by row — best when a page
    or a few rows are wanted; with ``many``, membership in the set of documents carrying one of the
    actor's tokens, which the database builds once per statement from the (token, document_id)
    index — best for aggregates over most of an agency's documents (reports)."""
    return _readable(int(actor.clearance), sorted(actor_tokens(actor)), many=many)


def _readable(clearance: int | BindParameter[Any], tokens: list[str] | BindParameter[Any], *,
              many: bool = False) -> ColumnElement[bool]:
    """The rule of :func:`readable_condition` over values, or over bound parameters (a prebuilt statement)."""
    related = select(DocumentReader.document_id).where(DocumentReader.token.in_(tokens))
    relation = Document.id.in_(related) if many else exists(related.where(DocumentReader.document_id == Document.id))
    return and_(Document.secrecy <= clearance, relation)


#: The one document by id if the actor (its clearance and tokens, bound per call) may read it: built
#: once, so each request's access check pays no statement construction or cache-key computation.
_READABLE_ONE = select(Document).where(
    Document.id == bindparam("doc_id"),
    _readable(bindparam("clearance"), bindparam("tokens", expanding=True)))
_READABLE_ONE_FOR_UPDATE = _READABLE_ONE.with_for_update(of=Document)


def readable_filter(query: Select, actor: Actor, *, many: bool = False) -> Select:  # type: ignore[type-arg]
    """Restrict a SELECT over Document to what ``actor`` may read (see :func:`readable_condition`)."""
    return query.where(readable_condition(actor, many=many))


def load_readable(s: Session, actor: Actor, doc_id: int, *, for_update: bool = False) -> Document:
    """The document if ``actor`` may read it; otherwise NotFound (its existence is not revealed).

    In a read-only transaction the answer is kept for the transaction's later questions: a page whose
    boxes each ask their service (each checking access itself) inside one ``Database.shared_read()``
    runs the check once per request. It ends with the transaction (never kept across requests, so a
    change of rights counts from the next request). Write transactions always ask the database."""
    memo = None if for_update else read_memo(s, "readable_documents")
    if memo is not None:
        found: Document | None = memo.get((doc_id, actor))
        if found is not None:
            return found
    doc: Document | None = s.execute(_READABLE_ONE_FOR_UPDATE if for_update else _READABLE_ONE, {
        "doc_id": doc_id, "clearance": int(actor.clearance), "tokens": sorted(actor_tokens(actor))}
    ).scalar_one_or_none()
    if doc is None:
        raise NotFound(f"document {doc_id} not found")
    if memo is not None:
        memo[(doc_id, actor)] = doc
    return doc
