"""Feeding the search index from the outbox, and searching with the caller's access filter.

Draining claims due outbox items with a lease (a worker that dies mid-item leaves it to be
retried when the lease ends: ``DOCSVC_OUTBOX_LEASE_SECONDS``, 2 minutes by default; an item that
takes longer than its lease may be indexed twice, which is harmless), extracts text (pypdf, or
Tesseract OCR for scans) outside any transaction, stores the text beside the original, upserts
the index, then marks the item done.
A failure (index down, OCR error) backs off and retries; nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Document, DocumentFile, DocumentReader, DocumentType, OutboxItem
from docsvc.db.uow import Database
from docsvc.domain.access import actor_tokens
from docsvc.domain.documents import number_notation
from docsvc.domain.identity import Actor
from docsvc.errors import InvalidInput
from docsvc.services import outbox
from docsvc.services.files import FileStore
from docsvc.timeutil import to_vn

log = logging.getLogger("docsvc.indexing")

LEASE = timedelta(minutes=2)
TEXT_ROLES = ("text", "ocr_text")
SOURCE_ROLES = ("main",)  # text comes from the uploaded content; signed renditions add no words

# Extra index fields from later capabilities (dossiers, archive status): (session, doc) -> dict
INDEX_FIELD_SOURCES: list[Callable[[Session, Document], dict[str, Any]]] = []


@dataclass
class DrainReport:
    done: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class IndexingService:
    def __init__(self, db: Database, files: FileStore, index: Any, *, hide_top_secret_subject: bool,
                 ocr: bool = True, lease: timedelta = LEASE) -> None:
        self.db = db
        self.lease = lease
        self.files = files
        self.index = index  # a search.SearchIndex
        self.hide_top_secret_subject = hide_top_secret_subject
        self.ocr = ocr

    # ------------------------------------------------------------ outbox
    def drain(self, limit: int = 50) -> DrainReport:
        from search.errors import SearchUnavailable
        from storage.errors import StorageUnavailable
        report = DrainReport()
        claimed = self._claim(limit)
        for n, (item_id, key) in enumerate(claimed):
            try:
                self.index_document(int(key))
            except Exception as exc:  # any failure: back off and retry later, keep the item
                report.failed += 1
                report.errors.append(f"document {key}: {type(exc).__name__}: {exc}"[:300])
                self._failed(item_id, exc)
                log.warning("indexing document %s failed: %s", key, exc)
                if isinstance(exc, (SearchUnavailable, StorageUnavailable)):
                    # The index or the object store is down or hanging: every other item would
                    # wait for the same timeout. Back them all off now; the next drain tries again.
                    for other_id, _ in claimed[n + 1:]:
                        self._failed(other_id, exc)
                    report.failed += len(claimed) - n - 1
                    break
            else:
                report.done += 1
                with self.db.write() as s:
                    s.execute(update(OutboxItem).where(OutboxItem.id == item_id).values(done_at=utcnow(),
                                                                                        last_error=None))
        return report

    def drain_all(self, batch: int = 100) -> DrainReport:
        """Drain until nothing is due (tests, `docsvc reindex --pending`)."""
        total = DrainReport()
        while True:
            r = self.drain(batch)
            total.done += r.done
            total.failed += r.failed
            total.errors += r.errors
            if r.done + r.failed == 0 or r.done == 0:
                return total

    def pending(self) -> int:
        with self.db.read() as s:
            return len(s.execute(select(OutboxItem.id).where(OutboxItem.topic == outbox.INDEX,
                                                             OutboxItem.done_at.is_(None))).all())

    def _claim(self, limit: int) -> list[tuple[int, str]]:
        with self.db.write() as s:
            items = outbox.due(s, limit, outbox.INDEX)
            now = utcnow()
            for item in items:
                item.attempts += 1
                item.next_attempt_at = now + self.lease
            return [(i.id, i.key) for i in items]

    def _failed(self, item_id: int, exc: Exception) -> None:
        with self.db.write() as s:
            item = s.get(OutboxItem, item_id)
            item.next_attempt_at = utcnow() + outbox.backoff(item.attempts)
            item.last_error = f"{type(exc).__name__}: {exc}"[:2000]

    # ------------------------------------------------------------ one document
    def index_document(self, doc_id: int) -> None:
        with self.db.read() as s:
            doc = s.get(Document, doc_id)
            if doc is None:
                self.index.delete([str(doc_id)])
                return
            text_file, source = self._text_files(doc)
            text_key = text_file.object_key if text_file else None
            source_facts = (source.id, source.object_key, source.content_type) if source else None
        full_text = ""
        if text_key:
            full_text = self.files.read_bytes(text_key).decode("utf-8", errors="replace")
        elif source_facts:
            full_text = self._extract_and_keep(doc_id, *source_facts)
        with self.db.read() as s:
            doc = s.get(Document, doc_id)
            if doc is None:
                self.index.delete([str(doc_id)])
                return
            index_doc = self._index_document(s, doc, full_text)
        self.index.upsert([index_doc])

    def _text_files(self, doc: Document) -> tuple[DocumentFile | None, DocumentFile | None]:
        """(stored text of the current content, the file to extract it from) — secret or offline
        content is never extracted, so never indexed."""
        if doc.content_offline or doc.secrecy > 0:
            return None, None
        mains = [f for f in doc.files if f.role in SOURCE_ROLES and f.version == doc.current_version]
        if not mains:
            return None, None
        source = mains[-1]
        texts = [f for f in doc.files if f.role in TEXT_ROLES and f.base_file_id == source.id]
        return (texts[-1] if texts else None), source

    def _extract_and_keep(self, doc_id: int, source_id: int, key: str, content_type: str) -> str:
        from search.extract import extract_document
        data = self.files.read_bytes(key)
        extracted = extract_document(data, content_type, ocr=self.ocr)
        role = "ocr_text" if "ocr" in extracted.method else "text"
        stored = self.files.put_bytes(extracted.text.encode("utf-8"), f"{role}-{source_id}.txt",
                                      "text/plain; charset=utf-8")
        with self.db.write() as s:
            exists = s.execute(select(DocumentFile.id).where(DocumentFile.base_file_id == source_id,
                                                             DocumentFile.role.in_(TEXT_ROLES))).first()
            if not exists and s.get(Document, doc_id) is not None:
                source = s.get(DocumentFile, source_id)
                s.add(DocumentFile(document_id=doc_id, version=source.version, role=role, object_key=stored.key,
                                   sha256=stored.sha256, size=stored.size, filename=stored.filename,
                                   content_type=stored.content_type, base_file_id=source_id))
        return extracted.text

    def _index_document(self, s: Session, doc: Document, full_text: str) -> Any:
        from search import IndexDocument
        readers = list(s.execute(select(DocumentReader.token).where(DocumentReader.document_id == doc.id)).scalars())
        extra: dict[str, Any] = {}
        for source in INDEX_FIELD_SOURCES:
            extra.update(source(s, doc))
        arrival = to_vn(doc.arrival_at).date() if doc.arrival_at else None
        return IndexDocument(
            id=str(doc.id), direction=doc.direction, subject=doc.subject, org_id=str(doc.agency_id),
            type_code=doc.doc_type.code or "cong_van", type_name=doc.doc_type.name,
            number=int(doc.code_number) if doc.code_number and doc.code_number.isdigit() else None,
            notation=number_notation(doc.code_number, doc.code_notation) or None,
            incoming_number=doc.arrival_number, organ_id=doc.issuing_organ_id, issuing_body=doc.issuing_body or None,
            full_text=full_text, issued_date=doc.issued_date, arrival_date=arrival,
            year=doc.register_year or (doc.issued_date.year if doc.issued_date else to_vn(doc.created_at).year),
            status=doc.status, secrecy=doc.secrecy, urgency=doc.urgency, signer=doc.signer_name,
            readers=readers, content_indexed=not doc.content_offline and doc.secrecy == 0,
            subject_indexed=not (self.hide_top_secret_subject and doc.secrecy == 3),
            updated_at=doc.updated_at, **extra)

    # ------------------------------------------------------------ rebuild
    def reindex_all(self) -> Iterator[int]:
        """Rebuild the index from the database; yields each document id as it is indexed. An index
        built by another schema version is dropped and created anew first."""
        from search.errors import SchemaMismatch
        try:
            self.index.ensure_schema()
            self.index.clear()
        except SchemaMismatch:
            log.warning("the search index has another schema: recreating it")
            self.index.recreate()
        with self.db.read() as s:
            ids = list(s.execute(select(Document.id).order_by(Document.id)).scalars())
        for doc_id in ids:
            self.index_document(doc_id)
            yield doc_id
        self.index.refresh()

    # ------------------------------------------------------------ search
    def principal(self, actor: Actor) -> Any:
        from search import Principal
        return Principal(actor.user_id, int(actor.clearance), actor_tokens(actor))

    def search(self, actor: Actor, query: Any) -> Any:
        if query.type_codes:
            query = replace(query, type_codes=self.resolve_type_codes(query.type_codes))
        return self.index.search(query, self.principal(actor))

    def resolve_type_codes(self, typed: Any) -> tuple[str, ...]:
        """The indexed type codes meant by typed ones: compared folded (``QD`` and ``qđ`` are ``QĐ``;
        ``QyĐ`` stays apart), ``cong_van`` for a công văn. An unknown code is the caller's error
        (a filter that silently matches nothing looks like "no such documents")."""
        from search.vietnamese import fold
        with self.db.read() as s:
            codes = [c for c in s.scalars(select(DocumentType.code)) if c] + ["cong_van"]
        known = {fold(c): c for c in codes}
        resolved = []
        for code in typed:
            match = known.get(fold(code)) if isinstance(code, str) else None
            if match is None:
                raise InvalidInput(f"unknown document type code {code!r}; known codes: {', '.join(sorted(codes))}",
                                   {"field": "type", "known": sorted(codes)})
            resolved.append(match)
        return tuple(dict.fromkeys(resolved))

    def suggest(self, actor: Actor, prefix: str, limit: int) -> Any:
        return self.index.suggest(prefix, self.principal(actor), limit)
