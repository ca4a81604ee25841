"""Text of a document for indexing: pypdf for born-digital PDFs, Tesseract (Vietnamese) for scans.

The input is only read, never modified (a signed original stays byte for byte as it is); the
caller keeps the OCR text beside the original. OCR runs ``pdftoppm`` (poppler) and ``tesseract``
as subprocesses with timeouts, in a private temporary folder removed afterwards.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from search.errors import SearchError
from search.vietnamese import nfc

#: a page with fewer non-blank characters than this has no usable text layer
MIN_CHARS_PER_PAGE = 25
DEFAULT_OCR_LANG = "vie"
DEFAULT_DPI = 300
DEFAULT_MAX_OCR_PAGES = 100
_IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg", b"II*\x00": "tif", b"MM\x00*": "tif"}


class ExtractionError(SearchError):
    """The file cannot be read (damaged, encrypted, unsupported type) or OCR failed."""


class OcrTimeout(ExtractionError):
    """An OCR subprocess (pdftoppm, the cleaning, tesseract) ran past its timeout."""


class OcrUnavailable(ExtractionError):
    """``tesseract``/``pdftoppm`` or the requested Tesseract language is not installed."""


@dataclass(frozen=True)
class ExtractedText:
    """``text``: pages separated by form feeds (``\\f``). ``method``: "pypdf", "ocr",
    "pypdf+ocr" (some pages read by OCR) or "plain". ``needs_ocr``: some pages are images without
    a text layer; ``ocr_pages`` lists them (1-based)."""

    text: str
    pages: int
    method: str
    needs_ocr: bool = False
    ocr_pages: tuple[int, ...] = ()
    lines: tuple[tuple[str, float | None, float | None], ...] = ()  # page 1 with positions (``layout``)


def _read_all(data: BinaryIO | bytes) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    return data.read()


def _has_image(page: object) -> bool:
    """The page draws at least one image XObject (a scan), directly or in a form."""
    try:
        resources = page["/Resources"]  # type: ignore[index]
        xobjects = resources.get("/XObject") or {}
        for ref in xobjects.values():
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Image":
                return True
            if xobject.get("/Subtype") == "/Form" and _has_image(xobject):
                return True
    except (KeyError, AttributeError, TypeError):
        return False
    return False


def _poor(text: str) -> bool:
    return len("".join(text.split())) < MIN_CHARS_PER_PAGE


def _check_pdf(data: bytes) -> None:
    if not data.lstrip()[:5] == b"%PDF-":
        raise ExtractionError("not a PDF file")


def extract_text(pdf: BinaryIO | bytes, *, max_pages: int | None = None) -> ExtractedText:
    """Text layer of a PDF with pypdf. A page with almost no text that shows an image is listed
    in ``ocr_pages`` (a short born-digital page is not)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    data = _read_all(pdf)
    _check_pdf(data)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("the PDF is encrypted with a password")
        pages = list(reader.pages)
        texts, scans = [], []
        for number, page in enumerate(pages[:max_pages], start=1):
            text = (page.extract_text() or "").strip()
            texts.append(text)
            if _poor(text) and _has_image(page):
                scans.append(number)
    except ExtractionError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ExtractionError(f"cannot read the PDF: {exc}") from exc
    return ExtractedText(text=nfc("\f".join(texts)), pages=len(pages), method="pypdf",
                         needs_ocr=bool(scans), ocr_pages=tuple(scans))


