"""Duplicate incoming documents: the same (number, notation, issuing body) already registered in
the agency (DOMAIN.md), or the same bytes already received. One place for both rules: single
receipt, registration and the batch review grid all ask here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.orm import Session

from docsvc.db.models import Document, DocumentFile
from docsvc.domain.documents import Direction, number_notation


def registered_with_key(s: Session, agency_id: int, dup_key: str | None,
                        exclude_id: int | None = None) -> list[dict[str, Any]]:
    """Registered incoming documents of the agency with this duplicate key."""
    if not dup_key:
        return []
    query = select(Document).where(Document.agency_id == agency_id, Document.dup_key == dup_key,
                                   Document.direction == Direction.INCOMING.value,
                                   Document.arrival_number.is_not(None))
    if exclude_id is not None:
        query = query.where(Document.id != exclude_id)
    return [{"document_id": d.id, "arrival_number": d.arrival_number, "year": d.register_year,
             "number_notation": number_notation(d.code_number, d.code_notation)}
            for d in s.execute(query.order_by(Document.id)).scalars()]


_CONTENT_ROLES = ("main", "attachment")
_Received = Select[str, int, int | None, int | None]  # digest, document id, arrival number, year


def _received_query(same_bytes: ColumnElement[bool]) -> _Received:
    """Incoming documents of the agency ``:agency_id`` other than ``:exclude_id`` holding a file with
    ``same_bytes``, by digest then document (built once per shape: every document view asks)."""
    return (select(DocumentFile.sha256, Document.id, Document.arrival_number, Document.register_year).join(
        DocumentFile, DocumentFile.document_id == Document.id).where(
        Document.agency_id == bindparam("agency_id"), Document.direction == Direction.INCOMING.value,
        same_bytes, DocumentFile.role.in_(_CONTENT_ROLES), Document.id != bindparam("exclude_id"))
        .distinct().order_by(DocumentFile.sha256, Document.id))


_WITH_BYTES = _received_query(DocumentFile.sha256 == bindparam("sha256"))
_WITH_BYTES_OF = _received_query(DocumentFile.sha256.in_(
    select(DocumentFile.sha256).where(DocumentFile.document_id == bindparam("doc_id"),
                                      DocumentFile.role.in_(_CONTENT_ROLES)).scalar_subquery()))


def received_with_bytes(s: Session, agency_id: int, sha256: str | None,
                        exclude_id: int | None = None) -> list[dict[str, Any]]:
    """Incoming documents of the agency one of whose files has exactly these bytes."""
    if not sha256:
        return []
    return _received(s, _WITH_BYTES, {"agency_id": agency_id, "sha256": sha256, "exclude_id": exclude_id})


def received_with_bytes_of(s: Session, doc: Document) -> list[dict[str, Any]]:
    """Other incoming documents of ``doc``'s agency holding a file with the bytes of one of ``doc``'s
    files (one query whatever the number of files), by digest then document, each with its ``sha256``."""
    return _received(s, _WITH_BYTES_OF, {"agency_id": doc.agency_id, "doc_id": doc.id, "exclude_id": doc.id})


def _received(s: Session, query: _Received, params: dict[str, Any]) -> list[dict[str, Any]]:
    params["exclude_id"] = params["exclude_id"] or 0  # ids start at 1: 0 excludes nothing
    return [{"document_id": r.id, "arrival_number": r.arrival_number, "year": r.register_year, "sha256": r.sha256}
            for r in s.execute(query, params)]


def duplicate_message(found: dict[str, Any], *, same_bytes: bool = False) -> str:
    """The user's sentence (Vietnamese, as every page): where the earlier copy is."""
    where = (f"đã vào sổ văn bản đến số {found['arrival_number']}/{found['year']}" if found.get("arrival_number")
             else f"đã tiếp nhận (văn bản #{found['document_id']}, chưa vào sổ)")
    return ("Tệp giống hệt văn bản " if same_bytes else "Trùng số, ký hiệu và cơ quan ban hành với văn bản ") + where
