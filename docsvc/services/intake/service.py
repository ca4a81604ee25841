"""Receiving many files at once, reviewing what was read from them, registering them in one action.

1. :meth:`IntakeService.receive_many` (clerk): every file (or every member of a ZIP) is checked
   like a single upload (:func:`docsvc.services.uploads.inspect_upload`) and staged; a batch of kind
   ``intake`` is created and handed to the background, where each item's metadata is read from the
   document (:mod:`docsvc.services.intake.metadata`). A file that fails the checks is a failed row
   with its reason; the others go on.

   Secrecy: a file's secrecy mark (Mật, Tối mật, Tuyệt mật) is known only once it is read, so
   every received file is staged *encrypted* (as secret content is) and the text read from it is
   kept encrypted too. As soon as the marks are read, the deployment's rule for content of that
   level (:func:`docsvc.domain.policies.content_rule`, the rule of single uploads) decides: on a
   connected deployment the staged bytes of a secret file are deleted at once (its row says why
   and can still be registered as metadata only); on an isolated one they stay, encrypted, and
   no text is kept. The secrecy the clerk sets in the review grid is judged by the same rule at
   registration.
2. :meth:`IntakeService.review` (the batch view of kind ``intake``): each row with its prefilled
   fields, the low-confidence ones, and its duplicates — same bytes or same number/notation/issuer,
   among registered documents and earlier rows — recomputed at each look.
3. :meth:`IntakeService.register_many`: the clerk's edited rows become a batch of kind
   ``register``; each item runs the same two service calls a single receipt does
   (:meth:`DocumentService.create`, then :meth:`IncomingService.register`), so rules, numbering and
   audit events are those of single actions.
"""

from __future__ import annotations

import contextlib
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

