"""Put, get, stat, list, delete; content addressing, idempotence, versions, bad input."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import timedelta

import pytest

from storage import InvalidArgument, InvalidKey, ObjectNotFound, ObjectStore
from storage.locks import utcnow
from tests.contract.storage.backends import Backend


def test_put_returns_content_address_and_reads_back(store: ObjectStore) -> None:
    data = b"%PDF-1.7 quyet dinh so 15/QD-UBND " + os.urandom(3000)
    info = store.put(io.BytesIO(data), content_type="application/pdf")
    digest = hashlib.sha256(data).hexdigest()
    assert info.key == f"sha256/{digest[:2]}/{digest}" and info.sha256 == digest
    assert (info.size, info.content_type, info.encrypted) == (len(data), "application/pdf", False)
    assert abs(info.created_at - utcnow()) < timedelta(minutes=5)
    assert info.retain_until is None and not info.legal_hold and info.retention_mode is None
    assert store.get_bytes(info.key) == data
    st = store.stat(info.key)
    assert (st.key, st.sha256, st.size, st.content_type, st.encrypted) == (info.key, digest, len(data),
                                                                            "application/pdf", False)
    assert store.exists(info.key) and list(store.list()) == [info.key]


def test_open_streams_in_chunks_and_exposes_info(store: ObjectStore) -> None:
    data = os.urandom(2_500_000)
    key = store.put(io.BytesIO(data)).key
    with store.open(key) as reader:
        assert reader.info.size == len(data) and reader.info.sha256 == hashlib.sha256(data).hexdigest()
        first = reader.read(1000)
        rest = b"".join(reader)
    assert first + rest == data
    assert reader.closed


def test_empty_object(store: ObjectStore) -> None:
    info = store.put(io.BytesIO(b""))
    assert info.size == 0 and info.sha256 == hashlib.sha256(b"").hexdigest()
    assert store.get_bytes(info.key) == b""


def test_same_content_twice_is_one_object_without_rewrite(store: ObjectStore, backend: Backend) -> None:
    data = os.urandom(10_000)
    first = store.put(io.BytesIO(data), content_type="application/pdf")
    again = store.put(io.BytesIO(data), content_type="application/pdf")
    assert again.key == first.key and again.created_at == first.created_at
    assert list(store.list()) == [first.key] and backend.stored_versions(first.key) == 1


def test_a_new_version_is_a_new_object_and_the_old_stays_readable(store: ObjectStore) -> None:
    v1 = store.put(io.BytesIO(b"draft 1 of the decision"), content_type="text/plain")
    v2 = store.put(io.BytesIO(b"draft 2 of the decision, corrected"), content_type="text/plain")
    assert v1.key != v2.key
    assert store.get_bytes(v1.key) == b"draft 1 of the decision"
    assert store.get_bytes(v2.key) == b"draft 2 of the decision, corrected"
    assert sorted(store.list()) == sorted([v1.key, v2.key])


def test_list_by_prefix(store: ObjectStore) -> None:
    keys = [store.put(io.BytesIO(f"object {i}".encode())).key for i in range(5)]
    first = keys[0]
    assert list(store.list(first[:9])) == [k for k in sorted(keys) if k.startswith(first[:9])]
    assert list(store.list("enc/")) == []
    assert sorted(store.list()) == sorted(keys)


def test_delete_removes_the_object_and_its_backend_versions(store: ObjectStore, backend: Backend) -> None:
    key = store.put(io.BytesIO(b"to be deleted")).key
    store.delete(key)
    assert not store.exists(key) and list(store.list()) == [] and backend.stored_versions(key) == 0
    with pytest.raises(ObjectNotFound):
        store.get_bytes(key)
    with pytest.raises(ObjectNotFound):
        store.delete(key)
    assert store.put(io.BytesIO(b"to be deleted")).key == key  # the same content can come back
    assert store.get_bytes(key) == b"to be deleted"


@pytest.mark.parametrize("call", ["get_bytes", "stat", "open", "delete"])
def test_missing_object(store: ObjectStore, call: str) -> None:
    missing = "sha256/00/" + "0" * 64
    with pytest.raises(ObjectNotFound) as err:
        getattr(store, call)(missing)
    assert err.value.key == missing and not store.exists(missing)


@pytest.mark.parametrize("bad", ["", "../../etc/passwd", "sha256/ab/" + "0" * 64, "sha256/00/" + "0" * 63,
                                 "SHA256/00/" + "0" * 64, "keys/sha256/00/" + "0" * 64, "enc/" + "0" * 64, None])
def test_invalid_keys_are_refused(store: ObjectStore, bad: object) -> None:
    for call in (store.get_bytes, store.stat, store.delete):
        with pytest.raises(InvalidKey):
            call(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("content_type", ["pdf", "", "text/plain\r\nX-Injected: 1", "application/pdf; x=\u0111"])
def test_bad_content_types_are_refused(store: ObjectStore, content_type: str) -> None:
    with pytest.raises(InvalidArgument):
        store.put(io.BytesIO(b"x"), content_type=content_type)
    assert list(store.list()) == []


def test_bad_sources_and_prefixes_are_refused(store: ObjectStore) -> None:
    with pytest.raises(InvalidArgument):
        store.put(b"raw bytes are not a stream")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        store.put(io.StringIO("text is not bytes"))  # type: ignore[arg-type]
    with pytest.raises(InvalidKey):
        list(store.list("../"))
    assert list(store.list()) == []


def test_read_verified_to_path_and_file(store: ObjectStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(1_500_000)
    key = store.put(io.BytesIO(data)).key
    info = store.read_verified_to(key, tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == data and info.size == len(data)
    sink = io.BytesIO()
    store.read_verified_to(key, sink)
    assert sink.getvalue() == data
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "objects") == ["copy.bin"]


def test_health_and_ready_are_idempotent(store: ObjectStore) -> None:
    store.ensure_ready()
    store.health()
    assert list(store.list()) == []


@pytest.mark.parametrize("encrypt", [False, True], ids=["plain", "encrypted"])
def test_concurrent_puts_of_the_same_content(store: ObjectStore, backend: Backend, encrypt: bool) -> None:
    """Racing uploads of one document (a double click) give one readable object; the key records of
    the losers are leftovers that the sweep removes, keeping the one the object uses."""
    from concurrent.futures import ThreadPoolExecutor

    from storage import sweep_orphans
    data = os.urandom(3 * 1024 * 1024)
    with ThreadPoolExecutor(4) as pool:
        infos = list(pool.map(lambda _: store.put(io.BytesIO(data), encrypt=encrypt), range(4)))
    assert len({i.key for i in infos}) == 1 and list(store.list()) == [infos[0].key]
    assert store.get_bytes(infos[0].key) == data
    sweep_orphans(store, lambda k: True, timedelta(0), now=utcnow() + timedelta(seconds=5))
    assert store.get_bytes(infos[0].key) == data
    assert len(backend.records_of(infos[0].key)) == (1 if encrypt else 0)
