"""Upload sources for the contract tests: generated large streams, streams that fail or change."""

from __future__ import annotations

import hashlib
import io
import os

MiB = 1024 * 1024


class GeneratedStream(io.RawIOBase):
    """``size`` pseudo-random bytes produced on the fly (never whole in memory), not seekable:
    one random MiB, each copy stamped with its index so no two MiB are equal."""

    def __init__(self, size: int, block: bytes | None = None) -> None:
        super().__init__()
        self.size = size
        self.pos = 0
        self.block = block or os.urandom(MiB)

    def readable(self) -> bool:
        return True

    def _piece(self, start: int, length: int) -> bytes:
        index, offset = divmod(start, MiB)
        stamped = index.to_bytes(8, "big") + self.block[8:]
        return stamped[offset:offset + length]

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.size - self.pos
        n = min(n, self.size - self.pos, MiB - self.pos % MiB)
        out = self._piece(self.pos, n)
        self.pos += len(out)
        return out

    def expected_sha256(self) -> str:
        h = hashlib.sha256()
        copy = GeneratedStream(self.size, self.block)
        while chunk := copy.read(MiB):
            h.update(chunk)
        return h.hexdigest()


class FailingStream(io.BytesIO):
    """Seekable, but reading past ``fail_at`` raises like a client that went away mid-upload."""

    def __init__(self, data: bytes, fail_at: int) -> None:
        super().__init__(data)
        self.fail_at = fail_at

    def read(self, n: int | None = -1) -> bytes:
        start = self.tell()
        out = super().read(n)
        if start + len(out) > self.fail_at:
            raise ConnectionResetError("the client went away mid-upload")
        return out


class ChangingStream(io.BytesIO):
    """Seekable; once rewound (a second read pass), its last MiB reads differently."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.rewound = False
        self.size = len(data)

    def seek(self, pos: int, whence: int = 0) -> int:
        if self.tell() > 0:
            self.rewound = True
        return super().seek(pos, whence)

    def read(self, n: int | None = -1) -> bytes:
        start = self.tell()
        out = super().read(n)
        if self.rewound and start + len(out) > self.size - MiB:
            cut = max(0, self.size - MiB - start)
            out = out[:cut] + bytes(len(out) - cut)
        return out
