"""Documents: receive or draft with files, read, list, download, versions, history, grants."""

from __future__ import annotations

import builtins
import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Document, DocumentFile, DocumentGrant, DocumentType, Organisation, User
from docsvc.db.models.audit import ACCESS_ACTIONS
from docsvc.db.rows import must_get, total_of
from docsvc.db.uow import Database
from docsvc.domain import policies
from docsvc.domain.documents import (
    CODE_NOTATION_MAX,
    CODE_NUMBER_MAX,
    INITIAL_STATUS,
    Direction,
    Status,
    Urgency,
    duplicate_key,
    number_notation,
)
from docsvc.domain.identity import Actor, RequestOrigin, Secrecy, listed_subject
from docsvc.errors import Gone, InvalidInput, InvalidState, Msg, NotFound
from docsvc.services import audit, outbox
from docsvc.services.access import load_readable, readable_filter, refresh_readers
from docsvc.services.files import FileStore, StoredFile
from docsvc.services.uploads import MAX_PAGES, inspect_upload
from docsvc.services.user_names import user_names
from docsvc.timeutil import to_vn, to_vn_iso, vn_today

log = logging.getLogger("docsvc.documents")

#: Called with (session, document, actor) after a new content version is added (the approval
#: chain restarts): injected by ``docsvc.bootstrap``.
NewVersionHook = Callable[[Session, Document, Actor], None]

DRAFTERS = policies.DRAFTERS


@dataclass
class Upload:
    """A file received from a client (a spooled temporary file for large uploads)."""

    filename: str
    stream: BinaryIO


@dataclass
class DocumentInput:
    direction: str
    type: str  # a type code (QĐ), "cong_van", or a type name
    subject: str
    issuing_body: str = ""
    issuing_organ_id: str | None = None
    code_number: str | None = None
    code_notation: str | None = None
    issued_date: date | None = None
    urgency: str | int = 0
    secrecy: str | int = 0
    due_date: date | None = None
    signer_name: str | None = None
    signer_position: str | None = None
    description: str = ""
    page_amount: int | None = None
    received_via: str | None = None
    drafting_unit_id: int | None = None
    language: str = "vi"


@dataclass
class DocumentView:
    data: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.data, "warnings": self.warnings} if self.warnings else dict(self.data)


DERIVED_ROLES = frozenset({"text", "ocr_text"})

# Audit events that are accesses to a document, not steps of its processing.
ACCESS_EVENTS = frozenset(ACCESS_ACTIONS)
HISTORY_PAGE = 500  # events per page of a document's history


@dataclass(frozen=True)
class HistoryPage:
    items: list[dict[str, Any]]
    older: int | None  # ``before_seq`` of the next (older) page; None when this is the oldest


