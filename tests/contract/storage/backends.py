"""The adapters under contract test, and direct access to what each backend really holds (to
corrupt bytes, count unfinished uploads, and clean up) without going through the store."""

from __future__ import annotations

import io
import os
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import pytest

from storage import KeyRing, ObjectStore, open_store
from tests.helpers import remove_s3_bucket

S3_ENDPOINT = os.environ.get("DOCSVC_S3_ENDPOINT", "")
HAS_S3 = bool(S3_ENDPOINT)
S3_OPTIONS = {"endpoint": S3_ENDPOINT, "access_key": os.environ.get("DOCSVC_S3_ACCESS_KEY", ""),
              "secret_key": os.environ.get("DOCSVC_S3_SECRET_KEY", ""),
              "region": os.environ.get("DOCSVC_S3_REGION", "us-east-1")}
S3_MARKS = [pytest.mark.real_backend, pytest.mark.skipif(not HAS_S3, reason="DOCSVC_S3_ENDPOINT (S3/MinIO) is not set")]
ADAPTERS = ["local", pytest.param("s3", marks=S3_MARKS)]
URL_SECRET = b"contract-test-link-secret-0123456789"


class Backend(ABC):
    """One store location, openable with different options (another key ring...), plus raw access."""

    name: str
    read_passes: int  # how many times put reads a seekable stream

    @property
    @abstractmethod
    def url(self) -> str: ...

    @abstractmethod
    def options(self) -> dict[str, Any]:
        """Options (besides keyring) that open_store needs for this location."""

    def open(self, keyring: KeyRing | None = None, **extra: Any) -> ObjectStore:
        return open_store(self.url, keyring=keyring, **{**self.options(), **extra})

    @abstractmethod
    def raw_bytes(self, name: str) -> bytes:
        """What the backend holds under an object key or record name (ciphertext for encrypted)."""

    @abstractmethod
    def write_raw(self, key: str, data: bytes) -> None:
        """Replace an object's stored bytes behind the store's back (metadata left as it was)."""

    @abstractmethod
    def remove_raw(self, name: str) -> None: ...

    @abstractmethod
    def records_of(self, key: str) -> list[str]:
        """Names of the wrapped data key records of an encrypted object."""

    @abstractmethod
    def write_raw_record(self, name: str, data: bytes) -> None: ...

    @abstractmethod
    def backend_protects(self, key: str) -> bool:
        """Whether the backend itself resists removing the object's bytes (S3: the server refuses to
        delete a locked version; local: the content file is read-only, which stops all but root)."""

    @abstractmethod
    def pending_uploads(self) -> int:
        """Unfinished uploads the backend keeps (local temp files, S3 incomplete multipart uploads)."""

    @abstractmethod
    def stored_versions(self, key: str) -> int: ...

    def flip_byte(self, key: str, offset: int) -> None:
        data = bytearray(self.raw_bytes(key))
        data[offset] ^= 0x01
        self.write_raw(key, bytes(data))

    def cleanup(self) -> bool:
        """Remove what the test stored, as far as locks allow; True when nothing is left."""
        return True


class LocalBackend(Backend):
    name = "local"
    read_passes = 1

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def url(self) -> str:
        return f"file://{self.root}"

    def options(self) -> dict[str, Any]:
        return {"url_secret": URL_SECRET, "base_url": "https://docsvc.example"}

    def _path(self, name: str) -> Path:
        return self.root / ("objects/" + name if not name.startswith(("keys/", "touch/", "named/")) else name)

    def raw_bytes(self, name: str) -> bytes:
        return self._path(name).read_bytes()

    def write_raw(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.chmod(0o644)
        path.write_bytes(data)
        path.chmod(0o444)

    def remove_raw(self, name: str) -> None:
        self._path(name).unlink()

    def records_of(self, key: str) -> list[str]:
        folder = self.root / "keys" / key
        return sorted(f"keys/{key}/{p.name}" for p in folder.iterdir()) if folder.exists() else []

    def write_raw_record(self, name: str, data: bytes) -> None:
        self._path(name).write_bytes(data)

    def backend_protects(self, key: str) -> bool:
        return self._path(key).stat().st_mode & 0o222 == 0

    def pending_uploads(self) -> int:
        return sum(1 for _ in (self.root / "tmp").iterdir()) if (self.root / "tmp").exists() else 0

    def stored_versions(self, key: str) -> int:
        return 1 if self._path(key).exists() else 0


class S3Backend(Backend):
    name = "s3"
    read_passes = 2

    def __init__(self, bucket: str) -> None:
        from minio import Minio

        from storage.s3 import S3ObjectStore
        self.bucket = bucket
        host, secure = S3ObjectStore._parse_endpoint(S3_ENDPOINT)
        self.client = Minio(host, S3_OPTIONS["access_key"], S3_OPTIONS["secret_key"], secure=secure,
                            region=S3_OPTIONS["region"])

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}"

    def options(self) -> dict[str, Any]:
        return dict(S3_OPTIONS)

    def raw_bytes(self, name: str) -> bytes:
        response = self.client.get_object(self.bucket, name)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def write_raw(self, key: str, data: bytes) -> None:
        """A new version with the same metadata (S3 objects cannot be modified in place)."""
        st = self.client.stat_object(self.bucket, key)
        meta = {k[len("x-amz-meta-"):]: v for k, v in st.metadata.items() if k.lower().startswith("x-amz-meta-")}
        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), metadata=meta)

    def remove_raw(self, name: str) -> None:
        for version in self.client.list_objects(self.bucket, prefix=name, include_version=True, recursive=True):
            self.client.remove_object(self.bucket, name, version_id=version.version_id)

    def records_of(self, key: str) -> list[str]:
        found = self.client.list_objects(self.bucket, prefix=f"keys/{key}/", recursive=True)
        return sorted(o.object_name for o in found)

    def write_raw_record(self, name: str, data: bytes) -> None:
        self.client.put_object(self.bucket, name, io.BytesIO(data), len(data))

    def backend_protects(self, key: str) -> bool:
        from minio.error import S3Error
        try:
            self.remove_raw(key)
        except S3Error as exc:
            return exc.code == "AccessDenied"
        return False

    def pending_uploads(self) -> int:
        return len(self.client._list_multipart_uploads(self.bucket).uploads)

    def stored_versions(self, key: str) -> int:
        return sum(1 for v in self.client.list_objects(self.bucket, prefix=key, include_version=True, recursive=True)
                   if v.object_name == key and not v.is_delete_marker)

    def cleanup(self) -> bool:
        """Delete every version, lifting holds and bypassing governance; compliance-retained
        versions cannot be deleted by anyone until they expire, so their bucket stays."""
        return remove_s3_bucket(self.client, self.bucket)


def make_backend(adapter: str, tmp_path: Path, s3_prefix: str) -> Backend:
    if adapter == "local":
        return LocalBackend(tmp_path / "objects")
    return S3Backend(f"{s3_prefix}-{uuid.uuid4().hex[:10]}")
