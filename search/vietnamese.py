"""Vietnamese text analysis shared by every adapter.

Both adapters index text that this module has already tokenised, so matching is identical whatever
the engine (the integration Elasticsearch has no asciifolding or ICU; SQLite FTS5 has no Vietnamese
tokenizer). Two token streams are produced from the same text:

* **exact** tokens: NFC, lower case, diacritics kept (``quyết``, ``định``, ``qđ``);
* **folded** tokens: lower case, diacritics removed, ``đ``/``Đ`` (and the look-alike ``ð``/``Ð``) to
  ``d``, leading zeros of all-digit tokens removed (``quyet``, ``dinh``, ``qd``, ``05`` -> ``5``), a
  final ``y`` after a consonant written ``i`` (``kỹ``/``kĩ`` -> ``ki``, ``lý``/``lí`` -> ``li``: both
  spellings are official).

A token is a run of letters, digits and combining marks (the underscore and every punctuation mark
separate tokens), at most ``MAX_TOKEN_CHARS`` characters long (longer runs are split).

``fold_text`` maps a text character by character to its folded form with the same length, so the
token spans found in the folded text are the spans of the original text: that is what lets the
snippet builder mark the original, accented words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from search.lexicon import unify_iy

MAX_TOKEN_CHARS = 64

#: A token that no query can produce (a private-use character is neither a letter nor a digit):
#: put between metadata values so that a phrase never matches across two of them.
FIELD_SEPARATOR = "\ue000"

_COMBINING = "\u0300-\u036f"
TOKEN_RE = re.compile(rf"(?:[^\W_]|[{_COMBINING}]){{1,{MAX_TOKEN_CHARS}}}")
_LEADING_ZEROS_RE = re.compile(r"(?<!\S)0+(?=[0-9]+(?:\s|$))")
_HAS_MARK_RE = re.compile(f"[{_COMBINING}]")
_STRIP_MARKS = {cp: None for cp in range(0x0300, 0x0370)}
_FINAL_Y_RE = re.compile(r"(?<!\S)(ngh|ng|nh|ch|gh|kh|ph|th|tr|[bcdghklmnprstvx])y(?!\S)")


def _build_fold_table() -> dict[int, str]:
    """Latin letters with diacritics -> lower-case base letter (one character to one character)."""
    table: dict[int, str] = {}
    ranges = [(0x00C0, 0x0250), (0x1E00, 0x1F00)]
    for lo, hi in ranges:
        for cp in range(lo, hi):
            ch = chr(cp)
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            low = base.lower()
            if len(low) == 1 and low != ch:
                table[cp] = low
    for ch in "đĐðÐ":
        table[ord(ch)] = "d"
    return table


_FOLD_TABLE = _build_fold_table()
# The Icelandic eth is a frequent typing mistake for the Vietnamese đ: exact forms treat them alike.
_EXACT_TABLE = {ord("ð"): "đ"}


def nfc(text: str) -> str:
    """Unicode NFC: composed letters, the form every stored and indexed text uses."""
    return unicodedata.normalize("NFC", text)


def lower_same_length(text: str) -> str:
    """``str.lower`` that keeps one character per character (a few letters lower to two)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def fold_text(text: str) -> str:
    """Lower-case, diacritic-free form of an NFC text with exactly the same length.

    Combining marks that NFC could not compose stay in place here (so offsets keep matching); the
    token-level functions remove them."""
    return lower_same_length(text).translate(_FOLD_TABLE)


def _fold_token(token: str) -> str:
    stripped = token.translate(_STRIP_MARKS)
    return stripped or token


def _strip_leading_zeros(joined: str) -> str:
    return _LEADING_ZEROS_RE.sub("", joined)


def fold(text: str) -> str:
    """Folded form of a short text (a filter value, a query word): NFC, lower case, no diacritics."""
    return fold_text(nfc(text)).translate(_STRIP_MARKS)


def exact_tokens(text: str) -> list[str]:
    """Lower-case tokens with diacritics kept."""
    return TOKEN_RE.findall(lower_same_length(nfc(text)).translate(_EXACT_TABLE))


def folded_tokens(text: str) -> list[str]:
    """Folded tokens, leading zeros of numbers removed (``05`` and ``5`` are the same number)."""
    return [_normalise_number(_fold_token(t)) for t in TOKEN_RE.findall(fold_text(nfc(text)))]


def _normalise_number(token: str) -> str:
    """Leading zeros off numbers, and the i/y spelling unified (what every folded token goes through)."""
    if token.isdigit() and token.isascii():
        return token.lstrip("0") or "0"
    return unify_iy(token)


