"""What both adapters share: content addressing, encryption, verification, lock rules, key
rotation and sweep support, written once over a handful of backend primitives.

An adapter implements the ``_``-prefixed abstract methods (how to stage an upload, publish it
atomically, read raw bytes, delete every version, apply a lock, keep small records) and gets the
whole ``ObjectStore`` behaviour from this class.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from storage.crypto import DataKey, KeyRing, decrypt_chunks, encrypted_size, read_header
from storage.envelope import DataKeyRecord
from storage.errors import (
    ConfigurationError,
    IntegrityError,
    InvalidArgument,
    LinkNotAllowed,
    MissingKeyError,
    ObjectExists,
    ObjectNotFound,
    StorageError,
)
from storage.keys import (
    DATA_KEYS_NAMESPACE,
    TOUCH_NAMESPACE,
    check_name,
    check_prefix,
    data_key_record,
    make_key,
    parse_key,
    record_owner,
    touch_record,
)
from storage.links import check_lifetime
from storage.locks import check_removable, normalise_until, parse_mode, retention_change_needed, utcnow
from storage.port import DEFAULT_CONTENT_TYPE, NamedObject, ObjectInfo, ObjectReader, RetentionMode, SweepCandidate
from storage.streams import CHUNK_SIZE, exact_chunks, verified_chunks

_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,127}/[A-Za-z0-9!#$&^_.+-]{1,127}(\s*;\s*[ -~]{1,200})?")


@dataclass(frozen=True)
class Staged:
    """An upload read to its end: its plaintext digest and sizes, plus what the adapter needs
    to publish it (a temporary file, a rewindable source...)."""

    digest: str
    size: int  # plaintext
    stored_size: int  # what the backend will hold (ciphertext size when encrypted)
    data_key: DataKey | None


@dataclass(frozen=True)
class Head:
    """What a backend knows of a stored object without reading it."""

    info: ObjectInfo
    stored_size: int
    recorded_sha256: str | None  # the digest the backend's metadata recorded, if any


@dataclass(frozen=True)
class NewObject:
    sha256: str
    size: int
    content_type: str
    encrypted: bool
    created_at: datetime

    def info(self, key: str) -> ObjectInfo:
        return ObjectInfo(key=key, sha256=self.sha256, size=self.size, created_at=self.created_at,
                          content_type=self.content_type, encrypted=self.encrypted)


def check_content_type(content_type: str) -> str:
    if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type):
        raise InvalidArgument(f"{content_type!r} is not a content type such as application/pdf")
    return content_type


class BaseObjectStore(ABC):
    """The ``ObjectStore`` behaviour over backend primitives (see the module docstring)."""

    def __init__(self, *, keyring: KeyRing | None = None, chunk_size: int = CHUNK_SIZE,
                 clock: Callable[[], datetime] | None = None) -> None:
        if keyring is not None and not isinstance(keyring, KeyRing):
            raise ConfigurationError("keyring must be a storage.crypto.KeyRing (see KeyRing.from_config)")
        if not 4096 <= chunk_size <= 64 * 1024 * 1024:
            raise ConfigurationError("chunk_size must be between 4 KiB and 64 MiB")
        self.keyring = keyring
        self.chunk_size = chunk_size
        self._clock = clock or utcnow
        self._is_ready = False

    # ---------------------------------------------------------------- backend primitives
    @abstractmethod
    def _stage(self, stream: BinaryIO, data_key: DataKey | None) -> AbstractContextManager[Staged]:
        """Read ``stream`` to its end, hashing the plaintext; clean up whatever remains on exit."""

    @abstractmethod
    def _publish(self, staged: Staged, key: str, new: NewObject) -> ObjectInfo:
        """Make the staged content visible under ``key`` atomically (replacing a damaged object)."""

    @abstractmethod
    def _head(self, key: str) -> Head | None: ...

    @abstractmethod
    def _open_raw(self, key: str) -> tuple[BinaryIO, ObjectInfo]:
        """The stored bytes as a closeable stream; ``ObjectNotFound`` if absent."""

    @abstractmethod
    def _delete_content(self, key: str) -> None:
        """Remove the object and every backend version of it."""

    @abstractmethod
    def _apply_lock(self, key: str, *, retention: tuple[RetentionMode, datetime] | None = None,
                    legal_hold: bool | None = None) -> None: ...

    @abstractmethod
    def _presign(self, key: str, info: ObjectInfo, expires: timedelta, filename: str | None,
                 now: datetime) -> str: ...

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]: ...

    @abstractmethod
    def _write_record(self, name: str, data: bytes, *, fresh: bool = False) -> None:
        """Write a small internal record atomically, replacing any previous content entirely
        (``fresh``: the name is new, there is nothing to replace)."""

    @abstractmethod
    def _read_record(self, name: str) -> bytes | None: ...

    @abstractmethod
    def _list_records(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """(record name, modified at) of the records whose name starts with ``prefix``, sorted."""

    @abstractmethod
    def _delete_record(self, name: str) -> None: ...

    @abstractmethod
    def _stale_uploads(self, older_than: datetime) -> Iterator[SweepCandidate]: ...

    @abstractmethod
    def _remove_upload(self, candidate: SweepCandidate) -> None: ...

    @abstractmethod
    def _write_named(self, name: str, data: bytes, info: ObjectInfo) -> None:
        """Store ``data`` as the named object ``name`` under ``info``'s compliance retention, in one
        atomic write (``ObjectExists`` if the backend finds the name taken)."""

    @abstractmethod
    def _read_named(self, name: str) -> tuple[bytes, ObjectInfo, int] | None:
        """(the first version's bytes, its info with the digest recorded at writing, the number of
        versions held under the name), or None when there is none."""

    @abstractmethod
    def _list_named(self, prefix: str) -> Iterator[str]:
        """Names starting with ``prefix``, sorted, including those hidden by a delete marker."""

    def _mutation_lock(self) -> AbstractContextManager[object]:
        """Serialises check-then-act sequences (lock state, publish) where the backend does not."""
        return contextlib.nullcontext()

    @abstractmethod
    def ensure_ready(self) -> None: ...

    @abstractmethod
    def health(self) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook, most adapters hold nothing to release
        """Release connections (nothing to do for the local store)."""

    # ---------------------------------------------------------------- helpers
    def _now(self) -> datetime:
        return self._clock()

    def _ready(self) -> None:
        if not self._is_ready:
            self.ensure_ready()
            self._is_ready = True

    def _require_keyring(self, keyring: KeyRing | None = None) -> KeyRing:
        ring = keyring or self.keyring
        if ring is None:
            raise MissingKeyError("no key-encryption key is configured for this store (keyring=...)")
        return ring

    def stored_size(self, size: int, encrypted: bool) -> int:
        return encrypted_size(size, self.chunk_size) if encrypted else size

    # ---------------------------------------------------------------- writing
    def put(self, stream: BinaryIO, *, content_type: str = DEFAULT_CONTENT_TYPE,
            encrypt: bool = False) -> ObjectInfo:
        check_content_type(content_type)
        if not callable(getattr(stream, "read", None)):
            raise InvalidArgument("put needs a binary stream with read() (wrap bytes in io.BytesIO)")
        data_key = DataKey(self.chunk_size) if encrypt else None
        ring = self._require_keyring() if encrypt else None
        self._ready()
        with self._stage(stream, data_key) as staged:
            key = make_key(staged.digest, encrypted=encrypt)
            with self._mutation_lock():
                head = self._head(key)
                if head is not None:
                    if head.stored_size == staged.stored_size and head.recorded_sha256 in (None, staged.digest):
                        self._write_record(touch_record(key), self._now().isoformat().encode())
                        return head.info  # same content already stored: nothing to rewrite
                    check_removable(head.info, self._now(), "replace")  # damaged copy: repair unless locked
                record = None
                if data_key is not None:
                    assert ring is not None
                    record = data_key_record(key, data_key.dek_id)
                    sealed = DataKeyRecord.seal(key, data_key.dek_id, data_key.key, ring)
                    self._write_record(record, sealed.to_bytes(), fresh=True)  # a random dek id: a new name
                new = NewObject(staged.digest, staged.size, content_type, encrypt, self._now())
                try:
                    return self._publish(staged, key, new)
                except BaseException:
                    if record is not None:
                        with contextlib.suppress(Exception):
                            self._delete_record(record)
                    raise

    # ---------------------------------------------------------------- reading
    def open(self, key: str) -> ObjectReader:
        parsed = parse_key(key)
        self._ready()
        raw, info = self._open_raw(key)
        try:
            if parsed.encrypted:
                header = read_header(raw, key)
                chunks = decrypt_chunks(raw, header, self._data_key(key, header.dek_id), key)
            else:
                chunks = exact_chunks(raw, self.chunk_size)
            reader = ObjectReader(verified_chunks(chunks, parsed.digest, key), on_close=raw.close)
        except BaseException:
            raw.close()
            raise
        reader.info = info
        return reader

    def _data_key(self, key: str, dek_id: str) -> bytes:
        ring = self._require_keyring()
        name = data_key_record(key, dek_id)
        raw = self._read_record(name)
        if raw is None:
            if any(True for _ in self._list_records(f"{DATA_KEYS_NAMESPACE}{key}/")):
                raise IntegrityError(f"{key}: its header names a data key the object does not have "
                                     "(content tampered with or swapped)")
            raise MissingKeyError(f"the data key record of {key} is missing ({name})")
        record = DataKeyRecord.from_bytes(raw, name)
        if (record.key, record.dek_id) != (key, dek_id):
            raise IntegrityError(f"data key record {name} belongs to another object")
        return record.open(ring)

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as reader:
            return reader.read()

    def read_verified_to(self, key: str, target: BinaryIO | str | os.PathLike[str]) -> ObjectInfo:
        if not isinstance(target, str | os.PathLike):
            with self.open(key) as reader:
                shutil.copyfileobj(reader, target, self.chunk_size)
                return reader.info
        path = Path(target)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        try:
            with self.open(key) as reader, tmp.open("wb") as out:
                shutil.copyfileobj(reader, out, self.chunk_size)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
            return reader.info
        finally:
            tmp.unlink(missing_ok=True)

    def stat(self, key: str) -> ObjectInfo:
        parse_key(key)
        self._ready()
        head = self._head(key)
        if head is None:
            raise ObjectNotFound(key)
        return head.info

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    # ---------------------------------------------------------------- named objects
    def put_named(self, name: str, data: bytes, *, retain_until: datetime,
                  content_type: str = "application/json") -> ObjectInfo:
        check_name(name)
        check_content_type(content_type)
        if not isinstance(data, bytes):
            raise InvalidArgument("a named object's content must be bytes")
        until = normalise_until(retain_until, self._now())
        self._ready()
        info = ObjectInfo(key=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data), created_at=self._now(),
                          content_type=content_type, encrypted=False, retain_until=until,
                          retention_mode=RetentionMode.COMPLIANCE)
        with self._mutation_lock():
            if self._read_named(name) is not None:
                raise ObjectExists(name)
            self._write_named(name, data, info)
        return info

    def get_named(self, name: str) -> NamedObject:
        check_name(name)
        self._ready()
        found = self._read_named(name)
        if found is None:
            raise ObjectNotFound(name)
        data, info, versions = found
        if hashlib.sha256(data).hexdigest() != info.sha256 or len(data) != info.size:
            raise IntegrityError(f"{name}: the stored bytes do not match the digest recorded when it was written")
        return NamedObject(name, data, info, versions)

    def list_named(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        self._ready()
        return self._list_named(prefix)

    # ---------------------------------------------------------------- deleting and locking
    def delete(self, key: str) -> None:
        parse_key(key)
        self._ready()
        with self._mutation_lock():
            head = self._head(key)
            if head is None:
                raise ObjectNotFound(key)
            check_removable(head.info, self._now())
            self._delete_content(key)
        for name, _ in itertools.chain(self._list_records(f"{DATA_KEYS_NAMESPACE}{key}/"),
                                       self._list_records(touch_record(key))):
            self._delete_record(name)

    def set_retention(self, key: str, until: datetime, mode: RetentionMode | str) -> ObjectInfo:
        mode = parse_mode(mode)
        until = normalise_until(until, self._now())
        parse_key(key)
        self._ready()
        with self._mutation_lock():
            info = self.stat(key)
            if retention_change_needed(info, until, mode, self._now()):
                self._apply_lock(key, retention=(mode, until))
        return self.stat(key)

    def set_legal_hold(self, key: str, on: bool) -> ObjectInfo:
        if not isinstance(on, bool):
            raise InvalidArgument("legal hold must be True or False")
        parse_key(key)
        self._ready()
        with self._mutation_lock():
            if self.stat(key).legal_hold != on:
                self._apply_lock(key, legal_hold=on)
        return self.stat(key)

    # ---------------------------------------------------------------- links
    def presigned_url(self, key: str, expires: timedelta, filename: str | None = None, *,
                      now: datetime | None = None) -> str:
        if parse_key(key).encrypted:
            raise LinkNotAllowed(f"{key} is encrypted: the application must stream it decrypted")
        check_lifetime(expires)
        if filename is not None and (not isinstance(filename, str) or not filename.strip()):
            raise InvalidArgument("a download file name must be a non-empty string")
        info = self.stat(key)
        return self._presign(key, info, expires, filename, now or self._now())

    # ---------------------------------------------------------------- keys
    def rotate_keys(self, keyring: KeyRing | None = None) -> int:
        """Rewrap every data key record not wrapped by the active KEK of ``keyring`` (default: the
        store's); the ring must still hold the old keys. Content objects are never rewritten.
        Idempotent: a rerun after a failure continues where it stopped."""
        ring = self._require_keyring(keyring)
        self._ready()
        count = 0
        for name, _ in self._list_records(DATA_KEYS_NAMESPACE):
            raw = self._read_record(name)
            if raw is None:
                continue
            record = DataKeyRecord.from_bytes(raw, name)
            if record.wrapped.kek_id != ring.active_key_id:
                self._write_record(name, record.rewrap(ring).to_bytes())
                count += 1
        return count

    # ---------------------------------------------------------------- sweep support
    def last_put_at(self, key: str) -> datetime:
        info = self.stat(key)
        raw = self._read_record(touch_record(key))
        if raw is not None:
            with contextlib.suppress(ValueError):
                return max(info.created_at, datetime.fromisoformat(raw.decode()))
        return info.created_at

    def leftovers(self, older_than: datetime) -> Iterator[SweepCandidate]:
        self._ready()
        yield from self._stale_uploads(older_than)
        for name, modified in self._list_records(TOUCH_NAMESPACE):
            if modified < older_than:  # past the grace period a re-put mark protects nothing
                yield SweepCandidate("record", name, modified)
        records = self._list_records(DATA_KEYS_NAMESPACE)
        for owner, group in itertools.groupby(records, key=lambda item: record_owner(item[0])):
            yield from self._orphan_data_keys(owner, list(group), older_than)

    def _orphan_data_keys(self, owner: str | None, records: Sequence[tuple[str, datetime]],
                          older_than: datetime) -> Iterator[SweepCandidate]:
        """Key records whose object is gone, or that lost a race to another upload of the same
        content (then the object's header names the one record in use)."""
        old = [(name, modified) for name, modified in records if modified < older_than]
        if owner is None or not old:
            return
        live: str | None = None
        if self._head(owner) is not None:
            if len(records) == 1:
                return
            try:
                raw, _ = self._open_raw(owner)
                try:
                    live = data_key_record(owner, read_header(raw, owner).dek_id)
                finally:
                    raw.close()
            except StorageError:
                return  # unreadable now: leave its keys alone, a read will report the problem
        for name, modified in old:
            if name != live:
                yield SweepCandidate("record", name, modified)

    def remove_leftover(self, candidate: SweepCandidate) -> None:
        if candidate.kind == "upload":
            self._remove_upload(candidate)
        elif candidate.kind == "record":
            self._delete_record(candidate.name)
        else:
            raise InvalidArgument(f"unknown leftover kind {candidate.kind!r}")
