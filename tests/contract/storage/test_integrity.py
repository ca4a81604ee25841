"""Every read is verified: corrupt bytes raise IntegrityError, never a complete corrupt body."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta

import pytest

from storage import IntegrityError, ObjectStore, RetentionError
from tests.contract.storage.backends import Backend

SIZE = 3 * 1024 * 1024 + 123  # several chunks, the last one short


@pytest.fixture(params=[False, True], ids=["plain", "encrypted"])
def encrypt(request: pytest.FixtureRequest) -> bool:
    return request.param


@pytest.mark.parametrize("where", ["first byte", "middle", "last byte"])
def test_a_flipped_byte_is_detected_before_the_body_completes(store: ObjectStore, backend: Backend,
                                                              encrypt: bool, where: str) -> None:
    data = os.urandom(SIZE)
    key = store.put(io.BytesIO(data), encrypt=encrypt).key
    stored = len(backend.raw_bytes(key))
    backend.flip_byte(key, {"first byte": 40, "middle": stored // 2, "last byte": stored - 1}[where])

    received = bytearray()
    with pytest.raises(IntegrityError), store.open(key) as reader:
        while chunk := reader.read(256 * 1024):
            received += chunk
    assert len(received) < len(data)  # the consumer never got a complete (corrupt) body
    with pytest.raises(IntegrityError):
        store.get_bytes(key)


def test_a_truncated_object_is_detected(store: ObjectStore, backend: Backend, encrypt: bool) -> None:
    data = os.urandom(SIZE)
    key = store.put(io.BytesIO(data), encrypt=encrypt).key
    raw = backend.raw_bytes(key)
    for cut in (len(raw) - 1, len(raw) - 100_000, 1024 * 1024 + 32 + 16):  # ..., at a chunk boundary
        backend.write_raw(key, raw[:cut])
        with pytest.raises(IntegrityError):
            store.get_bytes(key)


def test_bytes_swapped_from_another_object_are_detected(store: ObjectStore, backend: Backend, encrypt: bool) -> None:
    a = store.put(io.BytesIO(b"the real decision " * 1000), encrypt=encrypt).key
    b = store.put(io.BytesIO(b"a forged decision " * 1000), encrypt=encrypt).key
    backend.write_raw(a, backend.raw_bytes(b))
    with pytest.raises(IntegrityError):
        store.get_bytes(a)
    assert store.get_bytes(b) == b"a forged decision " * 1000


def test_read_verified_to_a_path_leaves_nothing_when_corrupt(store: ObjectStore, backend: Backend, tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = store.put(io.BytesIO(os.urandom(SIZE))).key
    backend.flip_byte(key, SIZE - 5)
    target = tmp_path / "out" / "copy.pdf"
    target.parent.mkdir()
    with pytest.raises(IntegrityError):
        store.read_verified_to(key, target)
    assert list(target.parent.iterdir()) == []


def test_putting_the_content_again_repairs_a_damaged_object(store: ObjectStore, backend: Backend) -> None:
    data = os.urandom(50_000)
    key = store.put(io.BytesIO(data)).key
    backend.write_raw(key, data[:-10])  # the backend lost the tail
    with pytest.raises(IntegrityError):
        store.get_bytes(key)
    assert store.put(io.BytesIO(data)).key == key
    assert store.get_bytes(key) == data


def test_a_damaged_retained_object_is_not_overwritten(store: ObjectStore, backend: Backend) -> None:
    data = os.urandom(50_000)
    key = store.put(io.BytesIO(data)).key
    store.set_retention(key, datetime.now(UTC) + timedelta(days=1), "governance")
    backend.write_raw(key, data[:-10])
    if backend.name == "s3":  # the damage came as a new version: lock it as the store would have
        store.set_retention(key, datetime.now(UTC) + timedelta(days=1), "governance")
    damaged = backend.raw_bytes(key)
    with pytest.raises(RetentionError):
        store.put(io.BytesIO(data))
    assert backend.raw_bytes(key) == damaged  # nothing was overwritten
    with pytest.raises(IntegrityError):
        store.get_bytes(key)
