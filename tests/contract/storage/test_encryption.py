"""Envelope encryption: only ciphertext reaches the backend; wrong or missing keys and tampering
are typed errors; rotation rewraps data keys without touching (possibly locked) content."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import UTC, datetime, timedelta

import pytest

from storage import IntegrityError, KeyRing, LinkNotAllowed, MissingKeyError, ObjectStore, WrongKeyError, rotate_keys
from tests.contract.storage.backends import Backend

SECRET = ("TỐI MẬT. Kế hoạch bảo vệ bí mật nhà nước năm 2026. ".encode() * 2000) + os.urandom(100)


def test_round_trip_and_only_ciphertext_at_rest(store: ObjectStore, backend: Backend) -> None:
    info = store.put(io.BytesIO(SECRET), content_type="application/pdf", encrypt=True)
    digest = hashlib.sha256(SECRET).hexdigest()
    assert info.key == f"enc/sha256/{digest[:2]}/{digest}" and info.encrypted and info.size == len(SECRET)
    assert store.stat(info.key).content_type == "application/pdf"
    assert store.get_bytes(info.key) == SECRET

    raw = backend.raw_bytes(info.key)
    assert raw[:4] == b"DSE1" and len(raw) > len(SECRET)
    assert "TỐI MẬT".encode() not in raw and SECRET[:64] not in raw
    (record,) = backend.records_of(info.key)
    assert "TỐI MẬT".encode() not in backend.raw_bytes(record)


def test_secret_and_clear_copies_of_the_same_bytes_are_separate_objects(store: ObjectStore) -> None:
    clear = store.put(io.BytesIO(SECRET))
    secret = store.put(io.BytesIO(SECRET), encrypt=True)
    assert clear.key != secret.key and clear.sha256 == secret.sha256
    assert sorted(store.list()) == sorted([clear.key, secret.key])
    assert store.put(io.BytesIO(SECRET), encrypt=True).key == secret.key  # re-put: no new object
    assert store.get_bytes(secret.key) == store.get_bytes(clear.key) == SECRET


def test_without_a_key_ring_encrypted_content_is_refused(backend: Backend, store: ObjectStore) -> None:
    key = store.put(io.BytesIO(SECRET), encrypt=True).key
    bare = backend.open(keyring=None)
    with pytest.raises(MissingKeyError):
        bare.get_bytes(key)
    with pytest.raises(MissingKeyError):
        bare.put(io.BytesIO(b"new secret"), encrypt=True)
    assert list(bare.list()) == [key]


def test_an_unknown_key_id_and_wrong_key_material(backend: Backend, store: ObjectStore) -> None:
    key = store.put(io.BytesIO(SECRET), encrypt=True).key
    with pytest.raises(MissingKeyError) as missing:
        backend.open(KeyRing.generate("k9")).get_bytes(key)
    assert "k1" in str(missing.value) and not isinstance(missing.value, WrongKeyError)
    with pytest.raises(WrongKeyError):
        backend.open(KeyRing.generate("k1")).get_bytes(key)  # same id, other bytes


def test_tampered_ciphertext_and_header(store: ObjectStore, backend: Backend) -> None:
    key = store.put(io.BytesIO(SECRET), encrypt=True).key
    raw = backend.raw_bytes(key)
    for offset in (0, 20, 40, len(raw) // 2, len(raw) - 1):
        tampered = bytearray(raw)
        tampered[offset] ^= 0x80
        backend.write_raw(key, bytes(tampered))
        with pytest.raises(IntegrityError):
            store.get_bytes(key)
    backend.write_raw(key, raw)
    assert store.get_bytes(key) == SECRET


def test_a_tampered_or_misplaced_key_record(store: ObjectStore, backend: Backend) -> None:
    a = store.put(io.BytesIO(SECRET), encrypt=True).key
    b = store.put(io.BytesIO(b"another secret " * 100), encrypt=True).key
    (record_a,) = backend.records_of(a)
    (record_b,) = backend.records_of(b)
    original = backend.raw_bytes(record_a)
    backend.write_raw_record(record_a, backend.raw_bytes(record_b))
    with pytest.raises(IntegrityError):
        store.get_bytes(a)
    backend.write_raw_record(record_a, original.replace(b'"wrapped_key": "', b'"wrapped_key": "AAAA'))
    with pytest.raises(WrongKeyError):
        store.get_bytes(a)
    backend.remove_raw(record_a)
    with pytest.raises(MissingKeyError):
        store.get_bytes(a)


def test_rotation_rewraps_keys_without_touching_locked_content(backend: Backend) -> None:
    k1, k2 = os.urandom(32), os.urandom(32)
    old = KeyRing({"k1": k1}, "k1")
    store = backend.open(old)
    keys = [store.put(io.BytesIO(SECRET + bytes([i])), encrypt=True).key for i in range(3)]
    store.put(io.BytesIO(b"not secret"))
    store.set_retention(keys[0], datetime.now(UTC) + timedelta(days=1), "governance")
    store.set_legal_hold(keys[1], True)
    content_before = {k: backend.raw_bytes(k) for k in keys}

    both = KeyRing({"k1": k1, "k2": k2}, "k2")
    assert rotate_keys(store, both) == 3
    assert rotate_keys(store, both) == 0  # idempotent
    assert {k: backend.raw_bytes(k) for k in keys} == content_before  # content never rewritten
    assert all(backend.stored_versions(k) == 1 for k in keys)
    assert all(backend.stored_versions(r) == 1 for k in keys for r in backend.records_of(k))  # no old wrap kept

    only_new = backend.open(KeyRing({"k2": k2}, "k2"))
    for i, k in enumerate(keys):
        assert only_new.get_bytes(k) == SECRET + bytes([i])
    with pytest.raises(MissingKeyError):  # the retired key opens nothing any more, old versions included
        backend.open(old).get_bytes(keys[2])


def test_rotation_needs_the_old_key(backend: Backend, store: ObjectStore) -> None:
    store.put(io.BytesIO(SECRET), encrypt=True)
    with pytest.raises(MissingKeyError):
        store.rotate_keys(KeyRing.generate("k2"))


def test_encrypted_objects_get_no_direct_link(store: ObjectStore) -> None:
    key = store.put(io.BytesIO(SECRET), encrypt=True).key
    with pytest.raises(LinkNotAllowed):
        store.presigned_url(key, timedelta(minutes=5), "secret.pdf")
