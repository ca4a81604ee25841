"""Vietnamese matching, ranking of exact forms, phrases, prefixes and exact fields, on every adapter."""

from __future__ import annotations

import pytest

from search import SearchIndex, SearchQuery
from tests.contract.search.corpus import READ_ALL, ids


def search(index: SearchIndex, q: str, **kw: object) -> list[str]:
    return ids(index.search(SearchQuery(q=q, size=100, **kw), READ_ALL))  # type: ignore[arg-type]


@pytest.mark.parametrize("q", ["quyet dinh", "QUYẾT ĐỊNH", "quyết định", "Quyet Dinh"])
def test_case_and_diacritics_do_not_matter(library: SearchIndex, q: str) -> None:
    assert set(search(library, q)) == {"d01", "d02"}


@pytest.mark.parametrize("q", ["dong dang", "Đồng Đăng", "ĐỒNG ĐĂNG", "đong đang", "Ðồng Ðăng"])
def test_d_with_stroke_folds_to_d(library: SearchIndex, q: str) -> None:
    # "Ð" (U+00D0, a frequent typing mistake) counts as "Đ"
    assert search(library, q) == ["d04"]


def test_exact_form_ranks_first_both_ways(library: SearchIndex) -> None:
    assert search(library, "quyết định phê duyệt")[:2] == ["d01", "d02"]
    assert search(library, "quyet dinh phe duyet")[:2] == ["d02", "d01"]


def test_every_word_must_match(library: SearchIndex) -> None:
    assert set(search(library, "khen thưởng")) == {"d07", "d08"}
    assert search(library, "khen thưởng thiên tai") == []


def test_quoted_phrase_needs_adjacent_words(library: SearchIndex) -> None:
    assert search(library, '"khen thưởng"') == ["d07"]
    assert search(library, '"khen thuong tap the"') == ["d07"]
    assert search(library, '"thưởng khen"') == []


def test_phrase_never_spans_two_metadata_values(library: SearchIndex) -> None:
    # d01's metadata: notation "15/QĐ-UBND" then type code "QĐ", type name "Quyết định"
    assert search(library, '"ubnd qđ"') == []
    assert search(library, '"qđ quyết định"') == []
    assert set(search(library, '"qđ ubnd"')) == {"d01", "d02"}  # within one value it matches


def test_prefix_query(library: SearchIndex) -> None:
    assert set(search(library, "tuyển*")) == {"d01", "d02"}
    assert set(search(library, "chuyển đổi s*")) == {"d03"}
    assert search(library, "zzzq*") == []


@pytest.mark.parametrize("q", ["15/QĐ-UBND", "15/QD-UBND", "15 qđ ubnd", "15/qd-ubnd", "số 15/QĐ-UBND"])
def test_number_and_notation_forms(library: SearchIndex, q: str) -> None:
    assert search(library, q)[0] == "d01"


@pytest.mark.parametrize("q", ["05/UBND-VP", "5/UBND-VP", "05 ubnd vp"])
def test_leading_zero_of_numbers_is_optional(library: SearchIndex, q: str) -> None:
    assert search(library, q)[0] == "d03"


def test_metadata_is_searchable_as_text(library: SearchIndex) -> None:
    assert search(library, "000.00.00.H41") == ["d01"]  # OrganId
    assert search(library, "101") == ["d01"]  # incoming number
    assert search(library, "nguyen van an") == ["d01"]  # signer
    assert search(library, "01.TCCB") == ["d01"]  # dossier code
    assert set(search(library, "cao lộc")) == {"d03", "d04"}  # issuing body


def test_exact_field_filters(library: SearchIndex) -> None:
    assert search(library, "", organ_id="000.00.00.H42") == ["d02"]
    assert search(library, "", incoming_number=101) == ["d01"]
    assert search(library, "", number=[5, 7]) == ["d03", "d04"]
    assert set(search(library, "", issuing_body="Sở Nội vụ")) == {"d07", "d08"}


def test_full_text_is_searched(library: SearchIndex) -> None:
    assert search(library, "mưa lũ") == ["d05"]
    assert search(library, "mua lu") == ["d05"]


def test_no_match_and_punctuation_only(library: SearchIndex) -> None:
    assert search(library, "không-có-từ-này") == []
    result = library.search(SearchQuery(q="  ...  "), READ_ALL)
    assert result.total == len(search(library, ""))  # nothing to match: every readable document


