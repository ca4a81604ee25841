"""Per-field accuracy of the metadata read from received documents (issue 16).

Generates the evaluation corpus deterministically (:mod:`tests.fixtures.intake_docs`: born-digital
PDFs in Decree 30's layout with seal and signature drawn, and scans of them with noise and a small
rotation), reads each through the production path (limited extraction child, OCR for scans,
:mod:`search.metadata`) and prints the share of right fields per kind.

    .venv/bin/python bench/intake_accuracy.py [--born 100] [--scans 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TYPE_NAMES = {"Quyết định": "QĐ", "Thông báo": "TB", "Kế hoạch": "KH", "Báo cáo": "BC", "Tờ trình": "TTr",
              "Hướng dẫn": "HD", "Giấy mời": "GM", "Chỉ thị": "CT", "Công văn": "cong_van"}


def evaluate(born: int, scans: int, seed: int = 16) -> dict[str, Any]:
    from docsvc.services.intake.metadata import read_file_metadata
    from search.metadata import FIELDS
    from search.sandbox import ExtractionLimits
    from tests.fixtures.intake_docs import corpus

    samples = corpus(born, scans, seed)
    right: dict[str, Counter[str]] = {"born": Counter(), "scan": Counter()}
    count: Counter[str] = Counter()
    misses: list[dict[str, Any]] = []
    started = time.perf_counter()
    for sample in samples:
        read = read_file_metadata(sample.data, sample.content_type, TYPE_NAMES, limits=ExtractionLimits())
        count[sample.kind] += 1
        for name in FIELDS:
            got = read["fields"].get(name)
            if got == sample.truth[name]:
                right[sample.kind][name] += 1
            else:
                misses.append({"sample": sample.name, "field": name, "want": sample.truth[name], "got": got})
    out: dict[str, Any] = {"seconds": round(time.perf_counter() - started, 1), "misses": misses[:50]}
    for kind in ("born", "scan"):
        n = count[kind]
        if not n:
            continue
        per_field = {name: round(100 * right[kind][name] / n, 1) for name in FIELDS}
        out[kind] = {"documents": n, "per_field": per_field,
                     "all_fields": round(100 * sum(right[kind].values()) / (n * len(FIELDS)), 1)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--born", type=int, default=100)
    parser.add_argument("--scans", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = evaluate(args.born, args.scans)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    for kind, goal in (("born", 95.0), ("scan", 85.0)):
        if kind not in result:
            continue
        r = result[kind]
        print(f"{kind}: {r['documents']} documents, {r['all_fields']} % of fields right (goal ≥ {goal} %)")
        for name, pct in r["per_field"].items():
            print(f"  {name:16} {pct:5.1f} %")
    for m in result["misses"][:15]:
        print(f"  miss {m['sample']} {m['field']}: want {m['want']!r} got {m['got']!r}")
    print(f"{result['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