from docsvc.db.models import Batch, BatchItem, DocumentFile, DocumentType
from docsvc.db.rows import must_get
from docsvc.domain.documents import duplicate_key, split_number_notation
from docsvc.domain.identity import Actor, Role, Secrecy
from docsvc.domain.policies import ContentRule
from docsvc.errors import Conflict, DomainError, InvalidInput, Msg, PermissionDenied
from docsvc.services.batches.jobs import BatchService, ItemContext, error_dict
from docsvc.services.documents import DocumentInput, DocumentService, Upload
from docsvc.services.duplicates import duplicate_message, received_with_bytes, registered_with_key
from docsvc.services.files import FileStore
from docsvc.services.incoming import IncomingService
from docsvc.services.uploads import inspect_upload
from storage import ObjectNotFound

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
                facts = inspect_upload(upload.stream, upload.filename, max_bytes=self.max_upload_bytes,
                                       max_pages=self.documents.max_pages, field="files")
            except DomainError as exc:  # not a PDF or scan, too large, unreadable: a failed row, the rest go on
                failed[i] = error_dict(exc)
                inputs.append({"filename": upload.filename})
                sha256s.append(None)
                continue
            # staged encrypted: its secrecy marks are not read yet (see the module's docstring)
            stored = self.files.put(upload.stream, upload.filename, facts.content_type, encrypt=True)
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
        try:
            data = self.files.read_bytes(ctx.input["object_key"])
        except ObjectNotFound:
            return self._read_by_twin(ctx)
        read = read_file_metadata(data, ctx.input["content_type"], self._type_names(), limits=self.limits,
                                  ocr=self.ocr, validate=self.validate)
        del data
        text = read.pop("text", "")
        complete = read.pop("text_complete", False)
        rule = self.documents.content_rule(int(read["fields"].get("secrecy") or 0))
        if rule.offline:  # a secret file on a connected deployment: nothing of its content stays
            read["content_removed"] = _removed(rule.secrecy)
            with self.db.write() as s:  # said on the row before the bytes go: a twin row then finds it
                must_get(s, BatchItem, ctx.item_id).result = read
            self._delete_staged(ctx.input["object_key"])
            return read
        if complete and text and rule.secrecy == Secrecy.NONE:
            # kept (encrypted, as staged) for the index of the registered document; a secret one is never indexed
            stored = self.files.put_bytes(text.encode("utf-8"), "intake-text.txt", "text/plain; charset=utf-8",
                                          encrypt=True)
            read["text_key"] = stored.key
        return read

    def _read_by_twin(self, ctx: ItemContext) -> dict[str, Any]:
        """The staged bytes are gone: another row with the same bytes was read as secret and its
        content removed (the same bytes carry the same marks): this row is that row's twin."""
        with self.db.read() as s:
            twins = s.execute(select(BatchItem.result).join(Batch, Batch.id == BatchItem.batch_id)
                              .where(Batch.kind == "intake", BatchItem.sha256 == ctx.input.get("sha256"),
                                     BatchItem.id != ctx.item_id)).all()
        for (result,) in twins:
            if isinstance(result, dict) and result.get("content_removed"):
                return dict(result)
        raise InvalidInput(Msg("intake.staged_file_gone",
                               "the received file is no longer stored: receive it again"), {"field": "files"})

    def _delete_staged(self, key: str | None) -> None:
        """Delete staged bytes (or staged text) of a row. Content-addressed: an object that is also a
        registered document's file (the same bytes, stored encrypted under the same key) stays."""
        if not key:
            return
        with self.db.read() as s:
            if s.execute(select(DocumentFile.id).where(DocumentFile.object_key == key).limit(1)).first():
                return
        with contextlib.suppress(ObjectNotFound):  # a twin row removed it already
            self.files.store.delete(key)

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
            removed = (row.get("result") or {}).get("content_removed")
            if removed:
                problems.append({"code": "secret_file_removed", "message": removed["message"], "key": removed["key"]})
            elif fields.get("secrecy"):
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
                if (item.result or {}).get("content_removed") and self.documents.content_rule(
                        Secrecy.parse(row.secrecy)).kept:
                    raise InvalidInput(Msg("intake.removed_file_needs_upload",
                                           "this file was read as secret and deleted: register it as secret "
                                           "(metadata only), or, if it is not secret, receive the file again"),
                                       {"field": "rows", "item_id": item.id, "reason": "secret_file_removed"})
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

    def _release_staged(self, item_id: int, rule: ContentRule) -> None:
        """The staged bytes and text of a row are let go: before its registration when its content may
        not be kept here (a row set secret in the grid on a connected deployment: said on the row,
        even if the registration then fails), else once its document holds its own copy. Bytes that
        another row not yet registered was received with stay for that row (the sweep ends them)."""
        with self.db.write() as s:
            item = must_get(s, BatchItem, item_id)
            read = dict(item.result or {})
            text_key = read.pop("text_key", None)
            if rule.offline and not read.get("content_removed"):
                read["content_removed"] = _removed(rule.secrecy)
            item.result = read
            key, sha = item.input.get("object_key"), item.sha256
            needed = s.execute(select(BatchItem.id).join(Batch, Batch.id == BatchItem.batch_id).where(
                Batch.kind == "intake", BatchItem.sha256 == sha, BatchItem.id != item_id,
                BatchItem.document_id.is_(None), BatchItem.state != "failed").limit(1)).first()
        self._delete_staged(text_key)
        if needed is None:
            self._delete_staged(key)

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
            # the secrecy as registered (read, or set by the clerk in the grid): the rule of single uploads
            rule = self.documents.content_rule(Secrecy.parse(row["secrecy"]))
            if rule.offline:
                self._release_staged(row["item_id"], rule)
            main = None if rule.offline else Upload(source["filename"],
                                                    io.BytesIO(self.files.read_bytes(source["object_key"])))
            created = self.documents.create(ctx.actor, data, main, []).data
            doc_id = created["id"]
            with self.db.write() as s:  # a second registration of this row reuses it, never makes another
                intake_item = must_get(s, BatchItem, row["item_id"])
                intake_item.document_id = doc_id
                read = intake_item.result or {}
            main_file = next((f for f in created.get("files", []) if f["role"] == "main"), None)
            if self.keep_text and main_file and read.get("text_key") and rule.secrecy == Secrecy.NONE:
                self._hand_over_text(doc_id, main_file["id"], read)
            if not rule.offline:
                self._release_staged(row["item_id"], rule)
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


def _removed(secrecy: Secrecy) -> dict[str, Any]:
    """Why a received file's content was deleted (kept on its row, told in the review grid)."""
    return error_dict(InvalidInput(Msg(
        "intake.secret_file_removed",
        "the document is marked secret and this deployment is connected to outside networks, where the content "
        "of a secret document stays offline: the received file was deleted and nothing of its content is kept. "
        "Register its metadata only"), {"field": "files", "reason": "secret_file_removed", "secrecy": secrecy.key}))


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