class DocumentService:
    def __init__(self, db: Database, files: FileStore, *, secrecy_policy: str, hide_top_secret_subject: bool,
                 max_upload_bytes: int, validate_signatures: Callable[[BinaryIO], dict[str, Any]] | None = None,
                 new_version_hooks: Sequence[NewVersionHook] = (), max_pages: int = MAX_PAGES) -> None:
        self.db = db
        self.new_version_hooks = tuple(new_version_hooks)
        self.files = files
        self.secrecy_policy = secrecy_policy
        self.hide_top_secret_subject = hide_top_secret_subject
        self.max_upload_bytes = max_upload_bytes
        self.max_pages = max_pages
        self.validate_signatures = validate_signatures

    def content_rule(self, secrecy: Secrecy | int) -> policies.ContentRule:
        """How content of this secrecy level is kept on this deployment (see :func:`policies.content_rule`)."""
        return policies.content_rule(secrecy, self.secrecy_policy)

    # ------------------------------------------------------------ create
    def create(self, actor: Actor, data: DocumentInput, main: Upload | None, attachments: list[Upload],
               origin: RequestOrigin | None = None) -> DocumentView:
        """Receive an incoming document (the registry) or start a draft: check, store the files,
        then write the row, its files, readers and audit event in one transaction."""
        kind = self._check_new(actor, data, main, attachments)
        facts = [inspect_upload(u.stream, u.filename, max_bytes=self.max_upload_bytes, max_pages=self.max_pages,
                                field=f)
                 for u, f in ([(main, "file")] if main else []) + [(a, "attachments") for a in attachments]]
        with self.db.read() as s:
            doc_type = _find_type(s, data.type)
            if kind.direction is not Direction.INCOMING and data.drafting_unit_id is not None:
                _check_unit(s, actor, data.drafting_unit_id)
        encrypt = self.content_rule(kind.secrecy).encrypted
        stored = [self.files.put(u.stream, u.filename, f.content_type, encrypt=encrypt)
                  for u, f in zip(([main] if main else []) + attachments, facts, strict=True)]
        validation = None
        if main is not None and facts[0].is_pdf and facts[0].signature_count and self.validate_signatures:
            main.stream.seek(0)
            validation = self.validate_signatures(main.stream)
        with self.db.write() as s:
            doc = _new_document(actor, data, kind, doc_type.id, page_count=facts[0].page_count if facts else None,
                                has_main=main is not None)
            if kind.direction is not Direction.INCOMING and not doc.issuing_body:
                doc.issuing_body = must_get(s, Organisation, actor.agency_id).name
            s.add(doc)
            s.flush()
            for i, (sf, f) in enumerate(zip(stored, facts, strict=True)):
                s.add(_file_row(doc.id, 1, "main" if (main and i == 0) else "attachment", sf, f.page_count,
                                actor.user_id, validation if (main and i == 0) else None, active=f.active_content))
            refresh_readers(s, doc)
            audit.record(s, actor=actor, action="document.create", object_type="document", object_id=doc.id,
                         origin=origin, details={"direction": kind.direction.value, "secrecy": kind.secrecy.key,
                                                 "files": [sf.sha256 for sf in stored]})
            warnings = _duplicate_warnings(s, doc)
            return DocumentView(self._view(s, doc, actor, detail=True), warnings)

    def _check_new(self, actor: Actor, data: DocumentInput, main: Upload | None, attachments: list[Upload]
                   ) -> _NewKind:
        """The parsed kind of a new document, once the actor may create it and its input holds."""
        kind = _NewKind(_parse(Direction, data.direction, "direction"), _parse(Urgency.parse, data.urgency, "urgency"),
                        _parse(Secrecy.parse, data.secrecy, "secrecy"), offline=False)
        policies.may_create(actor, kind.direction, kind.secrecy).enforce()
        if not data.subject.strip():
            raise InvalidInput(Msg("documents.subject_required",
                                   "subject (trích yếu) is required"), {"field": "subject"})
        _check_code(data.code_number, data.code_notation)
        rule = self.content_rule(kind.secrecy)
        kind.offline = rule.offline
        if main or attachments:
            rule.may_store().enforce()
        if main is None and not kind.offline:
            raise InvalidInput(Msg("documents.document_file_pdf_scan_required",
                                   "the document's file (PDF or scan) is required"), {"field": "file"})
        return kind

    # ------------------------------------------------------------ read
    def get(self, actor: Actor, doc_id: int, origin: RequestOrigin | None = None) -> DocumentView:
        """The document, its read audited before it is returned. The view is shaped in a read
        transaction and the audit event written in its own short one: the write lock (SQLite has one
        for the whole database) is held for the event only, not while the view is built."""
        with self.db.read() as s:
            doc = load_readable(s, actor, doc_id)
            view = DocumentView(self._view(s, doc, actor, detail=True), _duplicate_warnings(s, doc))
            agency_id = doc.agency_id
        with self.db.write() as s:
            audit.record(s, actor=actor, action="document.read", object_type="document", object_id=doc_id,
                         origin=origin, agency_id=agency_id)
        return view

    def list(self, actor: Actor, *, direction: str | None = None, status: list[str] | None = None,
             type_codes: list[str] | None = None, year: int | None = None, urgency: int | None = None,
             q: str | None = None, date_from: date | None = None, date_to: date | None = None,
             offset: int = 0, limit: int = 50) -> tuple[list[DocumentView], int]:
        query = readable_filter(select(Document), actor)
        if direction:
            query = query.where(Document.direction == direction)
        if status:
            query = query.where(Document.status.in_(status))
        if type_codes:
            query = query.join(DocumentType).where(
                or_(DocumentType.code.in_(type_codes),
                    DocumentType.kind.in_(["cong_van"] if "cong_van" in type_codes else [])))
        if year:
            query = query.where(func.coalesce(Document.register_year, func.extract("year", Document.created_at))
                                == year)
        if urgency is not None:
            query = query.where(Document.urgency >= urgency)
        if q:
            like = f"%{q.strip()}%"
            query = query.where(or_(Document.subject.ilike(like), Document.code_notation.ilike(like),
                                    Document.issuing_body.ilike(like)))
        if date_from:
            query = query.where(func.coalesce(Document.issued_date, func.date(Document.created_at)) >= date_from)
        if date_to:
            query = query.where(func.coalesce(Document.issued_date, func.date(Document.created_at)) <= date_to)
        with self.db.read() as s:
            rows = s.execute(query.order_by(Document.urgency.desc(), Document.created_at.desc(), Document.id.desc())
                             .offset(offset).limit(limit)).scalars().all()
            total = total_of(s, query, rows, offset=offset, limit=limit)
            user_names(s, [d.created_by for d in rows])
            return [DocumentView(self._view(s, d, actor, detail=False)) for d in rows], total

    def reads_any(self, actor: Actor, agency_id: int) -> bool:
        """Whether ``actor`` may read at least one document of ``agency_id`` (an action that needs
        one, such as filing into a dossier, is offered only then)."""
        query = readable_filter(select(Document.id), actor).where(Document.agency_id == agency_id).limit(1)
        with self.db.read() as s:
            return s.execute(query).first() is not None

    def summaries(self, actor: Actor, doc_ids: builtins.list[int]) -> dict[int, dict[str, Any]]:
        """Number and subject of the documents among ``doc_ids`` the actor may read (for lists
        that name documents by id, such as legal holds); the others are left out. Not audited,
        like ``list``."""
        ids = sorted({i for i in doc_ids if i is not None})
        if not ids:
            return {}
        with self.db.read() as s:
            rows = s.execute(readable_filter(select(Document).where(Document.id.in_(ids)), actor)).scalars().all()
            user_names(s, [d.created_by for d in rows])
            return {d.id: self._view(s, d, actor, detail=False) for d in rows}

    def history(self, actor: Actor, doc_id: int, *, accesses: bool = True, before_seq: int | None = None,
                limit: int = HISTORY_PAGE) -> HistoryPage:
        """The document's newest ``limit`` audit events before ``before_seq``, oldest first;
        ``accesses=False`` leaves out reads, downloads, links and verifications (the processing
        history). ``older`` is the ``before_seq`` that pages further back, if there is more."""
        with self.db.read() as s:
            load_readable(s, actor, doc_id)
            events = audit.events_for(s, "document", doc_id, limit=limit + 1, before_seq=before_seq,
                                      exclude_actions=() if accesses else ACCESS_EVENTS)
            more = len(events) > limit
            events = events[1:] if more else events
            return HistoryPage(
                items=[{"seq": e.seq, "at": to_vn_iso(e.occurred_at), "actor": e.actor_name, "action": e.action,
                        "outcome": e.outcome, "details": e.details} for e in events],
                older=events[0].seq if more else None)

    def versions(self, actor: Actor, doc_id: int) -> builtins.list[dict[str, Any]]:
        with self.db.read() as s:
            doc = load_readable(s, actor, doc_id)
            # Extracted text is a derived rendition for search, not a version anyone filed.
            return [_file_dict(f) for f in doc.files if f.role not in DERIVED_ROLES]

    # ------------------------------------------------------------ download
    def open_content(self, actor: Actor, doc_id: int, *, file_id: int | None = None, version: int | None = None,
                     origin: RequestOrigin | None = None) -> tuple[dict[str, Any], Iterator[bytes]]:
        """The requested file (default: the best rendition of the current version), audited.

        Returns (file facts, chunk iterator). Secret content comes watermarked with the reader's name
        and the time (every format is marked; one that cannot be is refused), and ``facts["sha256"]``
        is then the digest of the marked bytes."""
        with self.db.write() as s:
            doc = load_readable(s, actor, doc_id)
            _check_has_content(doc)
            chosen = _choose_file(doc, file_id, version)
            audit.record(s, actor=actor, action="document.download", object_type="document", object_id=doc.id,
                         origin=origin, agency_id=doc.agency_id,
                         details={"file_id": chosen.id, "sha256": chosen.sha256, "role": chosen.role})
            facts, secrecy = _file_dict(chosen), doc.secrecy
        chunks = self.files.iter_chunks(facts["object_key"])
        if secrecy > 0:
            from docsvc.services.watermark import watermark, watermark_text
            marked = watermark(b"".join(chunks), facts["content_type"],
                               watermark_text(actor.full_name, utcnow(), secrecy))
            return {**facts, "sha256": hashlib.sha256(marked).hexdigest()}, iter([marked])
        return facts, chunks

    def download_link(self, actor: Actor, doc_id: int, *, file_id: int | None = None, version: int | None = None,
                      lifetime_seconds: int = 300, origin: RequestOrigin | None = None) -> dict[str, Any]:
        """A time-limited link to the file (presigned S3 URL, or a signed URL this app serves for
        the local store), audited like a download. Secret content is never linked: it is streamed
        watermarked through the content endpoint."""
        from datetime import timedelta
        with self.db.write() as s:
            doc = load_readable(s, actor, doc_id)
            if doc.secrecy:
                raise InvalidState("secret content is only downloaded through /content (watermarked)")
            _check_has_content(doc)
            chosen = _choose_file(doc, file_id, version)
            if chosen.encrypted:  # e.g. a declassified document: its content stays encrypted at rest
                raise InvalidState("this file is stored encrypted: download it through /content")
            expires = timedelta(seconds=lifetime_seconds)
            url = self.files.store.presigned_url(chosen.object_key, expires, chosen.filename)
            audit.record(s, actor=actor, action="document.link", object_type="document", object_id=doc.id,
                         origin=origin, agency_id=doc.agency_id,
                         details={"file_id": chosen.id, "sha256": chosen.sha256, "seconds": lifetime_seconds})
            return {"url": url, "expires_at": to_vn_iso(utcnow() + expires), "filename": chosen.filename,
                    "sha256": chosen.sha256}

    # ------------------------------------------------------------ versions and grants
    def add_version(self, actor: Actor, doc_id: int, upload: Upload,
                    origin: RequestOrigin | None = None) -> DocumentView:
        facts = inspect_upload(upload.stream, upload.filename, max_bytes=self.max_upload_bytes,
                               max_pages=self.max_pages)
        with self.db.read() as s:
            doc = load_readable(s, actor, doc_id)
            self._check_may_edit(actor, doc)
            encrypt = doc.secrecy > 0
        sf = self.files.put(upload.stream, upload.filename, facts.content_type, encrypt=encrypt)
        with self.db.write() as s:
            doc = load_readable(s, actor, doc_id, for_update=True)
            self._check_may_edit(actor, doc)
            doc.current_version += 1
            doc.page_amount = facts.page_count
            s.add(_file_row(doc.id, doc.current_version, "main", sf, facts.page_count, actor.user_id, None,
                            active=facts.active_content))
            s.flush()
            for hook in self.new_version_hooks:
                hook(s, doc, actor)
            refresh_readers(s, doc)
            audit.record(s, actor=actor, action="document.new_version", object_type="document",
                         object_id=doc.id, origin=origin,
                         details={"version": doc.current_version, "sha256": sf.sha256})
            return DocumentView(self._view(s, doc, actor, detail=True))

    def grant(self, actor: Actor, doc_id: int, *, user_id: int | None, unit_id: int | None, reason: str,
              origin: RequestOrigin | None = None) -> DocumentView:
        if (user_id is None) == (unit_id is None):
            raise InvalidInput("grant to exactly one of user_id or unit_id")
        if not reason.strip():
            raise InvalidInput("a grant needs a reason (need to know)", {"field": "reason"})
        with self.db.write() as s:
            doc = load_readable(s, actor, doc_id, for_update=True)
            policies.may_grant(actor, doc).enforce()
            if user_id is not None:
                grantee = s.get(User, user_id)
                if grantee is None or not grantee.is_active:
                    raise InvalidInput(f"user {user_id} does not exist", {"field": "user_id"})
                if grantee.clearance < doc.secrecy:
                    raise InvalidInput(f"{grantee.full_name} is not cleared for {Secrecy(doc.secrecy).label_vi} "
                                       "documents", {"field": "user_id"})
            elif s.get(Organisation, unit_id) is None:
                raise InvalidInput(f"unit {unit_id} does not exist", {"field": "unit_id"})
            s.add(DocumentGrant(document_id=doc.id, user_id=user_id, unit_id=unit_id, reason=reason.strip(),
                                granted_by=actor.user_id))
            refresh_readers(s, doc)
            audit.record(s, actor=actor, action="document.grant", object_type="document", object_id=doc.id,
                         origin=origin, details={"user_id": user_id, "unit_id": unit_id, "reason": reason.strip()})
            return DocumentView(self._view(s, doc, actor, detail=True))

    # ------------------------------------------------------------ helpers
    def _check_may_edit(self, actor: Actor, doc: Document) -> None:
        policies.may_add_version(actor, doc).enforce()

    def _view(self, s: Session, doc: Document, actor: Actor, *, detail: bool) -> dict[str, Any]:
        return document_dict(s, doc, hide_subject=self.hide_top_secret_subject and not detail, detail=detail)


