"""Parsing of the free-text query into clauses."""

from __future__ import annotations

import pytest

from search import InvalidQuery
from search.query_text import Clause, parse_query


def test_words_phrases_and_prefixes() -> None:
    parsed = parse_query('Quyết định "kế hoạch năm" tuyển* 15/QĐ-UBND')
    assert parsed.clauses == (
        Clause("phrase", ("kế", "hoạch", "năm"), ("ke", "hoach", "nam"), quoted=True),
        Clause("term", ("quyết",), ("quyet",)),
        Clause("term", ("định",), ("dinh",)),
        Clause("prefix", ("tuyển",), ("tuyen",)),
        Clause("phrase", ("15", "qđ", "ubnd"), ("15", "qd", "ubnd")),
    )


def test_curly_quotes_and_unclosed_quote() -> None:
    expected = (Clause("phrase", ("khen", "thưởng"), ("khen", "thuong"), quoted=True),)
    assert parse_query("“khen thưởng”").clauses == expected
    assert parse_query('"khen thưởng').clauses == expected


def test_prefix_inside_a_punctuated_word() -> None:
    assert parse_query("15/QĐ-UB*").clauses == (
        Clause("phrase", ("15", "qđ"), ("15", "qd")), Clause("prefix", ("ub",), ("ub",)))


def test_type_ahead_takes_the_last_word_as_prefix_until_a_space() -> None:
    assert parse_query("quyết đ", type_ahead=True).clauses[-1] == Clause("prefix", ("đ",), ("d",))
    assert parse_query("quyết đ ", type_ahead=True).clauses[-1] == Clause("term", ("đ",), ("d",))


def test_duplicates_and_punctuation_vanish() -> None:
    assert parse_query("văn văn ... --- *").clauses == (Clause("term", ("văn",), ("van",)),)
    assert parse_query("  ").empty


def test_notation_key_only_when_digits() -> None:
    assert parse_query("15 qđ ubnd").notation_key == "15-qd-ubnd"
    assert parse_query("qđ ubnd").notation_key == ""


def test_match_terms_for_highlighting() -> None:
    terms, prefixes = parse_query('quyết "kế hoạch" tuy*').match_terms()
    assert terms == {"quyet", "ke", "hoach"} and prefixes == ("tuy",)


def test_too_many_terms() -> None:
    with pytest.raises(InvalidQuery):
        parse_query(" ".join(f"t{i}" for i in range(33)))
