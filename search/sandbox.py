"""Text extraction of untrusted files in a child process with limits.

A hostile PDF (a 250 KB file inflating to 70 MB of content, 100,000 pages, a scan that makes
Tesseract run for minutes) must cost a bounded amount and never the caller's memory or thread.
:func:`extract_isolated` runs :mod:`search.extract_worker` as ``python -m search.extract_worker`` in
its own session with a CPU-time and address-space limit (``setrlimit`` in the child, inherited by
the pdftoppm/Tesseract it starts), a page limit, a cap on the text kept, and a wall-clock timeout
after which the whole process group is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from search.extract import DEFAULT_OCR_LANG, ExtractedText, ExtractionError, OcrUnavailable


class ExtractionLimitExceeded(ExtractionError):
    """The file needs more CPU time, memory, pages or wall time than the limits allow."""


@dataclass(frozen=True)
class ExtractionLimits:
    """Bounds of one extraction. ``wall_seconds`` also bounds OCR subprocesses (default:
    twice the CPU time plus 10 s, as pdftoppm and Tesseract run as separate processes)."""

    cpu_seconds: int = 60
    memory_mb: int = 1024
    max_pages: int = 2000
    max_ocr_pages: int = 50
    max_text_chars: int = 5_000_000
    wall_seconds: float = 0.0

    def effective_wall(self) -> float:
        return self.wall_seconds or 2.0 * self.cpu_seconds + 10.0


def extract_isolated(data: bytes, content_type: str, *, limits: ExtractionLimits | None = None,
                     ocr: bool = True, lang: str = DEFAULT_OCR_LANG, layout: bool = False,
                     clean: bool = True) -> ExtractedText:
    """Text of ``data`` (as :func:`search.extract.extract_document`), extracted by a limited child
    process. Raises :class:`ExtractionLimitExceeded` when a limit is hit, :class:`OcrUnavailable`
    when OCR tools are missing, :class:`ExtractionError` for unreadable files. ``layout``: also the
    lines of page 1 of a PDF's text layer with their horizontal positions (:func:`search.metadata.pdf_lines`).
    ``clean``: scanned pages are cleaned before OCR (:mod:`search.scan_clean`), within the same limits."""
    limits = limits or ExtractionLimits()
    wall = limits.effective_wall()
    request = {"content_type": content_type, "ocr": ocr, "lang": lang, "parent_pid": os.getpid(), "layout": layout,
               "clean": clean,
               "limits": {**asdict(limits), "wall_seconds": wall}}
    with tempfile.TemporaryDirectory(prefix="docsvc-extract-") as tmp:
        path = Path(tmp) / "input"
        path.write_bytes(data)
        request["path"] = str(path)
        out, returncode = _run_child(json.dumps(request) + "\n", wall, cwd=tmp)
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL) or (returncode != 0 and not out):
        if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise ExtractionLimitExceeded(f"extraction used more than {limits.cpu_seconds} s of CPU time")
        raise ExtractionError(f"the extraction process failed (exit status {returncode})")
    try:
        answer = json.loads(out)
    except ValueError:
        raise ExtractionError("the extraction process gave no readable answer") from None
    if not answer.get("ok"):
        error = {"limit": ExtractionLimitExceeded, "ocr_unavailable": OcrUnavailable}.get(answer.get("kind"),
                                                                                          ExtractionError)
        raise error(answer.get("message") or "extraction failed")
    return ExtractedText(text=answer["text"], pages=int(answer["pages"]), method=answer["method"],
                         needs_ocr=bool(answer["needs_ocr"]), ocr_pages=tuple(answer["ocr_pages"]),
                         lines=tuple(tuple(line) for line in answer.get("lines", ())))


def _run_child(request: str, wall: float, *, cwd: str) -> tuple[str, int]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    child = subprocess.Popen([sys.executable, "-m", "search.extract_worker"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd, env=env,
                             start_new_session=True)  # its own process group: a timeout kills OCR too
    try:
        out, _ = child.communicate(request.encode("utf-8"), timeout=wall)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        raise ExtractionLimitExceeded(f"extraction took more than {wall:.0f} s") from None
    except BaseException:
        _kill_group(child)
        raise
    finally:
        _kill_group(child)  # whatever the child started (pdftoppm, tesseract) ends with it
    return out.decode("utf-8", errors="replace"), child.returncode


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()
