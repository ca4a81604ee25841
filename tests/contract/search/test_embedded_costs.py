"""The embedded adapter's work per search, counted in SQLite virtual-machine steps (repeatable, unlike
timings on a shared machine; issue 18)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from search import IndexDocument, Principal, SearchQuery, sqlite_fts
from search.sqlite_fts import SqliteFtsIndex

CLERK = Principal(user_id="clerk", clearance=0, tokens=frozenset({"org:1:registry"}))


def _docs(n: int, start: int = 0) -> list[IndexDocument]:
    return [IndexDocument(id=f"d{i:05d}", direction="incoming", subject=f"Báo cáo công tác văn thư số {i}",
                          full_text="Tình hình thực hiện kế hoạch năm", readers=["org:1:registry"])
            for i in range(start, start + n)]


def _steps(index: SqliteFtsIndex, run: Callable[[], object]) -> int:
    """Virtual-machine steps SQLite takes on this thread's connection while ``run`` runs."""
    conn = index._conn()
    ticks = [0]

    def tick() -> int:
        ticks[0] += 1
        return 0

    conn.set_progress_handler(tick, 10)
    try:
        run()
    finally:
        conn.set_progress_handler(None, 10)
    return ticks[0] * 10


def test_a_rare_word_costs_the_same_whatever_the_caller_may_read(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """For a caller who may read many documents the reader filter probes each matching row; it used
    to collect every readable document first (all of them for a registry clerk), so a search finding
    one document cost in proportion to the whole index. (The bound is lowered to keep the test small.)"""
    monkeypatch.setattr(sqlite_fts, "READER_LIST_MAX", 200)
    counts = []
    for n in (250, 2500):  # both above the bound
        index = SqliteFtsIndex(tmp_path / f"{n}.sqlite")
        index.upsert(_docs(n))
        index.upsert([IndexDocument(id="rare", direction="incoming", subject="Kế hoạch phòng chống lũ quét",
                                    readers=["org:1:registry"])])
        query = SearchQuery(q="lũ quét", highlight=False)
        assert [h.id for h in index.search(query, CLERK).hits] == ["rare"]
        counts.append(_steps(index, lambda index=index, query=query: index.search(query, CLERK)))
        index.close()
    small, large = counts
    assert large < small * 1.5, counts


def test_a_caller_reading_few_documents_keeps_the_listed_filter(tmp_path: Path) -> None:
    """Below the bound the readable documents are listed once (the faster filter when they are few)."""
    index = SqliteFtsIndex(tmp_path / "few.sqlite")
    index.upsert(_docs(20))
    conn = index._conn()
    assert not SqliteFtsIndex._probe_readers(conn, CLERK)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    assert index.search(SearchQuery(q="văn thư", highlight=False), CLERK).total == 20
    conn.set_trace_callback(None)
    fill = [s for s in statements if "INSERT" in s and "temp.hits" in s]
    assert fill and all("d.rowid IN (SELECT doc FROM doc_readers" in s for s in fill)
    index.close()


def test_every_text_search_scans_fts5_first(tmp_path: Path) -> None:
    """Every statement with a MATCH walks FTS5 as its outer loop, for a caller who reads few documents
    too. Driven from the readable documents instead, SQLite re-runs the MATCH (and BM25's statistics
    over the whole index) once per document: SQLite 3.51 chose that plan for a plain join and searched
    12x slower; the bundled 3.40 happens not to, so the plan is pinned rather than left to estimates."""
    index = SqliteFtsIndex(tmp_path / "plans.sqlite")
    index.upsert([IndexDocument(id=f"d{i:04d}", direction="incoming", subject=f"Báo cáo công tác văn thư số {i}",
                                readers=["org:1:registry"] + (["user:7"] if i % 50 == 0 else []))
                  for i in range(500)])
    officer = Principal(user_id="officer", clearance=0, tokens=frozenset({"user:7"}))
    conn = index._conn()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    for principal in (CLERK, officer):
        for query in (SearchQuery(q="văn thư"), SearchQuery(q="van thu bao cao so", sort="date_desc"),
                      SearchQuery(q="vanthu"), SearchQuery(q="văn thư", facets=["type", "year"])):
            index.search(query, principal)
        index.suggest("văn th", principal)
    conn.set_trace_callback(None)
    matching = [s for s in statements if "MATCH" in s and not s.startswith("EXPLAIN")]
    assert len(matching) >= 10
    for sql in matching:
        loops = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql)
                 if r[1] == 0 and r[3].startswith(("SCAN", "SEARCH"))]
        assert loops[0].startswith("SCAN fts VIRTUAL TABLE"), (sql, loops)
    index.close()
