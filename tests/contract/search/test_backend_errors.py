"""How each adapter reports a backend that is down, busy, missing or built by another schema."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path

import pytest

from search import Principal, SchemaMismatch, SearchError, SearchQuery, SearchUnavailable, open_index
from search.elastic import ElasticIndex, index_settings
from tests.contract.search.backends import ES_MARKS, ES_URL
from tests.contract.search.corpus import LIBRARY, READ_ALL, ids

needs_es = ES_MARKS


# ------------------------------------------------------------------ embedded
def test_embedded_busy_file_is_unavailable_not_broken(tmp_path: Path) -> None:
    path = tmp_path / "search.sqlite"
    index = open_index(f"embedded:{path}", timeout=0.2)
    index.ensure_schema()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(SearchUnavailable):
            index.upsert(LIBRARY[:1])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    index.upsert(LIBRARY[:1])  # works again once the lock is gone
    assert index.count() == 1
    index.close()


def test_embedded_file_of_another_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "search.sqlite"
    first = open_index(f"embedded:{path}")
    first.ensure_schema()
    first.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE search_meta SET value = '0' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaMismatch):
        open_index(f"embedded:{path}").ensure_schema()
    # recreate() is the way out: a fresh index of this schema, usable at once.
    again = open_index(f"embedded:{path}")
    again.recreate()
    again.ensure_schema()
    again.upsert(LIBRARY[:2])
    assert again.count() == 2
    again.close()


def test_embedded_index_shared_by_threads_and_instances(tmp_path: Path) -> None:
    url = f"embedded:{tmp_path / 'deep' / 'dir' / 'search.sqlite'}"
    writer, reader = open_index(url), open_index(url)
    writer.upsert(LIBRARY)
    errors: list[BaseException] = []
    results: list[int] = []

    def work() -> None:
        try:
            for _ in range(20):
                results.append(reader.search(SearchQuery(q="văn thư", facets=["type"]), READ_ALL).total)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    writer.upsert(LIBRARY[:3])
    for t in threads:
        t.join()
    assert errors == [] and set(results) == {24}
    writer.close()
    reader.close()


# ------------------------------------------------------------------ elasticsearch
def test_unreachable_elasticsearch_is_unavailable() -> None:
    index = open_index("http://127.0.0.1:9", index="docsvc-nowhere", request_timeout=2)
    assert index.health() is False
    for call in (index.ensure_schema, lambda: index.upsert(LIBRARY[:1]), lambda: index.delete(["d01"]),
                 lambda: index.search(SearchQuery(q="x"), READ_ALL), lambda: index.suggest("x", READ_ALL),
                 index.count):
        with pytest.raises(SearchUnavailable):
            call()
    index.close()


@pytest.mark.parametrize("_", [pytest.param(None, marks=needs_es)])
def test_missing_index_is_an_error_and_never_auto_created(_: None) -> None:
    index = ElasticIndex(ES_URL, index=f"docsvc-test-missing-{uuid.uuid4().hex[:8]}", refresh=True)
    with pytest.raises(SearchError) as info:
        index.upsert(LIBRARY[:1])
    assert not isinstance(info.value, SearchUnavailable)
    with pytest.raises(SearchError):
        index.search(SearchQuery(q="x"), READ_ALL)
    assert not index.client.indices.exists(index=index.alias)
    assert index.health() is False
    index.close()


@pytest.mark.parametrize("_", [pytest.param(None, marks=needs_es)])
def test_foreign_or_old_indices_are_refused(_: None) -> None:
    name = f"docsvc-test-foreign-{uuid.uuid4().hex[:8]}"
    index = ElasticIndex(ES_URL, index=name)
    index.client.indices.create(index=name)  # a plain index where the alias should be
    try:
        with pytest.raises(SchemaMismatch):
            index.ensure_schema()
    finally:
        index.client.indices.delete(index=name)
    spec = index_settings()
    spec["mappings"]["_meta"]["schema_version"] = 0
    index.client.indices.create(index=f"{name}.v0", aliases={name: {}}, **spec)
    try:
        with pytest.raises(SchemaMismatch):
            index.ensure_schema()
    finally:
        index.client.indices.delete(index=f"{name}.v0")
        index.close()


@pytest.mark.parametrize("_", [pytest.param(None, marks=needs_es)])
def test_clear_swaps_the_index_behind_the_alias(_: None) -> None:
    index = ElasticIndex(ES_URL, index=f"docsvc-test-swap-{uuid.uuid4().hex[:8]}", refresh=True)
    index.ensure_schema()
    index.upsert(LIBRARY[:2])
    before = set(index.client.indices.get_alias(name=index.alias))
    index.clear()
    after = set(index.client.indices.get_alias(name=index.alias))
    assert len(after) == 1 and after.isdisjoint(before)
    assert not any(index.client.indices.exists(index=i) for i in before)
    index.upsert(LIBRARY[:1])
    assert ids(index.search(SearchQuery(q="quyet dinh"), Principal(1, 0, frozenset({"org:1"})))) == ["d01"]
    index.drop()
    index.close()


@pytest.mark.parametrize("_", [pytest.param(None, marks=needs_es)])
def test_concurrent_ensure_schema_creates_one_index(_: None) -> None:
    name = f"docsvc-test-race-{uuid.uuid4().hex[:8]}"
    indices = [ElasticIndex(ES_URL, index=name) for _ in range(4)]
    errors: list[BaseException] = []

    def run(index: ElasticIndex) -> None:
        try:
            index.ensure_schema()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(i,)) for i in indices]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert len(indices[0].client.indices.get_alias(name=name)) == 1
        assert len(indices[0].client.indices.get(index=f"{name}*")) == 1
    finally:
        indices[0].drop()
        for index in indices:
            index.close()