@dataclass
class _NewKind:
    """The parsed direction, urgency and secrecy of a document being created, and whether its
    content stays offline (secret content on a connected deployment)."""

    direction: Direction
    urgency: Urgency
    secrecy: Secrecy
    offline: bool


def _new_document(actor: Actor, data: DocumentInput, kind: _NewKind, type_id: int, *, page_count: int | None,
                  has_main: bool) -> Document:
    """The row of a new document (not added to a session)."""
    incoming = kind.direction is Direction.INCOMING
    return Document(
        agency_id=actor.agency_id, direction=kind.direction.value, type_id=type_id,
        status=INITIAL_STATUS[kind.direction].value, subject=data.subject.strip()[:500],
        code_number=data.code_number, code_notation=data.code_notation, issued_date=data.issued_date,
        issuing_body=(data.issuing_body or "").strip(), issuing_organ_id=data.issuing_organ_id,
        dup_key=duplicate_key(data.code_number, data.code_notation, data.issuing_organ_id or data.issuing_body),
        signer_name=data.signer_name, signer_position=data.signer_position, urgency=int(kind.urgency),
        secrecy=int(kind.secrecy), classified_on=_classified_on(kind.direction, data) if kind.secrecy else None,
        due_date=data.due_date, page_amount=data.page_amount or page_count, language=data.language,
        description=data.description, received_via=(data.received_via or "paper") if incoming else None,
        arrival_at=utcnow() if incoming else None,
        drafting_unit_id=data.drafting_unit_id if not incoming else None,
        created_by=actor.user_id, content_offline=kind.offline, current_version=1 if has_main else 0)


