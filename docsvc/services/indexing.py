"""Feeding the search index from the outbox, and searching with the caller's access filter.

Draining claims one due outbox item at a time with a lease (``DOCSVC_OUTBOX_LEASE_SECONDS``) that a
heartbeat renews while the work is alive, so no second worker takes an item that is still being
worked on; a worker that dies leaves it to the next drain when the lease ends (counted as a
failure). Text is extracted (pypdf, or Tesseract OCR for scans) outside any transaction, in a child
process with limits on CPU time, memory, pages and text size (:mod:`search.sandbox`), stored beside
the original, then the index is upserted and the item marked done.
A backend outage (index, store, database) backs off and retries without counting; a failure of the
item's own work (unreadable file, a limit hit) counts, and after ``DOCSVC_OUTBOX_MAX_FAILURES`` the
item is quarantined with its reason: the document is indexed without its text until an
administrator releases it (:class:`docsvc.services.quarantine.QuarantineService`).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Document, DocumentFile, DocumentReader, DocumentType, OutboxItem
from docsvc.db.rows import rows_affected
from docsvc.db.uow import Database
from docsvc.domain.access import actor_tokens
from docsvc.domain.documents import number_notation
from docsvc.domain.identity import Actor
from docsvc.errors import BackendUnavailable, InvalidInput
from docsvc.services import audit, outbox
from docsvc.services.files import FileStore
from docsvc.timeutil import to_vn
from search import IndexDocument, Principal, SearchIndex, SearchQuery, SearchResult, Suggestion

if TYPE_CHECKING:
    from search.sandbox import ExtractionLimits

log = logging.getLogger("docsvc.indexing")

LEASE = timedelta(minutes=2)
MAX_FAILURES = 3
TEXT_ROLES = ("text", "ocr_text")
SOURCE_ROLES = ("main",)  # text comes from the uploaded content; signed renditions add no words
LOST_LEASE = "the worker processing this item stopped before finishing (its lease expired)"

IndexFieldSource = Callable[[Session, Document], dict[str, Any]]
#: Where a unit of work's session finds the extra index fields of later capabilities (dossiers,
#: archive status), wired by ``docsvc.bootstrap`` into ``Database(session_info=...)``.
INDEX_FIELD_SOURCES_INFO = "index_field_sources"


@dataclass
class DrainReport:
    done: int = 0
    failed: int = 0
    quarantined: int = 0
    errors: list[str] = field(default_factory=list)


def _backend_down(exc: BaseException) -> bool:
    """A backend outage, not a fault of the item: retried without counting towards quarantine."""
    from search.errors import SearchUnavailable
    from storage.errors import StorageUnavailable
    return isinstance(exc, (SearchUnavailable, StorageUnavailable, BackendUnavailable))


def _quarantine(s: Session, item: OutboxItem, reason: str) -> None:
    """Quarantine ``item``: it remembers which file failed (an edit of the document then indexes it
    without extracting that file again; a new version is extracted), and an audit event of the
    system records it in the document's agency."""
    doc = s.get(Document, int(item.key)) if item.key.isdigit() else None
    source = _source_file(doc) if doc is not None else None
    item.quarantined_at, item.lease_token = utcnow(), None
    item.payload = {**(item.payload or {}), "source_file_id": source.id if source is not None else None}
    audit.record(s, actor=None, action="outbox.quarantine", object_type="outbox", object_id=item.id,
                 outcome="failed", agency_id=doc.agency_id if doc is not None else None,
                 details={"topic": outbox.INDEX, "document_id": doc.id if doc is not None else None,
                          "failures": item.failures, "reason": reason[:500]})


def _close_superseded(s: Session, key: str) -> None:
    """Quarantined items of a file that is no longer the document's current content (a new version
    came) have nothing left to do: they are closed (done), their reason kept."""
    doc = s.get(Document, int(key)) if key.isdigit() else None
    source = _source_file(doc) if doc is not None else None
    for item in s.execute(select(OutboxItem).where(OutboxItem.topic == outbox.INDEX, OutboxItem.key == key,
                                                   OutboxItem.quarantined_at.is_not(None),
                                                   OutboxItem.done_at.is_(None))).scalars():
        if (item.payload or {}).get("source_file_id") != (source.id if source is not None else None):
            item.done_at = utcnow()


def _source_file(doc: Document) -> DocumentFile | None:
    """The file the text of ``doc`` comes from (None: secret or offline content is never extracted)."""
    if doc.content_offline or doc.secrecy > 0:
        return None
    mains = [f for f in doc.files if f.role in SOURCE_ROLES and f.version == doc.current_version]
    return mains[-1] if mains else None


