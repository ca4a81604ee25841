"""Word accuracy of OCR on office scans, per kind of degradation (issue 18).

Generates the scan set deterministically (:mod:`tests.fixtures.office_scans`: the born-digital
documents of :mod:`tests.fixtures.intake_docs`, whose text is known, scanned with skew, low
contrast and uneven light, a red seal and a signature over the signer's name, 150 dpi JPEG, speckle,
and all of these at once) and reads every page three ways, interleaved page by page so that all see
the same load:

- ``before``: the production path without cleaning (limited extraction child, pages rendered grey);
- ``clean``: the production path as it is now (degraded pages cleaned by :mod:`search.scan_clean`);
- ``ocrmypdf``: ``ocrmypdf --deskew --clean --rotate-pages`` (unpaper) and its sidecar text, when
  installed.

Word accuracy is 1 - word error rate: the word-level edit distance between the page's text layer
and the OCR text (NFC, whitespace-normalised, accents and case kept; "folded": accents and case
dropped), summed over the pages of a kind; the OCR lines are first put in the text layer's reading
order (:func:`tests.fixtures.office_scans.reading_order`). Run it niced: OCR is CPU-heavy.

    nice -n 10 .venv/bin/python bench/ocr_accuracy.py [--per-kind 5] [--jobs 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# the extraction child (python -m search.extract_worker) and its cleaner import this checkout's code
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)

from tests.fixtures.office_scans import KIND_NAMES, KINDS, ScanPage, scan_set, word_errors  # noqa: E402


def read_before(page: ScanPage) -> str:
    from search.sandbox import extract_isolated
    return extract_isolated(page.data, page.content_type, clean=False).text


def read_clean(page: ScanPage) -> str:
    from search.sandbox import extract_isolated
    return extract_isolated(page.data, page.content_type, clean=True).text


def read_ocrmypdf(page: ScanPage) -> str:
    """``ocrmypdf --deskew --clean --rotate-pages`` on the scan; the text of its sidecar file."""
    with tempfile.TemporaryDirectory(prefix="bench-ocrmypdf-") as tmp:
        source = Path(tmp) / ("in.pdf" if page.content_type == "application/pdf" else "in.jpg")
        source.write_bytes(page.data)
        extra = [] if page.content_type == "application/pdf" else ["--image-dpi", "150"]
        subprocess.run(["ocrmypdf", "-q", "--deskew", "--clean", "--rotate-pages", "-l", "vie", "--jobs", "1",
                        "--output-type", "pdf", "--optimize", "0", "--sidecar", "out.txt", *extra, source.name,
                        "out.pdf"], cwd=tmp, check=True, capture_output=True, timeout=300,
                       env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        return (Path(tmp) / "out.txt").read_text(encoding="utf-8")


READERS = {"before": read_before, "clean": read_clean, "ocrmypdf": read_ocrmypdf}


def evaluate(per_kind: int, jobs: int, variants: list[str], kinds: list[str], seed: int = 18) -> dict[str, Any]:
    pages = [page for page in scan_set(per_kind, seed) if page.kind in kinds]
    work = [(page, variant) for page in pages for variant in variants]  # interleaved: same load for each

    def run(item: tuple[ScanPage, str]) -> dict[str, Any]:
        page, variant = item
        started = time.perf_counter()
        text = READERS[variant](page)
        seconds = time.perf_counter() - started
        errors, total = word_errors(page.reference, text)
        folded_errors, _ = word_errors(page.reference, text, folded=True)
        return {"page": page.name, "kind": page.kind, "variant": variant, "seconds": seconds, "errors": errors,
                "folded_errors": folded_errors, "words": total, "signer": page.signer in text}

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        rows = list(pool.map(run, work))
    table: dict[str, dict[str, Any]] = defaultdict(dict)
    for kind in [*dict.fromkeys(p.kind for p in pages), "all"]:
        for variant in variants:
            mine = [r for r in rows if r["variant"] == variant and kind in (r["kind"], "all")]
            words = sum(r["words"] for r in mine)
            table[kind][variant] = {
                "pages": len(mine), "words": words,
                "accuracy": round(1 - sum(r["errors"] for r in mine) / words, 3),
                "folded_accuracy": round(1 - sum(r["folded_errors"] for r in mine) / words, 3),
                "signer_read": sum(r["signer"] for r in mine),
                "median_seconds": round(statistics.median(r["seconds"] for r in mine), 1)}
    return {"pages": len(pages), "variants": variants, "table": table, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--per-kind", type=int, default=5, help="pages per kind of degradation (6 kinds)")
    parser.add_argument("--jobs", type=int, default=2, help="pages read at once")
    parser.add_argument("--variants", default="before,clean,ocrmypdf")
    parser.add_argument("--kinds", default=",".join(KINDS), help="kinds of degradation read (default: all)")
    parser.add_argument("--json", metavar="FILE", help="also write every page's figures to FILE")
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(READERS)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    if "ocrmypdf" in variants and shutil.which("ocrmypdf") is None:
        print("ocrmypdf is not installed (Debian: ocrmypdf): left out", file=sys.stderr)
        variants.remove("ocrmypdf")
    result = evaluate(args.per_kind, args.jobs, variants, args.kinds.split(","))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"{result['pages']} pages; word accuracy, accents kept (accents folded); signer's name read; median s/page")
    print("| kind | words | " + " | ".join(variants) + " |")
    print("|---|---:|" + "---:|" * len(variants))
    for kind, cells in result["table"].items():
        first = next(iter(cells.values()))
        shown = [f"{c['accuracy']:.3f} ({c['folded_accuracy']:.3f}); {c['signer_read']}/{c['pages']}; "
                 f"{c['median_seconds']} s" for c in cells.values()]
        print(f"| {KIND_NAMES.get(kind, kind)} | {first['words']} | " + " | ".join(shown) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
