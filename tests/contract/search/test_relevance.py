"""Reduced relevance evaluation (bench/relevance.py has the full one): each adapter must reach
recall@10 0.9 and MRR 0.9 in every query category on a smaller generated set."""

from __future__ import annotations

import pytest

from bench.relevance_data import build_documents, build_queries, evaluate
from search import SearchIndex
from tests.contract.search.backends import IndexFactory

TYPE_CODES = {"QD": "QĐ"}


@pytest.fixture(scope="module")
def eval_set() -> tuple[list, list]:
    docs = build_documents(docs_per_topic=4, topics=15)  # 60 documents
    queries = build_queries(docs)
    return docs, [q for i, q in enumerate(queries) if i % 2 == 0 or q.category in ("i_y", "prefix")]


@pytest.fixture
def relevance_index(make_index: IndexFactory, eval_set: tuple[list, list]) -> SearchIndex:
    index = make_index("relevance")
    index.upsert([d.document for d in eval_set[0]])
    index.refresh()
    return index


def test_reduced_relevance_set_meets_the_floor(relevance_index: SearchIndex, eval_set: tuple[list, list]) -> None:
    docs, queries = eval_set
    assert len(docs) == 60 and len(queries) >= 40
    scores = evaluate(relevance_index, queries, lambda c: TYPE_CODES.get(c, c))
    assert set(scores) >= {"stop_words", "one_letter_off", "joined_syllables", "telex", "i_y", "accent_free",
                           "prefix", "filters"}
    low = {c: (round(s.recall_at_10, 3), round(s.mrr, 3)) for c, s in scores.items()
           if s.recall_at_10 < 0.9 or s.mrr < 0.9}
    assert low == {}
