"""Write-once named objects (``put_named``/``get_named``/``list_named``): found by name without a
database, under compliance retention from their first byte, never replaced, on both adapters."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from storage import (
    IntegrityError,
    InvalidArgument,
    InvalidKey,
    ObjectExists,
    ObjectNotFound,
    ObjectStore,
    RetentionMode,
)
from tests.contract.storage.backends import Backend


def _soon() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=3)  # short: the test bucket must be removable


def test_put_get_list(store: ObjectStore) -> None:
    until = _soon()
    info = store.put_named("audit/checkpoints/00000000000000000002.json", b'{"seq": 2}', retain_until=until)
    assert info.retention_mode is RetentionMode.COMPLIANCE and info.retain_until is not None
    assert timedelta(0) <= info.retain_until - until < timedelta(seconds=1)
    store.put_named("audit/checkpoints/00000000000000000001.json", b'{"seq": 1}', retain_until=until)
    store.put_named("other/thing.json", b"{}", retain_until=until)

    got = store.get_named("audit/checkpoints/00000000000000000002.json")
    assert got.data == b'{"seq": 2}' and got.versions == 1
    assert got.info.size == 10 and got.info.content_type == "application/json"
    assert got.info.retention_mode is RetentionMode.COMPLIANCE and got.info.retain_until == info.retain_until
    assert list(store.list_named("audit/checkpoints/")) == ["audit/checkpoints/00000000000000000001.json",
                                                            "audit/checkpoints/00000000000000000002.json"]
    assert len(list(store.list_named())) == 3
    assert list(store.list()) == []  # not content objects
    with pytest.raises(ObjectNotFound):
        store.get_named("audit/checkpoints/00000000000000000003.json")


def test_never_replaced(store: ObjectStore) -> None:
    store.put_named("audit/checkpoints/1.json", b"first", retain_until=_soon())
    with pytest.raises(ObjectExists):
        store.put_named("audit/checkpoints/1.json", b"second", retain_until=_soon())
    assert store.get_named("audit/checkpoints/1.json").data == b"first"


@pytest.mark.parametrize("name", ["single", "a/../b", "a/.hidden", "A/b", "a/b c", "/a/b", "a//b", "x/" + "y" * 200])
def test_bad_names_are_refused(store: ObjectStore, name: str) -> None:
    with pytest.raises(InvalidKey):
        store.put_named(name, b"x", retain_until=_soon())


def test_retention_must_be_aware_and_future(store: ObjectStore) -> None:
    with pytest.raises(InvalidArgument):
        store.put_named("a/b", b"x", retain_until=datetime.now() + timedelta(days=1))
    with pytest.raises(InvalidArgument):
        store.put_named("a/b", b"x", retain_until=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(InvalidArgument):
        store.put_named("a/b", "text", retain_until=_soon())  # type: ignore[arg-type]


def test_tampering_behind_the_store_is_seen(store: ObjectStore, backend: Backend) -> None:
    """Local: the bytes changed in place fail their recorded digest. S3: the server refuses to
    delete the retained version, and a version written over it is reported while the first,
    retained one is still what is read; a delete marker does not hide it from the listing."""
    name = "audit/checkpoints/7.json"
    until = datetime.now(UTC) + timedelta(seconds=4)
    store.put_named(name, json.dumps({"seq": 7}).encode(), retain_until=until)
    raw = "named/" + name
    assert backend.backend_protects(raw)
    backend.write_raw(raw, b'{"seq": 8}')
    if backend.name == "local":
        with pytest.raises(IntegrityError):
            store.get_named(name)
        return
    got = store.get_named(name)
    assert got.data == b'{"seq": 7}' and got.versions == 2
    backend.client.remove_object(backend.bucket, raw)  # type: ignore[attr-defined]  # a delete marker
    assert list(store.list_named("audit/")) == [name]
    assert store.get_named(name).data == b'{"seq": 7}'


def test_content_objects_are_unaffected(store: ObjectStore) -> None:
    key = store.put(io.BytesIO(b"content")).key
    store.put_named("audit/checkpoints/9.json", b"named", retain_until=_soon())
    assert list(store.list()) == [key]
    assert store.get_bytes(key) == b"content"
