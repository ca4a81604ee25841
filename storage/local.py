"""The embedded adapter: objects as files under one folder.

Layout under ``root``::

    objects/<key>        content, read-only (0444), published by rename of a fsynced temp file
    meta/<key>.json      sidecar: digest, sizes, content type, creation time, retention, legal hold
    keys/<key>/<dek id>  wrapped data keys of encrypted objects
    touch/<key>          time of the last re-put of existing content (protects it from a sweep)
    named/<name>         write-once named objects (read-only), created with link() so never replaced
    named-meta/<name>.json  their digest, size, content type, creation time and retention
    tmp/                 uploads in progress (a crash leaves them here; the sweep removes them)
    .lock                flock serialising lock-state changes, deletes and publishes across processes

Lock state (retention, legal hold) lives in the sidecar, written atomically; every rule of
``storage.locks`` is enforced here since no server does it. Anyone with write access to the folder
can of course bypass them: the local store protects against the application, not against root.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from storage.base import BaseObjectStore, Head, NewObject, Staged
from storage.crypto import DataKey, KeyRing, plain_size, read_header
from storage.errors import (
    ConfigurationError,
    IntegrityError,
    InvalidKey,
    InvalidLinkError,
    ObjectExists,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
)
from storage.keys import check_name, check_prefix, check_record_name, is_key, parse_key
from storage.links import LinkSigner
from storage.port import DEFAULT_CONTENT_TYPE, ObjectInfo, RetentionMode, SweepCandidate
from storage.streams import CHUNK_SIZE, Digest, exact_chunks

_UNAVAILABLE = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENXIO}


@contextmanager
def _fs_errors(what: str) -> Iterator[None]:
    """File system failures that retrying later may cure become ``StorageUnavailable``."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _UNAVAILABLE:
            raise StorageUnavailable(f"local object store: cannot {what}: {exc.strerror}") from exc
        raise


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, UTC)


@dataclass(frozen=True)
class _LocalStaged(Staged):
    path: Path


