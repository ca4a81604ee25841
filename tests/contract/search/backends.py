"""The adapters under contract test and how to open, fill and drop their indices."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from search import IndexDocument, SearchIndex, open_index

ES_URL = os.environ.get("DOCSVC_SEARCH_URL", "")
HAS_ES = ES_URL.startswith(("http://", "https://"))
ES_MARKS = [pytest.mark.real_backend,
            pytest.mark.skipif(not HAS_ES, reason="DOCSVC_SEARCH_URL (Elasticsearch) is not set")]
ADAPTERS = ["embedded", pytest.param("elasticsearch", marks=ES_MARKS)]

IndexFactory = Callable[[str], SearchIndex]


def index_factory(adapter: str, folder: Path, es_prefix: str) -> tuple[IndexFactory, list[SearchIndex]]:
    """A function opening fresh indices of ``adapter``, and the list of what it opened."""
    opened: list[SearchIndex] = []

    def make(name: str) -> SearchIndex:
        if adapter == "embedded":
            index = open_index(f"embedded:{folder / name}.sqlite")
        else:
            index = open_index(ES_URL, index=f"{es_prefix}-{name}-{uuid.uuid4().hex[:6]}", refresh=True)
        index.ensure_schema()
        opened.append(index)
        return index
    return make, opened


def close_all(opened: list[SearchIndex]) -> None:
    for index in opened:
        drop = getattr(index, "drop", None)
        if drop is not None:
            drop()
        index.close()


def loaded(make: IndexFactory, name: str, docs: Sequence[IndexDocument]) -> SearchIndex:
    index = make(name)
    index.upsert(docs)
    index.refresh()
    return index