def document_dict(s: Session, doc: Document, *, hide_subject: bool, detail: bool) -> dict[str, Any]:
    """The API shape of a document (Appendix VI names in comments)."""
    secrecy, urgency, status = Secrecy(doc.secrecy), Urgency(doc.urgency), Status(doc.status)
    subject = listed_subject(doc.subject, doc.secrecy, hide_subject)
    creator = user_names(s, [doc.created_by]).get(doc.created_by) if doc.created_by else None
    out: dict[str, Any] = {
        "id": doc.id,
        "agency_id": doc.agency_id,
        "direction": doc.direction,
        "type": {"code": doc.doc_type.code, "name": doc.doc_type.name, "kind": doc.doc_type.kind},
        "status": status.value, "status_label": status.label_vi,
        "subject": subject,  # Subject / trích yếu
        "number_notation": number_notation(doc.code_number, doc.code_notation) or None,
        "code_number": doc.code_number, "code_notation": doc.code_notation,
        "issued_date": _iso(doc.issued_date),  # IssuedDate
        "issuing_body": doc.issuing_body, "issuing_organ_id": doc.issuing_organ_id,  # OrganName, OrganId
        "urgency": urgency.key, "urgency_label": urgency.label_vi,
        "secrecy": secrecy.key, "secrecy_label": secrecy.label_vi,
        "due_date": _iso(doc.due_date),
        "arrival_number": doc.arrival_number, "arrival_at": to_vn_iso(doc.arrival_at),
        "register_year": doc.register_year,
        "content_offline": doc.content_offline,
        "content_destroyed_at": to_vn_iso(doc.content_destroyed_at),
        "current_version": doc.current_version,
        "created_by": {"id": doc.created_by, "full_name": creator} if creator is not None else None,
        "created_at": to_vn_iso(doc.created_at), "updated_at": to_vn_iso(doc.updated_at),
    }
    if detail:
        out.update({
            "signer": {"full_name": doc.signer_name, "position": doc.signer_position,
                       "authority_form": doc.authority_form} if doc.signer_name else None,  # SignerInfo
            "page_amount": doc.page_amount, "language": doc.language, "description": doc.description,
            "received_via": doc.received_via, "drafting_unit_id": doc.drafting_unit_id,
            "status_reason": doc.status_reason, "source_document_id": doc.source_document_id,
            "page_positions": doc.page_positions,  # where the registry prints the number and date, if given
            "files": [_file_dict(f, public=True) for f in doc.files],
            "active_content": active_content_of(doc),
            "text": text_state(s, doc),
        })
    return out


