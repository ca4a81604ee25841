"""Child process of :func:`search.sandbox.extract_isolated`: ``python -m search.extract_worker``.

Reads one JSON request line on stdin (``path`` of the file, ``content_type``, ``ocr``, ``lang``,
``clean``, ``limits``), limits its own CPU time and address space *before* parsing anything (Tesseract and
pdftoppm, started from here, inherit the limits), extracts the text and writes one JSON answer on
stdout: ``{"ok": true, "text": ..., "pages": ..., "method": ..., ...}`` or ``{"ok": false,
"kind": "limit"|"error"|"ocr_unavailable", "message": ...}``. Exceeding the CPU limit kills the
process (SIGXCPU, then SIGKILL); the parent reports it.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any


def _limit(kind: int, soft: int, hard: int) -> None:
    current_hard = resource.getrlimit(kind)[1]
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))


def apply_limits(cpu_seconds: int, memory_mb: int) -> None:
    _limit(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1)
    _limit(resource.RLIMIT_AS, memory_mb * 1024 * 1024, memory_mb * 1024 * 1024)
    _limit(resource.RLIMIT_CORE, 0, 0)


def die_with_parent(parent_pid: int) -> None:
    """Linux: be killed when the process that started us dies (a worker killed mid-task must not
    leave its extraction running); exit at once if it is already gone."""
    import contextlib
    import ctypes
    import os
    import signal
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the CPU-time limit still ends us
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:
        raise SystemExit(1)


def declared_pages(data: bytes) -> int | None:
    """Page count the PDF declares in its page tree root (cheap: no page is loaded)."""
    import io

    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject
    try:
        root = PdfReader(io.BytesIO(data), strict=False).trailer["/Root"].get_object()
        if not isinstance(root, DictionaryObject):  # a missing or non-dictionary root declares nothing
            return None
        pages = root["/Pages"].get_object()
        if not isinstance(pages, DictionaryObject):
            return None
        count = pages["/Count"]
        return int(count) if isinstance(count, (int, float)) else None
    except Exception:  # noqa: BLE001 - a broken tree is reported by the extraction itself
        return None


def handle(request: dict[str, Any]) -> dict[str, Any]:
    from search.extract import ExtractionError, OcrUnavailable, extract_document

    limits = request["limits"]
    started = time.monotonic()
    with open(request["path"], "rb") as fh:
        data = fh.read()
    kind = request["content_type"].split(";", 1)[0].strip().lower()
    if kind == "application/pdf":
        pages = declared_pages(data)
        if pages is not None and pages > limits["max_pages"]:
            return {"ok": False, "kind": "limit",
                    "message": f"the PDF has {pages} pages; the limit is {limits['max_pages']}"}
    try:
        result = extract_document(data, request["content_type"], ocr=request["ocr"], lang=request["lang"],
                                  timeout=max(1.0, limits["wall_seconds"] - (time.monotonic() - started)),
                                  max_pages=limits["max_pages"], max_ocr_pages=limits["max_ocr_pages"],
                                  clean=request.get("clean", True))
    except MemoryError:
        return {"ok": False, "kind": "limit", "message": f"needs more than {limits['memory_mb']} MB of memory"}
    except OcrUnavailable as exc:
        return {"ok": False, "kind": "ocr_unavailable", "message": str(exc)[:1000]}
    except ExtractionError as exc:
        return {"ok": False, "kind": "error", "message": str(exc)[:1000]}
    text = result.text
    lines: list[tuple[str, float | None, float | None]] = []
    if request.get("layout") and kind == "application/pdf" and result.method == "pypdf":
        from search.metadata import pdf_lines
        lines = [(line.text, line.x, line.right) for line in pdf_lines(data)]
    truncated = len(text) > limits["max_text_chars"]
    return {"ok": True, "text": text[:limits["max_text_chars"]], "pages": result.pages, "method": result.method,
            "needs_ocr": result.needs_ocr, "ocr_pages": list(result.ocr_pages), "truncated": truncated,
            "lines": lines}


def main() -> int:
    request = json.loads(sys.stdin.readline())
    die_with_parent(int(request["parent_pid"]))
    apply_limits(int(request["limits"]["cpu_seconds"]), int(request["limits"]["memory_mb"]))
    try:
        answer = handle(request)
    except MemoryError:
        answer = {"ok": False, "kind": "limit",
                  "message": f"needs more than {request['limits']['memory_mb']} MB of memory"}
    except RecursionError:
        answer = {"ok": False, "kind": "error", "message": "the file nests objects too deeply"}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