def _run(cmd: list[str], timeout: float, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    if shutil.which(cmd[0]) is None:
        raise OcrUnavailable(f"{cmd[0]} is not installed (Debian: poppler-utils, tesseract-ocr, "
                             "tesseract-ocr-vie)")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core per page: workers run in parallel
    try:
        result = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise OcrTimeout(f"{Path(cmd[0]).name} took more than {timeout:.0f}s") from exc
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()[-500:]
        if "Failed loading language" in message or "Error opening data file" in message:
            raise OcrUnavailable(f"Tesseract language data missing: {message}")
        raise ExtractionError(f"{cmd[0]} failed: {message}")
    return result


def _tesseract(image: Path, lang: str, timeout: float) -> str:
    result = _run(["tesseract", image.name, "stdout", "-l", lang, "--psm", "3"], timeout, image.parent)
    return nfc(result.stdout.decode("utf-8", errors="replace")).strip()


def _cleaned(image: Path, max_frames: int, timeout: float) -> list[Path]:
    """The pages of an image file cleaned for OCR by ``python -m search.scan_clean`` (its own
    process, as Tesseract: the CPU-time limit applies to each page), as grey PNGs beside it; the file
    itself when Pillow cannot read or clean it — Tesseract then reads it as it is."""
    try:
        result = _run([sys.executable, "-m", "search.scan_clean", image.name, f"{image.stem}-clean",
                       str(max_frames)], timeout, image.parent)
    except (OcrTimeout, OcrUnavailable):
        raise
    except ExtractionError:  # unreadable for Pillow, or over the memory or CPU-time limit: read as it is
        return [image]
    pages = [image.parent / Path(line).name for line in result.stdout.decode().splitlines() if line.strip()]
    return pages or [image]


def _read_image(image: Path, lang: str, timeout: float, *, clean: bool, max_frames: int) -> str:
    if not clean:
        return _tesseract(image, lang, timeout)
    return "\f".join(_tesseract(page, lang, timeout) for page in _cleaned(image, max_frames, timeout))


def ocr_pdf(pdf: BinaryIO | bytes, *, pages: Sequence[int] | None = None, lang: str = DEFAULT_OCR_LANG,
            dpi: int = DEFAULT_DPI, max_pages: int = DEFAULT_MAX_OCR_PAGES,
            timeout: float = 120.0, clean: bool = True) -> ExtractedText:
    """OCR of a scanned PDF: pages rendered to PNGs by pdftoppm, read by Tesseract.

    ``pages``: 1-based page numbers to read (default: all, up to ``max_pages``); the text has one
    form-feed-separated entry per page read. ``timeout`` applies to each subprocess. ``clean``:
    pages are rendered in colour and cleaned first (:mod:`search.scan_clean`: seal and signature
    ink, grey or unevenly lit paper, speckle, skew); otherwise rendered grey and read as they are."""
    data = _read_all(pdf)
    _check_pdf(data)
    with tempfile.TemporaryDirectory(prefix="docsvc-ocr-") as tmp:
        folder = Path(tmp)
        (folder / "in.pdf").write_bytes(data)
        wanted = list(pages)[:max_pages] if pages is not None else None
        ranges = [(n, n) for n in wanted] if wanted is not None else [(1, max_pages)]
        for first, last in ranges:
            _run(["pdftoppm", "-r", str(dpi), *([] if clean else ["-gray"]), "-png", "-f", str(first),
                  "-l", str(last), "in.pdf", "page"], timeout, folder)
        images = sorted(folder.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        texts = [_read_image(image, lang, timeout, clean=clean, max_frames=1) for image in images]
    return ExtractedText(text="\f".join(texts), pages=len(images), method="ocr",
                         ocr_pages=tuple(int(p.stem.rsplit("-", 1)[1]) for p in images))


def ocr_image(image: BinaryIO | bytes, *, lang: str = DEFAULT_OCR_LANG, timeout: float = 120.0,
              clean: bool = True, max_pages: int = DEFAULT_MAX_OCR_PAGES) -> ExtractedText:
    """OCR of a PNG, JPEG or (multi-page) TIFF image; ``clean`` as for :func:`ocr_pdf` (then at
    most ``max_pages`` pages of a TIFF are read)."""
    data = _read_all(image)
    kind = next((ext for magic, ext in _IMAGE_MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise ExtractionError("not a PNG, JPEG or TIFF image")
    with tempfile.TemporaryDirectory(prefix="docsvc-ocr-") as tmp:
        path = Path(tmp) / f"in.{kind}"
        path.write_bytes(data)
        text = _read_image(path, lang, timeout, clean=clean, max_frames=max_pages)
    pages = text.count("\f") + 1 if text else 1
    return ExtractedText(text=text, pages=pages, method="ocr")


def extract_document(data: BinaryIO | bytes, content_type: str, *, ocr: bool = True,
                     lang: str = DEFAULT_OCR_LANG, timeout: float = 120.0, max_pages: int | None = None,
                     max_ocr_pages: int = DEFAULT_MAX_OCR_PAGES, clean: bool = True) -> ExtractedText:
    """Text of a stored file by its media type: PDF (OCR when it has no text layer and ``ocr``),
    PNG/JPEG/TIFF (OCR), plain text. Other types raise ``ExtractionError``. ``clean``: scanned
    pages are cleaned before OCR (:mod:`search.scan_clean`).

    Runs in the caller's process without limits on CPU time or memory: for untrusted files use
    :func:`search.sandbox.extract_isolated`, which runs this in a limited child process."""
    raw = _read_all(data)
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/pdf":
        result = extract_text(raw, max_pages=max_pages)
        if not (result.needs_ocr and ocr):
            return result
        scanned = ocr_pdf(raw, pages=result.ocr_pages, lang=lang, timeout=timeout, max_pages=max_ocr_pages,
                          clean=clean)
        by_page = dict(zip(scanned.ocr_pages, scanned.text.split("\f"), strict=True))
        texts = [by_page.get(n, t) for n, t in enumerate(result.text.split("\f"), start=1)]
        method = "ocr" if len(by_page) == len(texts) else "pypdf+ocr"
        return ExtractedText(text="\f".join(texts), pages=result.pages, method=method, needs_ocr=True,
                             ocr_pages=scanned.ocr_pages)
    if kind in ("image/png", "image/jpeg", "image/tiff"):
        return ocr_image(raw, lang=lang, timeout=timeout, clean=clean, max_pages=max_ocr_pages)
    if kind == "text/plain":
        return ExtractedText(text=nfc(raw.decode("utf-8", errors="replace")), pages=1, method="plain")
    raise ExtractionError(f"no text extraction for {content_type!r}")
