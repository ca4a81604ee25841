"""Receiving many files at once, reviewing what was read from them, registering them in one action.

1. :meth:`IntakeService.receive_many` (clerk): every file (or every member of a ZIP) is checked
   like a single upload (:func:`docsvc.services.uploads.inspect_upload`) and stored; a batch of kind
   ``intake`` is created and handed to the background, where each item's metadata is read from the
   document (:mod:`docsvc.services.intake.metadata`). A file that fails the checks is a failed row
   with its reason; the others go on.
2. :meth:`IntakeService.review` (the batch view of kind ``intake``): each row with its prefilled
   fields, the low-confidence ones, and its duplicates — same bytes or same number/notation/issuer,
   among registered documents and earlier rows — recomputed at each look.
3. :meth:`IntakeService.register_many`: the clerk's edited rows become a batch of kind
   ``register``; each item runs the same two service calls a single receipt does
   (:meth:`DocumentService.create`, then :meth:`IncomingService.register`), so rules, numbering and
   audit events are those of single actions.
"""

from __future__ import annotations

import io
import logging
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.models import Batch, BatchItem, DocumentType
from docsvc.db.rows import must_get
from docsvc.domain.documents import duplicate_key, split_number_notation
from docsvc.domain.identity import Actor, Role
from docsvc.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from docsvc.services.batches.jobs import BatchService, ItemContext
from docsvc.services.documents import DocumentInput, DocumentService, Upload
from docsvc.services.duplicates import duplicate_message, received_with_bytes, registered_with_key
from docsvc.services.files import FileStore
from docsvc.services.incoming import IncomingService
from docsvc.services.uploads import inspect_upload

if TYPE_CHECKING:
    from search.sandbox import ExtractionLimits

log = logging.getLogger("docsvc.intake")

MAX_FILES = 500
STAGED_DAYS = 30  # a received file not yet registered is kept this long for its review grid
MAX_ZIP_MEMBERS = 500
FILE_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
URGENCY_NAMES = {0: "normal", 1: "khan", 2: "thuong_khan", 3: "hoa_toc"}
SECRECY_NAMES = {0: "none", 1: "mat", 2: "toi_mat", 3: "tuyet_mat"}


@dataclass
class ReviewedRow:
    """The clerk's decision on one row of the review grid (values edited or as read)."""

    item_id: int
    type: str
    subject: str
    number_notation: str | None = None
    issuing_body: str = ""
    issued_date: date | None = None
    urgency: str = "normal"
    secrecy: str = "none"
    signer_name: str | None = None
    signer_position: str | None = None
    received_via: str = "electronic"
    confirm_duplicate: bool = False