def text_state(s: Session, doc: Document) -> dict[str, Any]:
    """Where the extraction of the document's text for search stands: ``processing`` (waiting or
    running in the background), ``done``, ``quarantined`` (failed too often; an administrator
    may retry it) or ``not_extracted`` (secret or offline content is never extracted)."""
    if doc.content_offline or doc.secrecy > 0:
        return {"state": "not_extracted", "reason": None}
    state, reason = outbox.state_of(s, outbox.INDEX, doc.id)
    return {"state": state, "reason": reason if state == "quarantined" else None}


def _duplicate_warnings(s: Session, doc: Document) -> list[dict[str, Any]]:
    """Same (number, notation, issuing body) already registered in this agency, or the same bytes
    already received (DOMAIN.md; :mod:`docsvc.services.duplicates`)."""
    from docsvc.services.duplicates import duplicate_message, received_with_bytes_of, registered_with_key
    if doc.direction != Direction.INCOMING.value:
        return []
    out = [{"code": "possible_duplicate", "document_id": o["document_id"], "message": duplicate_message(o)}
           for o in registered_with_key(s, doc.agency_id, doc.dup_key, exclude_id=doc.id)]
    seen = {w["document_id"] for w in out}
    s.flush()
    for o in received_with_bytes_of(s, doc):  # by digest, then document: as one query per digest did
        if o["document_id"] not in seen:
            seen.add(o["document_id"])
            out.append({"code": "same_file", "document_id": o["document_id"],
                        "message": duplicate_message(o, same_bytes=True)})
    return out


