"""Typed errors of the search library.

The application maps them to HTTP answers: ``InvalidQuery``/``InvalidCursor`` to 400,
``SearchUnavailable`` to 503 (and the outbox retries the indexing task later). ``SearchUnavailable``
is also a ``ConnectionError`` so generic "backend down" handlers recognise it.
"""

from __future__ import annotations


class SearchError(Exception):
    """Base class of every error raised by the search library."""


class SearchUnavailable(SearchError, ConnectionError):
    """The index backend cannot be reached or is overloaded right now; retrying later may succeed."""


class InvalidQuery(SearchError, ValueError):
    """The search request itself is wrong (unknown facet, bad date range, too many terms...)."""


class InvalidCursor(InvalidQuery):
    """The pagination cursor is malformed, tampered with, or belongs to another query or sort."""


class InvalidDocument(SearchError, ValueError):
    """A document handed to ``upsert`` is not valid (missing id, unknown direction, bad secrecy...)."""


class SchemaMismatch(SearchError):
    """The index exists but was built with another schema version: rebuild it (``docsvc reindex``)."""


class ConfigurationError(SearchError, ValueError):
    """The index URL or an option given to ``open_index`` is not understood."""
