"""The application's view of the object store: put a file, read it back verified.

A thin layer over the ``storage`` port so that services name files the way they think of them
(a filename, a content type, whether to encrypt) and never touch a client library."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

CHUNK = 256 * 1024


@dataclass(frozen=True)
class StoredFile:
    key: str
    sha256: str
    size: int
    filename: str
    content_type: str
    encrypted: bool


class FileStore:
    def __init__(self, store: Any) -> None:
        self.store = store  # a storage.ObjectStore (local folder or MinIO/S3)

    def put(self, stream: BinaryIO, filename: str, content_type: str, *, encrypt: bool = False) -> StoredFile:
        stream.seek(0)
        info = self.store.put(stream, content_type=content_type, encrypt=encrypt)
        return StoredFile(key=info.key, sha256=info.sha256, size=info.size, filename=filename,
                          content_type=content_type, encrypted=bool(getattr(info, "encrypted", encrypt)))

    def put_bytes(self, data: bytes, filename: str, content_type: str, *, encrypt: bool = False) -> StoredFile:
        import io
        return self.put(io.BytesIO(data), filename, content_type, encrypt=encrypt)

    def read_bytes(self, key: str) -> bytes:
        return self.store.get_bytes(key)

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        """Verified chunks: the store raises IntegrityError before the last chunk of a corrupt object."""
        with self.store.open(key) as fh:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    return
                yield chunk