def _classified_on(direction: Direction, data: DocumentInput) -> date:
    """A received secret document was classified by its issuer when it was issued; ours today."""
    if direction is Direction.INCOMING and data.issued_date:
        return data.issued_date
    return vn_today()


def _check_has_content(doc: Document) -> None:
    if doc.content_offline:
        raise NotFound(f"document {doc.id} is registered as metadata only: its content is kept offline")
    if doc.content_destroyed_at is not None:
        raise Gone(f"the content of document {doc.id} was destroyed on {to_vn(doc.content_destroyed_at):%d/%m/%Y} "
                   "after appraisal; its metadata and the destruction record are kept",
                   {"destroyed_at": to_vn_iso(doc.content_destroyed_at)})


# Which file of a version is "the document" when none is named: the best rendition first.
RENDITION_ORDER = {"issued": 0, "copy": 1, "signed": 2, "main": 3}


def _choose_file(doc: Document, file_id: int | None, version: int | None) -> DocumentFile:
    if file_id is not None:
        for f in doc.files:
            if f.id == file_id:
                return f
        raise NotFound(f"file {file_id} is not part of document {doc.id}")
    wanted = version or doc.current_version
    candidates = [f for f in doc.files if f.version == wanted and f.role in RENDITION_ORDER]
    if not candidates:
        raise NotFound(f"document {doc.id} has no file for version {wanted}")
    return min(candidates, key=lambda f: (RENDITION_ORDER[f.role], -f.id))


