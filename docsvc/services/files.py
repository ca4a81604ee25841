"""The application's view of the object store: put a file, read it back verified.

A thin layer over the ``storage`` port so that services name files the way they think of them
(a filename, a content type, whether to encrypt) and never touch a client library."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from docsvc.errors import PermissionDenied
from storage import LinkVerifier, ObjectInfo, ObjectReader, ObjectStore

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
    def __init__(self, store: ObjectStore) -> None:
        self.store = store  # local folder or MinIO/S3

    def put(self, stream: BinaryIO, filename: str, content_type: str, *, encrypt: bool = False) -> StoredFile:
        stream.seek(0)
        info = self.store.put(stream, content_type=content_type, encrypt=encrypt)
        return StoredFile(key=info.key, sha256=info.sha256, size=info.size, filename=filename,
                          content_type=content_type, encrypted=info.encrypted)

    def put_bytes(self, data: bytes, filename: str, content_type: str, *, encrypt: bool = False) -> StoredFile:
        import io
        return self.put(io.BytesIO(data), filename, content_type, encrypt=encrypt)

    def read_bytes(self, key: str) -> bytes:
        data: bytes = self.store.get_bytes(key)
        return data

    def open_link(self, key: str, *, expires: str, signature: str, filename: str | None
                  ) -> tuple[ObjectInfo, Iterator[bytes]]:
        """Serve a download link this application signed (the local store): the link itself is the
        authorisation (``DocumentService.download_link`` checked access and audited it). A forged,
        altered or expired link, or a store that serves its own links (S3), is refused."""
        from storage.errors import ExpiredLinkError, InvalidLinkError
        if not isinstance(self.store, LinkVerifier):
            raise PermissionDenied("this deployment serves downloads from its object store directly")
        try:
            self.store.verify_signed_url(key, expires, signature, filename)
        except ExpiredLinkError:
            raise PermissionDenied("the download link has expired: ask for a new one") from None
        except InvalidLinkError:
            raise PermissionDenied("the download link is not valid") from None
        return self.store.stat(key), self.iter_chunks(key)

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        """Verified chunks: the store raises IntegrityError before the last chunk of a corrupt object.

        The object is opened now, not when the first chunk is asked for: a missing object or an
        unreachable store raises here, while the caller can still answer 404/503, instead of
        inside a streamed response whose 200 status is already sent."""
        return _Chunks(self.store.open(key))


class _Chunks:
    """Iterator over an open object's chunks; ``close()`` (called by the WSGI server when the
    response ends, even unread) releases the connection."""

    def __init__(self, reader: ObjectReader) -> None:
        self._reader = reader

    def __iter__(self) -> _Chunks:
        return self

    def __next__(self) -> bytes:
        chunk: bytes = self._reader.read(CHUNK)
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        self._reader.close()