class IntakeService:
    def __init__(self, db: Any, files: FileStore, batches: BatchService, documents: DocumentService,
                 incoming: IncomingService, *, max_upload_bytes: int, limits: ExtractionLimits,
                 ocr: bool = True, validate: Callable[[bytes], dict[str, Any]] | None = None,
                 keep_text: Callable[[int, int, str, str], None] | None = None) -> None:
        self.db = db
        self.files = files
        self.batches = batches
        self.documents = documents
        self.incoming = incoming
        self.max_upload_bytes = max_upload_bytes
        self.limits = limits
        self.ocr = ocr
        self.validate = validate
        self.keep_text = keep_text
        # files are read in limited child processes, two at a time per core (each waits on its child)
        batches.register_kind("intake", self._read_item, workers=min(8, 2 * (os.cpu_count() or 1)))
        batches.register_kind("register", self._register_item)
        batches.views["intake"] = self._review_view

    # ------------------------------------------------------------ 1. receive
    def receive_many(self, actor: Actor, uploads: list[Upload]) -> dict[str, Any]:
        """Store every file (ZIPs unpacked) and start reading their metadata in the background."""
        if not actor.has(Role.CLERK):
            raise PermissionDenied("only the registry (clerk) receives incoming documents")
        files = self._expand(uploads)
        if not files:
            raise InvalidInput("send at least one file (PDF or scan), or a ZIP of them", {"field": "files"})
        if len(files) > MAX_FILES:
            raise InvalidInput(f"send at most {MAX_FILES} files at once", {"field": "files"})
        inputs: list[dict[str, Any]] = []
        sha256s: list[str | None] = []
        failed: dict[int, dict[str, Any]] = {}
        for i, upload in enumerate(files):
            try:
                facts = inspect_upload(upload.stream, upload.filename, max_bytes=self.max_upload_bytes, field="files")
            except DomainError as exc:  # not a PDF or scan, too large, unreadable: a failed row, the rest go on
                failed[i] = {"code": exc.code, "message": exc.message, "details": exc.details}
                inputs.append({"filename": upload.filename})
                sha256s.append(None)
                continue
            stored = self.files.put(upload.stream, upload.filename, facts.content_type)
            inputs.append({"filename": upload.filename, "object_key": stored.key, "sha256": stored.sha256,
                           "size": stored.size, "content_type": facts.content_type,
                           "page_count": facts.page_count})
            sha256s.append(stored.sha256)
        return self.batches.start(actor, "intake", inputs, sha256s=sha256s, failed=failed)

    def _expand(self, uploads: list[Upload]) -> list[Upload]:
        out: list[Upload] = []
        for upload in uploads:
            head = upload.stream.read(4)
            upload.stream.seek(0)
            if head != b"PK\x03\x04":
                out.append(upload)
                continue
            try:
                archive = zipfile.ZipFile(upload.stream)
                members = [m for m in archive.infolist() if not m.is_dir()
                           and m.filename.lower().endswith(FILE_SUFFIXES) and "__MACOSX" not in m.filename]
            except zipfile.BadZipFile:
                raise InvalidInput(f"{upload.filename}: not a readable ZIP file", {"field": "files"}) from None
            if len(members) > MAX_ZIP_MEMBERS:
                raise InvalidInput(f"{upload.filename}: at most {MAX_ZIP_MEMBERS} files in a ZIP", {"field": "files"})
            for m in members:
                if m.file_size > self.max_upload_bytes:
                    raise InvalidInput(f"{m.filename}: larger than the upload limit", {"field": "files"})
                with archive.open(m) as fh:  # bounded by the declared size checked above
                    data = fh.read(self.max_upload_bytes + 1)
                out.append(Upload(m.filename.rsplit("/", 1)[-1], io.BytesIO(data)))
        return out

    def _type_names(self) -> dict[str, str]:
        with self.db.read() as s:
            return {t.name: (t.code if t.kind != "cong_van" else "cong_van")
                    for t in s.execute(select(DocumentType).where(DocumentType.active)).scalars() if t.kind != "copy"}

    def _read_item(self, ctx: ItemContext) -> dict[str, Any]:
        from docsvc.services.intake.metadata import read_file_metadata
        data = self.files.read_bytes(ctx.input["object_key"])
        read = read_file_metadata(data, ctx.input["content_type"], self._type_names(), limits=self.limits,
                                  ocr=self.ocr, validate=self.validate)
        text = read.pop("text", "")
        if read.pop("text_complete", False) and not read["fields"].get("secrecy") and text:
            # kept for the index of the registered document (a secret one is never indexed)
            stored = self.files.put_bytes(text.encode("utf-8"), "intake-text.txt", "text/plain; charset=utf-8")
            read["text_key"] = stored.key
        return read

    # ------------------------------------------------------------ 2. review
    def _review_view(self, s: Session, out: dict[str, Any]) -> dict[str, Any]:
        batch = must_get(s, Batch, out["id"])
        seen_bytes: dict[str, int] = {}
        seen_keys: dict[str, int] = {}
        registered = {r["input"].get("item_id"): r for r in self._register_rows(s, batch.id)}
        for row in out["items"]:
            fields = (row.get("result") or {}).get("fields") or {}
            row["fields"] = fields
            row["low_confidence"] = (row.get("result") or {}).get("low_confidence", [])
            problems: list[dict[str, Any]] = []
            sha = row["input"].get("sha256")
            for o in received_with_bytes(s, batch.agency_id, sha):
                problems.append({"code": "same_file", "document_id": o["document_id"],
                                 "message": duplicate_message(o, same_bytes=True)})
            if sha and sha in seen_bytes:
                problems.append({"code": "same_file_in_batch", "seq": seen_bytes[sha],
                                 "message": f"Tệp giống hệt dòng {seen_bytes[sha]} của lô này"})
            elif sha:
                seen_bytes[sha] = row["seq"]
            key = _key_of(fields)
            for o in registered_with_key(s, batch.agency_id, key):
                problems.append({"code": "possible_duplicate", "document_id": o["document_id"],
                                 "message": duplicate_message(o)})
            if key and key in seen_keys:
                problems.append({"code": "possible_duplicate_in_batch", "seq": seen_keys[key],
                                 "message": f"Trùng số, ký hiệu và cơ quan ban hành với dòng {seen_keys[key]}"})
            elif key:
                seen_keys[key] = row["seq"]
            if row["state"] == "done" and not fields.get("subject"):
                problems.append({"code": "no_subject", "message": "Không đọc được trích yếu: hãy nhập"})
            if fields.get("secrecy"):
                problems.append({"code": "secret", "message": "Văn bản mật: kiểm tra độ mật trước khi vào sổ"})
            row["problems"] = problems
            done = registered.get(row["id"])
            row["registration"] = ({"state": done["state"], "document_id": done["document_id"],
                                    "result": done["result"], "error": done["error"]} if done else None)
        return out

    def _register_rows(self, s: Session, intake_id: int) -> list[dict[str, Any]]:
        rows = []
        for child in s.execute(select(Batch).where(Batch.parent_id == intake_id, Batch.kind == "register")
                               .order_by(Batch.id)).scalars():
            for i in child.items:
                rows.append({"input": i.input, "state": i.state, "document_id": i.document_id,
                             "result": i.result, "error": i.error})
        return rows

    # ------------------------------------------------------------ 3. register
    def register_many(self, actor: Actor, intake_id: int, rows: list[ReviewedRow]) -> dict[str, Any]:
        if not actor.has(Role.CLERK):
            raise PermissionDenied("only the registry (clerk) registers incoming documents")
        with self.db.read() as s:
            batch = self.batches.load(s, actor, intake_id)
            if batch.kind != "intake":
                raise InvalidInput(f"batch {intake_id} is not a batch of received files")
            if batch.state != "done":
                raise Conflict("the files are still being read; wait until the batch is done",
                               {"reason": "batch_running", "progress": batch.done + batch.failed})
            items = {i.id: i for i in batch.items}
            inputs = []
            for row in rows:
                item = items.get(row.item_id)
                if item is None:
                    raise InvalidInput(f"row {row.item_id} is not part of batch {intake_id}", {"field": "rows"})
                if not item.input.get("object_key"):
                    raise InvalidInput(f"{item.input.get('filename')}: this file was refused on upload",
                                       {"field": "rows", "item_id": item.id})
                inputs.append({**_row_dict(row), "item_id": item.id, "seq": item.seq,
                               "document_id": item.document_id})
        return self.batches.start(actor, "register", inputs, parent_id=intake_id)

    def _hand_over_text(self, doc_id: int, main_file_id: int, read: dict[str, Any]) -> None:
        """The text read for the metadata becomes the document's text: indexing does not extract it
        again. Best effort: when it is gone (swept), indexing extracts as for any upload."""
        try:
            text = self.files.read_bytes(read["text_key"]).decode("utf-8")
        except Exception:  # noqa: BLE001 - the index extracts the text itself then
            log.info("text read at receipt is no longer stored; indexing extracts it")
            return
        self.keep_text(doc_id, main_file_id, text, read.get("method", "pypdf"))  # type: ignore[misc]

    def _register_item(self, ctx: ItemContext) -> dict[str, Any]:
        """One reviewed row: the document is created (once: a re-run reuses it) and registered."""
        row = ctx.input
        doc_id = row.get("document_id")
        if not isinstance(doc_id, int):
            with self.db.read() as s:
                source = must_get(s, BatchItem, row["item_id"]).input
            code_number, code_notation = split_number_notation(row["number_notation"]) \
                if row.get("number_notation") else (None, None)
            data = DocumentInput(
                direction="incoming", type=row["type"], subject=row["subject"], issuing_body=row["issuing_body"],
                code_number=code_number, code_notation=code_notation,
                issued_date=date.fromisoformat(row["issued_date"]) if row.get("issued_date") else None,
                urgency=row["urgency"], secrecy=row["secrecy"], signer_name=row.get("signer_name"),
                signer_position=row.get("signer_position"), received_via=row.get("received_via") or "electronic")
            offline = data.secrecy != "none" and self.documents.secrecy_policy == "connected"
            main = None if offline else Upload(source["filename"],
                                              io.BytesIO(self.files.read_bytes(source["object_key"])))
            created = self.documents.create(ctx.actor, data, main, []).data
            doc_id = created["id"]
            with self.db.write() as s:  # a second registration of this row reuses it, never makes another
                intake_item = must_get(s, BatchItem, row["item_id"])
                intake_item.document_id = doc_id
                read = intake_item.result or {}
            main_file = next((f for f in created.get("files", []) if f["role"] == "main"), None)
            if self.keep_text and main_file and read.get("text_key") and data.secrecy == "none":
                self._hand_over_text(doc_id, main_file["id"], read)
        view = self.incoming.register(ctx.actor, doc_id, confirm_duplicate=bool(row.get("confirm_duplicate")))
        return {"document_id": doc_id, "arrival_number": view.data.get("arrival_number"),
                "number_notation": view.data.get("number_notation")}


