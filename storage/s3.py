"""The MinIO/S3 adapter, on the ``minio`` client.

Uploads: the content key is its SHA-256, known only after reading everything, and S3 cannot
rename. So ``put`` first hashes the stream (rewinding it if seekable, else spooling it to a local
temporary file), then uploads under the final key with one PUT or a multipart upload, re-hashing
as it sends: if the bytes changed in between, the last part is withheld and the multipart upload
aborted, so nothing is ever visible but a complete, verified object. (Measured against "upload to
a temporary key, then server-side copy": see ``bench/storage.py``.)

Write-once: the bucket is created with Object Lock (hence versioning). Retention and legal hold
are applied to every version of a key; delete removes every version by id (a plain delete would
only add a delete marker and hide the bytes). The rules of ``storage.locks`` are checked here
before calling the server, because some servers (moto) do not enforce all of them.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import hashlib
import io
import tempfile
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, NoReturn, cast

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, GOVERNANCE
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import genheaders
from minio.retention import Retention

from storage.base import BaseObjectStore, Head, NewObject, Staged
from storage.crypto import DataKey, KeyRing
from storage.errors import (
    ConfigurationError,
    IntegrityError,
    InvalidArgument,
    ObjectNotFound,
    RetentionError,
    StorageError,
    StorageUnavailable,
)
from storage.keys import (
    CONTENT_PREFIXES,
    NAMED_NAMESPACE,
    check_name,
    check_prefix,
    check_record_name,
    is_key,
    parse_key,
)
from storage.links import content_disposition
from storage.port import DEFAULT_CONTENT_TYPE, ObjectInfo, RetentionMode, SweepCandidate
from storage.streams import CHUNK_SIZE, ChunkReader, Digest, VerifiedSource, exact_chunks, is_seekable

META = "x-amz-meta-docsvc-"  # user metadata: sha256, size (plaintext), content-type, encrypted
_UNAVAILABLE_CODES = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "NoSuchBucket",
                      "XMinioServerNotInitialized", "XMinioStorageFull"}
_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AuthorizationHeaderMalformed"}
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000


def _raise_mapped(exc: BaseException, what: str, key: str | None) -> NoReturn:
    if isinstance(exc, S3Error):
        if exc.code in ("NoSuchKey", "NoSuchVersion") and key is not None:
            raise ObjectNotFound(key) from None
        message = (exc.message or "").lower()
        if exc.code == "AccessDenied" and key is not None and ("lock" in message or "worm" in message):
            raise RetentionError(f"the server refuses to {what} {key}: {exc.message}", key) from exc
        if exc.code in _UNAVAILABLE_CODES:
            raise StorageUnavailable(f"S3 cannot {what} now: {exc.code} {exc.message}") from exc
        if exc.code in _CREDENTIAL_CODES:
            raise ConfigurationError(f"S3 rejected the credentials ({exc.code})") from exc
        raise StorageError(f"S3 cannot {what}{' ' + key if key else ''}: {exc.code} {exc.message}") from exc
    raise StorageUnavailable(f"S3 cannot {what}: {type(exc).__name__}: {exc}") from exc


_TRANSPORT_ERRORS = (ServerError, InvalidResponseError, urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)


@contextmanager
def _s3_errors(what: str, key: str | None = None) -> Iterator[None]:
    try:
        yield
    except (S3Error, *_TRANSPORT_ERRORS) as exc:
        _raise_mapped(exc, what, key)


def _listing(items: Iterable[Any], what: str) -> Iterator[Any]:
    """Iterate a paginated listing lazily (millions of keys need not fit in memory), mapping
    errors that come with any page."""
    iterator = iter(items)
    while True:
        with _s3_errors(what):
            try:
                item = next(iterator)
            except StopIteration:
                return
        yield item


class _ResponseStream(io.RawIOBase):
    """An object body as a stream whose transport failures become ``StorageUnavailable``."""

    def __init__(self, response: Any, key: str) -> None:
        super().__init__()
        self._response = response
        self._key = key

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        with _s3_errors("read", self._key):
            return bytes(self._response.read(None if size is None or size < 0 else size))

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._response.close()
                self._response.release_conn()
            super().close()


def _headers_info(key: str, headers: Mapping[str, str], stored_size: int, *, named: bool = False) -> ObjectInfo:
    """The ObjectInfo of a content object (digest from its key) or, ``named``, of a named object
    (digest from the metadata written with it)."""
    size = headers.get(META + "size")
    modified = email.utils.parsedate_to_datetime(headers["last-modified"]) if headers.get("last-modified") else None
    until = headers.get("x-amz-object-lock-retain-until-date")
    mode = headers.get("x-amz-object-lock-mode")
    try:
        if named:
            digest, encrypted = headers.get(META + "sha256", ""), False
        else:
            parsed = parse_key(key)
            digest, encrypted = parsed.digest, parsed.encrypted
        return ObjectInfo(
            key=key, sha256=digest, size=int(size) if size is not None else stored_size,
            created_at=modified or datetime.fromtimestamp(0, UTC),
            content_type=headers.get(META + "content-type") or headers.get("content-type") or DEFAULT_CONTENT_TYPE,
            encrypted=encrypted,
            retain_until=datetime.fromisoformat(until.replace("Z", "+00:00")) if until else None,
            retention_mode=RetentionMode(mode.lower()) if mode else None,
            legal_hold=headers.get("x-amz-object-lock-legal-hold", "").upper() == "ON")
    except ValueError as exc:
        raise IntegrityError(f"the metadata of {key} is unreadable: {exc}") from None


@dataclass(frozen=True)
class _S3Staged(Staged):
    source: BinaryIO
    start: int


class S3ObjectStore(BaseObjectStore):
    """Objects in one S3/MinIO bucket, created with Object Lock when missing."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str,
                 region: str = "us-east-1", secure: bool | None = None, *, keyring: KeyRing | None = None,
                 part_size: int = MIN_PART_SIZE, parallel_uploads: int = 2,
                 connect_timeout: float = 5.0, read_timeout: float = 60.0, retries: int = 2,
                 spool_dir: str | None = None, public_endpoint: str | None = None, chunk_size: int = CHUNK_SIZE,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(keyring=keyring, chunk_size=chunk_size, clock=clock)
        host, scheme_secure = self._parse_endpoint(endpoint)
        if not bucket:
            raise ConfigurationError("an S3 store needs a bucket name")
        if part_size < MIN_PART_SIZE or parallel_uploads < 1:
            raise ConfigurationError("part_size must be at least 5 MiB and parallel_uploads at least 1")
        self.bucket = bucket
        self.region = region
        self.part_size = part_size
        self.parallel_uploads = parallel_uploads
        self.spool_dir = spool_dir
        self.endpoint = endpoint
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout), maxsize=max(10, parallel_uploads + 2),
            retries=urllib3.Retry(total=retries, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]))
        self.client = Minio(host, access_key=access_key, secret_key=secret_key, region=region,
                            secure=scheme_secure if secure is None else secure, http_client=http)
        # Download links must name a host browsers reach (a proxy, a public name), which may not be
        # the endpoint this process talks to; signing needs no network (the region is given).
        self._signer = self.client
        if public_endpoint:
            public_host, public_secure = self._parse_endpoint(public_endpoint)
            self._signer = Minio(public_host, access_key=access_key, secret_key=secret_key, region=region,
                                 secure=public_secure)

    def __repr__(self) -> str:
        return f"S3ObjectStore({self.endpoint!r}, bucket={self.bucket!r})"

    @staticmethod
    def _parse_endpoint(endpoint: str) -> tuple[str, bool]:
        if "://" not in endpoint:
            endpoint = "https://" + endpoint
        url = urllib.parse.urlsplit(endpoint)
        if url.scheme not in ("http", "https") or not url.netloc or url.path.strip("/") or url.query:
            raise ConfigurationError(f"S3 endpoint {endpoint!r}: expected http(s)://host:port")
        return url.netloc, url.scheme == "https"

    # ---------------------------------------------------------------- readiness
    def ensure_ready(self) -> None:
        with _s3_errors(f"prepare bucket {self.bucket}"):
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket, location=self.region, object_lock=True)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            try:
                config = self.client.get_object_lock_config(self.bucket)
            except S3Error as exc:
                if exc.code == "ObjectLockConfigurationNotFoundError":
                    raise ConfigurationError(
                        f"bucket {self.bucket} exists without Object Lock: write-once retention cannot be "
                        "enforced there (use a new bucket; this library creates it with locking)") from None
                raise
        if config.mode is not None:
            raise ConfigurationError(
                f"bucket {self.bucket} has a default retention ({config.mode}): it would lock the key "
                "records too, so retired key-encryption keys could never be removed; remove the default")

    def health(self) -> None:
        self.ensure_ready()
        self._is_ready = True

    def close(self) -> None:
        self.client._http.clear()

    # ---------------------------------------------------------------- versions
    def _versions(self, name: str) -> Sequence[Any]:
        with _s3_errors("list versions of", name):
            return [o for o in self.client.list_objects(self.bucket, prefix=name, recursive=True, include_version=True)
                    if o.object_name == name]

    def _remove_versions(self, name: str, keep: str | None = None) -> None:
        for version in self._versions(name):
            if version.version_id != keep:
                with _s3_errors("delete", name):
                    self.client.remove_object(self.bucket, name, version_id=version.version_id)

    # ---------------------------------------------------------------- writing
    @contextmanager
    def _stage(self, stream: BinaryIO, data_key: DataKey | None) -> Iterator[Staged]:
        digest = Digest()
        if is_seekable(stream):
            start = stream.tell()
            digest.consume(exact_chunks(stream, self.chunk_size))
            yield self._staged(digest, data_key, stream, start)
            return
        with tempfile.TemporaryFile(dir=self.spool_dir, prefix="docsvc-upload-") as spool:
            for chunk in digest.feed(exact_chunks(stream, self.chunk_size)):
                try:
                    spool.write(chunk)
                except OSError as exc:
                    raise StorageUnavailable(f"cannot spool the upload to a temporary file: {exc}") from exc
            yield self._staged(digest, data_key, spool, 0)

    def _staged(self, digest: Digest, data_key: DataKey | None, source: BinaryIO, start: int) -> _S3Staged:
        return _S3Staged(digest.hexdigest(), digest.size, self.stored_size(digest.size, data_key is not None),
                         data_key, source, start)

    def _publish(self, staged: Staged, key: str, new: NewObject) -> ObjectInfo:
        assert isinstance(staged, _S3Staged)
        staged.source.seek(staged.start)
        plain = VerifiedSource(staged.source, staged.size, staged.digest, f"{key} (the upload changed while sent)")
        body = ChunkReader(staged.data_key.encrypt_stream(plain)) if staged.data_key else plain
        metadata: dict[str, str | list[str] | tuple[str]] = {"docsvc-sha256": new.sha256, "docsvc-size": str(new.size),
                    "docsvc-content-type": new.content_type, "docsvc-encrypted": "1" if new.encrypted else "0"}
        with _s3_errors("upload", key):
            self.client.put_object(
                self.bucket, key, cast(BinaryIO, body), staged.stored_size,
                content_type=DEFAULT_CONTENT_TYPE if new.encrypted else new.content_type, metadata=metadata,
                part_size=max(self.part_size, -(-staged.stored_size // MAX_PARTS)),
                num_parallel_uploads=self.parallel_uploads)
        head = self._head(key)  # the server's view (its clock, its lock state), as stat will show it
        if head is None:
            raise StorageUnavailable(f"S3 acknowledged {key} but does not show it")
        return head.info

    # ---------------------------------------------------------------- reading
    def _head(self, key: str) -> Head | None:
        try:
            with _s3_errors("stat", key):
                st = self.client.stat_object(self.bucket, key)
        except ObjectNotFound:
            return None
        headers = st.metadata or {}
        return Head(_headers_info(key, headers, st.size or 0), st.size or 0, headers.get(META + "sha256"))

    def _open_raw(self, key: str) -> tuple[BinaryIO, ObjectInfo]:
        with _s3_errors("read", key):
            response = self.client.get_object(self.bucket, key)
        stored = int(response.headers.get("content-length") or 0)
        stream = _ResponseStream(response, key)
        try:
            return stream, _headers_info(key, response.headers, stored)  # type: ignore[return-value]
        except BaseException:
            stream.close()
            raise

    def list(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        self._ready()
        for start in [prefix] if prefix else CONTENT_PREFIXES:
            for o in _listing(self.client.list_objects(self.bucket, prefix=start, recursive=True), "list objects"):
                if is_key(o.object_name) and o.object_name.startswith(prefix):
                    yield o.object_name

    # ---------------------------------------------------------------- named objects
    def _write_named(self, name: str, data: bytes, info: ObjectInfo) -> None:
        assert info.retain_until is not None
        headers = genheaders({"docsvc-sha256": info.sha256, "docsvc-size": str(info.size),
                              "docsvc-content-type": info.content_type, "Content-Type": info.content_type},
                             None, None, Retention(COMPLIANCE, info.retain_until), False)
        # S3 requires it with retention headers.
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(data).digest()).decode()
        with _s3_errors("write", name):  # one PUT: the object never exists without its retention
            self.client._put_object(self.bucket, NAMED_NAMESPACE + check_name(name), data, headers)

    def _named_versions(self, prefix: str) -> Sequence[Any]:
        with _s3_errors("list", prefix):
            return [o for o in self.client.list_objects(self.bucket, prefix=prefix, recursive=True,
                                                        include_version=True) if not o.is_delete_marker]

    def _read_named(self, name: str) -> tuple[bytes, ObjectInfo, int] | None:
        object_name = NAMED_NAMESPACE + check_name(name)
        versions = [v for v in self._named_versions(object_name) if v.object_name == object_name]
        if not versions:
            return None
        first = min(enumerate(versions), key=lambda iv: (iv[1].last_modified, -iv[0]))[1]  # newest are listed first
        with _s3_errors("read", name):
            response = self.client.get_object(self.bucket, object_name, version_id=first.version_id)
            try:
                data = response.read()
                info = _headers_info(name, response.headers, len(data), named=True)
            finally:
                response.close()
                response.release_conn()
        return data, info, len(versions)

    def _list_named(self, prefix: str) -> Iterator[str]:
        names = {v.object_name[len(NAMED_NAMESPACE):] for v in self._named_versions(NAMED_NAMESPACE + prefix)}
        yield from sorted(names)

    # ---------------------------------------------------------------- deleting and locking
    def _delete_content(self, key: str) -> None:
        self._remove_versions(key)

    def _apply_lock(self, key: str, *, retention: tuple[RetentionMode, datetime] | None = None,
                    legal_hold: bool | None = None) -> None:
        for version in self._versions(key):
            if version.is_delete_marker:
                continue
            vid = version.version_id
            with _s3_errors("lock", key):
                if retention is not None:
                    mode = COMPLIANCE if retention[0] is RetentionMode.COMPLIANCE else GOVERNANCE
                    self.client.set_object_retention(self.bucket, key, Retention(mode, retention[1]), version_id=vid)
                if legal_hold is True:
                    self.client.enable_object_legal_hold(self.bucket, key, version_id=vid)
                elif legal_hold is False:
                    self.client.disable_object_legal_hold(self.bucket, key, version_id=vid)

    # ---------------------------------------------------------------- links
    def _presign(self, key: str, info: ObjectInfo, expires: timedelta, filename: str | None,
                 now: datetime) -> str:
        headers: dict[str, str | list[str] | tuple[str]] = {"response-content-type": info.content_type}
        if filename:
            headers["response-content-disposition"] = content_disposition(filename)
        with _s3_errors("sign a link to", key):
            return self._signer.presigned_get_object(self.bucket, key, expires=expires,
                                                    response_headers=headers, request_date=now)

    # ---------------------------------------------------------------- records and leftovers
    def _write_record(self, name: str, data: bytes, *, fresh: bool = False) -> None:
        check_record_name(name)
        with _s3_errors("write", name):
            result = self.client.put_object(self.bucket, name, io.BytesIO(data), len(data),
                                            content_type="application/json")
        if not fresh:  # an old wrap (under a retired key) must not linger in an older version
            self._remove_versions(name, keep=result.version_id)

    def _read_record(self, name: str) -> bytes | None:
        check_record_name(name)
        try:
            with _s3_errors("read", name):
                response = self.client.get_object(self.bucket, name)
                try:
                    return response.read()
                finally:
                    response.close()
                    response.release_conn()
        except ObjectNotFound:
            return None

    def _list_records(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        for o in _listing(self.client.list_objects(self.bucket, prefix=prefix, recursive=True), "list records"):
            if o.object_name.startswith(("keys/", "touch/")):
                yield o.object_name, o.last_modified

    def _delete_record(self, name: str) -> None:
        self._remove_versions(check_record_name(name))

    def _stale_uploads(self, older_than: datetime) -> Iterator[SweepCandidate]:
        key_marker = upload_marker = None
        while True:
            with _s3_errors("list incomplete uploads"):
                result = self.client._list_multipart_uploads(self.bucket, key_marker=key_marker,
                                                             upload_id_marker=upload_marker)
            for upload in result.uploads:
                if upload.initiated_time is not None and upload.initiated_time < older_than:
                    yield SweepCandidate("upload", upload.object_name, upload.initiated_time,
                                         upload.upload_id or "")
            if not result.is_truncated:
                return
            key_marker, upload_marker = result.next_key_marker, result.next_upload_id_marker

    def _remove_upload(self, candidate: SweepCandidate) -> None:
        if not candidate.token:
            raise InvalidArgument("an incomplete S3 upload needs its upload id")
        with _s3_errors("abort the upload of", candidate.name):
            self.client._abort_multipart_upload(self.bucket, candidate.name, candidate.token)
