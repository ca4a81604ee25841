"""Open a search index from a URL: the one place that knows the adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from search.errors import ConfigurationError
from search.port import SearchIndex


def open_index(url: str, **options: Any) -> SearchIndex:
    """``embedded:<path>`` or ``sqlite:///<path>`` -> SQLite FTS5 file (created on first use;
    option ``timeout``; ``index`` and ``refresh`` are accepted and ignored);
    ``http(s)://host:port`` -> Elasticsearch 8 (options: ``index`` alias name, default "docsvc";
    ``refresh``; ``request_timeout``; ``replicas``)."""
    if not isinstance(url, str) or not url:
        raise ConfigurationError("the search URL is empty")
    if url.startswith(("http://", "https://")):
        from search.elastic import ElasticIndex
        return ElasticIndex(url, **options)
    if url.startswith(("embedded:", "sqlite:///")):
        path = url.removeprefix("embedded:") if url.startswith("embedded:") else url.removeprefix("sqlite:///")
        if url.startswith("sqlite:///") and path.startswith("/"):
            path = "/" + path.lstrip("/")
        if not path or path.endswith("/"):
            raise ConfigurationError(f"the embedded search URL {url!r} needs a file path")
        # "index" and "refresh" mean nothing here (one file is one index; commits are visible at
        # once): accepted so that callers may pass the same options whatever the URL
        options = {k: v for k, v in options.items() if k not in ("index", "refresh")}
        unknown = set(options) - {"timeout"}
        if unknown:
            raise ConfigurationError(f"options {sorted(unknown)} do not apply to the embedded index")
        from search.sqlite_fts import SqliteFtsIndex
        return SqliteFtsIndex(Path(path), **options)
    raise ConfigurationError(f"unknown search URL {url!r}: expected embedded:<path>, sqlite:///<path> "
                             "or http(s)://host:port")
