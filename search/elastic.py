"""Elasticsearch 8 adapter (official client).

Analysis happens in Python (``search.vietnamese``): the text fields receive space-joined tokens and
use the built-in ``whitespace`` analyzer, so this adapter needs no analysis plugin (no
asciifolding, no ICU) and matches exactly like the embedded one.

The index is reached through an alias (the ``index`` name); the concrete index behind it is
``<alias>.v<schema>.<random>``. ``clear`` swaps in a fresh concrete index atomically; writes use
``require_alias`` so a missing index is an error, never an index auto-created with guessed mappings.
One primary shard: facet counts from a terms aggregation are then exact.

Every query, aggregation and suggestion carries the caller's access filter in ``bool.filter``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from search.cursor import cursor_snapshot, decode_cursor, encode_cursor
from search.errors import ConfigurationError, InvalidCursor, SchemaMismatch, SearchError, SearchUnavailable
from search.fields import NOTATION_BOOST, SUGGEST_TEXTS, TEXT_FIELDS, WEIGHTS, indexed_fields, search_texts
from search.model import (
    CLEARANCES,
    FACET_FIELDS,
    FILTER_FIELDS,
    INT_FIELDS,
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
    Alt,
    Boost,
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

SCHEMA_VERSION = 4
#: how long a result list stays pageable after its last page was read (a point in time)
PIT_KEEP_ALIVE = "5m"
_MAX_SHARD_DOC = 2**63 - 1
_BULK_DOCS = 500
_BULK_BYTES = 8_000_000
_DATE_FIELDS = ("issued_date", "arrival_date")
#: keyword fields; a graded field (dossier ids, archive status, retention) has one per clearance
_KEYWORD_FIELDS = sorted({graded_field(field, c) for field in ({f for f, _ in FILTER_FIELDS.values()}
                                                                | set(FACET_FIELDS.values())) for c in CLEARANCES}
                         | {"doc_id", "notation_key", "readers"})


def index_settings(shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    """Settings and mappings of a concrete index (strict: an unknown field is an error)."""
    properties: dict[str, Any] = {}
    for name in _KEYWORD_FIELDS:
        properties[name] = {"type": "integer"} if name in INT_FIELDS else {"type": "keyword"}
    for name in _DATE_FIELDS:
        properties[name] = {"type": "date", "format": "yyyy-MM-dd"}
    for name in TEXT_FIELDS:
        properties[name] = {"type": "text", "analyzer": "whitespace"}
    properties["stored"] = {"type": "object", "enabled": False}
    properties["content"] = {"type": "object", "enabled": False}
    return {
        "settings": {"number_of_shards": shards, "number_of_replicas": replicas},
        "mappings": {"dynamic": "strict", "_meta": {"schema_version": SCHEMA_VERSION},
                     "_source": {"excludes": list(TEXT_FIELDS)}, "properties": properties},
    }


def es_document(doc: IndexDocument) -> dict[str, Any]:
    """The JSON body indexed for a document."""
    fields = indexed_fields(doc)
    graded = doc.graded_values()
    body: dict[str, Any] = {name: graded[name] if name in graded else getattr(doc, name) for name in _KEYWORD_FIELDS
                            if name not in ("doc_id", "notation_key", "readers")}
    body.update({name: list(body[name]) for name in body if isinstance(body[name], tuple)})
    body.update(doc_id=doc.id, notation_key=fields.notation_key or None, readers=list(doc.readers),
                stored=stored_fields(doc), content={"full_text": doc.full_text})
    for name in _DATE_FIELDS:
        value = getattr(doc, name)
        body[name] = value.isoformat() if value else None
    body.update(fields.text())
    return body


@contextmanager
def _errors(what: str) -> Iterator[None]:
    try:
        yield
    except ApiError as exc:
        status = exc.meta.status
        if status == 429 or status >= 500:
            raise SearchUnavailable(f"Elasticsearch could not {what} (HTTP {status})") from exc
        if status == 404:
            raise SearchError(f"Elasticsearch could not {what}: the index does not exist "
                              "(run ensure_schema, or reindex)") from exc
        raise SearchError(f"Elasticsearch could not {what}: {exc.message}") from exc
    except TransportError as exc:
        raise SearchUnavailable(f"Elasticsearch is unreachable ({what}): {exc}") from exc


def _clause_query(clause: Clause, texts: Sequence[str]) -> dict[str, Any]:
    """Matches when the folded form is in one of the folded fields; the exact form only adds score."""
    should = []
    for text in texts:
        for suffix, tokens in (("_f", clause.folded), ("_x", clause.exact)):
            field = text + suffix
            boost = WEIGHTS[field]
            if clause.kind == "term":
                should.append({"term": {field: {"value": tokens[0], "boost": boost}}})
            elif clause.kind == "prefix":
                should.append({"prefix": {field: {"value": tokens[0], "boost": boost}}})
            else:
                should.append({"match_phrase": {field: {"query": " ".join(tokens), "boost": boost}}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def access_filter(principal: Principal) -> list[dict[str, Any]]:
    """The caller may read: secrecy within clearance and one reader token in common."""
    return [{"range": {"secrecy": {"lte": principal.clearance}}},
            {"terms": {"readers": sorted(principal.tokens)}}]


def _filters(query: SearchQuery, principal: Principal) -> list[dict[str, Any]]:
    out = access_filter(principal)
    for field, values in query.term_filters():  # graded fields: as the caller's clearance sees them
        out.append({"terms": {graded_field(field, principal.clearance): list(values)}})
    if query.date_from or query.date_to:
        bounds = {}
        if query.date_from:
            bounds["gte"] = query.date_from.isoformat()
        if query.date_to:
            bounds["lte"] = query.date_to.isoformat()
        out.append({"range": {query.date_column: bounds}})
    return out


def _text_query(parsed: ParsedQuery, texts: Sequence[str], filters: list[dict[str, Any]]) -> dict[str, Any]:
    boolean: dict[str, Any] = {"filter": filters}
    if parsed.clauses:
        boolean["must"] = [_clause_query(c, texts) for c in parsed.clauses]
        if parsed.notation_key:
            boolean["should"] = [{"constant_score": {"filter": {"term": {"notation_key": parsed.notation_key}},
                                                     "boost": NOTATION_BOOST}}]
    return {"bool": boolean}


def _alt_query(alt: Alt, field: str) -> dict[str, Any]:
    if alt.kind == "term":
        return {"term": {field: alt.tokens[0]}}
    if alt.kind == "prefix":
        return {"prefix": {field: alt.tokens[0]}}
    if alt.kind == "fuzzy":
        return {"terms": {field: list(alt.tokens)}}
    return {"match_phrase": {field: " ".join(alt.tokens)}}


def _match_clause(clause: MatchClause, texts: Sequence[str]) -> dict[str, Any]:
    """Any alternative of the clause on any folded field (non-scoring: it only decides the match)."""
    return {"bool": {"should": [_alt_query(a, f"{t}_f") for a in clause.alts for t in texts],
                     "minimum_should_match": 1}}


def _boost_query(boost: Boost, field: str) -> dict[str, Any]:
    weight = WEIGHTS[field] * boost.factor
    value = " ".join(boost.tokens)
    if boost.kind == "term":
        return {"term": {field: {"value": value, "boost": weight}}}
    if boost.kind == "prefix":
        return {"prefix": {field: {"value": value, "boost": weight}}}
    if boost.kind == "phrase_prefix":
        return {"match_phrase_prefix": {field: {"query": value, "boost": weight}}}
    return {"match_phrase": {field: {"query": value, "boost": weight}}}


def plan_query_body(plan: QueryPlan, texts: Sequence[str], filters: list[dict[str, Any]]) -> dict[str, Any]:
    """The plan as a bool query: matching in ``filter`` (required clauses, then ``minimum`` of the
    optional ones), ranking in ``should`` (optional: a document matching none of it scores 0,
    as in the embedded adapter)."""
    matching = list(filters)
    required = [_match_clause(c, texts) for c in plan.required]
    optional = [_match_clause(c, texts) for c in plan.optional]
    if optional:
        required.append({"bool": {"should": optional, "minimum_should_match": plan.minimum}})
    matching.extend(required)
    should = [_boost_query(b, f"{t}{'_x' if b.exact else '_f'}") for b in plan.boosts for t in texts]
    if plan.notation_key:
        should.append({"constant_score": {"filter": {"term": {"notation_key": plan.notation_key}},
                                          "boost": NOTATION_BOOST}})
    return {"bool": {"filter": matching, "should": should}}


def _sort(query: SearchQuery) -> list[dict[str, Any]]:
    sort = query.effective_sort
    if sort == "relevance":
        first: dict[str, Any] = {"_score": {"order": "desc"}}
    else:
        first = {query.date_column: {"order": "desc" if sort == "date_desc" else "asc", "missing": "_last"}}
    return [first, {"doc_id": {"order": "asc"}}]


def search_body(query: SearchQuery, principal: Principal, plan: QueryPlan | None = None,
                pit: str | None = None) -> dict[str, Any]:
    """The request body the adapter sends for a search (also what the benchmark replays raw);
    ``pit``: the point in time a later page reads (the cursor's snapshot)."""
    plan = plan if plan is not None else search_passes(plan_query(query.q))[0]
    filters = _filters(query, principal)
    text = plan_query_body(plan, search_texts(principal.clearance), filters) if not plan.empty \
        else {"bool": {"filter": filters}}
    body: dict[str, Any] = {
        "query": text,
        "sort": _sort(query),
        "size": query.size + 1,
        "track_total_hits": True,
        "_source": ["stored", "content"] if query.highlight else ["stored"],
    }
    after = decode_cursor(query, (2, 3))
    if pit is not None:
        body["pit"] = {"id": pit, "keep_alive": PIT_KEEP_ALIVE}
    if after is not None:
        if pit is not None and len(after) == 2:
            # a first page (read before the point in time was opened) has no _shard_doc tiebreaker:
            # the largest one skips exactly the last hit (doc_id is unique)
            after = [*after, _MAX_SHARD_DOC]
        body["search_after"] = after
    if query.facets:
        body["aggs"] = {name: {"terms": {"field": graded_field(FACET_FIELDS[name], principal.clearance),
                                         "size": query.facet_size,
                                         "order": [{"_count": "desc"}, {"_key": "asc"}]}}
                        for name in query.facets}
    return body


_NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


class ElasticIndex:
    """``SearchIndex`` on Elasticsearch 8 at ``url``, through the alias ``index``.

    ``refresh``: passed to every write (``True`` makes writes visible at once: tests; ``False``:
    visible within the refresh interval, about a second: production)."""

    def __init__(self, url: str, *, index: str = "docsvc", refresh: bool | str = False,
                 request_timeout: float = 10.0, client: Elasticsearch | None = None,
                 replicas: int = 0) -> None:
        if not index or index[0] in "._-" or not set(index) <= _NAME_OK or len(index) > 180:
            raise ConfigurationError(f"bad Elasticsearch index name {index!r}: lower-case letters, "
                                     "digits, '.', '_' and '-', not starting with a symbol")
        self.alias = index
        self._refresh = refresh if isinstance(refresh, str) else ("true" if refresh else "false")
        self._replicas = replicas
        self.client = client or Elasticsearch(url, request_timeout=request_timeout, max_retries=2,
                                              retry_on_timeout=True)

    # ------------------------------------------------------------------ schema
    def _concrete_indices(self) -> list[str]:
        with _errors("read the index alias"):
            if not self.client.indices.exists_alias(name=self.alias):
                return []
            return sorted(self.client.indices.get_alias(name=self.alias))

    def _create_concrete(self, with_alias: bool) -> str:
        name = f"{self.alias}.v{SCHEMA_VERSION}.{secrets.token_hex(4)}"
        spec = index_settings(replicas=self._replicas)
        if with_alias:
            spec["aliases"] = {self.alias: {"is_write_index": True}}
        with _errors("create the index"):
            self.client.indices.create(index=name, **spec)
        return name

    def ensure_schema(self) -> None:
        concrete = self._concrete_indices()
        if not concrete:
            with _errors("check the index name"):
                if self.client.indices.exists(index=self.alias):
                    raise SchemaMismatch(f"an index named {self.alias!r} exists but is not managed "
                                         "by docsvc (expected an alias): delete it or choose another name")
            try:
                self._create_concrete(with_alias=True)
                return
            except SearchError:
                concrete = self._concrete_indices()  # another process created it meanwhile
                if not concrete:
                    raise
        with _errors("read the index mapping"):
            mapping = self.client.indices.get_mapping(index=concrete[0])
        meta = mapping[concrete[0]]["mappings"].get("_meta", {})
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise SchemaMismatch(f"index {concrete[0]} has schema {meta.get('schema_version')}, this "
                                 f"code needs {SCHEMA_VERSION}: reindex")

    def clear(self) -> None:
        """Swap in a fresh empty index (atomic for readers), then drop the old one."""
        old = self._concrete_indices()
        new = self._create_concrete(with_alias=False)
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": self.alias}} for i in old]
        actions.append({"add": {"index": new, "alias": self.alias, "is_write_index": True}})
        with _errors("swap the index"):
            self.client.indices.update_aliases(actions=actions)
            for index in old:
                self.client.indices.delete(index=index)

    def recreate(self) -> None:
        """A fresh index of this code's schema behind the alias (``clear`` builds it whatever the old one was)."""
        with _errors("check the index name"):
            if not self._concrete_indices() and self.client.indices.exists(index=self.alias):
                raise SchemaMismatch(f"an index named {self.alias!r} exists but is not managed by docsvc")
        self.clear()

    def drop(self) -> None:
        """Delete the alias and every index behind it (tests, uninstall)."""
        for index in self._concrete_indices():
            with _errors("delete the index"):
                self.client.indices.delete(index=index)

    # ------------------------------------------------------------------ writes
    def upsert(self, docs: Sequence[IndexDocument]) -> None:
        batch: list[dict[str, Any]] = []
        size = 0
        for doc in docs:
            body = es_document(doc)
            batch.append({"index": {"_id": doc.id, "version": doc.version, "version_type": "external_gte"}})
            batch.append(body)
            size += len(doc.full_text) + len(doc.subject) + 1000
            if len(batch) >= 2 * _BULK_DOCS or size >= _BULK_BYTES:
                self._bulk(batch)
                batch, size = [], 0
        if batch:
            self._bulk(batch)

    def delete(self, ids: Iterable[str]) -> None:
        batch = [{"delete": {"_id": str(i)}} for i in ids]
        for start in range(0, len(batch), _BULK_DOCS):
            self._bulk(batch[start:start + _BULK_DOCS])

    def _bulk(self, operations: list[dict[str, Any]]) -> None:
        with _errors("write documents"):
            response = self.client.bulk(operations=operations, index=self.alias, require_alias=True,
                                        refresh=self._refresh)
        if not response.get("errors"):
            return
        transient: list[str] = []
        failed: list[str] = []
        for item in response["items"]:
            (action, result), = item.items()
            status = result.get("status", 500)
            if status < 300 or status == 409 or (action == "delete" and status == 404):
                continue  # 409: a newer version is already indexed
            error = result.get("error", {})
            entry = f"{result.get('_id')}: {error.get('type', status)} {error.get('reason', '')}".strip()
            (transient if status == 429 or status >= 500 else failed).append(entry)
        if failed:
            raise SearchError(f"Elasticsearch refused {len(failed)} document(s): {'; '.join(failed[:5])}")
        if transient:
            raise SearchUnavailable(f"Elasticsearch could not write {len(transient)} document(s) now: "
                                    f"{'; '.join(transient[:5])}")

    def refresh(self) -> None:
        with _errors("refresh the index"):
            self.client.indices.refresh(index=self.alias)

    # ------------------------------------------------------------------ checks
    def count(self) -> int:
        with _errors("count documents"):
            return int(self.client.count(index=self.alias)["count"])

    def indexed_versions(self) -> dict[str, int]:
        out: dict[str, int] = {}
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"size": 5000, "sort": [{"doc_id": "asc"}], "_source": False,
                                    "version": True, "query": {"match_all": {}}}
            if after is not None:
                body["search_after"] = after
            with _errors("list documents"):
                hits = self.client.search(index=self.alias, **body)["hits"]["hits"]
            if not hits:
                return out
            out.update((h["_id"], h["_version"]) for h in hits)
            after = hits[-1]["sort"]

    def health(self) -> bool:
        try:
            with _errors("check health"):
                if not self.client.indices.exists_alias(name=self.alias):
                    return False
                status = self.client.cluster.health(index=self.alias, timeout="5s")["status"]
            return status in ("green", "yellow")
        except SearchError:
            return False

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ reads
    def search(self, query: SearchQuery, principal: Principal) -> SearchResult:
        plan = plan_query(query.q)
        decode_cursor(query, (2, 3))
        pit = cursor_snapshot(query)
        if query.cursor is not None and not isinstance(pit, str):
            raise InvalidCursor("the cursor is not one this index issued")
        if not principal.tokens:
            return SearchResult(hits=[], total=0, facets={f: [] for f in query.facets}, next_cursor=None)
        totals = []
        for attempt in search_passes(plan):
            response = self._search(search_body(query, principal, attempt, pit if isinstance(pit, str) else None))
            totals.append(response["hits"]["total"]["value"])
            if totals[-1]:
                break
        suggestion = None
        if totals[0] == 0 and (candidates := typo_candidates(plan)):
            suggestion = did_you_mean(query.q, candidates, self._readable_counts(
                candidates, search_texts(principal.clearance), principal))
        raw_hits = response["hits"]["hits"]
        more = len(raw_hits) > query.size
        raw_hits = raw_hits[:query.size]
        matcher = plan_matcher(plan)
        relevance = query.effective_sort == "relevance"
        hits = []
        for raw in raw_hits:
            stored = raw["_source"]["stored"]
            full_text = raw["_source"].get("content", {}).get("full_text")
            marks = highlights(stored, full_text, matcher) if query.highlight else {}
            hits.append(hit_from_stored(stored, raw.get("_score") if relevance else None, marks,
                                        principal.clearance))
        facets = {name: [FacetValue(b["key"], b["doc_count"])
                         for b in response.get("aggregations", {}).get(name, {}).get("buckets", [])]
                  for name in query.facets}
        next_cursor = None
        if more and raw_hits:
            # later pages read a point in time opened now: documents written meanwhile neither
            # shift nor repeat hits
            pit = response.get("pit_id") or pit or self._open_point_in_time()
            next_cursor = encode_cursor(query, raw_hits[-1]["sort"], pit)
        return SearchResult(hits=hits, total=response["hits"]["total"]["value"], facets=facets,
                            next_cursor=next_cursor, did_you_mean=suggestion)

    def _search(self, body: dict[str, Any]) -> Any:
        if "pit" not in body:
            with _errors("search"):
                return self.client.search(index=self.alias, **body)
        try:
            with _errors("search"):
                return self.client.search(**body)
        except SearchError as exc:
            cause = exc.__cause__
            if isinstance(cause, ApiError) and cause.meta.status == 404:
                raise InvalidCursor(f"the cursor has expired (a result list stays pageable for {PIT_KEEP_ALIVE} "
                                    "after its last page): search again") from None
            raise

    def _open_point_in_time(self) -> str:
        with _errors("open a point in time"):
            return str(self.client.open_point_in_time(index=self.alias, keep_alive=PIT_KEEP_ALIVE)["id"])

    def _readable_counts(self, candidates: dict[str, tuple[str, ...]], texts: Sequence[str],
                         principal: Principal) -> dict[str, int]:
        """Readable documents holding each typed word and each of its variants (one request)."""
        tokens = sorted(set(candidates) | {v for vs in candidates.values() for v in vs})
        filters = {t: {"bool": {"should": [{"term": {f"{x}_f": t}} for x in texts]}} for t in tokens}
        body: dict[str, Any] = {"size": 0, "track_total_hits": False,
                                "query": {"bool": {"filter": access_filter(principal)}},
                "aggs": {"words": {"filters": {"filters": filters}}}}
        with _errors("count words"):
            buckets = self.client.search(index=self.alias, **body)["aggregations"]["words"]["buckets"]
        return {t: b["doc_count"] for t, b in buckets.items()}

    def suggest(self, prefix: str, principal: Principal, limit: int = 10) -> list[Suggestion]:
        parsed = parse_query(prefix, type_ahead=True)
        if parsed.empty or not principal.tokens or limit < 1:
            return []
        query = SearchQuery(q=prefix, size=min(limit, 50))
        body: dict[str, Any] = {"query": _text_query(parsed, SUGGEST_TEXTS, access_filter(principal)),
                "sort": _sort(query), "size": query.size, "_source": ["stored"], "track_total_hits": False}
        with _errors("suggest"):
            raw_hits = self.client.search(index=self.alias, **body)["hits"]["hits"]
        matcher = Matcher(*parsed.match_terms())
        return [suggestion_from_stored(h["_source"]["stored"], matcher) for h in raw_hits]
