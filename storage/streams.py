"""Stream plumbing shared by both adapters: fixed-size chunking, hashing, verification that
withholds the last chunk until the digest matched, and a file-like view over chunk iterators.

The same ``verified_chunks`` guards reads (a consumer never receives the complete body of a corrupt
object without an error) and uploads (an S3 upload re-reads its source; if the bytes changed since
they were hashed, the final part is never sent, so the object is never completed).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, Protocol

from storage.errors import IntegrityError, InvalidArgument

CHUNK_SIZE = 1024 * 1024


class Readable(Protocol):
    """Anything with a binary ``read`` (files, responses, the readers of this module)."""

    def read(self, size: int = -1, /) -> bytes: ...


def read_exact(stream: Readable, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at end of stream (plain ``read`` may return short)."""
    first = stream.read(size)
    if not isinstance(first, bytes | bytearray):
        raise InvalidArgument(f"the stream must be binary: read() returned {type(first).__name__}")
    first = bytes(first)
    if not first or len(first) == size:
        return first or b""
    parts = [first]
    missing = size - len(first)
    while missing:
        more = stream.read(missing)
        if not more:
            break
        parts.append(more)
        missing -= len(more)
    return b"".join(parts)


def exact_chunks(stream: Readable, size: int = CHUNK_SIZE, limit: int | None = None) -> Iterator[bytes]:
    """Chunks of exactly ``size`` bytes (the last may be shorter), at most ``limit`` bytes in all."""
    left = limit
    while left is None or left > 0:
        want = size if left is None else min(size, left)
        chunk = read_exact(stream, want)
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        yield chunk
        if len(chunk) < want:
            return


def with_last(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """(chunk, is_last) pairs, looking one chunk ahead; nothing at all for an empty iterable."""
    it = iter(chunks)
    try:
        current = next(it)
    except StopIteration:
        return
    for following in it:
        yield current, False
        current = following
    yield current, True


class Digest:
    """A running SHA-256 and byte count over chunks passing through ``feed``."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self.size = 0

    def feed(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self._h.update(chunk)
            self.size += len(chunk)
            yield chunk

    def consume(self, chunks: Iterable[bytes]) -> None:
        for _ in self.feed(chunks):
            pass

    def hexdigest(self) -> str:
        return self._h.hexdigest()

    def check(self, expected: str, what: str) -> None:
        actual = self._h.hexdigest()
        if actual != expected:
            raise IntegrityError(f"{what}: content digest is {actual[:16]}…, expected {expected[:16]}…")


def verified_chunks(chunks: Iterable[bytes], expected: str, what: str) -> Iterator[bytes]:
    """The chunks unchanged, except that the last one is released only after the SHA-256 of all of
    them equalled ``expected``; otherwise ``IntegrityError`` is raised instead of it."""
    digest = Digest()
    released_any = False
    for chunk, last in with_last(c for c in digest.feed(chunks) if c):
        if last:
            digest.check(expected, what)
        released_any = True
        yield chunk
    if not released_any:
        digest.check(expected, what)


class VerifiedSource(io.RawIOBase):
    """Exactly ``size`` bytes of ``source``, whose digest is known: the read that completes them
    checks it first and raises ``IntegrityError`` instead of returning them. For re-reading an
    upload (length known, so no look-ahead and no extra copy is needed)."""

    def __init__(self, source: Readable, size: int, expected: str, what: str) -> None:
        super().__init__()
        self._source, self._left, self._expected, self._what = source, size, expected, what
        self._digest = Digest()
        self._checked = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = read_exact(self._source, want) if want else b""
        self._digest.consume([data])
        self._left -= len(data)
        if not self._checked and (self._left == 0 or len(data) < want):
            self._checked = True
            if self._left:
                raise IntegrityError(f"{self._what}: the source ended {self._left} bytes early")
            self._digest.check(self._expected, self._what)
        return data


class ChunkReader(io.BufferedIOBase):
    """A read-only file object over an iterator of byte chunks. ``read(n)`` returns exactly ``n``
    bytes unless the end is reached (clients such as minio concatenate short reads expensively),
    copying each byte once. ``on_close`` releases what the chunks come from (a response, a file)."""

    def __init__(self, chunks: Iterable[bytes], on_close: Callable[[], Any] | None = None) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._head = b""  # the chunk being consumed, from _offset on
        self._offset = 0
        self._on_close = on_close

    def readable(self) -> bool:
        return True

    def _next_piece(self, limit: int | None) -> bytes:
        """Up to ``limit`` bytes (None: all) of the current chunk, fetching the next one if needed."""
        while self._offset >= len(self._head):
            try:
                self._head, self._offset = next(self._chunks), 0
            except StopIteration:
                self._head, self._offset = b"", 0
                return b""
        start = self._offset
        end = len(self._head) if limit is None else min(len(self._head), start + limit)
        self._offset = end
        whole = start == 0 and end == len(self._head)
        return self._head if whole else self._head[start:end]

    def read(self, size: int | None = -1) -> bytes:
        self._check_open()
        pieces = []
        missing = None if size is None or size < 0 else size
        while missing is None or missing > 0:
            piece = self._next_piece(missing)
            if not piece:
                break
            pieces.append(piece)
            if missing is not None:
                missing -= len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def read1(self, size: int = -1) -> bytes:
        self._check_open()
        return self._next_piece(None if size is None or size < 0 else size)

    def __iter__(self) -> Iterator[bytes]:
        """Chunks as they come (about ``CHUNK_SIZE`` each), not lines."""
        while chunk := self.read1():
            yield chunk

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("read of a closed object stream")

    def close(self) -> None:
        if not self.closed:
            try:
                close = getattr(self._chunks, "close", None)
                if close is not None:
                    close()
                if self._on_close is not None:
                    self._on_close()
            finally:
                super().close()


def is_seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable()) and stream.tell() >= 0
    except (AttributeError, OSError, ValueError):
        return False
