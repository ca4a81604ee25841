"""Write-once retention (extend only) and legal hold, enforced the same way by both adapters."""

from __future__ import annotations

import io
import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from storage import (
    InvalidArgument,
    LegalHoldError,
    ObjectLockedError,
    ObjectNotFound,
    ObjectStore,
    RetentionError,
    RetentionMode,
    RetentionShorteningError,
)
from tests.contract.storage.backends import Backend


def _now() -> datetime:
    return datetime.now(UTC)


def test_retention_blocks_delete_and_can_only_be_extended(store: ObjectStore, backend: Backend) -> None:
    key = store.put(io.BytesIO(b"archived record")).key
    until = _now() + timedelta(days=30)
    info = store.set_retention(key, until, "governance")
    assert info.retention_mode is RetentionMode.GOVERNANCE
    assert info.retain_until is not None and timedelta(0) <= info.retain_until - until < timedelta(seconds=1)
    assert store.stat(key).retain_until == info.retain_until

    with pytest.raises(RetentionError) as err:
        store.delete(key)
    assert isinstance(err.value, ObjectLockedError) and err.value.retain_until == info.retain_until
    assert backend.backend_protects(key)  # not only the adapter: S3 refuses the version delete itself
    with pytest.raises(RetentionShorteningError):
        store.set_retention(key, until - timedelta(days=1), "governance")
    assert store.stat(key).retain_until == info.retain_until

    later = store.set_retention(key, until + timedelta(days=365), "governance")
    assert later.retain_until is not None and later.retain_until > info.retain_until
    assert store.set_retention(key, until + timedelta(days=365), RetentionMode.GOVERNANCE) == later  # same: no-op
    assert store.get_bytes(key) == b"archived record" and backend.stored_versions(key) == 1


def test_compliance_cannot_be_weakened_and_expiry_releases_the_object(store: ObjectStore) -> None:
    key = store.put(io.BytesIO(os.urandom(1000))).key
    info = store.set_retention(key, _now() + timedelta(seconds=2), "compliance")
    assert info.retention_mode is RetentionMode.COMPLIANCE and info.retain_until is not None
    with pytest.raises(RetentionShorteningError):
        store.set_retention(key, info.retain_until + timedelta(seconds=1), "governance")
    with pytest.raises(RetentionError):
        store.delete(key)
    time.sleep(max(0.0, (info.retain_until - _now()).total_seconds()) + 0.3)
    store.delete(key)  # expired: disposal is allowed again
    assert not store.exists(key)


def test_governance_may_be_strengthened_to_compliance(store: ObjectStore) -> None:
    key = store.put(io.BytesIO(b"to archive")).key
    first = store.set_retention(key, _now() + timedelta(seconds=3), "governance")
    assert first.retain_until is not None
    info = store.set_retention(key, first.retain_until, "compliance")
    assert info.retention_mode is RetentionMode.COMPLIANCE and info.retain_until == first.retain_until


def test_legal_hold_blocks_delete_whatever_the_retention(store: ObjectStore, backend: Backend) -> None:
    key = store.put(io.BytesIO(b"evidence")).key
    assert store.set_legal_hold(key, True).legal_hold
    with pytest.raises(LegalHoldError) as err:
        store.delete(key)
    assert err.value.legal_hold and err.value.key == key
    assert backend.backend_protects(key)
    assert not store.set_legal_hold(key, False).legal_hold
    store.delete(key)
    assert list(store.list()) == []


def test_hold_and_retention_together(store: ObjectStore) -> None:
    key = store.put(io.BytesIO(b"held and retained")).key
    store.set_retention(key, _now() + timedelta(days=1), "governance")
    info = store.set_legal_hold(key, True)
    assert info.legal_hold and info.retain_until is not None
    with pytest.raises(LegalHoldError):
        store.delete(key)
    store.set_legal_hold(key, False)
    with pytest.raises(RetentionError):  # the hold is gone, the retention is not
        store.delete(key)


def test_putting_the_same_content_onto_a_locked_object_is_not_an_overwrite(store: ObjectStore,
                                                                           backend: Backend) -> None:
    data = os.urandom(20_000)
    key = store.put(io.BytesIO(data)).key
    locked = store.set_retention(key, _now() + timedelta(days=1), "governance")
    store.set_legal_hold(key, True)
    again = store.put(io.BytesIO(data))
    assert again.key == key and again.retain_until == locked.retain_until and again.legal_hold
    assert backend.stored_versions(key) == 1 and store.get_bytes(key) == data


@pytest.mark.parametrize("until, mode", [
    (datetime(2030, 1, 1), "governance"),  # naive
    (datetime(2001, 1, 1, tzinfo=UTC), "governance"),  # past
    (datetime(2099, 1, 1, tzinfo=UTC), "forever"),
])
def test_bad_retention_requests(store: ObjectStore, until: datetime, mode: str) -> None:
    key = store.put(io.BytesIO(b"x")).key
    with pytest.raises(InvalidArgument):
        store.set_retention(key, until, mode)
    assert store.stat(key).retain_until is None


def test_locking_a_missing_object(store: ObjectStore) -> None:
    missing = "sha256/00/" + "0" * 64
    with pytest.raises(ObjectNotFound):
        store.set_retention(missing, _now() + timedelta(days=1), "governance")
    with pytest.raises(ObjectNotFound):
        store.set_legal_hold(missing, True)
    with pytest.raises(InvalidArgument):
        store.set_legal_hold(missing, "yes")  # type: ignore[arg-type]


def test_locks_are_visible_to_another_store_instance(store: ObjectStore, backend: Backend) -> None:
    key = store.put(io.BytesIO(b"shared")).key
    store.set_legal_hold(key, True)
    other = backend.open()
    assert other.stat(key).legal_hold
    with pytest.raises(LegalHoldError):
        other.delete(key)