class IndexingService:
    def __init__(self, db: Database, files: FileStore, index: SearchIndex, *, hide_top_secret_subject: bool,
                 ocr: bool = True, lease: timedelta = LEASE, max_failures: int = MAX_FAILURES,
                 extract_limits: ExtractionLimits | None = None) -> None:
        from search.sandbox import ExtractionLimits
        self.db = db
        self.lease = lease
        self.max_failures = max_failures
        self.extract_limits = extract_limits or ExtractionLimits()
        self.files = files
        self.index = index  # a search.SearchIndex
        self.hide_top_secret_subject = hide_top_secret_subject
        self.ocr = ocr

    # ------------------------------------------------------------ outbox
    def drain(self, limit: int = 50) -> DrainReport:
        """Index up to ``limit`` due items, one claimed at a time; stops at the first backend outage
        (every other item would wait for the same timeout; the next drain tries again)."""
        report = DrainReport()
        for _ in range(limit):
            claim = self._claim_next(report)
            if claim is None:
                break
            item_id, key, token = claim
            try:
                with self._heartbeat(item_id, token):
                    self.index_document(int(key), skip_sources=self._quarantined_sources(key, item_id))
            except Exception as exc:  # any failure: back off (or quarantine), keep the item
                report.failed += 1
                report.errors.append(f"document {key}: {type(exc).__name__}: {exc}"[:300])
                log.warning("indexing document %s failed: %s", key, exc)
                down = _backend_down(exc)
                if self._failed(item_id, token, exc, counts=not down):
                    report.quarantined += 1
                    self._index_without_text(key)
                if down:
                    break
            else:
                report.done += 1
                with self.db.write() as s:
                    s.execute(update(OutboxItem).where(OutboxItem.id == item_id).values(
                        done_at=utcnow(), last_error=None, lease_token=None))
                    _close_superseded(s, key)
        return report

    def drain_all(self, batch: int = 100) -> DrainReport:
        """Drain until nothing is due (tests, `docsvc reindex --pending`)."""
        total = DrainReport()
        while True:
            r = self.drain(batch)
            total.done += r.done
            total.failed += r.failed
            total.quarantined += r.quarantined
            total.errors += r.errors
            if r.done + r.failed == 0 or r.done == 0:
                return total

    def pending(self) -> int:
        """Index items waiting or in progress (quarantined ones are not pending)."""
        with self.db.read() as s:
            return len(s.execute(select(OutboxItem.id).where(OutboxItem.topic == outbox.INDEX,
                                                             OutboxItem.done_at.is_(None),
                                                             OutboxItem.quarantined_at.is_(None))).all())

    def _claim_next(self, report: DrainReport) -> tuple[int, str, str] | None:
        """Claim the oldest due item: a conditional update that only one worker can win. An item
        whose previous lease ran out unfinished counts that as a failure (and may be quarantined)."""
        while True:
            with self.db.write() as s:
                items = outbox.due(s, 1, outbox.INDEX)
                if not items:
                    return None
                item = items[0]
                now = utcnow()
                lost = item.lease_token is not None
                failures = item.failures + (1 if lost else 0)
                token = secrets.token_hex(16)
                values: dict[str, Any] = {"attempts": item.attempts + 1, "failures": failures,
                                          "next_attempt_at": now + self.lease, "lease_token": token}
                if lost:
                    values["last_error"] = LOST_LEASE
                if failures >= self.max_failures:
                    values.update(lease_token=None, attempts=item.attempts)
                won = rows_affected(s, update(OutboxItem).where(
                    OutboxItem.id == item.id, OutboxItem.done_at.is_(None), OutboxItem.quarantined_at.is_(None),
                    OutboxItem.lease_token.is_(None) if item.lease_token is None
                    else OutboxItem.lease_token == item.lease_token).values(**values)) == 1
                key = item.key
                if won and failures >= self.max_failures:
                    s.refresh(item)
                    _quarantine(s, item, LOST_LEASE)
            if not won:
                continue  # another worker took it first
            if failures >= self.max_failures:
                log.warning("outbox item %s (document %s) quarantined: %s", item.id, key, LOST_LEASE)
                report.quarantined += 1
                self._index_without_text(key)
                continue
            return item.id, key, token

    @contextmanager
    def _heartbeat(self, item_id: int, token: str) -> Iterator[None]:
        """Renew the lease of a claimed item every third of the lease while the work runs."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.lease.total_seconds() / 3):
                try:
                    with self.db.write() as s:
                        s.execute(update(OutboxItem).where(OutboxItem.id == item_id, OutboxItem.lease_token == token)
                                  .values(next_attempt_at=utcnow() + self.lease))
                except Exception:  # the database being down: the lease may lapse; the work goes on
                    log.warning("could not renew the lease of outbox item %s", item_id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"docsvc-lease-{item_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _failed(self, item_id: int, token: str, exc: Exception, *, counts: bool) -> bool:
        """Back the item off, or quarantine it when its own work failed too often (True)."""
        with self.db.write() as s:
            item = s.get(OutboxItem, item_id)
            if item is None or item.lease_token != token:
                return False  # our lease ran out and another worker holds the item now
            item.lease_token = None
            item.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if counts:
                item.failures += 1
                if item.failures >= self.max_failures:
                    _quarantine(s, item, item.last_error or "")
                    log.warning("outbox item %s (document %s) quarantined: %s", item_id, item.key, item.last_error)
                    return True
            item.next_attempt_at = utcnow() + outbox.backoff(item.failures if counts else item.attempts)
            return False

    def _quarantined_sources(self, key: str, item_id: int) -> frozenset[int]:
        """Files of this document whose extraction another item quarantined: an edit indexes the
        metadata without running that file again; its text comes when an administrator releases it."""
        with self.db.read() as s:
            payloads = s.execute(select(OutboxItem.payload).where(
                OutboxItem.topic == outbox.INDEX, OutboxItem.key == key, OutboxItem.id != item_id,
                OutboxItem.quarantined_at.is_not(None), OutboxItem.done_at.is_(None))).scalars()
            return frozenset(p["source_file_id"] for p in payloads if p and p.get("source_file_id"))

    def _index_without_text(self, key: str) -> None:
        """A quarantined document stays findable by its metadata (best effort)."""
        try:
            self.index_document(int(key), extract=False)
        except Exception as exc:  # the next change of the document indexes it again
            log.warning("indexing quarantined document %s without text failed: %s", key, exc)

    # ------------------------------------------------------------ one document
    def index_document(self, doc_id: int, *, extract: bool = True,
                       skip_sources: frozenset[int] = frozenset()) -> None:
        """Upsert the document into the index; ``extract``: extract its text when none is stored
        (never from a file in ``skip_sources``)."""
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
        elif source_facts and extract and source_facts[0] not in skip_sources:
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
        source = _source_file(doc)
        if source is None:
            return None, None
        texts = [f for f in doc.files if f.role in TEXT_ROLES and f.base_file_id == source.id]
        return (texts[-1] if texts else None), source

    def _extract_and_keep(self, doc_id: int, source_id: int, key: str, content_type: str) -> str:
        from search.sandbox import extract_isolated
        data = self.files.read_bytes(key)
        extracted = extract_isolated(data, content_type, limits=self.extract_limits, ocr=self.ocr)
        self.keep_text(doc_id, source_id, extracted.text, extracted.method)
        return extracted.text

    def keep_text(self, doc_id: int, source_id: int, text: str, method: str) -> None:
        """Store ``text`` extracted (by ``method``) from file ``source_id`` beside it, unless a text
        is kept already; the next indexing of the document uses it instead of extracting again
        (a batch receipt hands over what it read for the metadata)."""
        role = "ocr_text" if "ocr" in method else "text"
        with self.db.read() as s:  # the text of encrypted (secret) content is never written in clear
            source = s.get(DocumentFile, source_id)
            if source is None or source.document_id != doc_id or source.encrypted:
                return
        stored = self.files.put_bytes(text.encode("utf-8"), f"{role}-{source_id}.txt", "text/plain; charset=utf-8")
        with self.db.write() as s:
            exists = s.execute(select(DocumentFile.id).where(DocumentFile.base_file_id == source_id,
                                                             DocumentFile.role.in_(TEXT_ROLES))).first()
            source = s.get(DocumentFile, source_id)
            if not exists and source is not None and source.document_id == doc_id and not source.encrypted:
                s.add(DocumentFile(document_id=doc_id, version=source.version, role=role, object_key=stored.key,
                                   sha256=stored.sha256, size=stored.size, filename=stored.filename,
                                   content_type=stored.content_type, base_file_id=source_id))

    def _index_document(self, s: Session, doc: Document, full_text: str) -> IndexDocument:
        readers = list(s.execute(select(DocumentReader.token).where(DocumentReader.document_id == doc.id)).scalars())
        extra: dict[str, Any] = {}
        source: IndexFieldSource
        for source in s.info.get(INDEX_FIELD_SOURCES_INFO, ()):
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
    def document_count(self) -> int:
        """How many documents a full reindex goes through (for progress bars)."""
        with self.db.read() as s:
            return s.execute(select(func.count(Document.id))).scalar_one()

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
    def principal(self, actor: Actor) -> Principal:
        return Principal(actor.user_id, int(actor.clearance), actor_tokens(actor))

    def search(self, actor: Actor, query: SearchQuery, agencies: tuple[str, ...] = ()) -> SearchResult:
        """``agencies`` (OrganIds): only the records these agencies hold, their own and the closed fonds of
        the agencies they took over (``succession.holdings_of``); an unknown OrganId is InvalidInput."""
        if query.type_codes:
            query = replace(query, type_codes=self.resolve_type_codes(query.type_codes))
        if agencies:
            from docsvc.services.reorganisation.succession import holdings_of
            with self.db.read() as s:
                held = [str(i) for i in holdings_of(s, agencies)]
            query = replace(query, org_id=tuple(held))
        return self.index.search(query, self.principal(actor))

    def resolve_type_codes(self, typed: tuple[str, ...]) -> tuple[str, ...]:
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

    def suggest(self, actor: Actor, prefix: str, limit: int) -> list[Suggestion]:
        return self.index.suggest(prefix, self.principal(actor), limit)