def staged_file_kept(s: Session, sha256: str) -> bool:
    """A file received in an intake batch of the last :data:`STAGED_DAYS` days: the orphan sweep
    keeps it (no document references it until its row is registered)."""
    from datetime import timedelta

    from docsvc.db.base import utcnow
    since = utcnow() - timedelta(days=STAGED_DAYS)
    return s.execute(select(BatchItem.id).join(Batch, Batch.id == BatchItem.batch_id).where(
        BatchItem.sha256 == sha256, Batch.kind == "intake", Batch.created_at >= since).limit(1)).first() is not None


def _row_dict(row: ReviewedRow) -> dict[str, Any]:
    out = dict(row.__dict__)
    out["issued_date"] = row.issued_date.isoformat() if row.issued_date else None
    out.pop("item_id")
    return out


def _key_of(fields: dict[str, Any]) -> str | None:
    text = fields.get("number_notation")
    if not text:
        return None
    number, notation = split_number_notation(str(text))
    return duplicate_key(number, notation, fields.get("issuing_body"))


def suggested_row(item: dict[str, Any]) -> dict[str, Any]:
    """The grid's starting values of a row, from what was read (names as the API takes them)."""
    f = item.get("fields") or {}
    return {"item_id": item["id"], "type": f.get("type") or "", "subject": f.get("subject") or "",
            "number_notation": f.get("number_notation") or "", "issuing_body": f.get("issuing_body") or "",
            "issued_date": f.get("issued_date") or "", "urgency": URGENCY_NAMES.get(int(f.get("urgency") or 0)),
            "secrecy": SECRECY_NAMES.get(int(f.get("secrecy") or 0)), "signer_name": f.get("signer_name") or "",
            "signer_position": f.get("signer_position") or ""}
