"""Parse the free-text part of a query into clauses both adapters translate the same way.

Every clause must match (AND). A clause matches a document when its folded form occurs in one of
the folded text fields; its exact form (diacritics kept) is also tried on the exact fields, only to
rank documents written with the same diacritics first. A clause is

* a **term**: one token;
* a **phrase**: consecutive tokens, from ``"quoted words"`` or from one word with inner
  punctuation (``15/QĐ-UBND`` is the phrase ``15 qđ ubnd``);
* a **prefix**: a token ending in ``*``, or the last token of a type-ahead text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from search.errors import InvalidQuery
from search.vietnamese import exact_tokens, folded_tokens, nfc, notation_key

MAX_CLAUSES = 32
_QUOTES_RE = re.compile(r'["“”„]([^"“”„]*)(?:["“”„]|$)')

ClauseKind = Literal["term", "phrase", "prefix"]


@dataclass(frozen=True, slots=True)
class Clause:
    kind: ClauseKind
    exact: tuple[str, ...]
    folded: tuple[str, ...]
    #: a phrase the user put in quotes (required whatever else the query says)
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    clauses: tuple[Clause, ...]
    #: notation key of the whole query: a document whose number/notation has it ranks first
    notation_key: str

    @property
    def empty(self) -> bool:
        return not self.clauses

    def match_terms(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """Folded whole tokens and folded prefixes to mark in snippets."""
        terms = {t for c in self.clauses if c.kind != "prefix" for t in c.folded}
        prefixes = tuple(c.folded[0] for c in self.clauses if c.kind == "prefix")
        return frozenset(terms), prefixes


def _word_clauses(text: str, prefix_last: bool) -> list[Clause]:
    exact, folded = exact_tokens(text), folded_tokens(text)
    if not exact:
        return []
    clauses: list[Clause] = []
    if prefix_last:
        head_x, head_f = exact[:-1], folded[:-1]
        if head_x:
            clauses.extend(_word_clauses_from(head_x, head_f))
        clauses.append(Clause("prefix", (exact[-1],), (folded[-1],)))
        return clauses
    return _word_clauses_from(exact, folded)


def _word_clauses_from(exact: list[str], folded: list[str], quoted: bool = False) -> list[Clause]:
    if len(exact) == 1:
        return [Clause("term", (exact[0],), (folded[0],), quoted)]
    return [Clause("phrase", tuple(exact), tuple(folded), quoted)]


def parse_query(q: str, *, type_ahead: bool = False) -> ParsedQuery:
    """Clauses of a query text. ``type_ahead``: the last word is a prefix unless the text ends
    with a space (the user finished typing it)."""
    q = nfc(q)
    clauses: list[Clause] = []
    rest = []
    last = 0
    for m in _QUOTES_RE.finditer(q):
        rest.append(q[last:m.start()])
        last = m.end()
        phrase_x, phrase_f = exact_tokens(m.group(1)), folded_tokens(m.group(1))
        if phrase_x:
            clauses.extend(_word_clauses_from(phrase_x, phrase_f, quoted=True))
    rest.append(q[last:])
    words = " ".join(rest).split()
    for i, word in enumerate(words):
        is_last = i == len(words) - 1
        star = word.endswith("*")
        prefix = star or (type_ahead and is_last and not q.endswith((" ", '"')))
        clauses.extend(_word_clauses(word.rstrip("*"), prefix))
    unique = tuple(dict.fromkeys(clauses))
    if len(unique) > MAX_CLAUSES:
        raise InvalidQuery(f"the query has more than {MAX_CLAUSES} terms")
    key = notation_key(q) if any(ch.isdigit() for ch in q) else ""
    return ParsedQuery(clauses=unique, notation_key=key)
