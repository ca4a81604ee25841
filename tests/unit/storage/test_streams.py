"""Stream plumbing: exact reads, look-ahead, and verification that withholds the last bytes."""

from __future__ import annotations

import hashlib
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.errors import IntegrityError
from storage.streams import ChunkReader, VerifiedSource, exact_chunks, read_exact, verified_chunks, with_last


class Trickle(io.RawIOBase):
    """Returns at most 3 bytes per read, like a slow socket."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data, self.pos = data, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        out = self.data[self.pos:self.pos + min(3, n if n >= 0 else 3)]
        self.pos += len(out)
        return out


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=50))
def test_exact_chunks_from_short_reads(data: bytes, size: int) -> None:
    chunks = list(exact_chunks(Trickle(data), size))  # type: ignore[arg-type]
    assert b"".join(chunks) == data
    assert all(len(c) == size for c in chunks[:-1]) and (not chunks or 0 < len(chunks[-1]) <= size)


def test_exact_chunks_limit_and_read_exact() -> None:
    assert list(exact_chunks(io.BytesIO(b"abcdefgh"), 3, limit=5)) == [b"abc", b"de"]
    assert read_exact(Trickle(b"hello world"), 8) == b"hello wo"  # type: ignore[arg-type]


def test_with_last() -> None:
    assert list(with_last([])) == []
    assert list(with_last([b"a"])) == [(b"a", True)]
    assert list(with_last(iter([b"a", b"b", b"c"]))) == [(b"a", False), (b"b", False), (b"c", True)]


@given(st.lists(st.binary(min_size=0, max_size=40), max_size=8), st.lists(st.integers(-1, 60), min_size=1, max_size=30))
def test_chunk_reader_read_sizes(chunks: list[bytes], sizes: list[int]) -> None:
    reader = ChunkReader(chunks)
    whole = b"".join(chunks)
    got = b""
    for n in sizes:
        piece = reader.read(n)
        if n >= 0:
            assert len(piece) == min(n, len(whole) - len(got))  # exact unless at the end
        got += piece
    got += reader.read()
    assert got == whole


def test_verified_chunks_withhold_the_last_chunk() -> None:
    chunks = [b"one ", b"two ", b"three"]
    good = hashlib.sha256(b"".join(chunks)).hexdigest()
    assert list(verified_chunks(iter(chunks), good, "x")) == chunks
    released = []
    with pytest.raises(IntegrityError):
        for chunk in verified_chunks(iter(chunks), "0" * 64, "x"):
            released.append(chunk)
    assert released == chunks[:-1]
    with pytest.raises(IntegrityError):
        list(verified_chunks(iter([]), good, "x"))  # an empty body is checked too
    assert list(verified_chunks(iter([]), hashlib.sha256(b"").hexdigest(), "x")) == []


def test_a_verified_source_raises_instead_of_returning_the_final_bytes() -> None:
    data = b"0123456789" * 10
    good = hashlib.sha256(data).hexdigest()
    assert VerifiedSource(io.BytesIO(data + b"extra"), len(data), good, "x").read(1000) == data
    src = VerifiedSource(io.BytesIO(data[:-1] + b"X"), len(data), good, "x")
    assert src.read(60) == data[:60]
    with pytest.raises(IntegrityError):
        src.read(60)
    with pytest.raises(IntegrityError, match="ended 10 bytes early"):
        VerifiedSource(io.BytesIO(data[:-10]), len(data), good, "x").read(1000)


def test_a_closed_reader_refuses_reads_and_releases_its_source() -> None:
    closed = []
    reader = ChunkReader([b"abc"], on_close=lambda: closed.append(True))
    reader.close()
    reader.close()
    assert closed == [True]
    with pytest.raises(ValueError):
        reader.read(1)