def test_highlights_mark_original_words(library: SearchIndex) -> None:
    hit = library.search(SearchQuery(q="quyet dinh dong"), READ_ALL).hits
    assert hit == []  # "dong" is not in d01/d02
    hits = library.search(SearchQuery(q="phe duyet"), READ_ALL).hits
    first = next(h for h in hits if h.id == "d01")
    assert first.highlights["subject"] == [
        "Quyết định về việc <mark>phê</mark> <mark>duyệt</mark> kế hoạch tuyển dụng công chức năm 2024"]
    assert any("<mark>Phê</mark> <mark>duyệt</mark>" in f for f in first.highlights["full_text"])


def test_highlights_of_notation_and_prefix(library: SearchIndex) -> None:
    hit = library.search(SearchQuery(q="15/QD-UBND"), READ_ALL).hits[0]
    assert hit.highlights["notation"] == ["<mark>15</mark>/<mark>QĐ</mark>-<mark>UBND</mark>"]
    hit = library.search(SearchQuery(q="thiên t*"), READ_ALL).hits[0]
    assert "<mark>thiên</mark> <mark>tai</mark>" in hit.highlights["subject"][0]


def test_highlight_can_be_switched_off(library: SearchIndex) -> None:
    hits = library.search(SearchQuery(q="phe duyet", highlight=False), READ_ALL).hits
    assert hits and all(h.highlights == {} for h in hits)


def test_hits_carry_metadata(library: SearchIndex) -> None:
    hit = library.search(SearchQuery(q="15/QĐ-UBND"), READ_ALL).hits[0]
    assert (hit.id, hit.number, hit.notation, hit.type_code, hit.issuing_body) == (
        "d01", 15, "15/QĐ-UBND", "QĐ", "UBND tỉnh Lạng Sơn")
    assert hit.subject == "Quyết định về việc phê duyệt kế hoạch tuyển dụng công chức năm 2024"
    assert str(hit.issued_date) == "2024-03-01" and hit.incoming_number == 101
    assert hit.dossier_ids == ("ds-1",) and hit.score is not None and hit.score > 0


def test_suggestions_complete_the_last_word(library: SearchIndex) -> None:
    found = library.suggest("chuyển đổi s", READ_ALL)
    assert [s.id for s in found] == ["d03"]
    assert found[0].highlighted == ("Về việc triển khai <mark>chuyển</mark> <mark>đổi</mark> <mark>số</mark> "
                                    "trong cơ quan nhà nước")
    assert {s.id for s in library.suggest("tuyen d", READ_ALL)} == {"d01", "d02"}
    assert [s.id for s in library.suggest("15/QĐ-UB", READ_ALL)][0] == "d01"


def test_suggestions_ignore_full_text_and_respect_limit(library: SearchIndex) -> None:
    assert library.suggest("cửa khẩu", READ_ALL) == []  # only in a full text
    assert len(library.suggest("văn b", READ_ALL, limit=3)) == 3
    assert library.suggest("", READ_ALL) == []


def test_provenance_is_searched_weakly_but_never_suggested_nor_returned(index: SearchIndex) -> None:
    """A record of an agency that ceased carries the agency's name and code as provenance: found by them
    (accents optional), ranked below a document whose subject names them, not offered by type-ahead."""
    from tests.contract.search.corpus import doc
    fonds = doc("p1", "Quyết định phê duyệt danh mục đầu tư công",
                provenance=["Ủy ban nhân dân xã Tân Mỹ", "000.00.32.H41"])
    named = doc("p2", "Báo cáo tình hình xã Tân Mỹ")
    other = doc("p3", "Quyết định phê duyệt quy hoạch")
    index.upsert([fonds, named, other])
    index.refresh()
    assert search(index, "xã Tân Mỹ") == ["p2", "p1"]
    assert search(index, "xa tan my") == ["p2", "p1"]
    assert search(index, "000.00.32.H41") == ["p1"]
    assert [s.id for s in index.suggest("tân m", READ_ALL, 10)] == ["p2"]
    hit = index.search(SearchQuery(q="tan my", size=10), READ_ALL).hits[-1]
    assert hit.id == "p1" and not hasattr(hit, "provenance")
