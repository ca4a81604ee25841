"""Rebuild an index from the source of truth, and compare an index with it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from search.model import IndexDocument
from search.port import SearchIndex


def rebuild_index(index: SearchIndex, documents: Iterable[IndexDocument], *, batch_size: int = 500,
                  on_progress: Callable[[int], None] | None = None) -> int:
    """Empty the index, then index ``documents`` (any iterable: a streamed database query) in
    batches; ``on_progress(n)`` after each batch of ``n``. Returns how many were indexed.

    Searches during the rebuild see a partial index. Updates that the outbox applies meanwhile are
    safe: versions decide, so an older document from the rebuild never overwrites a newer one."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    index.ensure_schema()
    index.clear()
    done = 0
    batch: list[IndexDocument] = []
    for doc in documents:
        batch.append(doc)
        if len(batch) >= batch_size:
            done += _flush(index, batch, on_progress)
    if batch:
        done += _flush(index, batch, on_progress)
    index.refresh()
    return done


def _flush(index: SearchIndex, batch: list[IndexDocument], on_progress: Callable[[int], None] | None) -> int:
    index.upsert(batch)
    count = len(batch)
    batch.clear()
    if on_progress is not None:
        on_progress(count)
    return count


@dataclass(frozen=True)
class IndexDrift:
    """How an index differs from the versions the database expects."""

    missing: frozenset[str]
    stale: frozenset[str]
    extra: frozenset[str]

    @property
    def in_sync(self) -> bool:
        return not (self.missing or self.stale or self.extra)


def compare_index(index: SearchIndex, expected: Mapping[str, int]) -> IndexDrift:
    """``expected``: document id -> ``IndexDocument.version`` as the database has it now."""
    indexed = index.indexed_versions()
    return IndexDrift(
        missing=frozenset(expected.keys() - indexed.keys()),
        stale=frozenset(i for i, v in expected.items() if i in indexed and indexed[i] < v),
        extra=frozenset(indexed.keys() - expected.keys()),
    )
