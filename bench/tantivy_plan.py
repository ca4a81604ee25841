"""The relevance plan (``search.query_plan``) on tantivy, for measuring the embedded-engine choice only.

A bench-side stand-in with just enough of ``SearchIndex`` for ``bench/search.py --engines`` and the
relevance evaluation (``bench.relevance_data.evaluate``): ``upsert``, ``search`` (relevance order,
reader/secrecy access filter, term filters, the plan's matching and ranking, total, facets) and
``close``. It is not an adapter: no cursors, highlights, suggestions, dossier trimming or versions.

The query mirrors the Elasticsearch body (``search.elastic.plan_query_body``): matching as a
zero-scoring filter (required clauses, ``minimum`` of the optional ones), ranking as optional boosts
weighted by field (``search.fields.WEIGHTS``) and boost factor, the notation key as a constant boost.
Texts are the same pre-tokenised strings the FTS5 table holds (``indexed_fields``), split on spaces.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import tantivy

from search.fields import NOTATION_BOOST, TEXT_FIELDS, WEIGHTS, indexed_fields, search_texts
from search.model import FACET_FIELDS, IndexDocument, Principal, SearchQuery
from search.query_plan import Alt, Boost, MatchClause, QueryPlan, plan_query, search_passes

#: single-valued keyword fields kept for filters and facets (clearance-independent ones only)
_KEYWORDS = ("type_code", "issuing_body", "status", "direction", "notation_key", "id")
_INTEGERS = ("year", "urgency", "secrecy")


@dataclass
class Hit:
    id: str
    score: float


@dataclass
class Result:
    hits: list[Hit]
    total: int
    facets: dict[str, list[tuple[Any, int]]] = field(default_factory=dict)


class TantivyPlanIndex:
    """Documents in a tantivy index in a temporary folder (or ``path``), searched by the relevance plan."""

    def __init__(self, path: str | None = None) -> None:
        self._tmp = None if path else tempfile.TemporaryDirectory(prefix="docsvc-tantivy-")
        builder = tantivy.SchemaBuilder()
        for name in TEXT_FIELDS:
            builder.add_text_field(name, tokenizer_name="whitespace", index_option="position")
        for name in _KEYWORDS:
            builder.add_text_field(name, stored=name == "id", tokenizer_name="raw", fast=True)
        builder.add_text_field("readers", tokenizer_name="raw")
        for name in _INTEGERS:
            builder.add_integer_field(name, indexed=True, fast=True)
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema, path=path or self._tmp.name)  # type: ignore[union-attr]
        self._writer = self.index.writer(heap_size=256_000_000, num_threads=1)
        self._searcher: Any = None

    def ensure_schema(self) -> None:
        pass

    def upsert(self, docs: Sequence[IndexDocument]) -> None:
        for doc in docs:
            fields = indexed_fields(doc)
            values: dict[str, Any] = {k: v for k, v in fields.text().items() if v}
            values.update(id=doc.id, readers=list(doc.readers), notation_key=fields.notation_key or "",
                          type_code=doc.type_code or "", issuing_body=doc.issuing_body or "",
                          status=doc.status or "", direction=doc.direction, year=doc.year or 0,
                          urgency=doc.urgency, secrecy=doc.secrecy)
            self._writer.delete_documents_by_term("id", doc.id)  # a replaced version
            self._writer.add_document(tantivy.Document(**values))
        self._writer.commit()
        self._searcher = None

    def refresh(self) -> None:
        self._writer.wait_merging_threads()
        self._writer = self.index.writer(heap_size=256_000_000, num_threads=1)
        self.index.reload()
        self._searcher = None

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    # ------------------------------------------------------------------ queries
    def _term(self, name: str, token: str) -> Any:
        return tantivy.Query.term_query(self.schema, name, token)

    def _alt(self, alt: Alt, name: str) -> Any | None:
        if alt.kind == "term":
            return self._term(name, alt.tokens[0])
        if alt.kind == "phrase":
            return tantivy.Query.phrase_query(self.schema, name, list(alt.tokens))
        if alt.kind == "prefix":
            return tantivy.Query.phrase_prefix_query(self.schema, name, list(alt.tokens))
        return tantivy.Query.term_set_query(self.schema, name, list(alt.tokens))

    def _clause(self, clause: MatchClause, texts: Sequence[str]) -> Any:
        should = [q for a in clause.alts for t in texts if (q := self._alt(a, f"{t}_f")) is not None]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in should])

    def _boost(self, boost: Boost, name: str) -> Any:
        tokens = list(boost.tokens)
        if boost.kind == "term":
            query = self._term(name, tokens[0])
        elif boost.kind == "phrase":
            query = tantivy.Query.phrase_query(self.schema, name, tokens)
        elif boost.kind == "prefix":  # constant score, as Elasticsearch's prefix query
            return tantivy.Query.const_score_query(tantivy.Query.phrase_prefix_query(self.schema, name, tokens),
                                                   WEIGHTS[name] * boost.factor)
        else:
            query = tantivy.Query.phrase_prefix_query(self.schema, name, tokens)
        return tantivy.Query.boost_query(query, WEIGHTS[name] * boost.factor)

    def _filters(self, query: SearchQuery, principal: Principal) -> list[Any]:
        out = [tantivy.Query.term_set_query(self.schema, "readers", sorted(principal.tokens)),
               tantivy.Query.range_query(self.schema, "secrecy", tantivy.FieldType.Integer, 0, principal.clearance)]
        for name, values in query.term_filters():
            if name in _KEYWORDS:
                out.append(tantivy.Query.term_set_query(self.schema, name, [str(v) for v in values]))
            elif name in _INTEGERS:
                out.append(tantivy.Query.term_set_query(self.schema, name, [int(v) for v in values]))
        return out

    def plan_query(self, plan: QueryPlan, query: SearchQuery, principal: Principal) -> Any:
        texts = search_texts(principal.clearance)
        matching = self._filters(query, principal)
        matching += [self._clause(c, texts) for c in plan.required]
        optional = [self._clause(c, texts) for c in plan.optional]
        if optional:
            matching.append(tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in optional],
                                                        plan.minimum))
        clauses = [(tantivy.Occur.Must, tantivy.Query.const_score_query(
            tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in matching]), 0.0))]
        clauses += [(tantivy.Occur.Should, self._boost(b, f"{t}{'_x' if b.exact else '_f'}"))
                    for b in plan.boosts for t in texts]
        if plan.notation_key:
            clauses.append((tantivy.Occur.Should, tantivy.Query.const_score_query(
                self._term("notation_key", plan.notation_key), NOTATION_BOOST)))
        return tantivy.Query.boolean_query(clauses)

    def search(self, query: SearchQuery, principal: Principal) -> Result:
        if self._searcher is None:
            self._searcher = self.index.searcher()
        searcher = self._searcher
        plan = plan_query(query.q)
        result = None
        for attempt in search_passes(plan):
            if attempt.empty:
                q = tantivy.Query.boolean_query([(tantivy.Occur.Must, f) for f in self._filters(query, principal)])
            else:
                q = self.plan_query(attempt, query, principal)
            result = searcher.search(q, query.size + 1, count=True)
            if result.count:
                break
        assert result is not None
        hits = [Hit(searcher.doc(address)["id"][0], score) for score, address in result.hits[:query.size]]
        facets = {}
        for name in query.facets:
            column = FACET_FIELDS[name]
            if column in _KEYWORDS or column in _INTEGERS:
                agg = searcher.aggregate(q, {"f": {"terms": {"field": column, "size": query.facet_size}}})
                facets[name] = [(b["key"], b["doc_count"]) for b in agg["f"]["buckets"]]
        return Result(hits, int(result.count or 0), facets)
