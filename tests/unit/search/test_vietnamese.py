"""Vietnamese folding and tokenising (shared by every adapter)."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from search.lexicon import unify_iy
from search.vietnamese import (
    FIELD_SEPARATOR,
    analyze,
    exact_tokens,
    fold,
    fold_text,
    folded_tokens,
    join_fields,
    notation_key,
    token_spans,
)


def test_fold_removes_every_vietnamese_diacritic_and_stroke() -> None:
    assert fold("Quyết định ĐỒNG ĐĂNG ơ ư ạ ả ã ễ ỹ ự") == "quyet dinh dong dang o u a a a e y u"
    assert fold("Ðồng ðăng") == "dong dang"  # U+00D0/U+00F0, a frequent mistake for Đ/đ


def test_decomposed_input_folds_like_composed() -> None:
    composed = "Quyết định về việc"
    decomposed = unicodedata.normalize("NFD", composed)
    assert analyze(decomposed) == analyze(composed)
    assert exact_tokens(decomposed) == ["quyết", "định", "về", "việc"]


def test_exact_tokens_keep_diacritics_and_split_on_punctuation() -> None:
    assert exact_tokens("15/QĐ-UBND, ngày 05.3.2024; Đ_x") == ["15", "qđ", "ubnd", "ngày", "05", "3", "2024", "đ", "x"]
    assert exact_tokens("Ðồng") == ["đồng"]


def test_folded_tokens_drop_leading_zeros_of_numbers_only() -> None:
    assert folded_tokens("05/UBND-VP 000 0012ab 007") == ["5", "ubnd", "vp", "0", "0012ab", "7"]
    assert analyze("05 0 a05").folded == "5 0 a05"


def test_notation_forms_share_one_key() -> None:
    keys = {notation_key(s) for s in ("15/QĐ-UBND", "15/QD-UBND", "15 qđ ubnd", "15/qd-ubnd", "015-QĐ-UBND")}
    assert keys == {"15-qd-ubnd"}


def test_long_runs_are_split_into_bounded_tokens() -> None:
    assert [len(t) for t in exact_tokens("a" * 150)] == [64, 64, 22]


def test_metadata_values_are_kept_apart() -> None:
    joined = join_fields(["UBND tỉnh", "", "Lạng Sơn"])
    assert joined.count(FIELD_SEPARATOR) == 1
    assert FIELD_SEPARATOR in analyze(joined).folded.split()  # a token no query can produce
    assert folded_tokens(FIELD_SEPARATOR) == []


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",),
                                      exclude_characters=FIELD_SEPARATOR), max_size=200))
def test_folding_keeps_offsets_and_streams_aligned(text: str) -> None:
    text = unicodedata.normalize("NFC", text)
    assert len(fold_text(text)) == len(text)
    spans = list(token_spans(text))
    result = analyze(text)
    assert [s.folded for s in spans] == result.folded.split(" ") if result.folded else spans == []
    assert len(result.exact.split()) == len(result.folded.split())
    for span in spans:
        # the folded token, its final y after a consonant spelt i (kỹ/kĩ -> ki) as in every folded stream
        assert unify_iy(fold(text[span.start:span.end])).lstrip("0") in (span.folded.lstrip("0"), "")
