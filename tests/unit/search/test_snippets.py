"""Highlighted snippets over the original accented text."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from search.query_text import parse_query
from search.snippets import Matcher, fragments, mark_all
from search.vietnamese import find_tokens, token_spans


def matcher(q: str) -> Matcher:
    return Matcher(*parse_query(q).match_terms())


def test_marks_original_accented_words_for_a_folded_query() -> None:
    assert mark_all("Quyết định về Đồng Đăng", matcher("quyet dong dang")) == (
        "<mark>Quyết</mark> định về <mark>Đồng</mark> <mark>Đăng</mark>")


def test_everything_else_is_html_escaped() -> None:
    text = 'Lệnh <script>alert("x")</script> & kế hoạch'
    assert mark_all(text, matcher("ke hoach")) == (
        'Lệnh &lt;script&gt;alert("x")&lt;/script&gt; &amp; <mark>kế</mark> <mark>hoạch</mark>')
    assert mark_all("<b>", matcher("b")) == "&lt;<mark>b</mark>&gt;"


def test_prefix_marks_whole_words() -> None:
    marked = mark_all("tuyển dụng, tuyên truyền", matcher("tuye*"))
    assert marked == "<mark>tuyển</mark> dụng, <mark>tuyên</mark> truyền"


def test_no_match_gives_nothing() -> None:
    assert mark_all("Quyết định", matcher("khen")) is None
    assert fragments("Quyết định", matcher("khen")) == []
    assert fragments("", matcher("khen")) == []
    assert mark_all("Quyết định", Matcher(frozenset())) is None


def test_fragments_pick_the_densest_passages_in_order() -> None:
    filler = "lorem ipsum " * 40
    text = f"mở đầu {filler} đoạn có khen {filler} đoạn có khen và thưởng cùng nhau {filler} kết"
    found = fragments(text, matcher("khen thưởng"), max_fragments=2, fragment_chars=80)
    assert len(found) == 2
    assert "<mark>khen</mark> và <mark>thưởng</mark>" in found[1]
    assert found[0].startswith("…") and found[0].endswith("…")
    assert all(len(f) < 80 + 40 for f in found)


def test_fragments_collapse_line_breaks_and_keep_words_whole() -> None:
    text = "Điều 1.\n\nPhê   duyệt\nkế hoạch tuyển dụng công chức năm 2024 tại tỉnh Lạng Sơn " * 10
    first = fragments(text, matcher("lạng sơn"), max_fragments=1, fragment_chars=60)[0]
    assert "\n" not in first and "  " not in first
    words = first.strip("…").replace("<mark>", "").replace("</mark>", "").split()
    assert all(w in text.split() for w in words)


@given(st.lists(st.sampled_from(list("aăâđeêoôơuưy dđĐ05 ,.-_\u0301") + ["Quyết", "định", "05 "]),
                max_size=40).map("".join),
       st.sets(st.sampled_from(["a", "d", "5", "0", "quyet", "dinh", "e"]), max_size=3),
       st.sets(st.sampled_from(["a", "d", "5", "0", "qu", "di"]), max_size=2))
def test_regex_finder_agrees_with_token_by_token_rule(text: str, terms: set[str], prefixes: set[str]) -> None:
    text = unicodedata.normalize("NFC", text)
    expected = [s for s in token_spans(text)
                if s.folded in terms or any(s.folded.startswith(p) for p in prefixes)]
    assert list(find_tokens(text, frozenset(terms), tuple(sorted(prefixes)))) == expected