@dataclass(frozen=True, slots=True)
class AnalyzedText:
    """The two token streams of one text, each joined by single spaces (what the engines index)."""

    exact: str
    folded: str


def analyze(text: str) -> AnalyzedText:
    """Exact and folded token streams of a (possibly long) text, joined by spaces.

    Works on whole strings (one ``lower``, one ``translate``, one ``findall`` per stream) because
    it runs over every document's full text at indexing time. ``FIELD_SEPARATOR`` is kept as a
    token of its own."""
    if FIELD_SEPARATOR in text:
        parts = [analyze(part) for part in text.split(FIELD_SEPARATOR)]
        glue = f" {FIELD_SEPARATOR} "
        return AnalyzedText(exact=glue.join(p.exact for p in parts if p.exact),
                            folded=glue.join(p.folded for p in parts if p.exact))
    text = nfc(text)
    low = lower_same_length(text)
    exact = " ".join(TOKEN_RE.findall(low.translate(_EXACT_TABLE)))
    folded_raw = TOKEN_RE.findall(low.translate(_FOLD_TABLE))
    # rare after NFC: strip marks token by token, never emptying one
    folded = " ".join(_fold_token(t) for t in folded_raw) if _HAS_MARK_RE.search(text) else " ".join(folded_raw)
    return AnalyzedText(exact=exact, folded=_FINAL_Y_RE.sub(r"\1i", _strip_leading_zeros(folded)))


def join_fields(values: list[str]) -> str:
    """Join several metadata values into one text; phrases never match across two values."""
    return f" {FIELD_SEPARATOR} ".join(v for v in values if v)


def notation_key(text: str) -> str:
    """Canonical key of a number/notation: ``15/QĐ-UBND``, ``15/QD-UBND``, ``15 qđ ubnd`` -> ``15-qd-ubnd``."""
    return "-".join(folded_tokens(text))


@dataclass(frozen=True, slots=True)
class TokenSpan:
    """A token of an original text: its place in that text and its folded form."""

    start: int
    end: int
    folded: str


def token_spans(text: str) -> Iterator[TokenSpan]:
    """Tokens of an NFC text with their offsets in that same text (for highlighting)."""
    for m in TOKEN_RE.finditer(fold_text(text)):
        yield TokenSpan(m.start(), m.end(), _normalise_number(_fold_token(m.group())))


_WORD_CHAR = r"[^\W_]"


def _term_pattern(term: str, prefix: bool) -> str:
    if term.isdigit() and term.isascii():  # all-digit tokens compare without leading zeros
        digits = "0+" if term == "0" else "0*" + term
        if not prefix:
            return digits
        all_digits = digits if term == "0" else digits + "[0-9]*"
        # an all-digit token with that start, or a token with letters that starts with the digits
        return rf"(?:{all_digits}(?!{_WORD_CHAR})|{term}[0-9]*[^\W0-9_]{_WORD_CHAR}*)"
    if not prefix and unify_iy(term[:-1] + "y") == term and term.endswith("i"):
        return re.escape(term[:-1]) + "[iy]"  # ki marks kỹ and kĩ
    return re.escape(term) + (f"{_WORD_CHAR}*" if prefix else "")


def token_finder(terms: frozenset[str], prefixes: tuple[str, ...]) -> re.Pattern[str] | None:
    """A regex over ``fold_text(text)`` matching exactly the tokens whose folded form is one of
    ``terms`` or starts with one of ``prefixes`` (valid for texts without combining marks)."""
    alternatives = [_term_pattern(t, False) for t in sorted(terms, key=len, reverse=True)]
    alternatives += [_term_pattern(p, True) for p in sorted(prefixes, key=len, reverse=True)]
    if not alternatives:
        return None
    return re.compile(rf"(?<!{_WORD_CHAR})(?:{'|'.join(alternatives)})(?!{_WORD_CHAR})")


def find_tokens(text: str, terms: frozenset[str], prefixes: tuple[str, ...],
                finder: re.Pattern[str] | None = None) -> Iterator[TokenSpan]:
    """Tokens of an NFC text whose folded form is a term or starts with a prefix, in text order.

    One regex pass over the folded text; texts with stray combining marks take the token-by-token
    path (the regex cannot see through the marks)."""
    if not terms and not prefixes:
        return
    if _HAS_MARK_RE.search(text):
        for span in token_spans(text):
            if span.folded in terms or (prefixes and span.folded.startswith(prefixes)):
                yield span
        return
    finder = finder or token_finder(terms, prefixes)
    assert finder is not None
    for m in finder.finditer(fold_text(text)):
        yield TokenSpan(m.start(), m.end(), _normalise_number(m.group()))
