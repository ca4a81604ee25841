"""The embedded adapter's work per search, counted in SQLite virtual-machine steps (repeatable, unlike
timings on a shared machine), and the upgrade of a file written before pin lists (issue 18)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from search import IndexDocument, Principal, SearchQuery, open_index
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


def test_a_rare_word_costs_the_same_whatever_the_caller_may_read(tmp_path: Path) -> None:
    """The reader filter probes each matching row; it used to collect every readable document
    first (all of them for a registry clerk), so a search finding one document cost in proportion to
    the whole index."""
    counts = []
    for n in (50, 1000):
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


def test_pinning_a_first_page_writes_one_row(tmp_path: Path) -> None:
    """A first page with more hits pins its ranking as one row (it was one row per hit, up to 1000),
    and the later pages still follow it."""
    index = SqliteFtsIndex(tmp_path / "pins.sqlite")
    index.upsert(_docs(300))
    query = SearchQuery(q="văn thư", size=10, highlight=False)
    first = index.search(query, CLERK)
    assert first.total == 300 and first.next_cursor
    conn = sqlite3.connect(tmp_path / "pins.sqlite")
    assert conn.execute("SELECT count(*) FROM search_pin_lists").fetchone()[0] == 1
    conn.close()
    seen = [h.id for h in first.hits]
    cursor = first.next_cursor
    while cursor:
        page = index.search(SearchQuery(q="văn thư", size=10, highlight=False, cursor=cursor), CLERK)
        seen += [h.id for h in page.hits]
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 300
    index.close()


def test_a_file_with_row_per_hit_pins_is_upgraded_in_place(tmp_path: Path) -> None:
    """An index file of the same schema version written before pin lists keeps its documents: the
    pin table is replaced when it is opened, and paging works (no reindex)."""
    path = tmp_path / "old.sqlite"
    index = open_index(f"embedded:{path}")
    index.upsert(_docs(30))
    index.close()
    conn = sqlite3.connect(path)
    conn.executescript("""DROP TABLE search_pin_lists;
        CREATE TABLE search_pins (pin TEXT NOT NULL, k1, k2, id TEXT NOT NULL, doc INTEGER NOT NULL,
            created REAL NOT NULL, PRIMARY KEY (pin, k1, k2, id)) WITHOUT ROWID;""")
    conn.close()
    index = open_index(f"embedded:{path}")
    first = index.search(SearchQuery(q="văn thư", size=20), CLERK)
    second = index.search(SearchQuery(q="văn thư", size=20, cursor=first.next_cursor), CLERK)
    assert first.total == 30 and len({h.id for h in first.hits + second.hits}) == 30
    index.close()
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert "search_pin_lists" in tables and "search_pins" not in tables
