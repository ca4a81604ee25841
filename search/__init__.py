"""Full-text search of documents with Vietnamese analysis and access trimming (see README.md).

    from search import open_index, IndexDocument, SearchQuery, Principal
    index = open_index("embedded:var/search.sqlite")        # or "http://127.0.0.1:9200", index="docsvc"
    index.ensure_schema()
    index.upsert([IndexDocument(id="42", direction="incoming", subject="Quyết định ...", readers=["unit:5"])])
    result = index.search(SearchQuery(q="quyet dinh", facets=["type"]), Principal(7, 0, frozenset({"unit:5"})))
"""

from search.errors import (
                           ConfigurationError,
                           InvalidCursor,
                           InvalidDocument,
                           InvalidQuery,
                           SchemaMismatch,
                           SearchError,
                           SearchUnavailable,
)
from search.factory import open_index
from search.model import (
                           DIRECTIONS,
                           FACET_FIELDS,
                           ArchiveFacts,
                           DossierRef,
                           FacetValue,
                           IndexDocument,
                           Principal,
                           SearchHit,
                           SearchQuery,
                           SearchResult,
                           Suggestion,
)
from search.port import SearchIndex
from search.reindex import IndexDrift, compare_index, rebuild_index

__all__ = [
    "DIRECTIONS", "FACET_FIELDS", "ArchiveFacts", "ConfigurationError", "DossierRef", "FacetValue", "IndexDocument",
    "IndexDrift",
    "InvalidCursor", "InvalidDocument", "InvalidQuery", "Principal", "SchemaMismatch", "SearchError",
    "SearchHit", "SearchIndex", "SearchQuery", "SearchResult", "SearchUnavailable", "Suggestion",
    "compare_index", "open_index", "rebuild_index",
]
