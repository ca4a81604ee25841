"""Validation of documents, principals, queries and cursors."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

import pytest

from search import IndexDocument, InvalidCursor, InvalidDocument, InvalidQuery, Principal, SearchQuery
from search.cursor import decode_cursor, encode_cursor


def test_document_is_normalised() -> None:
    d = IndexDocument(id=42, direction="incoming", subject=unicodedata.normalize("NFD", "Quyết định"),  # type: ignore[arg-type]
                      issuing_body="  UBND  ", readers=["unit:5", "unit:5", "user:1"],
                      issued_date=date(2024, 5, 1), updated_at=datetime(2024, 5, 1))
    assert d.id == "42" and d.subject == "Quyết định" and d.issuing_body == "UBND"
    assert d.readers == ("unit:5", "user:1") and d.year == 2024
    assert d.updated_at is not None and d.updated_at.tzinfo is UTC
    assert d.version == int(datetime(2024, 5, 1, tzinfo=UTC).timestamp() * 1_000_000)


def test_offline_content_and_masked_subject_are_dropped_at_the_door() -> None:
    d = IndexDocument(id="1", direction="internal", subject="Bí mật", full_text="nội dung mật",
                      content_indexed=False, subject_indexed=False, secrecy=3)
    assert d.full_text == "" and d.subject == ""


@pytest.mark.parametrize("bad", [
    {"id": ""}, {"direction": "sideways"}, {"secrecy": 4}, {"secrecy": -1}, {"urgency": 9},
    {"issued_date": datetime(2024, 1, 1)}, {"issued_date": "2024-01-01"}, {"readers": "user:1"},
    {"number": "15"}, {"subject": None}, {"subject": "x" * 2001}, {"year": 20245},
    {"updated_at": date(2024, 1, 1)}, {"secrecy": True}, {"updated_at": datetime(1969, 12, 31)},
])
def test_invalid_documents(bad: dict[str, object]) -> None:
    values: dict[str, object] = {"id": "1", "direction": "incoming", "subject": "x", **bad}
    with pytest.raises(InvalidDocument):
        IndexDocument(**values)  # type: ignore[arg-type]


def test_principal_rule_and_validation() -> None:
    p = Principal(7, 1, frozenset({"user:7", "unit:5"}))
    assert p.can_read(1, ["unit:5"]) and not p.can_read(2, ["unit:5"]) and not p.can_read(0, ["unit:6"])
    assert not p.can_read(0, [])
    for clearance in (-1, 4, "1", True):
        with pytest.raises(InvalidQuery):
            Principal(7, clearance, frozenset())  # type: ignore[arg-type]
    with pytest.raises(InvalidQuery):
        Principal(7, 0, "user:7")  # type: ignore[arg-type]


def test_query_normalises_filters() -> None:
    q = SearchQuery(q="  Quyết  ", type_codes="QĐ", year=[2024, 2024], facets=["type", "type"])
    assert (q.q, q.type_codes, q.year, q.facets) == ("Quyết", ("QĐ",), (2024,), ("type",))
    assert q.term_filters() == [("type_code", ("QĐ",)), ("year", (2024,))]
    assert SearchQuery().effective_sort == "date_desc" and SearchQuery(q="x").effective_sort == "relevance"


def test_cursor_round_trip_and_binding() -> None:
    query = SearchQuery(q="văn thư", size=5)
    cursor = encode_cursor(query, [-1.5, 0, "d01"])
    assert decode_cursor(SearchQuery(q="văn thư", size=9, cursor=cursor), 3) == [-1.5, 0, "d01"]
    for other in (SearchQuery(q="văn thư", year=2024, cursor=cursor), SearchQuery(q="văn", cursor=cursor)):
        with pytest.raises(InvalidCursor):
            decode_cursor(other, 3)
    with pytest.raises(InvalidCursor):
        decode_cursor(SearchQuery(q="văn thư", cursor=cursor), 2)
    assert decode_cursor(query, 3) is None
    tampered = encode_cursor(query, [True, {}, "x"])
    with pytest.raises(InvalidCursor):
        decode_cursor(SearchQuery(q="văn thư", cursor=tampered), 3)
    with pytest.raises(InvalidCursor):
        decode_cursor(SearchQuery(q="văn thư", cursor="x" * 3000), 3)


def test_cursor_carries_the_snapshot_it_pins() -> None:
    from search.cursor import cursor_snapshot
    query = SearchQuery(q="văn thư", size=9)
    cursor = encode_cursor(query, [-1.5, 0, "d01"], "42.ab12")
    again = SearchQuery(q="văn thư", size=9, cursor=cursor)
    assert cursor_snapshot(again) == "42.ab12" and decode_cursor(again, (2, 3)) == [-1.5, 0, "d01"]
    assert cursor_snapshot(query) is None
    with pytest.raises(InvalidCursor):
        cursor_snapshot(SearchQuery(q="văn thư", size=9, cursor=encode_cursor(query, [1, 0, "x"], True)))  # type: ignore[arg-type]
