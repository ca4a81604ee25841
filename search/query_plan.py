"""What a relevance search asks of an index, decided once in Python for every adapter.

A query is split (``query_text``) into clauses; the plan says which documents match and how they rank:

* **matching**: every *required* clause (a quoted phrase, a number/notation such as ``15/QĐ-UBND``)
  and at least ``minimum`` of the *content* words (``len - len // 4``: all of 1-3 words, 3 of 4,
  6 of 8). Stop words of administrative language (``của``, ``về việc``, ``V/v``) never count. Each
  word matches through any of its alternatives: its folded form, the Telex/VNI word it was typed as
  (``ddat`` -> ``dat``), its syllables when typed joined (``cánbộ`` -> ``can bo``), and the folded
  tokens one typing slip away (``doan`` -> ``doanh``; ``fuzzy``: only tried when the words as typed
  find nothing readable, and only a way in, never a score);
* **ranking** (only adds score, never widens the match): each word and stop word in folded form,
  its exact form (diacritics as typed rank first), neighbouring words as a phrase (adjacency:
  ``so tai chinh`` ranks "Sở Tài chính" above a text with số, tại and chính apart), the whole query
  as a phrase, and for a prefix the phrase it ends (``giải phó*``, exact diacritics first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from search.lexicon import is_stop_word, one_edit_variants, split_syllables, untype
from search.query_text import Clause, ParsedQuery, parse_query
from search.vietnamese import exact_tokens, folded_tokens

AltKind = Literal["term", "phrase", "prefix", "fuzzy"]
BoostKind = Literal["term", "phrase", "prefix", "phrase_prefix"]
#: how much each kind of ranking clause weighs, times the field's weight
PHRASE_BOOST = 4.0
BIGRAM_BOOST = 4.0
MAX_BIGRAMS = 12
MAX_PHRASE_TOKENS = 8
#: BM25 in FTS5 has no per-phrase weight: a boost of n could be the phrase repeated, at most this
#: often; each phrase costs time on every candidate row, and a phrase's own IDF already ranks it
#: above its words, so FTS5 takes each once
MAX_REPEAT = 1


@dataclass(frozen=True, slots=True)
class Alt:
    """One way a clause matches, on the folded fields: a token, a phrase, a prefix, or (fuzzy) any
    of a set of tokens."""

    kind: AltKind
    tokens: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MatchClause:
    alts: tuple[Alt, ...]
    required: bool


@dataclass(frozen=True, slots=True)
class Boost:
    """A ranking clause: on the folded (``exact=False``) or exact fields, weight ``factor`` times the field's."""

    kind: BoostKind
    tokens: tuple[str, ...]
    exact: bool
    factor: float = 1.0


@dataclass(frozen=True, slots=True)
class QueryPlan:
    clauses: tuple[MatchClause, ...]
    #: how many of the optional (content) clauses must match
    minimum: int
    boosts: tuple[Boost, ...]
    notation_key: str
    parsed: ParsedQuery

    @property
    def empty(self) -> bool:
        return not self.clauses

    @property
    def optional(self) -> tuple[MatchClause, ...]:
        return tuple(c for c in self.clauses if not c.required)

    @property
    def required(self) -> tuple[MatchClause, ...]:
        return tuple(c for c in self.clauses if c.required)

    def fuzzy_tokens(self) -> frozenset[str]:
        return frozenset(t for c in self.clauses for a in c.alts if a.kind == "fuzzy" for t in a.tokens)

    def without_fuzzy(self) -> QueryPlan:
        """The plan without typo variants: what is tried first. The variants are only tried when
        it finds nothing readable (``search_passes``): a correctly typed word never drags in its
        neighbours (thương/trường), a typo still finds what was meant."""
        clauses = tuple(MatchClause(tuple(a for a in c.alts if a.kind != "fuzzy"), c.required)
                        for c in self.clauses)
        return replace(self, clauses=clauses)


def search_passes(plan: QueryPlan) -> tuple[QueryPlan, ...]:
    """The plans an adapter runs in turn, stopping at the first that finds a readable document."""
    strict = plan.without_fuzzy()
    return (strict, plan) if strict != plan else (plan,)


def minimum_should_match(content_words: int) -> int:
    """All of up to three words, then three quarters rounded up (4 -> 3, 8 -> 6)."""
    return content_words - content_words // 4


def _word_alts(clause: Clause) -> tuple[Alt, ...]:
    if clause.kind == "prefix":
        return (Alt("prefix", clause.folded),)
    if clause.kind == "phrase":
        return (Alt("phrase", clause.folded),)
    token = clause.folded[0]
    alts = [Alt("term", (token,))]
    typed = untype(token)
    if typed:
        alts.append(Alt("term", (typed,)))
    split = split_syllables(token)
    if split:
        alts.append(Alt("phrase", split))
    if not typed and not split and not token.isdigit():
        variants = one_edit_variants(token)
        if variants:
            alts.append(Alt("fuzzy", variants))
    return tuple(alts)


