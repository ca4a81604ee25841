"""Filters, facets, sorting and cursor pagination, checked against brute force over the corpus."""

from __future__ import annotations

from datetime import date

import pytest

from search import FACET_FIELDS, InvalidCursor, InvalidQuery, SearchIndex, SearchQuery
from tests.contract.search.corpus import LIBRARY, READ_ALL, by_id, date_order, facet_counts, ids

DOCS = by_id(LIBRARY)


def all_pages(index: SearchIndex, **kw: object) -> list[str]:
    """Every hit, page by page through the cursors."""
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        result = index.search(SearchQuery(cursor=cursor, **kw), READ_ALL)  # type: ignore[arg-type]
        seen += ids(result)
        cursor = result.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize(("filters", "expected"), [
    ({"type_codes": "QĐ"}, {"d01", "d02"}),
    ({"type_codes": ["BC", "KH"]}, {"d04", "d05"}),
    ({"year": 2023}, {"d04", "d05"}),
    ({"direction": "outgoing", "status": "issued", "type_codes": "TB"},
     {d.id for d in LIBRARY if d.direction == "outgoing" and d.status == "issued" and d.type_code == "TB"}),
    ({"urgency": 3}, {d.id for d in LIBRARY if d.urgency == 3}),
    ({"dossier": "ds-2"}, {"d02", "d03"}),
    ({"archive_status": "archived"}, {"d04"}),
    ({"retention": ["permanent", "10"]}, {"d01", "d02"}),
    ({"date_from": date(2024, 2, 1), "date_to": date(2024, 3, 1)}, {"d01", "d07", "d08"}),
    ({"date_from": date(2024, 3, 4), "date_field": "arrival"}, {"d01", "d02"}),
    ({"date_to": date(2022, 1, 20)}, {"f01", "f02", "f03"}),
])
def test_filters(library: SearchIndex, filters: dict[str, object], expected: set[str]) -> None:
    result = library.search(SearchQuery(size=100, **filters), READ_ALL)  # type: ignore[arg-type]
    assert set(ids(result)) == expected
    assert result.total == len(expected)


def test_filters_combine_with_text(library: SearchIndex) -> None:
    result = library.search(SearchQuery(q="quyet dinh", year=2024, dossier="ds-2"), READ_ALL)
    assert ids(result) == ["d02"]


def test_facets_count_every_matching_document(library: SearchIndex) -> None:
    result = library.search(SearchQuery(facets=list(FACET_FIELDS), size=1), READ_ALL)
    assert result.total == len(LIBRARY)
    for name in FACET_FIELDS:
        got = {v.value: v.count for v in result.facets[name]}
        assert got == facet_counts(LIBRARY, name), name


def test_facets_follow_query_and_filters(library: SearchIndex) -> None:
    result = library.search(SearchQuery(q="công chức", facets=["type", "dossier", "year"]), READ_ALL)
    assert result.total == 2
    assert [(v.value, v.count) for v in result.facets["type"]] == [("QĐ", 2)]
    assert [(v.value, v.count) for v in result.facets["dossier"]] == [("ds-1", 2), ("ds-2", 1)]
    assert [(v.value, v.count) for v in result.facets["year"]] == [(2024, 2)]


def test_facet_values_ordered_by_count_then_value_and_limited(library: SearchIndex) -> None:
    result = library.search(SearchQuery(facets=["issuing_body", "urgency"], facet_size=2), READ_ALL)
    expected = sorted(facet_counts(LIBRARY, "issuing_body").items(), key=lambda kv: (-kv[1], str(kv[0])))[:2]
    assert [(v.value, v.count) for v in result.facets["issuing_body"]] == expected
    assert len(result.facets["urgency"]) == 2


@pytest.mark.parametrize("sort", ["date_desc", "date_asc"])
def test_date_sort_with_missing_dates_last(library: SearchIndex, sort: str) -> None:
    result = library.search(SearchQuery(sort=sort, size=100), READ_ALL)  # type: ignore[arg-type]
    assert ids(result) == date_order(LIBRARY, descending=sort == "date_desc")


def test_no_text_means_newest_first(library: SearchIndex) -> None:
    assert ids(library.search(SearchQuery(size=100), READ_ALL)) == date_order(LIBRARY)


@pytest.mark.parametrize(("sort", "q", "size"), [
    ("date_desc", "", 7), ("date_asc", "", 5), ("relevance", "văn thư", 4), ("relevance", "", 3),
    ("date_desc", "", 1),
])
def test_cursor_pages_cover_everything_once(library: SearchIndex, sort: str, q: str, size: int) -> None:
    whole = ids(library.search(SearchQuery(q=q, sort=sort, size=100), READ_ALL))  # type: ignore[arg-type]
    paged = all_pages(library, q=q, sort=sort, size=size)
    assert paged == whole
    assert len(set(paged)) == len(paged) > size


def test_last_page_has_no_cursor(library: SearchIndex) -> None:
    result = library.search(SearchQuery(q="quyet dinh", size=2), READ_ALL)
    assert len(result.hits) == 2 and result.next_cursor is None


@pytest.mark.parametrize("cursor", ["", "not-base64!!", "eyJ2IjoxfQ", "e30", "W10"])
def test_garbage_cursor_is_rejected(library: SearchIndex, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        library.search(SearchQuery(cursor=cursor), READ_ALL)


def test_cursor_of_another_query_is_rejected(library: SearchIndex) -> None:
    cursor = library.search(SearchQuery(q="văn thư", size=2), READ_ALL).next_cursor
    assert cursor
    with pytest.raises(InvalidCursor):
        library.search(SearchQuery(q="văn thư", sort="date_asc", cursor=cursor), READ_ALL)
    with pytest.raises(InvalidCursor):
        library.search(SearchQuery(q="lưu trữ", cursor=cursor), READ_ALL)
    # the page size may change between pages
    assert library.search(SearchQuery(q="văn thư", size=5, cursor=cursor), READ_ALL).hits


@pytest.mark.parametrize("bad", [
    {"size": 0}, {"size": 101}, {"sort": "title"}, {"facets": ["colour"]},
    {"date_from": date(2024, 2, 2), "date_to": date(2024, 2, 1)}, {"year": "2024"},
    {"q": "x" * 1001}, {"q": " ".join(f"w{i}" for i in range(40))}, {"date_field": "signed"},
])
def test_bad_queries_raise_invalid_query(library: SearchIndex, bad: dict[str, object]) -> None:
    with pytest.raises(InvalidQuery):
        library.search(SearchQuery(**bad), READ_ALL)  # type: ignore[arg-type]
