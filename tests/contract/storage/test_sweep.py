"""Orphan sweep: unreferenced and old objects go; referenced, young, retained and held ones stay."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from storage import InvalidArgument, ObjectStore, sweep_orphans
from storage.locks import utcnow
from tests.contract.storage.backends import Backend

GRACE = timedelta(hours=6)
LATER = timedelta(hours=7)  # "now" for sweeps that should see today's objects as past the grace period


def _put(store: ObjectStore, text: str, encrypt: bool = False) -> str:
    return store.put(io.BytesIO(text.encode()), encrypt=encrypt).key


def test_sweep_removes_only_old_unlocked_orphans(store: ObjectStore, backend: Backend) -> None:
    referenced = _put(store, "a document row points here")
    orphan = _put(store, "the row of this upload never committed")
    secret_orphan = _put(store, "secret orphan", encrypt=True)
    retained = _put(store, "archived, not referenced any more")
    held = _put(store, "under legal hold")
    store.set_retention(retained, datetime.now(UTC) + timedelta(days=30), "governance")
    store.set_legal_hold(held, True)

    report = sweep_orphans(store, lambda k: k == referenced, GRACE, now=utcnow() + LATER)
    assert sorted(report.deleted) == sorted([orphan, secret_orphan])
    assert sorted(report.kept_locked) == sorted([retained, held])
    assert (report.scanned, report.referenced, report.errors) == (5, 1, [])
    assert sorted(store.list()) == sorted([referenced, retained, held])
    assert backend.records_of(secret_orphan) == []  # its wrapped data key went with it
    assert store.get_bytes(referenced) == b"a document row points here"


def test_sweep_keeps_objects_younger_than_the_grace_period(store: ObjectStore) -> None:
    key = _put(store, "uploaded a moment ago, row not committed yet")
    report = sweep_orphans(store, lambda k: False, GRACE)
    assert report.kept_young == [key] and report.deleted == [] and store.exists(key)


def test_a_fresh_reput_of_old_content_protects_it(store: ObjectStore, backend: Backend) -> None:
    """An orphan being deduplicated by a new upload must survive until that upload's row commits."""
    key = _put(store, "same bytes uploaded again")
    seven_hours_later = backend.open(clock=lambda: utcnow() + LATER)
    assert _put(seven_hours_later, "same bytes uploaded again") == key
    report = sweep_orphans(store, lambda k: False, GRACE, now=utcnow() + LATER + timedelta(minutes=1))
    assert report.kept_young == [key] and store.exists(key)
    report = sweep_orphans(store, lambda k: False, GRACE, now=utcnow() + LATER + GRACE + timedelta(minutes=1))
    assert report.deleted == [key] and not store.exists(key)
    assert report.leftovers_removed == []  # the re-put mark went with the object


def test_dry_run_reports_without_deleting(store: ObjectStore) -> None:
    key = _put(store, "orphan")
    report = sweep_orphans(store, lambda k: False, GRACE, now=utcnow() + LATER, dry_run=True)
    assert report.deleted == [key] and report.dry_run and store.exists(key)
    assert "would delete 1" in report.summary()


def test_orphan_key_records_are_removed(store: ObjectStore, backend: Backend) -> None:
    kept = _put(store, "secret kept", encrypt=True)
    lost = _put(store, "secret whose content vanished", encrypt=True)
    backend.remove_raw(lost)  # e.g. a crash between writing the key record and publishing content
    report = sweep_orphans(store, lambda k: True, GRACE, now=utcnow() + LATER)
    assert report.deleted == [] and len(report.leftovers_removed) == 1
    assert backend.records_of(lost) == [] and len(backend.records_of(kept)) == 1
    assert store.get_bytes(kept) == b"secret kept"


def test_a_negative_grace_is_refused(store: ObjectStore) -> None:
    with pytest.raises(InvalidArgument):
        sweep_orphans(store, lambda k: False, timedelta(hours=-1))