def active_content_of(doc: Document) -> list[str]:
    """The kinds of active content in any file of the document (the page warns about them)."""
    from docsvc.services.active_content import KINDS
    found = {k for f in doc.files for k in (f.active_content or [])}
    return [k for k in KINDS if k in found]


def _file_row(doc_id: int, version: int, role: str, sf: StoredFile, page_count: int | None, user_id: int | None,
              validation: dict[str, Any] | None, base_file_id: int | None = None,
              active: tuple[str, ...] = ()) -> DocumentFile:
    return DocumentFile(document_id=doc_id, version=version, role=role, object_key=sf.key, sha256=sf.sha256,
                        size=sf.size, filename=sf.filename[:255], content_type=sf.content_type,
                        page_count=page_count, encrypted=sf.encrypted, validation=validation, created_by=user_id,
                        base_file_id=base_file_id, active_content=list(active) or None)


def _file_dict(f: DocumentFile, public: bool = False) -> dict[str, Any]:
    out = {"id": f.id, "version": f.version, "role": f.role, "filename": f.filename, "size": f.size,
           "sha256": f.sha256, "content_type": f.content_type, "page_count": f.page_count,
           "created_at": to_vn_iso(f.created_at), "signatures": f.validation,
           "active_content": f.active_content or []}
    if not public:
        out["object_key"] = f.object_key
    return out


def _find_type(s: Session, ref: str) -> DocumentType:
    ref = (ref or "").strip()
    if ref.lower() in ("cong_van", "công văn", "cv"):
        t = s.execute(select(DocumentType).where(DocumentType.kind == "cong_van")).scalars().first()
    else:
        t = s.execute(select(DocumentType).where(or_(DocumentType.code == ref, DocumentType.name == ref))
                      ).scalars().first()
    if t is None or not t.active:
        raise InvalidInput(f"unknown document type {ref!r} (a code such as QĐ, TB, BC, or cong_van)",
                           {"field": "type"})
    return t


def _check_unit(s: Session, actor: Actor, unit_id: int) -> None:
    unit = s.get(Organisation, unit_id)
    if unit is None or unit.kind != "unit" or unit.parent_id is None:
        raise InvalidInput(f"unit {unit_id} does not exist", {"field": "drafting_unit_id"})


def _check_code(code_number: str | None, code_notation: str | None) -> None:
    """The number and notation fit Appendix VI's CodeNumber (11 digits) and CodeNotation (30)."""
    if code_number is not None and (not code_number.isdigit() or len(code_number) > CODE_NUMBER_MAX):
        raise InvalidInput(f"the number has at most {CODE_NUMBER_MAX} digits", {"field": "number_notation"})
    if code_notation is not None and len(code_notation) > CODE_NOTATION_MAX:
        raise InvalidInput(f"the notation (ký hiệu) has at most {CODE_NOTATION_MAX} characters, e.g. "
                           "15/QĐ-UBND", {"field": "number_notation"})


def _parse(parser: Any, value: Any, field_name: str) -> Any:
    try:
        return parser(value)
    except (ValueError, KeyError):
        raise InvalidInput(f"invalid {field_name} {value!r}", {"field": field_name}) from None


def _iso(d: date | datetime | None) -> str | None:
    return d.isoformat() if d else None