class LocalObjectStore(BaseObjectStore):
    """Objects in a local folder (the embedded default). ``url_secret`` and ``base_url`` enable
    signed download links served by the application (see ``verify_signed_url``)."""

    def __init__(self, root: str | os.PathLike[str], *, keyring: KeyRing | None = None,
                 url_secret: bytes | str | None = None, base_url: str = "",
                 chunk_size: int = CHUNK_SIZE, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(keyring=keyring, chunk_size=chunk_size, clock=clock)
        self.root = Path(root).absolute()
        self._signer = LinkSigner(url_secret, base_url) if url_secret else None

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    # ---------------------------------------------------------------- paths
    def _object_path(self, key: str) -> Path:
        return self.root / "objects" / key

    def _meta_path(self, key: str) -> Path:
        return self.root / "meta" / f"{key}.json"

    def _record_path(self, name: str) -> Path:
        return self.root / check_record_name(name)

    def _tmp_path(self) -> Path:
        return self.root / "tmp" / f"{uuid.uuid4().hex}.part"

    # ---------------------------------------------------------------- readiness
    def ensure_ready(self) -> None:
        try:
            with _fs_errors(f"create {self.root}"):
                for sub in ("objects", "meta", "keys", "touch", "tmp"):
                    (self.root / sub).mkdir(parents=True, exist_ok=True)
        except (NotADirectoryError, FileExistsError) as exc:
            raise ConfigurationError(f"the object store folder {self.root} cannot be created: "
                                     f"{exc.filename} is not a folder") from None

    def health(self) -> None:
        self.ensure_ready()
        probe = self._tmp_path()
        with _fs_errors(f"write in {self.root}"):
            probe.write_bytes(b"ok")
            probe.unlink()

    @contextmanager
    def _mutation_lock(self) -> Iterator[object]:
        with _fs_errors("lock the store"), open(self.root / ".lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield fh
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # ---------------------------------------------------------------- atomic small files
    def _write_atomic(self, path: Path, data: bytes) -> None:
        tmp = self._tmp_path()
        try:
            with _fs_errors(f"write {path.name}"):
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(tmp, "xb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
                _fsync_dir(path.parent)
        finally:
            tmp.unlink(missing_ok=True)

    # ---------------------------------------------------------------- writing
    @contextmanager
    def _stage(self, stream: BinaryIO, data_key: DataKey | None) -> Iterator[Staged]:
        tmp = self._tmp_path()
        digest = Digest()
        try:
            with _fs_errors("create a temporary file"):
                out = open(tmp, "xb")  # noqa: SIM115 - closed by the with below; only the open maps errors
            with out:
                plain = digest.feed(exact_chunks(stream, self.chunk_size))
                for chunk in (data_key.encrypt(plain) if data_key else plain):
                    with _fs_errors("write the upload"):
                        out.write(chunk)
                with _fs_errors("write the upload"):
                    out.flush()
                    os.fsync(out.fileno())
            yield _LocalStaged(digest.hexdigest(), digest.size, tmp.stat().st_size, data_key, tmp)
        finally:
            tmp.unlink(missing_ok=True)

    def _publish(self, staged: Staged, key: str, new: NewObject) -> ObjectInfo:
        assert isinstance(staged, _LocalStaged)
        info = new.info(key)
        self._write_meta(info)
        final = self._object_path(key)
        with _fs_errors(f"publish {key}"):
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(staged.path, 0o444)
            os.replace(staged.path, final)
            _fsync_dir(final.parent)
        return info

    def _write_meta(self, info: ObjectInfo) -> None:
        meta = {"sha256": info.sha256, "size": info.size, "content_type": info.content_type,
                "encrypted": info.encrypted, "created_at": info.created_at.isoformat(),
                "retain_until": info.retain_until.isoformat() if info.retain_until else None,
                "retention_mode": info.retention_mode.value if info.retention_mode else None,
                "legal_hold": info.legal_hold}
        self._write_atomic(self._meta_path(info.key), json.dumps(meta, sort_keys=True).encode())

    # ---------------------------------------------------------------- reading
    def _head(self, key: str) -> Head | None:
        try:
            st = self._object_path(key).stat()
        except FileNotFoundError:
            return None
        try:
            raw = self._meta_path(key).read_bytes()
        except FileNotFoundError:
            return Head(self._derived_info(key, st), st.st_size, None)
        try:
            m = json.loads(raw)
            parsed = parse_key(key)
            info = ObjectInfo(
                key=key, sha256=parsed.digest, size=int(m["size"]), created_at=datetime.fromisoformat(m["created_at"]),
                content_type=str(m["content_type"]), encrypted=parsed.encrypted,
                retain_until=datetime.fromisoformat(m["retain_until"]) if m.get("retain_until") else None,
                retention_mode=RetentionMode(m["retention_mode"]) if m.get("retention_mode") else None,
                legal_hold=bool(m.get("legal_hold")))
            return Head(info, st.st_size, str(m["sha256"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"the metadata of {key} is unreadable ({type(exc).__name__}); "
                                 "its lock state is unknown") from None

    def _derived_info(self, key: str, st: os.stat_result) -> ObjectInfo:
        """Info of an object whose sidecar is gone (deleted by hand): unlocked, sizes from the file."""
        parsed = parse_key(key)
        size = st.st_size
        if parsed.encrypted:
            with open(self._object_path(key), "rb") as fh:
                size = plain_size(st.st_size, read_header(fh, key).chunk_size)
        return ObjectInfo(key=key, sha256=parsed.digest, size=size, created_at=_mtime(st),
                          content_type=DEFAULT_CONTENT_TYPE, encrypted=parsed.encrypted)

    def _open_raw(self, key: str) -> tuple[BinaryIO, ObjectInfo]:
        head = self._head(key)
        if head is None:
            raise ObjectNotFound(key)
        try:
            return open(self._object_path(key), "rb"), head.info
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def list(self, prefix: str = "") -> Iterator[str]:
        self._ready()
        for name, _ in self._walk(self.root / "objects", prefix):
            if is_key(name):
                yield name

    def _walk(self, base: Path, prefix: str) -> Iterator[tuple[str, datetime]]:
        """(path relative to ``base`` in posix form, mtime) of files under ``base`` whose relative
        path starts with ``prefix``, in sorted order; only the directories the prefix allows."""
        head, _, _ = check_prefix(prefix).rpartition("/")
        start = base / head if head else base

        def walk(folder: Path, rel: str) -> Iterator[tuple[str, datetime]]:
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except (FileNotFoundError, NotADirectoryError):
                return
            for entry in entries:
                name = f"{rel}{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    folder_prefix = name + "/"
                    if folder_prefix.startswith(prefix) or prefix.startswith(folder_prefix):
                        yield from walk(Path(entry.path), folder_prefix)
                elif name.startswith(prefix):
                    with contextlib.suppress(FileNotFoundError):
                        yield name, _mtime(entry.stat(follow_symlinks=False))

        yield from walk(start, f"{head}/" if head else "")

    # ---------------------------------------------------------------- named objects
    def _named_path(self, name: str) -> Path:
        return self.root / "named" / check_name(name)

    def _named_meta_path(self, name: str) -> Path:
        return self.root / "named-meta" / f"{check_name(name)}.json"

    def _write_named(self, name: str, data: bytes, info: ObjectInfo) -> None:
        meta = {"sha256": info.sha256, "size": info.size, "content_type": info.content_type,
                "created_at": info.created_at.isoformat(),
                "retain_until": info.retain_until.isoformat() if info.retain_until else None,
                "retention_mode": info.retention_mode.value if info.retention_mode else None}
        final = self._named_path(name)
        if final.exists():
            raise ObjectExists(name)
        self._write_atomic(self._named_meta_path(name), json.dumps(meta, sort_keys=True).encode())
        tmp = self._tmp_path()
        try:
            with _fs_errors(f"write {name}"):
                with open(tmp, "xb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o444)
                final.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(tmp, final)  # never replaces: the first writer wins
                except FileExistsError:
                    raise ObjectExists(name) from None
                _fsync_dir(final.parent)
        finally:
            tmp.unlink(missing_ok=True)

    def _read_named(self, name: str) -> tuple[bytes, ObjectInfo, int] | None:
        try:
            data = self._named_path(name).read_bytes()
        except FileNotFoundError:
            return None
        try:
            m = json.loads(self._named_meta_path(name).read_bytes())
            info = ObjectInfo(
                key=name, sha256=str(m["sha256"]), size=int(m["size"]), content_type=str(m["content_type"]),
                created_at=datetime.fromisoformat(m["created_at"]), encrypted=False,
                retain_until=datetime.fromisoformat(m["retain_until"]) if m.get("retain_until") else None,
                retention_mode=RetentionMode(m["retention_mode"]) if m.get("retention_mode") else None)
        except FileNotFoundError:
            raise IntegrityError(f"{name}: its metadata is missing (removed outside this library)") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"the metadata of {name} is unreadable ({type(exc).__name__})") from None
        return data, info, 1

    def _list_named(self, prefix: str) -> Iterator[str]:
        for name, _ in self._walk(self.root / "named", prefix):
            yield name

    # ---------------------------------------------------------------- deleting and locking
    def _delete_content(self, key: str) -> None:
        with _fs_errors(f"delete {key}"):
            self._object_path(key).unlink(missing_ok=True)
            self._meta_path(key).unlink(missing_ok=True)
            _fsync_dir(self._object_path(key).parent)

    def _apply_lock(self, key: str, *, retention: tuple[RetentionMode, datetime] | None = None,
                    legal_hold: bool | None = None) -> None:
        head = self._head(key)
        if head is None:
            raise ObjectNotFound(key)
        info = head.info
        if retention is not None:
            info = replace(info, retention_mode=retention[0], retain_until=retention[1])
        if legal_hold is not None:
            info = replace(info, legal_hold=legal_hold)
        self._write_meta(info)

    # ---------------------------------------------------------------- links
    def _presign(self, key: str, info: ObjectInfo, expires: timedelta, filename: str | None,
                 now: datetime) -> str:
        if self._signer is None:
            raise ConfigurationError("this local store has no url_secret: it cannot sign download links")
        return self._signer.sign(key, expires, filename, now)

    def verify_signed_url(self, key: str, expires: str | int, signature: str, filename: str | None = None,
                          *, now: datetime | None = None) -> None:
        """Check a link made by ``presigned_url`` (the app's route passes the query values it got):
        ``InvalidLinkError`` if forged or altered, ``ExpiredLinkError`` if too old."""
        if self._signer is None:
            raise ConfigurationError("this local store has no url_secret: it cannot check download links")
        try:
            parse_key(key)
        except InvalidKey:
            raise InvalidLinkError("the link does not name an object") from None
        self._signer.verify(key, expires, signature, filename, now or self._now())

    # ---------------------------------------------------------------- records and leftovers
    def _write_record(self, name: str, data: bytes, *, fresh: bool = False) -> None:
        self._write_atomic(self._record_path(name), data)

    def _read_record(self, name: str) -> bytes | None:
        try:
            return self._record_path(name).read_bytes()
        except FileNotFoundError:
            return None

    def _list_records(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        for name, modified in self._walk(self.root, prefix):
            if name.startswith(("keys/", "touch/")):
                yield name, modified

    def _delete_record(self, name: str) -> None:
        path = self._record_path(name)
        with _fs_errors(f"delete {name}"):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # drop the emptied keys/<key>/ folder
            if name.startswith("keys/"):
                path.parent.rmdir()

    def _stale_uploads(self, older_than: datetime) -> Iterator[SweepCandidate]:
        for name, modified in self._walk(self.root / "tmp", ""):
            if modified < older_than:
                yield SweepCandidate("upload", f"tmp/{name}", modified)

    def _remove_upload(self, candidate: SweepCandidate) -> None:
        if not candidate.name.startswith("tmp/") or "/" in candidate.name[4:]:
            raise StorageError(f"{candidate.name!r} is not a temporary upload of this store")
        (self.root / candidate.name).unlink(missing_ok=True)
