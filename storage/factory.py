"""Open an object store from a URL: the one place that knows the adapters."""

from __future__ import annotations

import re
from typing import Any

from storage.errors import ConfigurationError
from storage.port import ObjectStore

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def open_store(url: str, **options: Any) -> ObjectStore:
    """``file://<folder>`` -> ``LocalObjectStore`` (relative folders are relative to the current
    directory; options: keyring, url_secret, base_url, chunk_size);
    ``s3://<bucket>`` -> ``S3ObjectStore`` (options: endpoint, access_key, secret_key, region, secure,
    keyring, part_size, parallel_uploads, connect_timeout, read_timeout, retries, spool_dir)."""
    if not isinstance(url, str) or not url:
        raise ConfigurationError("the object store URL is empty")
    if url.startswith("file://"):
        path = url.removeprefix("file://")
        if not path:
            raise ConfigurationError(f"the store URL {url!r} needs a folder")
        from storage.local import LocalObjectStore
        return _construct(LocalObjectStore, url, path, **options)
    if url.startswith("s3://"):
        bucket = url.removeprefix("s3://").rstrip("/")
        if not _BUCKET.fullmatch(bucket) or ".." in bucket:
            raise ConfigurationError(f"{url!r}: expected s3://<bucket> (3-63 lowercase letters, digits, dots, dashes)")
        for required in ("endpoint", "access_key", "secret_key"):
            if not options.get(required):
                raise ConfigurationError(f"an s3:// store needs the {required!r} option")
        from storage.s3 import S3ObjectStore
        return _construct(S3ObjectStore, url, bucket=bucket, **options)
    raise ConfigurationError(f"unknown object store URL {url!r}: expected file://<folder> or s3://<bucket>")


def _construct(cls: type, url: str, *args: Any, **options: Any) -> ObjectStore:
    try:
        return cls(*args, **options)  # type: ignore[no-any-return]
    except TypeError as exc:
        raise ConfigurationError(f"bad option for {url!r}: {exc}") from None
