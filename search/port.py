"""The port: what the application may ask of a search index, whatever the engine behind it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from search.model import IndexDocument, Principal, SearchQuery, SearchResult, Suggestion


@runtime_checkable
class SearchIndex(Protocol):
    """A full-text index of documents with access trimming inside every read.

    Writes are idempotent and versioned by ``IndexDocument.updated_at``: re-sending a document is
    harmless and an older version never overwrites a newer one, so an outbox may retry freely.
    Every read takes the caller's ``Principal`` and only ever sees documents that principal may
    read: hits, totals, facet counts, suggestions and snippets alike.

    Errors: ``SearchUnavailable`` when the backend is down (retry later / answer 503),
    ``InvalidQuery``/``InvalidCursor`` for bad requests, ``SearchError`` otherwise."""

    def ensure_schema(self) -> None:
        """Create the index if missing (idempotent); ``SchemaMismatch`` if built by another version."""

    def upsert(self, docs: Sequence[IndexDocument]) -> None:
        """Add or replace documents (all or nothing per call is not promised; retry the call)."""

    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents; unknown ids are ignored."""

    def search(self, query: SearchQuery, principal: Principal) -> SearchResult: ...

    def suggest(self, prefix: str, principal: Principal, limit: int = 10) -> list[Suggestion]:
        """Type-ahead: readable documents whose subject or number/notation match the typed text,
        its last word taken as a prefix."""

    def count(self) -> int:
        """Number of indexed documents (no trimming: for reindex checks, never show it to users)."""

    def indexed_versions(self) -> dict[str, int]:
        """id -> indexed version (``IndexDocument.version``), for reindex checks."""

    def refresh(self) -> None:
        """Make every write so far visible to searches (Elasticsearch refreshes about once a second)."""

    def clear(self) -> None:
        """Remove every document (the schema stays)."""

    def recreate(self) -> None:
        """Drop the index, whatever schema built it, and create this code's (every document removed):
        the way out of a ``SchemaMismatch`` before a rebuild."""

    def health(self) -> bool:
        """True when the backend answers and the index exists."""

    def close(self) -> None: ...
