"""Highlighted snippets built in Python over the original (accented) text, the same for every adapter.

A token of the text is marked when its folded form is one of the query's folded terms, or starts
with one of its prefixes, so ``quyet dinh`` marks ``Quyết định``. Everything else is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from search.vietnamese import TokenSpan, find_tokens, token_finder

OPEN, CLOSE = "<mark>", "</mark>"
_SPACES_RE = re.compile(r"\s+")
_MAX_MATCHES_SCANNED = 200
_MAX_WINDOWS = 100


@dataclass(frozen=True)
class Matcher:
    """Which folded tokens count as a match."""

    terms: frozenset[str]
    prefixes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms or self.prefixes)

    @cached_property
    def _finder(self) -> re.Pattern[str] | None:
        return token_finder(self.terms, self.prefixes)

    def find(self, text: str) -> Iterator[TokenSpan]:
        return find_tokens(text, self.terms, self.prefixes, self._finder)


def _render(text: str, start: int, end: int, marks: list[TokenSpan]) -> str:
    out: list[str] = []
    pos = start
    for span in marks:
        out.append(html.escape(_SPACES_RE.sub(" ", text[pos:span.start]), quote=False))
        out.append(OPEN + html.escape(text[span.start:span.end], quote=False) + CLOSE)
        pos = span.end
    out.append(html.escape(_SPACES_RE.sub(" ", text[pos:end]), quote=False))
    return "".join(out)


def mark_all(text: str, matcher: Matcher) -> str | None:
    """The whole (short) text with its matches marked, or None when nothing matches."""
    if not text or not matcher:
        return None
    marks = list(matcher.find(text))
    if not marks:
        return None
    return _render(text, 0, len(text), marks).strip()


def fragments(text: str, matcher: Matcher, max_fragments: int = 2, fragment_chars: int = 180,
              context_before: int = 50) -> list[str]:
    """Up to ``max_fragments`` passages of a long text around its best clusters of matches.

    A window starts a little before one match; windows holding the most distinct matched words win;
    chosen windows do not overlap and come back in text order, cut at spaces, with "…" where cut."""
    if not text or not matcher:
        return []
    marks: list[TokenSpan] = []
    for span in matcher.find(text):
        marks.append(span)
        if len(marks) >= _MAX_MATCHES_SCANNED:
            break
    if not marks:
        return []
    starts = [m.start for m in marks]
    ends = [m.end for m in marks]

    def inside(start: int, end: int) -> list[TokenSpan]:  # marks are in text order
        return marks[bisect_left(starts, start):bisect_right(ends, end)]

    windows: list[tuple[int, int, int, int]] = []  # (-distinct, -count, start, end)
    for first in marks[:_MAX_WINDOWS]:
        start = max(0, first.start - context_before)
        end = min(len(text), start + fragment_chars)
        found = inside(start, end)
        windows.append((-len({m.folded for m in found}), -len(found), start, end))
    windows.sort()
    chosen: list[tuple[int, int]] = []
    for _, _, start, end in windows:
        if all(end <= s or start >= e for s, e in chosen):
            chosen.append((start, end))
        if len(chosen) == max_fragments:
            break
    out = []
    for start, end in sorted(chosen):
        found = inside(start, end)
        start, end = _snap(text, start, end, found[0].start, found[-1].end)
        body = _render(text, start, end, inside(start, end)).strip()
        out.append(("…" if start > 0 else "") + body + ("…" if end < len(text) else ""))
    return out


def _snap(text: str, start: int, end: int, first_match: int, last_match_end: int) -> tuple[int, int]:
    """Move the window edges to spaces so no word is cut in half (never past a match)."""
    if start > 0:
        space = _SPACES_RE.search(text, start, first_match)
        start = space.end() if space else first_match
    if end < len(text):
        cut = max(text.rfind(c, last_match_end, end) for c in " \n\t")
        end = cut if cut >= 0 else max(end, last_match_end)
    return start, end
