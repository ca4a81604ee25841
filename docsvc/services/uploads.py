"""Inspection of uploaded files before anything is stored: a clear 4xx for what is wrong."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from docsvc.errors import DomainError, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from docsvc.services.active_content import scan as scan_active_content

log = logging.getLogger("docsvc.uploads")

PDF = "application/pdf"
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "TIFF": "image/tiff"}
MAX_PAGES = 5000  # default of DOCSVC_MAX_PAGES: the pages of one uploaded PDF


@dataclass(frozen=True)
class UploadFacts:
    content_type: str
    page_count: int
    signature_count: int
    size: int
    active_content: tuple[str, ...] = ()  # docsvc.services.active_content kinds found in a PDF

    @property
    def is_pdf(self) -> bool:
        return self.content_type == PDF


def inspect_upload(stream: BinaryIO, filename: str, *, max_bytes: int, max_pages: int = MAX_PAGES,
                   field: str = "file") -> UploadFacts:
    """Check that ``stream`` is a readable PDF (or a PNG/JPEG/TIFF scan) within the size and page limits.

    A PDF must start with ``%PDF-`` at byte 0 and its structure (cross-reference, trailer,
    catalog) must parse: anything else — e.g. an HTML/PDF polyglot with the header further in —
    is UnsupportedMediaType (415). Raises InvalidInput for encrypted PDFs, PDFs whose pages or
    fields are broken and empty files, PayloadTooLarge above the size limit or above ``max_pages``
    pages — counted on the page tree before any page is opened (:func:`_count_pages`), so the work
    done here is bounded by the limit, not by what the file declares. A PDF's active content
    (JavaScript, launch actions, embedded files...) is reported, not refused. Leaves the stream at
    position 0."""
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size == 0:
        raise InvalidInput(f"{field} '{filename}' is empty", {"field": field})
    if size > max_bytes:
        raise PayloadTooLarge(f"{field} '{filename}' is {size // (1024 * 1024)} MB; the limit is "
                              f"{max_bytes // (1024 * 1024)} MB", {"field": field, "limit_bytes": max_bytes})
    head = stream.read(1024)
    stream.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return _inspect_pdf(stream, filename, size, field, max_pages)
        if b"%PDF-" in head:
            raise UnsupportedMediaType(
                f"{field} '{filename}' does not start with the PDF header: '%PDF-' is at byte {head.index(b'%PDF-')}, "
                "not 0 (a file with other content before it, such as an HTML page, is not accepted as a PDF)",
                {"field": field, "reason": "pdf_header_not_at_start"})
        image_type = _image_type(head)
        if image_type:
            return _inspect_image(stream, filename, size, image_type, field)
    finally:
        stream.seek(0)
    raise UnsupportedMediaType(f"{field} '{filename}' is neither a PDF nor a PNG/JPEG/TIFF scan",
                               {"field": field})


def _open_pdf(stream: BinaryIO, filename: str, field: str) -> PdfReader:
    """The reader, once the file's PDF structure parsed: cross-reference and trailer read, and a
    document catalog with a page tree; else 415 (not a PDF we can read at all)."""
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted:
            return reader
        root = reader.trailer["/Root"].get_object()
        if not isinstance(root, DictionaryObject) or "/Pages" not in root:
            raise ValueError("the trailer names no document catalog with a page tree")
        return reader
    except Exception as exc:  # noqa: BLE001 - hostile input makes pypdf raise anything
        log.info("upload %r has no readable PDF structure: %s: %s", filename, type(exc).__name__, exc)
        raise UnsupportedMediaType(f"{field} '{filename}' is not a readable PDF: its structure (cross-reference, "
                                   f"trailer, catalog) does not parse ({type(exc).__name__}: {str(exc)[:120]})",
                                   {"field": field, "reason": "malformed"}) from None


def _inspect_pdf(stream: BinaryIO, filename: str, size: int, field: str, max_pages: int) -> UploadFacts:
    reader = _open_pdf(stream, filename, field)
    try:
        if reader.is_encrypted:
            raise InvalidInput(f"{field} '{filename}' is an encrypted (password-protected) PDF; upload it "
                               "without the password protection", {"field": field, "reason": "encrypted"})
        counted = _count_pages(reader, max_pages)
        if counted > max_pages:
            raise PayloadTooLarge(f"{field} '{filename}' has more than {max_pages} pages (the limit of one file); "
                                  "split it into several files",
                                  {"field": field, "reason": "too_many_pages", "limit_pages": max_pages})
        pages = len(reader.pages)  # bounded now: the tree has at most max_pages leaves
        for page in reader.pages:  # touch every page: a broken page tree fails here, not later
            _ = page.mediabox
        fields = reader.get_fields() or {}
        signatures = sum(1 for f in fields.values() if f.get("/FT") == "/Sig" and f.get("/V") is not None)
        active = tuple(scan_active_content(reader))
    except DomainError:
        raise
    except Exception as exc:  # noqa: BLE001 - hostile input makes pypdf raise anything (LimitReachedError,
        # IndexError, ZeroDivisionError...): whatever the parser cannot read is an unreadable PDF (400), never a 500
        log.info("unreadable PDF upload %r: %s: %s", filename, type(exc).__name__, exc)
        raise InvalidInput(f"{field} '{filename}' is not a readable PDF ({type(exc).__name__}: "
                           f"{str(exc)[:120]})", {"field": field, "reason": "malformed"}) from None
    if pages == 0:
        raise InvalidInput(f"{field} '{filename}' has no pages", {"field": field, "reason": "malformed"})
    if active:
        log.info("upload %r has active content: %s", filename, ", ".join(active))
    return UploadFacts(content_type="application/pdf", page_count=pages, signature_count=signatures, size=size,
                       active_content=active)


def _count_pages(reader: PdfReader, limit: int) -> int:
    """The pages of the document, counted without opening any page, and no further than past
    ``limit``: the root's declared ``/Count`` first (one number), then the leaves of the page tree
    (``/Kids`` arrays only), so that a ``/Count`` that lies cannot make the count unbounded. A leaf
    listed twice counts twice (a reader would show it twice); an inner node seen again (a cycle) is
    not walked again. Returns ``limit + 1`` as soon as the limit is passed."""
    root = reader.trailer["/Root"].get_object()
    if not isinstance(root, DictionaryObject):
        raise ValueError("the trailer names no document catalog")
    tree = root["/Pages"]
    top = tree.get_object()
    declared = top.get("/Count") if isinstance(top, DictionaryObject) else None
    if isinstance(declared, int) and declared > limit:
        return limit + 1
    leaves, visited = 0, 0
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [tree]
    while stack:
        node = stack.pop()
        ref = (node.idnum, node.generation) if isinstance(node, IndirectObject) else None
        node = node.get_object() if isinstance(node, IndirectObject) else node
        if not isinstance(node, DictionaryObject):
            continue
        kids = node.get("/Kids")
        if kids is None and node.get("/Type") != "/Pages":
            leaves += 1
            if leaves > limit:
                return limit + 1
            continue
        if ref is not None:
            if ref in seen:
                continue
            seen.add(ref)
        visited += 1
        if visited > limit + 1000:  # inner nodes without pages cannot be many either
            return limit + 1
        kids = kids.get_object() if isinstance(kids, IndirectObject) else kids
        if isinstance(kids, ArrayObject):
            stack.extend(kids)
    return leaves


def _image_type(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    return None


def _inspect_image(stream: BinaryIO, filename: str, size: int, image_type: str, field: str) -> UploadFacts:
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(stream) as img:
            img.verify()
        stream.seek(0)
        with Image.open(stream) as img:
            frames = getattr(img, "n_frames", 1)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"{field} '{filename}' is a damaged {image_type} image ({str(exc)[:120]})",
                           {"field": field, "reason": "malformed"}) from None
    return UploadFacts(content_type=IMAGE_TYPES[image_type], page_count=frames, signature_count=0, size=size)
