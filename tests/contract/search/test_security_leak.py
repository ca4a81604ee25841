"""Leak test: no hit, total, facet value or count, suggestion or snippet reveals a document the caller
cannot open, for callers at every clearance and in every relationship to the documents.

Each document carries a marker word (``mật<secrecy><k>``) in its subject, full text, notation,
issuing body and dossier. Every output a principal receives is folded to plain text and searched for
the markers of documents that principal may not read. Totals and facet counts must equal a
brute-force computation over the documents the principal may read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from search import FACET_FIELDS, IndexDocument, Principal, SearchIndex, SearchQuery, SearchResult
from search.vietnamese import fold
from tests.contract.search.backends import IndexFactory, loaded
from tests.contract.search.corpus import T0, facet_counts

READER_SETS: list[tuple[str, ...]] = [
    ("user:1",), ("unit:5",), ("org:1:registry",), ("grant:user:2",), ("archivist:org:1",),
    ("user:1", "unit:5"), (),
]
RELATIONSHIPS: dict[str, frozenset[str]] = {
    "author": frozenset({"user:1"}),
    "unit member": frozenset({"user:3", "unit:5"}),
    "registry": frozenset({"user:4", "org:1:registry"}),
    "grantee": frozenset({"user:2", "grant:user:2"}),
    "archivist": frozenset({"user:6", "archivist:org:1"}),
    "stranger": frozenset({"user:9", "unit:8", "org:2:registry"}),
    "nobody": frozenset(),
}


def marker(secrecy: int, k: int) -> str:
    return f"mật{secrecy}{k}"


def corpus() -> list[IndexDocument]:
    docs = []
    for secrecy in range(4):
        for k, readers in enumerate(READER_SETS):
            word = marker(secrecy, k)
            docs.append(IndexDocument(
                id=f"s{secrecy}k{k}", direction=("incoming", "outgoing", "internal")[k % 3],
                subject=f"Kế hoạch bảo vệ {word} năm 2024", full_text=f"Nội dung kế hoạch {word} chi tiết.",
                notation=f"{secrecy}{k}/KH-{word.upper()}", number=secrecy * 10 + k, type_code=f"T{word}",
                issuing_body=f"Cơ quan {word}", organ_id=f"000.00.{secrecy}{k}.H41", signer=f"Ông {word}",
                dossier_ids=[f"hs-{word}"], dossier_codes=[f"01.{word}"], status=f"st-{word}",
                archive_status=f"as-{word}", retention=f"rt-{word}", year=2000 + secrecy * 10 + k,
                issued_date=date(2024, 1, 1 + secrecy * 7 + k), secrecy=secrecy, urgency=k % 4,
                readers=readers, updated_at=T0,
                # secret content kept offline on odd documents; Tuyệt mật subjects masked on some
                content_indexed=secrecy == 0 or k % 2 == 0, subject_indexed=not (secrecy == 3 and k % 3 == 0)))
    return docs


DOCS = corpus()
PRINCIPALS = [pytest.param(Principal(f"{rel}-{c}", c, tokens), id=f"clearance{c}-{rel}")
              for c in range(4) for rel, tokens in RELATIONSHIPS.items()]
ALL_TOKENS = frozenset(t for readers in READER_SETS for t in readers)
SUPER = Principal("super", 3, ALL_TOKENS)


@pytest.fixture(scope="module")
def leak_index(module_indices: IndexFactory) -> SearchIndex:
    return loaded(module_indices, "leak", DOCS)


@pytest.fixture(scope="module")
def unrestricted(leak_index: SearchIndex) -> list[set[str]]:
    """For each query, what a principal who may read everything finds (the brute-force base)."""
    return [{h.id for r in _all_pages(leak_index, q, SUPER) for h in r.hits} for q in QUERIES]


def _queries() -> list[SearchQuery]:
    facets = list(FACET_FIELDS)
    queries = [SearchQuery(size=100, facets=facets), SearchQuery(q="kế hoạch", size=100, facets=facets),
               SearchQuery(q='"bảo vệ"', size=100, facets=facets), SearchQuery(q="mat*", size=100, facets=facets),
               SearchQuery(q="ke hoach", size=3, facets=facets, sort="date_asc")]
    for d in DOCS:
        word = d.issuing_body.split()[-1]  # type: ignore[union-attr]
        queries.append(SearchQuery(q=word, size=100, facets=["issuing_body", "dossier", "type"]))
        queries.append(SearchQuery(q=f'"nội dung kế hoạch {word}"', size=100, facets=["year"]))
        queries.append(SearchQuery(q="", dossier=f"hs-{word}", size=100, facets=["status"]))
    return queries


QUERIES = _queries()


def _readable(principal: Principal) -> set[str]:
    return {d.id for d in DOCS if principal.can_read(d.secrecy, d.readers)}


def _forbidden_markers(principal: Principal) -> list[str]:
    allowed = _readable(principal)
    return [fold(marker(d.secrecy, int(d.id.split("k")[1]))) for d in DOCS if d.id not in allowed]


def _all_pages(index: SearchIndex, query: SearchQuery, principal: Principal) -> Iterator[SearchResult]:
    result = index.search(query, principal)
    yield result
    while result.next_cursor:
        result = index.search(replace(query, cursor=result.next_cursor), principal)
        yield result


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_nothing_leaks(leak_index: SearchIndex, unrestricted: list[set[str]], principal: Principal) -> None:
    index = leak_index
    readable = _readable(principal)
    docs = {d.id: d for d in DOCS}
    forbidden = _forbidden_markers(principal)
    outputs: list[str] = []
    for query, everything in zip(QUERIES, unrestricted, strict=True):
        expected = everything & readable
        pages = list(_all_pages(index, query, principal))
        got = [h.id for r in pages for h in r.hits]
        assert sorted(got) == sorted(expected), (query.q, query.dossier)
        assert len(got) == len(set(got))
        first = pages[0]
        assert first.total == len(expected)
        for name, values in first.facets.items():
            brute = facet_counts([docs[i] for i in expected], name)
            top = sorted(brute.items(), key=lambda kv: (-kv[1], str(kv[0])))[:query.facet_size]
            assert [(v.value, v.count) for v in values] == top, name
        outputs.extend(repr(r) for r in pages)
    for text in ("kế hoạch", "mật", "ke hoach bao v", *(marker(s, k) for s in range(4) for k in range(7))):
        suggestions = index.suggest(text, principal, limit=50)
        assert {s.id for s in suggestions} <= readable
        outputs.append(repr(suggestions))
    dump = fold(" ".join(outputs))
    for word in forbidden:
        assert word not in dump, f"{word} leaked to {principal.user_id} ({type(index).__name__})"


def test_offline_content_and_masked_subjects_are_not_searchable(leak_index: SearchIndex) -> None:
    index = leak_index
    for d in DOCS:
        word = d.issuing_body.split()[-1]  # type: ignore[union-attr]
        via_text = {h.id for h in index.search(SearchQuery(q=f'"nội dung kế hoạch {word}"'), SUPER).hits}
        assert via_text == ({d.id} if d.content_indexed and d.readers else set())
        via_subject = {h.id for h in index.search(SearchQuery(q=f'"bảo vệ {word}"'), SUPER).hits}
        assert via_subject == ({d.id} if d.subject_indexed and d.readers else set())
        hits = index.search(SearchQuery(q=word), SUPER).hits
        for hit in hits:
            assert (hit.subject is None) == (not d.subject_indexed)
            assert ("full_text" in hit.highlights) == d.content_indexed
            if not d.subject_indexed:
                assert "subject" not in hit.highlights
