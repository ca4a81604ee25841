"""The port: what the application may ask of an object store, whatever the backend behind it."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO, Protocol, runtime_checkable

from storage.crypto import KeyRing
from storage.streams import ChunkReader

DEFAULT_CONTENT_TYPE = "application/octet-stream"


class RetentionMode(str, enum.Enum):
    """Both modes may only be extended through this library. On S3 an administrator holding
    ``s3:BypassGovernanceRetention`` can still shorten or remove a GOVERNANCE retention (outside
    this library); nobody can for COMPLIANCE, which is what archived records use."""

    GOVERNANCE = "governance"
    COMPLIANCE = "compliance"


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    sha256: str  # of the plaintext (for encrypted objects too)
    size: int  # plaintext size in bytes
    created_at: datetime  # when this content was (last) written to the backend, UTC
    content_type: str
    encrypted: bool
    retain_until: datetime | None = None
    legal_hold: bool = False
    retention_mode: RetentionMode | None = None

    def retained(self, now: datetime) -> bool:
        return self.retain_until is not None and self.retain_until > now

    def locked(self, now: datetime) -> bool:
        """True while delete or replacement is refused (retention running or legal hold on)."""
        return self.legal_hold or self.retained(now)


@dataclass(frozen=True)
class NamedObject:
    """A write-once named object: its content (verified against the digest recorded when it was
    written), its info (``info.key`` is the name) and how many versions the backend holds under
    the name. More than one means someone wrote over it outside this library; the content is
    always the *first* version, the one written under retention."""

    name: str
    data: bytes
    info: ObjectInfo
    versions: int = 1


class ObjectReader(ChunkReader):
    """A verified stream of an object's (decrypted) content; ``info`` describes it. Reading raises
    ``IntegrityError`` at the latest instead of the last chunk. Close it (or use ``with``)."""

    info: ObjectInfo


@dataclass(frozen=True)
class SweepCandidate:
    """An internal leftover (temporary upload, orphan record) that a sweep may remove."""

    kind: str  # "upload" | "record"
    name: str
    modified_at: datetime
    token: str = ""  # backend detail needed to remove it (S3: the multipart upload id)


@runtime_checkable
class LinkVerifier(Protocol):
    """A store whose download links the application serves itself (the local store): it checks
    the links ``presigned_url`` made. S3 checks its own presigned URLs and has no such method."""

    def verify_signed_url(self, key: str, expires: str | int, signature: str, filename: str | None = None,
                          *, now: datetime | None = None) -> None:
        """``InvalidLinkError`` if forged or altered, ``ExpiredLinkError`` if too old."""


@runtime_checkable
class ObjectStore(Protocol):
    """Content-addressed, write-once-capable object store.

    Keys are returned by ``put`` (``sha256/ab/<digest>``, ``enc/sha256/ab/<digest>``); the same
    content always gets the same key, and putting it again is a no-op. Errors are the typed ones of
    ``storage.errors`` (``StorageUnavailable`` when the backend is down)."""

    #: The key-encryption keys (``encrypt=True``, ``rotate_keys``); None when the store has none configured.
    keyring: KeyRing | None

    def put(self, stream: BinaryIO, *, content_type: str = DEFAULT_CONTENT_TYPE,
            encrypt: bool = False) -> ObjectInfo:
        """Store the stream's content (read in chunks, never whole in memory); atomic: nothing is
        visible unless the whole content was stored. ``encrypt`` needs a key ring."""

    def open(self, key: str) -> ObjectReader:
        """A stream of the content, verified against its digest as it is read."""

    def get_bytes(self, key: str) -> bytes:
        """The whole (verified) content; for small objects."""

    def read_verified_to(self, key: str, target: BinaryIO | str | os.PathLike[str]) -> ObjectInfo:
        """Copy the verified content to a file object, or to a path (written atomically, only if valid)."""

    def stat(self, key: str) -> ObjectInfo: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys of the stored objects (content only, no internal records), optionally by key prefix."""

    def put_named(self, name: str, data: bytes, *, retain_until: datetime,
                  content_type: str = "application/json") -> ObjectInfo:
        """Write a small write-once object under ``name`` (``storage.keys.check_name``) with
        compliance retention until ``retain_until``; ``ObjectExists`` if the name is taken (it is
        never replaced). For records whose names readers must find without a database (``list_named``)."""

    def get_named(self, name: str) -> NamedObject:
        """The first content written under ``name``, verified; ``ObjectNotFound`` if none."""

    def list_named(self, prefix: str = "") -> Iterator[str]:
        """Names of the named objects starting with ``prefix``, sorted; also those a later delete
        (an S3 delete marker) hides, since their first version is still there."""

    def delete(self, key: str) -> None:
        """Remove the object, all its backend versions and its key records; ``RetentionError`` /
        ``LegalHoldError`` while locked, ``ObjectNotFound`` when absent."""

    def set_retention(self, key: str, until: datetime, mode: RetentionMode | str) -> ObjectInfo:
        """Retain until ``until`` (aware, in the future); only extends (``RetentionShorteningError``)."""

    def set_legal_hold(self, key: str, on: bool) -> ObjectInfo: ...

    def presigned_url(self, key: str, expires: timedelta, filename: str | None = None, *,
                      now: datetime | None = None) -> str:
        """A time-limited download link (``LinkNotAllowed`` for encrypted objects)."""

    def rotate_keys(self, keyring: KeyRing | None = None) -> int:
        """Rewrap every data key not wrapped by the active key-encryption key; returns how many."""

    def last_put_at(self, key: str) -> datetime:
        """When the content was last written or re-put (a dedup hit counts): a sweep's age reference."""

    def leftovers(self, older_than: datetime) -> Iterator[SweepCandidate]:
        """Temporary uploads left by crashes and records without their object, older than the date."""

    def remove_leftover(self, candidate: SweepCandidate) -> None: ...

    def ensure_ready(self) -> None:
        """Create the folder / the bucket (with Object Lock) when missing; idempotent."""

    def health(self) -> None:
        """Raise ``StorageUnavailable`` (or ``ConfigurationError``) unless the backend is usable."""

    def close(self) -> None: ...
