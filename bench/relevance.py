"""Relevance of the search adapters on the generated Vietnamese evaluation set (``bench.relevance_data``).

    python -m bench.relevance                     # embedded only
    DOCSVC_SEARCH_URL=http://127.0.0.1:9200 python -m bench.relevance   # and Elasticsearch
    python -m bench.relevance --tantivy           # and the relevance plan on tantivy (bench/tantivy_plan.py)

Prints recall@10 and MRR per query category for each adapter, and for each two of them how many
queries gave the same first ten documents. Exits 1 when a category is below the
goal (recall@10 0.95, MRR 0.90).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
import uuid
from typing import Any

from bench.relevance_data import READ_ALL, build_documents, build_queries, evaluate
from search import SearchIndex, SearchQuery, open_index

GOAL_RECALL, GOAL_MRR = 0.95, 0.90
#: what the service does with a typed type code (docsvc folds it to a known code, see docsvc.services.indexing)
TYPE_CODES = {"QD": "QĐ"}


def _indices(tantivy: bool) -> list[tuple[str, Any]]:
    out: list[tuple[str, SearchIndex]] = [("embedded", open_index(f"embedded:{tempfile.mkdtemp()}/relevance.sqlite"))]
    url = os.environ.get("DOCSVC_SEARCH_URL", "")
    if url.startswith(("http://", "https://")):
        out.append(("elasticsearch", open_index(url, index=f"docsvc-relevance-{uuid.uuid4().hex[:8]}", refresh=True)))
    if not tantivy:
        return out
    from bench.tantivy_plan import TantivyPlanIndex  # the engine-choice stand-in (pip install -e '.[engines]')
    return [*out, ("tantivy (bench/tantivy_plan.py)", TantivyPlanIndex())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tantivy", action="store_true",
                        help="also the relevance plan on tantivy (bench/tantivy_plan.py, needs the tantivy package)")
    args = parser.parse_args(argv)
    docs = build_documents()
    queries = build_queries(docs)
    print(f"{len(docs)} documents, {len(queries)} queries")
    tops: dict[str, list[list[str]]] = {}
    failed = False
    for name, index in _indices(args.tantivy):
        index.ensure_schema()
        index.upsert([d.document for d in docs])
        index.refresh()
        started = time.perf_counter()
        scores = evaluate(index, queries, lambda c: TYPE_CODES.get(c, c))
        elapsed = (time.perf_counter() - started) / len(queries) * 1000
        print(f"\n{name} ({elapsed:.1f} ms per query, 250 docs)")
        print(f"{'category':20s} {'queries':>7s} {'recall@10':>9s} {'MRR':>6s}")
        for category, s in sorted(scores.items()):
            ok = s.recall_at_10 >= GOAL_RECALL and s.mrr >= GOAL_MRR
            failed |= not ok
            print(f"{category:20s} {s.queries:7d} {s.recall_at_10:9.3f} {s.mrr:6.3f}{'' if ok else '  BELOW GOAL'}")
        tops[name] = [[h.id for h in index.search(SearchQuery(q=q.q, size=10, type_codes=tuple(
            TYPE_CODES.get(c, c) for c in q.type_codes)), READ_ALL).hits] for q in queries]
        drop = getattr(index, "drop", None)
        if drop:
            drop()
        index.close()
    for first, other in itertools.combinations(tops, 2):
        same = sum(set(x) == set(y) for x, y in zip(tops[first], tops[other], strict=True))
        print(f"same first-ten set on {first} and {other}: {same}/{len(queries)} queries")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
