"""Extraction of untrusted files in a limited child process (search.sandbox): real hostile PDFs
hit the CPU-time, memory, page, text-size and wall-clock limits; normal files extract as before."""

from __future__ import annotations

import shutil
import time

import pytest

from search.extract import ExtractionError, extract_document
from search.sandbox import ExtractionLimitExceeded, ExtractionLimits, extract_isolated
from tests.fixtures.hostile import many_pages_pdf, text_bomb_pdf
from tests.unit.search.documents import scanned_pdf, text_pdf

needs_ocr = pytest.mark.skipif(shutil.which("tesseract") is None or shutil.which("pdftoppm") is None,
                               reason="tesseract/pdftoppm not installed (make sysdeps)")


def test_a_normal_pdf_extracts_as_in_process() -> None:
    data = text_pdf([["Quyết định số 15/QĐ-UBND", "Về việc phê duyệt kế hoạch"], ["Trang hai"]])
    assert extract_isolated(data, "application/pdf", limits=ExtractionLimits(cpu_seconds=10)) == \
        extract_document(data, "application/pdf")


def test_a_decompression_bomb_is_stopped_at_the_cpu_limit() -> None:
    data = text_bomb_pdf(8)  # ~21 kB; ~25 s of CPU without the limit
    started = time.monotonic()
    with pytest.raises(ExtractionLimitExceeded, match="more than 1 s of CPU time"):
        extract_isolated(data, "application/pdf", limits=ExtractionLimits(cpu_seconds=1))
    assert time.monotonic() - started < 10


def test_a_bomb_is_stopped_at_the_memory_limit() -> None:
    with pytest.raises(ExtractionLimitExceeded, match="more than 120 MB of memory"):
        extract_isolated(text_bomb_pdf(8), "application/pdf", limits=ExtractionLimits(cpu_seconds=30, memory_mb=120))


def test_too_many_pages_are_refused_without_reading_them() -> None:
    with pytest.raises(ExtractionLimitExceeded, match="has 12 pages; the limit is 10"):
        extract_isolated(many_pages_pdf(12), "application/pdf", limits=ExtractionLimits(max_pages=10))
    assert extract_isolated(many_pages_pdf(10), "application/pdf", limits=ExtractionLimits(max_pages=10)).pages == 10


def test_the_text_kept_is_capped() -> None:
    data = text_pdf([["Quyết định về việc phê duyệt kế hoạch cải cách hành chính"] * 40] * 3)
    full = extract_document(data, "application/pdf").text
    result = extract_isolated(data, "application/pdf", limits=ExtractionLimits(max_text_chars=1000))
    assert len(full) > 1000 and result.text == full[:1000]


def test_an_unreadable_file_is_an_extraction_error_not_a_limit() -> None:
    with pytest.raises(ExtractionError) as caught:
        extract_isolated(b"%PDF-1.7\nnot really", "application/pdf")
    assert not isinstance(caught.value, ExtractionLimitExceeded)


@needs_ocr
def test_ocr_past_the_wall_clock_is_killed_with_its_process_group() -> None:
    started = time.monotonic()
    with pytest.raises(ExtractionLimitExceeded, match="took more than"):
        extract_isolated(scanned_pdf(), "application/pdf", limits=ExtractionLimits(wall_seconds=0.3))
    assert time.monotonic() - started < 3


def _extraction_children(parent_pid: int) -> list[int]:
    from pathlib import Path
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            status = (proc / "status").read_text()
        except (OSError, ValueError):
            continue
        ppid = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:")), None)
        if b"search.extract_worker" in cmdline and ppid == parent_pid:
            found.append(int(proc.name))
    return found


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_extraction_dies_with_the_worker_that_started_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A worker killed mid-extraction (SIGKILL) must not leave its extraction running."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(text_bomb_pdf(8))
    script = ("import sys; from pathlib import Path; from search.sandbox import extract_isolated, ExtractionLimits; "
              "extract_isolated(Path(sys.argv[1]).read_bytes(), 'application/pdf', "
              "limits=ExtractionLimits(cpu_seconds=60))")
    worker = subprocess.Popen([sys.executable, "-c", script, str(bomb)], cwd=Path(__file__).parents[3])
    children: list[int] = []
    try:
        deadline = time.monotonic() + 20
        while not (children := _extraction_children(worker.pid)):
            assert worker.poll() is None and time.monotonic() < deadline, "the extraction never started"
            time.sleep(0.05)
        time.sleep(1.0)  # the child has read its request and is extracting (the bomb takes ~25 s)
        assert Path(f"/proc/{children[0]}").exists()
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{children[0]}").exists() and \
                b"search.extract_worker" in Path(f"/proc/{children[0]}/cmdline").read_bytes():
            assert time.monotonic() < deadline, "the extraction outlived its worker"
            time.sleep(0.05)
    finally:
        if worker.poll() is None:
            worker.kill()
        for pid in children:  # on failure, do not leave the extraction burning CPU
            try:
                if b"search.extract_worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
