"""Every contract test runs on the embedded index, and on Elasticsearch when DOCSVC_SEARCH_URL is set.

Elasticsearch indices of a session share one random prefix and are all deleted at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from search import SearchIndex
from tests.contract.search.backends import ADAPTERS, ES_URL, HAS_ES, IndexFactory, close_all, index_factory, loaded
from tests.contract.search.corpus import LIBRARY


@pytest.fixture(scope="session")
def es_prefix() -> Iterator[str]:
    prefix = f"docsvc-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    if HAS_ES:
        from elasticsearch import Elasticsearch
        client = Elasticsearch(ES_URL)
        for name in list(client.indices.get(index=f"{prefix}*", expand_wildcards="all")):
            client.indices.delete(index=name)
        client.close()


@pytest.fixture(params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_index(adapter: str, tmp_path: Path, es_prefix: str) -> Iterator[IndexFactory]:
    """Opens fresh, empty indices of the adapter under test (closed and dropped afterwards)."""
    make, opened = index_factory(adapter, tmp_path, es_prefix)
    yield make
    close_all(opened)


@pytest.fixture
def index(make_index: IndexFactory) -> SearchIndex:
    return make_index("fresh")


@pytest.fixture(scope="module", params=ADAPTERS)
def module_indices(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                   es_prefix: str) -> Iterator[IndexFactory]:
    """Opens indices that live for the whole test module (for read-only corpora)."""
    make, opened = index_factory(request.param, tmp_path_factory.mktemp("module"), es_prefix)
    yield make
    close_all(opened)


@pytest.fixture(scope="module")
def library(module_indices: IndexFactory) -> SearchIndex:
    """The LIBRARY corpus, indexed once per module and adapter; tests only read it."""
    return loaded(module_indices, "library", LIBRARY)