def _is_stop(clause: Clause) -> bool:
    if clause.quoted or clause.kind == "prefix":
        return False
    return all(is_stop_word(x, f) for x, f in zip(clause.exact, clause.folded, strict=True))


def _required(clause: Clause) -> bool:
    return clause.quoted or (clause.kind == "phrase" and any(t.isdigit() for t in clause.folded))


def _sequence(q: str) -> tuple[list[str], list[str]]:
    """The query's tokens in typed order (quotes and stars dropped), exact and folded."""
    text = q.replace("*", " ")
    return exact_tokens(text), folded_tokens(text)


def _boosts(parsed: ParsedQuery, q: str) -> list[Boost]:
    boosts: list[Boost] = []
    for clause in parsed.clauses:
        if clause.kind == "prefix":
            boosts += [Boost("prefix", clause.folded, False), Boost("prefix", clause.exact, True, 2.0)]
        elif clause.kind == "phrase":
            boosts += [Boost("phrase", clause.folded, False), Boost("phrase", clause.exact, True)]
        else:
            boosts.append(Boost("term", clause.folded, False))
            boosts.append(Boost("term", clause.exact, True))
            for alt in _word_alts(clause)[1:]:
                if alt.kind == "term":
                    boosts.append(Boost("term", alt.tokens, False))
                elif alt.kind == "phrase":
                    boosts.append(Boost("phrase", alt.tokens, False, PHRASE_BOOST))
    if not any(not _required(c) for c in parsed.clauses):
        return list(dict.fromkeys(boosts))  # only phrases that must match: pairs would add nothing
    exact, folded = _sequence(q)
    ends_with_prefix = bool(parsed.clauses) and parsed.clauses[-1].kind == "prefix" and q.rstrip().endswith("*")
    stop = [is_stop_word(x, f) for x, f in zip(exact, folded, strict=True)]
    pairs = [(i, i + 1) for i in range(len(folded) - 1) if not (stop[i] and stop[i + 1])][:MAX_BIGRAMS]
    for i, j in pairs:
        last = ends_with_prefix and j == len(folded) - 1
        kind: BoostKind = "phrase_prefix" if last else "phrase"
        boosts.append(Boost(kind, (folded[i], folded[j]), False, BIGRAM_BOOST))
        if last and (exact[i], exact[j]) != (folded[i], folded[j]):  # giải phó*: phóng before phổ, phòng
            boosts.append(Boost(kind, (exact[i], exact[j]), True, BIGRAM_BOOST))
    if 2 < len(folded) <= MAX_PHRASE_TOKENS and not ends_with_prefix:
        boosts.append(Boost("phrase", tuple(folded), False, PHRASE_BOOST))
    return list(dict.fromkeys(boosts))


@lru_cache(maxsize=1024)
def plan_query(q: str) -> QueryPlan:
    """The matching and ranking clauses of a search text (empty text: an empty plan)."""
    parsed = parse_query(q)
    required: list[MatchClause] = []
    content: list[MatchClause] = []
    stops: list[MatchClause] = []
    for clause in parsed.clauses:
        match = MatchClause(_word_alts(clause), _required(clause))
        if match.required:
            required.append(match)
        elif _is_stop(clause):
            stops.append(MatchClause(match.alts, False))
        else:
            content.append(match)
    if not content and not required:  # nothing but stop words: they are what was asked for
        content = stops
    minimum = minimum_should_match(len(content))
    return QueryPlan(clauses=tuple(required + content), minimum=minimum, boosts=tuple(_boosts(parsed, q)),
                     notation_key=parsed.notation_key, parsed=parsed)


def typo_candidates(plan: QueryPlan) -> dict[str, tuple[str, ...]]:
    """Each content word that has typo variants, with them (what "did you mean" may replace)."""
    out: dict[str, tuple[str, ...]] = {}
    for clause in plan.optional:
        fuzzy = [a for a in clause.alts if a.kind == "fuzzy"]
        if fuzzy and clause.alts[0].kind == "term":
            out[clause.alts[0].tokens[0]] = fuzzy[0].tokens
    return out


def did_you_mean(q: str, candidates: Mapping[str, tuple[str, ...]], readable: Mapping[str, int]) -> str | None:
    """The query with each word the caller can find in no document replaced by its variant found in
    the most documents the caller may read (ties: alphabetical), or None when nothing changes.
    ``readable``: folded token -> number of readable documents holding it (absent: none)."""
    corrections: dict[str, str] = {}
    for token, variants in candidates.items():
        if readable.get(token, 0):
            continue
        found = [(readable[v], v) for v in variants if readable.get(v, 0)]
        if found:
            corrections[token] = min(found, key=lambda cv: (-cv[0], cv[1]))[1]
    if not corrections:
        return None
    words = []
    for word in q.split():
        tokens = folded_tokens(word)
        words.append(corrections.get(tokens[0], word) if len(tokens) == 1 else word)
    suggestion = " ".join(words)
    return suggestion if suggestion != " ".join(q.split()) else None
