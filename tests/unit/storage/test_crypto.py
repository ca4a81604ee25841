"""Chunked AES-256-GCM: every chunk bound to its position and to being last; key rings."""

from __future__ import annotations

import base64
import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.crypto import (
    HEADER_SIZE,
    TAG_SIZE,
    ContentHeader,
    DataKey,
    KeyRing,
    decrypt_chunks,
    encrypted_size,
    plain_size,
    read_header,
)
from storage.envelope import DataKeyRecord
from storage.errors import ConfigurationError, IntegrityError, MissingKeyError, WrongKeyError

CHUNK = 4096


def _seal(plain: bytes) -> tuple[DataKey, bytes]:
    dk = DataKey(CHUNK)
    return dk, b"".join(dk.encrypt_stream(io.BytesIO(plain)))


def _open(dk: DataKey, sealed: bytes) -> bytes:
    raw = io.BytesIO(sealed)
    return b"".join(decrypt_chunks(raw, read_header(raw, "t"), dk.key, "t"))


@settings(max_examples=40)
@given(st.integers(min_value=0, max_value=5 * CHUNK))
def test_round_trip_and_sizes(size: int) -> None:
    plain = os.urandom(size)
    dk, sealed = _seal(plain)
    assert len(sealed) == encrypted_size(size, CHUNK) and plain_size(len(sealed), CHUNK) == size
    assert _open(dk, sealed) == plain


def _segments(sealed: bytes) -> tuple[bytes, list[bytes]]:
    body = sealed[HEADER_SIZE:]
    step = CHUNK + TAG_SIZE
    return sealed[:HEADER_SIZE], [body[i:i + step] for i in range(0, len(body), step)]


@pytest.mark.parametrize("attack", ["swap chunks", "drop last chunk", "drop middle chunk", "duplicate chunk",
                                    "cut at chunk boundary", "cut one byte", "flip tag", "other nonce prefix"])
def test_reordering_truncation_and_tampering_fail(attack: str) -> None:
    dk, sealed = _seal(os.urandom(3 * CHUNK + 100))
    header, seg = _segments(sealed)
    forged = {
        "swap chunks": lambda: header + seg[1] + seg[0] + seg[2] + seg[3],
        "drop last chunk": lambda: header + b"".join(seg[:3]),
        "drop middle chunk": lambda: header + seg[0] + seg[2] + seg[3],
        "duplicate chunk": lambda: header + seg[0] + seg[0] + seg[1] + seg[2] + seg[3],
        "cut at chunk boundary": lambda: header + seg[0],
        "cut one byte": lambda: sealed[:-1],
        "flip tag": lambda: sealed[:-1] + bytes([sealed[-1] ^ 1]),
        "other nonce prefix": lambda: ContentHeader(CHUNK, dk.dek_id, os.urandom(8)).pack() + b"".join(seg),
    }[attack]()
    with pytest.raises(IntegrityError):
        _open(dk, forged)


def test_header_checks() -> None:
    with pytest.raises(IntegrityError):
        read_header(io.BytesIO(b"DSE1short"), "t")
    with pytest.raises(IntegrityError):
        read_header(io.BytesIO(b"XXXX" + bytes(HEADER_SIZE - 4)), "t")
    dk, sealed = _seal(b"")
    with pytest.raises(IntegrityError):
        _open(dk, sealed[:HEADER_SIZE])  # no chunk at all


def test_key_ring_from_config() -> None:
    k1, k2 = os.urandom(32), os.urandom(32)
    spec = f"k1:{base64.b64encode(k1).decode()}, k2:{base64.b64encode(k2).decode()}"
    ring = KeyRing.from_config(spec)
    assert ring.key_ids == ["k1", "k2"] and ring.active_key_id == "k2"
    assert KeyRing.from_config(spec, "k1").active_key_id == "k1"
    assert base64.b64encode(k1).decode() not in repr(ring)


@pytest.mark.parametrize("spec, active", [
    ("", None), ("k1", None), ("k1:not base64!", None), (f"k1:{base64.b64encode(b'short').decode()}", None),
    (f"bad id:{base64.b64encode(bytes(32)).decode()}", None), (f"k1:{base64.b64encode(bytes(32)).decode()}", "k2"),
    (f"k1:{base64.b64encode(bytes(32)).decode()},k1:{base64.b64encode(bytes(32)).decode()}", None),
])
def test_bad_key_configuration(spec: str, active: str | None) -> None:
    with pytest.raises(ConfigurationError):
        KeyRing.from_config(spec, active)


def test_data_key_records_wrap_and_rewrap() -> None:
    k1 = os.urandom(32)
    old = KeyRing({"k1": k1})
    key, dek = "enc/sha256/00/" + "0" * 64, "ab" * 16
    record = DataKeyRecord.seal(key, dek, b"D" * 32, old)
    again = DataKeyRecord.from_bytes(record.to_bytes(), "r")
    assert again.open(old) == b"D" * 32 and again.wrapped.kek_id == "k1"

    both = KeyRing({"k1": k1, "k2": os.urandom(32)}, "k2")
    rewrapped = again.rewrap(both)
    assert rewrapped.wrapped.kek_id == "k2" and rewrapped.open(both) == b"D" * 32
    with pytest.raises(MissingKeyError):
        rewrapped.open(old)
    moved = DataKeyRecord("enc/sha256/11/" + "1" * 64, dek, record.wrapped)  # bound to its object
    with pytest.raises(WrongKeyError):
        moved.open(old)
    with pytest.raises(IntegrityError):
        DataKeyRecord.from_bytes(b"{not json", "r")
