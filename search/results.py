"""What both adapters show for a readable document: highlight fragments and suggestions."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from search.model import Suggestion
from search.query_plan import QueryPlan
from search.snippets import Matcher, fragments, mark_all


def highlights(stored: Mapping[str, Any], full_text: str | None, matcher: Matcher,
               max_fragments: int = 2) -> dict[str, list[str]]:
    """Highlight fragments of a hit: the whole subject and number/notation when they match,
    passages of the full text."""
    out: dict[str, list[str]] = {}
    if stored.get("subject_indexed", True):
        marked = mark_all(stored.get("subject") or "", matcher)
        if marked:
            out["subject"] = [marked]
    notation = mark_all(stored.get("notation") or "", matcher)
    if notation:
        out["notation"] = [notation]
    passages = fragments(full_text or "", matcher, max_fragments=max_fragments)
    if passages:
        out["full_text"] = passages
    return out


def suggestion_from_stored(stored: Mapping[str, Any], matcher: Matcher) -> Suggestion:
    """A suggestion shows the subject (or the number/notation) with the typed words marked."""
    subject = stored.get("subject") if stored.get("subject_indexed", True) else None
    notation = stored.get("notation")
    marked = mark_all(subject or "", matcher) or mark_all(notation or "", matcher)
    if marked is None:
        marked = html.escape(subject or notation or "", quote=False)
    return Suggestion(id=stored["id"], notation=notation, subject=subject, highlighted=marked)


def plan_matcher(plan: QueryPlan) -> Matcher:
    """What to mark for a search: the words as typed, and what a Telex word or joined syllables
    stand for (not typo variants: a fragment marks what was asked, the same on every adapter)."""
    terms, prefixes = plan.parsed.match_terms()
    extra = {t for c in plan.clauses for a in c.alts if a.kind in ("term", "phrase") for t in a.tokens}
    return Matcher(terms | extra, prefixes)
