"""Embedded adapter: SQLite FTS5 in a file of its own (``var/search.sqlite``).

Texts are tokenised by ``search.vietnamese`` and stored as space-joined tokens in an FTS5 table
(``unicode61`` with ``remove_diacritics 0`` only splits on the spaces again), so matching is the same
as in the Elasticsearch adapter. Metadata lives in ``docs``; reader tokens and dossiers in side tables
that the access and dossier filters probe. A search fills a per-connection temporary table with the
readable matching rows and their sort keys, then reads the page, the total and every facet from it,
all inside one read transaction (one consistent snapshot).

Connections are per thread and per process (safe under Flask threads and Celery prefork); the file
is in WAL mode so searches never wait for the indexer.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import secrets
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from search.cursor import cursor_snapshot, decode_cursor, encode_cursor
from search.errors import InvalidCursor, SchemaMismatch, SearchError, SearchUnavailable
from search.fields import (
    NOTATION_BOOST,
    SEARCH_TEXTS,
    SUGGEST_TEXTS,
    TEXT_FIELDS,
    WEIGHTS,
    indexed_fields,
    search_texts,
)
from search.model import (
    CLEARANCES,
    FACET_FIELDS,
    GRADED_FIELDS,
    FacetValue,
    IndexDocument,
    Principal,
    SearchQuery,
    SearchResult,
    Suggestion,
    graded_field,
    hit_from_stored,
    stored_fields,
)
from search.query_plan import (
    MAX_REPEAT,
    Alt,
    MatchClause,
    QueryPlan,
    did_you_mean,
    plan_query,
    search_passes,
    typo_candidates,
)
from search.query_text import Clause, ParsedQuery, parse_query
from search.results import highlights, plan_matcher, suggestion_from_stored
from search.snippets import Matcher

SCHEMA_VERSION = "4"  # bump whenever tables or the analysis in search.vietnamese change

#: the clearance-dependent single-valued fields, one column per clearance (``graded_field``)
_GRADED_COLUMNS = tuple(graded_field(f, c) for f in sorted(GRADED_FIELDS - {"dossier_ids"}) for c in CLEARANCES)
_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS docs (
        rowid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL,
        org_id TEXT, direction TEXT NOT NULL, type_code TEXT, number INTEGER, notation_key TEXT,
        incoming_number INTEGER, organ_id TEXT, issuing_body TEXT, issued_day INTEGER,
        arrival_day INTEGER, year INTEGER, status TEXT, secrecy INTEGER NOT NULL,
        urgency INTEGER NOT NULL, """ + ", ".join(f"{c} TEXT" for c in _GRADED_COLUMNS) + ")",
    # the bulky part apart, so that filtering and counting scan small rows
    # stored fields (JSON) and full text, each zlib-compressed (Vietnamese text shrinks ~3x)
    """CREATE TABLE IF NOT EXISTS doc_bodies (rowid INTEGER PRIMARY KEY, stored BLOB NOT NULL,
        full_text BLOB NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS docs_notation_key ON docs(notation_key)",
    """CREATE TABLE IF NOT EXISTS doc_readers (doc INTEGER NOT NULL, token TEXT NOT NULL,
        PRIMARY KEY (doc, token)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS doc_readers_token ON doc_readers(token, doc)",
    # each dossier with the clearance needed to know of it
    """CREATE TABLE IF NOT EXISTS doc_dossiers (doc INTEGER NOT NULL, dossier_id TEXT NOT NULL,
        secrecy INTEGER NOT NULL, PRIMARY KEY (doc, dossier_id)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS doc_dossiers_id ON doc_dossiers(dossier_id, doc)",
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5({", ".join(TEXT_FIELDS)},
        tokenize = "unicode61 remove_diacritics 0", prefix = '2 3')""",
    # the indexed terms with the number of documents holding each: typo variants and "did you mean"
    "CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(fts, 'row')",
    # the ranking a first page saw, for its later pages (stable paging by relevance)
    """CREATE TABLE IF NOT EXISTS search_pins (pin TEXT NOT NULL, k1, k2, id TEXT NOT NULL, doc INTEGER NOT NULL,
        created REAL NOT NULL, PRIMARY KEY (pin, k1, k2, id)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS search_pins_created ON search_pins(created)",
]
#: how many hits of a first page's ranking are kept for its later pages, and for how long
MAX_PINNED = 1000
#: above this many combinations of optional clauses, matching counts clause matches instead
MAX_COMBINATIONS = 16
PIN_SECONDS = 600
#: from this many readable documents on, a text search probes the readers of each matching row
#: instead of listing the readable documents first (``SqliteFtsIndex._probe_readers``)
READER_LIST_MAX = 10_000
#: single-valued facet fields, copied into the temporary hits table when a facet asks for them
_FACET_COLUMNS = tuple(f for f in FACET_FIELDS.values() if f != "dossier_ids")
_TEMP = ("CREATE TEMP TABLE IF NOT EXISTS hits (rowid INTEGER PRIMARY KEY, k1, k2, id TEXT, "
         + ", ".join(_FACET_COLUMNS) + ")")
_TEMP_CANDIDATES = "CREATE TEMP TABLE IF NOT EXISTS cand (rowid INTEGER PRIMARY KEY)"

_DOC_COLUMNS = ("id", "version", "org_id", "direction", "type_code", "number", "notation_key",
                "incoming_number", "organ_id", "issuing_body", "issued_day", "arrival_day", "year",
                "status", "secrecy", "urgency", *_GRADED_COLUMNS)
_DAY_COLUMNS = {"issued_date": "issued_day", "arrival_date": "arrival_day"}
#: FTS5 as the outer loop of every text search, whatever the planner estimates: driven from the readable
#: documents instead (SQLite 3.51 does so for a caller who reads few), it re-runs the MATCH, and BM25's
#: statistics over the whole index, for each of them (measured 12x slower)
_FTS_DRIVES = "fts CROSS JOIN docs d ON d.rowid = fts.rowid"
#: the relevance of a row: BM25 over every phrase of the MATCH expression, each field weighted
BM25 = "bm25(fts, " + ", ".join(str(WEIGHTS[f]) for f in TEXT_FIELDS) + ")"


def _pack(text: str) -> bytes:
    return zlib.compress(text.encode(), 6)


def _unpack(data: bytes) -> str:
    return zlib.decompress(data).decode()


def _unavailable(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("locked", "busy", "unable to open", "disk i/o", "readonly"))


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        if _unavailable(exc):
            raise SearchUnavailable(f"embedded search index unavailable: {exc}") from exc
        raise SearchError(f"embedded search index failed: {exc}") from exc


def _parse_snapshot(snapshot: str | int | None) -> tuple[int, str]:
    """(last row id the first page saw, its pinned ranking or "") from a cursor's snapshot."""
    bound, _, pin = str(snapshot).partition(".")
    if not bound.isdigit() or not all(c in "0123456789abcdef" for c in pin):
        raise InvalidCursor("the cursor is not one this index issued")
    return int(bound), pin


def _fts_string(tokens: Sequence[str]) -> str:
    return '"' + " ".join(tokens).replace('"', '""') + '"'


def _columns(texts: Sequence[str], suffix: str) -> str:
    return "{" + " ".join(f"{t}{suffix}" for t in texts) + "}"


def _fts_clause(clause: Clause, texts: Sequence[str], ranked: bool) -> str:
    star = " *" if clause.kind == "prefix" else ""
    folded = _columns(texts, "_f") + " : " + _fts_string(clause.folded) + star
    if not ranked:
        return folded
    exact = _columns(texts, "_x") + " : " + _fts_string(clause.exact) + star
    return f"({folded} OR {exact})"


def fts_expression(parsed: ParsedQuery, texts: Sequence[str] = SEARCH_TEXTS, ranked: bool = True) -> str:
    """FTS5 MATCH text requiring every clause (type-ahead): each clause on the folded columns, OR'ed
    with its exact form when ranked (an exact match is also a folded one, so the OR only adds score)."""
    return " AND ".join(_fts_clause(c, texts, ranked) for c in parsed.clauses)


def _alt_expression(alt: Alt, known: frozenset[str]) -> str | None:
    if alt.kind == "fuzzy":
        variants = [t for t in alt.tokens if t in known]
        return " OR ".join(_fts_string((t,)) for t in variants) or None
    return _fts_string(alt.tokens) + (" *" if alt.kind == "prefix" else "")


def clause_expression(clause: MatchClause, texts: Sequence[str], known: frozenset[str]) -> str:
    """FTS5 MATCH text of one clause of a plan: any of its alternatives on the folded columns
    (typo variants only among ``known`` indexed terms: the others cannot match anyway)."""
    alts = [e for e in (_alt_expression(a, known) for a in clause.alts) if e]
    return _columns(texts, "_f") + " : (" + " OR ".join(alts) + ")"


def candidate_expression(plan: QueryPlan, texts: Sequence[str], known: frozenset[str]) -> str | None:
    """One FTS5 MATCH text for the plan's matching rule (every required clause AND, over the optional
    ones, an OR of every AND of ``minimum`` of them), or None when that would take more than
    ``MAX_COMBINATIONS`` combinations."""
    optional = [clause_expression(c, texts, known) for c in plan.optional]
    required = [clause_expression(c, texts, known) for c in plan.required]
    if optional and math.comb(len(optional), plan.minimum) > MAX_COMBINATIONS:
        return None
    parts = list(required)
    if optional:
        combos = [" AND ".join(group) for group in itertools.combinations(optional, plan.minimum)]
        parts.append("(" + " OR ".join(f"({c})" for c in combos) + ")")
    return " AND ".join(parts)


def ranked_expression(plan: QueryPlan, texts: Sequence[str], known: frozenset[str]) -> str | None:
    """The one FTS5 MATCH text of a relevance search whose plan has no typo variants: the matching
    rule AND the ranking expression (every candidate matches the latter, so the AND only adds the
    ranking phrases to BM25), or None when the matching takes more than ``MAX_COMBINATIONS``."""
    matching = candidate_expression(plan, texts, known)
    return None if matching is None else f"({matching}) AND ({rank_expression(plan, texts)})"


def rank_expression(plan: QueryPlan, texts: Sequence[str]) -> str:
    """FTS5 MATCH text whose BM25 is the plan's ranking: every boost OR'ed (a boost weighing ``n``
    times is repeated ``n`` times, at most ``MAX_REPEAT``: BM25 adds up every phrase of the expression)."""
    parts = []
    for boost in plan.boosts:
        star = " *" if boost.kind in ("prefix", "phrase_prefix") else ""
        part = _columns(texts, "_x" if boost.exact else "_f") + " : " + _fts_string(boost.tokens) + star
        parts.extend([part] * max(1, min(MAX_REPEAT, round(boost.factor))))
    return " OR ".join(parts)


class SqliteFtsIndex:
    """``SearchIndex`` over SQLite FTS5 in the file at ``path`` (created with its folder)."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 10.0) -> None:
        self.path = Path(path)
        self._timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    # ------------------------------------------------------------------ connections
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        with _errors():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-65536")  # 64 MB of page cache per connection
            conn.execute("PRAGMA mmap_size=1073741824")
            self._create_schema(conn)
            conn.execute(_TEMP)
            conn.execute(_TEMP_CANDIDATES)
        self._local.conn, self._local.pid = conn, os.getpid()
        with self._lock:
            self._all.append(conn)
        return conn

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> None:
        row = None
        with suppress(sqlite3.OperationalError):
            row = conn.execute("SELECT value FROM search_meta WHERE key = 'schema_version'").fetchone()
        if row is not None:
            if row[0] != SCHEMA_VERSION:
                raise SchemaMismatch(f"the embedded index has schema {row[0]}, this code needs "
                                     f"{SCHEMA_VERSION}: delete the file and reindex")
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute("INSERT OR IGNORE INTO search_meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _transaction(self, mode: str = "DEFERRED") -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        with _errors():
            conn.execute(f"BEGIN {mode}")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    # ------------------------------------------------------------------ writes
    def ensure_schema(self) -> None:
        self._conn()

    def upsert(self, docs: Sequence[IndexDocument]) -> None:
        rows = [(doc, indexed_fields(doc)) for doc in docs]  # tokenise outside the write lock
        with self._transaction("IMMEDIATE") as conn:
            for doc, fields in rows:
                current = conn.execute("SELECT rowid, version FROM docs WHERE id = ?", (doc.id,)).fetchone()
                if current is not None and current[1] > doc.version:
                    continue  # a newer version is already indexed
                values = self._doc_row(doc, fields.notation_key)
                if current is None:
                    placeholders = ", ".join("?" * len(_DOC_COLUMNS))
                    rowid = conn.execute(f"INSERT INTO docs ({', '.join(_DOC_COLUMNS)}) VALUES ({placeholders})",
                                         values).lastrowid
                else:
                    rowid = current[0]
                    assignments = ", ".join(f"{c} = ?" for c in _DOC_COLUMNS)
                    conn.execute(f"UPDATE docs SET {assignments} WHERE rowid = ?", (*values, rowid))
                    self._delete_side_rows(conn, rowid)
                text = fields.text()
                conn.execute(f"INSERT INTO fts (rowid, {', '.join(TEXT_FIELDS)}) VALUES (?{', ?' * len(TEXT_FIELDS)})",
                             (rowid, *(text[f] for f in TEXT_FIELDS)))
                conn.execute("INSERT OR REPLACE INTO doc_bodies VALUES (?, ?, ?)",
                             (rowid, _pack(json.dumps(stored_fields(doc), ensure_ascii=False)), _pack(doc.full_text)))
                conn.executemany("INSERT INTO doc_readers VALUES (?, ?)", [(rowid, t) for t in doc.readers])
                conn.executemany("INSERT INTO doc_dossiers VALUES (?, ?, ?)",
                                 [(rowid, d.id, d.secrecy) for d in doc.dossier_refs()])

    @staticmethod
    def _doc_row(doc: IndexDocument, key: str) -> tuple[Any, ...]:
        def day(d: Any) -> int | None:
            return d.toordinal() if d else None
        graded = doc.graded_values()
        return (doc.id, doc.version, doc.org_id, doc.direction, doc.type_code, doc.number, key,
                doc.incoming_number, doc.organ_id, doc.issuing_body, day(doc.issued_date),
                day(doc.arrival_date), doc.year, doc.status, doc.secrecy, doc.urgency,
                *(graded[c] for c in _GRADED_COLUMNS))

    @staticmethod
    def _delete_side_rows(conn: sqlite3.Connection, rowid: int) -> None:
        conn.execute("DELETE FROM fts WHERE rowid = ?", (rowid,))
        conn.execute("DELETE FROM doc_readers WHERE doc = ?", (rowid,))
        conn.execute("DELETE FROM doc_dossiers WHERE doc = ?", (rowid,))

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        with self._transaction("IMMEDIATE") as conn:
            for doc_id in ids:
                row = conn.execute("SELECT rowid FROM docs WHERE id = ?", (str(doc_id),)).fetchone()
                if row is not None:
                    self._delete_side_rows(conn, row[0])
                    conn.execute("DELETE FROM doc_bodies WHERE rowid = ?", (row[0],))
                    conn.execute("DELETE FROM docs WHERE rowid = ?", (row[0],))

    def clear(self) -> None:
        with self._transaction("IMMEDIATE") as conn:
            for table in ("fts", "doc_readers", "doc_dossiers", "doc_bodies", "docs", "search_pins"):
                conn.execute(f"DELETE FROM {table}")

    def recreate(self) -> None:
        """Drop every table of the file (any schema version) and create this code's schema."""
        self.close()
        with _errors():
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                    "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'fts_%'")]
                for name in names:
                    conn.execute(f'DROP TABLE IF EXISTS "{name}"')
                conn.execute("COMMIT")
            finally:
                conn.close()
        self._conn()

    def refresh(self) -> None:
        """Writes are visible as soon as they commit."""

    # ------------------------------------------------------------------ checks
    def count(self) -> int:
        with self._transaction() as conn:
            return int(conn.execute("SELECT count(*) FROM docs").fetchone()[0])

    def indexed_versions(self) -> dict[str, int]:
        with self._transaction() as conn:
            return dict(conn.execute("SELECT id, version FROM docs"))

    def health(self) -> bool:
        try:
            with self._transaction() as conn:
                conn.execute("SELECT value FROM search_meta").fetchone()
            return True
        except SearchError:
            return False

    # ------------------------------------------------------------------ reads
    def search(self, query: SearchQuery, principal: Principal) -> SearchResult:
        plan = plan_query(query.q)
        cursor = decode_cursor(query, 3)
        bound, pin = _parse_snapshot(cursor_snapshot(query)) if cursor is not None else (None, "")
        if not principal.tokens:
            return SearchResult(hits=[], total=0, facets={f: [] for f in query.facets}, next_cursor=None)
        with self._transaction() as conn:
            if bound is None:  # the first page pins the documents it saw (row ids only grow)
                bound = int(conn.execute("SELECT coalesce(max(rowid), 0) FROM docs").fetchone()[0])
            texts = search_texts(principal.clearance)
            totals = []
            for attempt in search_passes(plan):
                known = self._known_terms(conn, attempt.fuzzy_tokens())
                self._fill_plan_hits(conn, attempt, known, texts, query, principal, bound)
                totals.append(int(conn.execute("SELECT count(*) FROM temp.hits").fetchone()[0]))
                if totals[-1]:
                    break
            total = totals[-1]
            suggestion = None
            if totals[0] == 0 and (candidates := typo_candidates(plan)):
                suggestion = did_you_mean(query.q, candidates,
                                          self._readable_counts(conn, candidates, texts, principal))
            page = self._page(conn, cursor, query.size + 1, "b.stored, b.full_text", pin)
            facets = {name: self._facet(conn, name, query.facet_size, principal) for name in query.facets}
        more = len(page) > query.size
        if more and cursor is None and query.effective_sort == "relevance":
            pin = self._pin_ranking()
        page = page[:query.size]
        matcher = plan_matcher(plan)
        hits = []
        for k1, _k2, _id, stored, full_text in page:
            stored_values = json.loads(_unpack(stored))
            marks = highlights(stored_values, _unpack(full_text), matcher) if query.highlight else {}
            score = -k1 if query.effective_sort == "relevance" else None
            hits.append(hit_from_stored(stored_values, score, marks, principal.clearance))
        next_cursor = encode_cursor(query, list(page[-1][:3]), f"{bound}.{pin}") if more and page else None
        return SearchResult(hits=hits, total=total, facets=facets, next_cursor=next_cursor,
                            did_you_mean=suggestion)

    def _pin_ranking(self) -> str:
        """Keep the order of this connection's hits (the first ``MAX_PINNED``) for later pages: BM25
        depends on every indexed document, so documents written between two pages would move hits
        across the cursor. Pins older than ``PIN_SECONDS`` go at the same time."""
        pin = secrets.token_hex(8)
        with self._transaction("IMMEDIATE") as conn:
            conn.execute("DELETE FROM search_pins WHERE created < ?", (time.time() - PIN_SECONDS,))
            conn.execute("INSERT INTO search_pins (pin, k1, k2, id, doc, created) SELECT ?, k1, k2, id, rowid, ? "
                         "FROM temp.hits ORDER BY k1, k2, id LIMIT ?", (pin, time.time(), MAX_PINNED))
        return pin

    def _readable_counts(self, conn: sqlite3.Connection, candidates: dict[str, tuple[str, ...]],
                         texts: Sequence[str], principal: Principal) -> dict[str, int]:
        """Readable documents holding each typed word and each of its indexed variants."""
        tokens = set(candidates) | self._known_terms(conn, frozenset(v for vs in candidates.values() for v in vs))
        probe = self._probe_readers(conn, principal)
        where, params = self._filters(SearchQuery(), principal, "issued_day", None, probe)
        counts = {}
        for token in sorted(tokens):
            counts[token] = int(conn.execute(
                f"SELECT count(*) FROM {_FTS_DRIVES} WHERE fts MATCH ? AND {where}",
                (_columns(texts, "_f") + " : " + _fts_string((token,)), *params)).fetchone()[0])
        return counts

    def suggest(self, prefix: str, principal: Principal, limit: int = 10) -> list[Suggestion]:
        parsed = parse_query(prefix, type_ahead=True)
        if parsed.empty or not principal.tokens or limit < 1:
            return []
        query = SearchQuery(q=prefix, size=min(limit, 50))
        with self._transaction() as conn:
            self._fill_hits(conn, parsed, SUGGEST_TEXTS, query, principal)
            page = self._page(conn, None, query.size, "b.stored")
        matcher = Matcher(*parsed.match_terms())
        return [suggestion_from_stored(json.loads(_unpack(row[3])), matcher) for row in page]

    # ------------------------------------------------------------------ SQL building
    @staticmethod
    def _known_terms(conn: sqlite3.Connection, tokens: frozenset[str]) -> frozenset[str]:
        """Which of ``tokens`` are indexed at all (typo variants worth asking FTS5 for)."""
        if not tokens:
            return frozenset()
        rows = conn.execute("SELECT term FROM vocab WHERE term IN (SELECT value FROM json_each(?))",
                            (json.dumps(sorted(tokens)),))
        return frozenset(r[0] for r in rows)

    def _fill_plan_hits(self, conn: sqlite3.Connection, plan: QueryPlan, known: frozenset[str],
                        texts: Sequence[str], query: SearchQuery, principal: Principal,
                        bound: int | None = None) -> None:
        """Put the readable rows matching ``plan`` into ``temp.hits`` with their sort keys.

        The candidates are the rows matching every required clause and ``minimum`` optional ones:
        one FTS5 expression (``candidate_expression``) when the combinations are few, else one FTS5
        query per clause, counted (``temp.cand``). Their relevance is the BM25 of the plan's ranking
        expression; a candidate matching none of it (through a typo variant only) scores 0."""
        if plan.empty:
            self._fill_hits(conn, plan.parsed, texts, query, principal, bound)
            return
        day = _DAY_COLUMNS[query.date_column]
        where, params = self._filters(query, principal, day, bound, self._probe_readers(conn, principal))
        facet_columns = [FACET_FIELDS[f] for f in query.facets if FACET_FIELDS[f] in _FACET_COLUMNS]
        copied = "".join(f", {c}" for c in facet_columns)
        copied_from = "".join(f", d.{graded_field(c, principal.clearance)}" for c in facet_columns)
        conn.execute("DELETE FROM temp.hits")
        insert = f"INSERT OR IGNORE INTO temp.hits (rowid, k1, k2, id{copied}) SELECT d.rowid"
        notation, key_params = "", []
        if plan.notation_key:
            notation = f" - (d.notation_key = ?) * {NOTATION_BOOST}"
            key_params = [plan.notation_key]
        relevance = query.effective_sort == "relevance"
        if relevance:
            keys = f"0.0{notation}, 0"
        else:
            sign = "-" if query.effective_sort == "date_desc" else ""
            keys, key_params = f"d.{day} IS NULL, {sign}coalesce(d.{day}, 0)", []
        matching = candidate_expression(plan, texts, known)
        if matching is not None and (not relevance or not plan.fuzzy_tokens()):
            # one FTS5 query: it intersects the doclists itself (the usual, fast case: a second query
            # would walk every row holding any ranking word). Without typo variants every candidate
            # matches the ranking expression, so AND-ing it only ranks.
            if relevance:
                keys = f"{BM25}{notation}, 0"
                matching = ranked_expression(plan, texts, known)
            conn.execute(f"{insert}, {keys}, d.id{copied_from} FROM {_FTS_DRIVES} "
                         f"WHERE fts MATCH ? AND {where}", (*key_params, matching, *params))
            return
        conn.execute("DELETE FROM temp.cand")
        if matching is not None:
            conn.execute("INSERT INTO temp.cand SELECT rowid FROM fts WHERE fts MATCH ?", (matching,))
        else:
            selects, match_params = [], []
            for clause in plan.clauses:
                selects.append(f"SELECT rowid, {int(clause.required)} AS r FROM fts WHERE fts MATCH ?")
                match_params.append(clause_expression(clause, texts, known))
            conn.execute(f"INSERT INTO temp.cand SELECT rowid FROM ({' UNION ALL '.join(selects)}) GROUP BY rowid "
                         "HAVING sum(r) = ? AND count(*) - sum(r) >= ?",
                         (*match_params, len(plan.required), plan.minimum))
        if relevance:
            # CROSS JOIN keeps FTS5 the outer loop: with the candidates driving, SQLite would run the
            # MATCH (and BM25's statistics) once per candidate row
            conn.execute(f"{insert}, {BM25}{notation}, 0, d.id{copied_from} FROM fts CROSS JOIN temp.cand c "
                         f"ON c.rowid = fts.rowid JOIN docs d ON d.rowid = fts.rowid WHERE fts MATCH ? AND {where}",
                         (*key_params, rank_expression(plan, texts), *params))
        conn.execute(f"{insert}, {keys}, d.id{copied_from} FROM temp.cand c JOIN docs d ON d.rowid = c.rowid "
                     f"WHERE {where}", (*key_params, *params))

    def _fill_hits(self, conn: sqlite3.Connection, parsed: ParsedQuery, texts: Sequence[str],
                   query: SearchQuery, principal: Principal, bound: int | None = None) -> None:
        """Put the readable matching rows and their sort keys into ``temp.hits``.

        One flat join (no subquery around the FTS scan) so that BM25 is only computed for the rows
        that pass the access filter and the other filters."""
        day = _DAY_COLUMNS[query.date_column]
        probe = not parsed.empty and self._probe_readers(conn, principal)
        where, params = self._filters(query, principal, day, bound, probe)
        key_params: list[Any] = []
        if query.effective_sort == "relevance":
            rank = BM25 if not parsed.empty else "0.0"
            if parsed.notation_key:
                rank = f"{rank} - (d.notation_key = ?) * {NOTATION_BOOST}"
                key_params.append(parsed.notation_key)
            keys = f"{rank}, 0"
        else:
            sign = "-" if query.effective_sort == "date_desc" else ""
            keys = f"d.{day} IS NULL, {sign}coalesce(d.{day}, 0)"
        if parsed.empty:
            source = "docs d"
        else:
            source = _FTS_DRIVES
            where = f"fts MATCH ? AND {where}"
            params.insert(0, fts_expression(parsed, texts, ranked=query.effective_sort == "relevance"))
        facet_columns = [FACET_FIELDS[f] for f in query.facets if FACET_FIELDS[f] in _FACET_COLUMNS]
        copied = "".join(f", {c}" for c in facet_columns)
        copied_from = "".join(f", d.{graded_field(c, principal.clearance)}" for c in facet_columns)
        conn.execute("DELETE FROM temp.hits")
        conn.execute(f"INSERT INTO temp.hits (rowid, k1, k2, id{copied}) SELECT d.rowid, {keys}, d.id{copied_from} "
                     f"FROM {source} WHERE {where}", (*key_params, *params))

    @staticmethod
    def _probe_readers(conn: sqlite3.Connection, principal: Principal) -> bool:
        """Whether a text search should probe the reader table row by row (the caller may read at
        least ``READER_LIST_MAX`` documents, a registry clerk all of them) rather than first list
        every readable document (cheap for an officer who reads a few thousand, and then the faster
        filter). Counting stops at the bound, so asking costs at most that many index steps."""
        return conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM doc_readers WHERE token IN (SELECT value FROM json_each(?)) LIMIT ?)",
            (json.dumps(sorted(principal.tokens)), READER_LIST_MAX)).fetchone()[0] >= READER_LIST_MAX

    @staticmethod
    def _filters(query: SearchQuery, principal: Principal, day: str,
                 bound: int | None = None, probe_readers: bool = False) -> tuple[str, list[Any]]:
        """The access filter, the query's filters, and the snapshot ``bound`` (the last row id the
        first page saw: documents registered since are left out of later pages).

        The reader filter lists every readable document once (``rowid IN``), or with ``probe_readers``
        (``_probe_readers``; only where FTS5 drives the rows) probes the reader table's primary key
        for each matching row: a list of a hundred thousand rows would be built on every search,
        whatever the match."""
        readable = ("EXISTS (SELECT 1 FROM doc_readers r WHERE r.doc = d.rowid "
                    "AND r.token IN (SELECT value FROM json_each(?)))" if probe_readers else
                    "d.rowid IN (SELECT doc FROM doc_readers WHERE token IN (SELECT value FROM json_each(?)))")
        clauses = ["d.secrecy <= ?", readable]
        params: list[Any] = [principal.clearance, json.dumps(sorted(principal.tokens))]
        if bound is not None:
            clauses.append("d.rowid <= ?")
            params.append(bound)
        for field, values in query.term_filters():
            if field == "dossier_ids":  # only the dossiers the caller may know of
                clauses.append(f"EXISTS (SELECT 1 FROM doc_dossiers x WHERE x.doc = d.rowid "
                               f"AND x.secrecy <= {int(principal.clearance)} "
                               "AND x.dossier_id IN (SELECT value FROM json_each(?)))")
            else:
                clauses.append(f"d.{graded_field(field, principal.clearance)} IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(values), ensure_ascii=False))
        if query.date_from:
            clauses.append(f"d.{day} >= ?")
            params.append(query.date_from.toordinal())
        if query.date_to:
            clauses.append(f"d.{day} <= ?")
            params.append(query.date_to.toordinal())
        return " AND ".join(clauses), params

    @staticmethod
    def _page(conn: sqlite3.Connection, after: list[Any] | None, limit: int,
              columns: str, pin: str = "") -> list[tuple[Any, ...]]:
        """Rows (k1, k2, id, *columns) after the cursor's sort values, in sort order; with ``pin``,
        in the order the first page pinned (hits still matching and readable now), then the rest."""
        where, params = "", []
        if pin:
            rows = conn.execute(
                f"SELECT p.k1, p.k2, p.id, {columns} FROM search_pins p JOIN temp.hits h ON h.rowid = p.doc "
                "JOIN doc_bodies b ON b.rowid = p.doc WHERE p.pin = ? AND (p.k1, p.k2, p.id) > (?, ?, ?) "
                "ORDER BY p.k1, p.k2, p.id LIMIT ?", (pin, *(after or ()), limit)).fetchall()
            pinned = conn.execute("SELECT count(*) FROM search_pins WHERE pin = ?", (pin,)).fetchone()[0]
            if not pinned:
                raise InvalidCursor(f"the cursor has expired (a result list stays pageable for {PIN_SECONDS // 60} "
                                    "minutes): search again")
            if len(rows) == limit or pinned < MAX_PINNED:
                return rows
            after = list(rows[-1][:3]) if rows else after  # past the pinned hits: the live order
        if after is not None:
            where, params = "WHERE (k1, k2, id) > (?, ?, ?)", after
        return conn.execute(
            f"SELECT h.k1, h.k2, h.id, {columns} FROM (SELECT rowid, k1, k2, id FROM temp.hits {where} "
            "ORDER BY k1, k2, id LIMIT ?) h JOIN doc_bodies b ON b.rowid = h.rowid ORDER BY h.k1, h.k2, h.id",
            (*params, limit)).fetchall()

    @staticmethod
    def _facet(conn: sqlite3.Connection, name: str, size: int, principal: Principal) -> list[FacetValue]:
        field = FACET_FIELDS[name]
        if field == "dossier_ids":  # only the dossiers the caller may know of
            sql = ("SELECT x.dossier_id, count(*) FROM temp.hits h JOIN doc_dossiers x ON x.doc = h.rowid "
                   f"WHERE x.secrecy <= {int(principal.clearance)} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?")
        else:
            sql = (f"SELECT {field}, count(*) FROM temp.hits WHERE {field} IS NOT NULL "
                   "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?")
        return [FacetValue(value, count) for value, count in conn.execute(sql, (size,))]
