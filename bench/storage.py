"""Storage benchmark: put/get throughput of the adapters against the raw way of doing the same.

    .venv/bin/python bench/storage.py [--s3] [--endpoint URL] [--small-count 40] [--large-count 4]

* objects of 100 KB and 10 MB, fresh random bytes for every put (the store deduplicates);
* local: ``LocalObjectStore`` (hash while writing, fsync, rename, sidecar) against a raw file write
  of the same bytes with fsync; get: verified read against a plain read of the file;
* ``--s3`` (endpoint: ``--endpoint`` or $DOCSVC_S3_ENDPOINT): ``S3ObjectStore`` against the bare
  ``minio`` client on the same server and bucket (``put_object`` with the length known,
  ``get_object`` read to the end); plus the alternative upload design the adapter did not take
  (upload to a temporary key, server-side copy to the content key, delete the temporary);
* also the adapters with envelope encryption (AES-256-GCM), against the same raw baseline.

Adapter and raw runs alternate object by object so that drift hits both alike. It prints a
Markdown table of MB/s and adapter/raw ratios; it asserts nothing. Scratch files go to a temporary
folder, S3 objects to a bucket ``docsvc-bench-<random>`` deleted at the end.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage import KeyRing, ObjectStore, open_store  # noqa: E402

T = TypeVar("T")
SIZES = {"100 KB": 100 * 1000, "10 MB": 10 * 1000 * 1000}
READ_CHUNK = 1024 * 1024


@dataclass
class Timer:
    """Accumulated bytes and seconds of one kind of operation."""

    seconds: float = 0.0
    nbytes: int = 0

    def time(self, nbytes: int, op: Callable[[], T]) -> T:
        start = time.perf_counter()
        result = op()
        self.seconds += time.perf_counter() - start
        self.nbytes += nbytes
        return result

    @property
    def mb_s(self) -> float:
        return self.nbytes / self.seconds / 1e6 if self.seconds else 0.0


@dataclass
class Row:
    backend: str
    size: str
    op: str
    adapter: Timer = field(default_factory=Timer)
    raw: Timer = field(default_factory=Timer)


def drain(stream: Any) -> None:
    while stream.read(READ_CHUNK):
        pass


def store_put(store: ObjectStore, data: bytes, encrypt: bool) -> str:
    return store.put(io.BytesIO(data), encrypt=encrypt).key


def store_read(store: ObjectStore, key: str) -> None:
    with store.open(key) as reader:
        drain(reader)


# ------------------------------------------------------------------ local
def file_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def file_read(path: Path) -> None:
    with open(path, "rb") as fh:
        drain(fh)


def local_rows(root: Path, counts: dict[str, int], encrypt: bool) -> list[Row]:
    store = open_store(f"file://{root / 'store'}", keyring=KeyRing.generate())
    (root / "raw").mkdir(parents=True, exist_ok=True)
    label = "local" + (" encrypted" if encrypt else "")
    rows = []
    for size_name, size in SIZES.items():
        put, get = Row(label, size_name, "put"), Row(label, size_name, "get")
        for i in range(counts[size_name]):
            data = os.urandom(size)
            raw_path = root / "raw" / f"{size}-{i}-{encrypt}"
            key = put.adapter.time(size, partial(store_put, store, data, encrypt))
            put.raw.time(size, partial(file_write, raw_path, data))
            get.adapter.time(size, partial(store_read, store, key))
            get.raw.time(size, partial(file_read, raw_path))
        rows += [put, get]
    return rows


# ------------------------------------------------------------------ S3
def raw_put(client: Any, bucket: str, name: str, data: bytes) -> None:
    client.put_object(bucket, name, io.BytesIO(data), len(data))


def raw_read(client: Any, bucket: str, name: str) -> None:
    response = client.get_object(bucket, name)
    try:
        drain(response)
    finally:
        response.close()
        response.release_conn()


def tmp_then_copy(client: Any, bucket: str, name: str, data: bytes) -> None:
    """The design not taken: upload under a temporary key, copy it server-side to the content key
    once the digest is known, delete the temporary (every version: the bucket is versioned)."""
    from minio.commonconfig import CopySource
    tmp = f"tmp/{uuid.uuid4().hex}"
    client.put_object(bucket, tmp, io.BytesIO(data), len(data))
    client.copy_object(bucket, name, CopySource(bucket, tmp))
    for v in client.list_objects(bucket, prefix=tmp, include_version=True):
        client.remove_object(bucket, tmp, version_id=v.version_id)


def s3_rows(endpoint: str, access: str, secret: str, region: str, counts: dict[str, int]) -> list[Row]:
    bucket = f"docsvc-bench-{uuid.uuid4().hex[:8]}"
    store = open_store(f"s3://{bucket}", endpoint=endpoint, access_key=access, secret_key=secret, region=region,
                       keyring=KeyRing.generate())
    store.ensure_ready()
    client = store.client  # type: ignore[attr-defined]  # the adapter's own client: same pool, same server
    rows: list[Row] = []
    try:
        for size_name, size in SIZES.items():
            for label, encrypt in (("s3", False), ("s3 encrypted", True)):
                put, get = Row(label, size_name, "put"), Row(label, size_name, "get")
                for i in range(counts[size_name]):
                    data, raw_name = os.urandom(size), f"raw/{size}-{i}-{encrypt}"
                    key = put.adapter.time(size, partial(store_put, store, data, encrypt))
                    put.raw.time(size, partial(raw_put, client, bucket, raw_name, data))
                    get.adapter.time(size, partial(store_read, store, key))
                    get.raw.time(size, partial(raw_read, client, bucket, raw_name))
                rows += [put, get]
            design = Row("s3 tmp key + server copy", size_name, "put")
            for i in range(counts[size_name]):
                copied = f"copied/{size}-{i}"
                design.adapter.time(size, partial(tmp_then_copy, client, bucket, copied, os.urandom(size)))
                design.raw.time(size, partial(raw_put, client, bucket, f"raw/{size}-{i}", os.urandom(size)))
            rows.append(design)
    finally:
        for v in list(client.list_objects(bucket, include_version=True, recursive=True)):
            client.remove_object(bucket, v.object_name, version_id=v.version_id)
        client.remove_bucket(bucket)
        store.close()
    return rows


# ------------------------------------------------------------------ report
def print_table(rows: list[Row]) -> None:
    print("| backend | object | op | adapter MB/s | raw MB/s | adapter / raw |")
    print("|---|---|---|---:|---:|---:|")
    for r in rows:
        ratio = r.adapter.mb_s / r.raw.mb_s if r.raw.mb_s else 0.0
        print(f"| {r.backend} | {r.size} | {r.op} | {r.adapter.mb_s:,.1f} | {r.raw.mb_s:,.1f} | {ratio:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--s3", action="store_true", help="also benchmark S3 (endpoint from --endpoint or env)")
    parser.add_argument("--endpoint", default=os.environ.get("DOCSVC_S3_ENDPOINT", ""))
    parser.add_argument("--small-count", type=int, default=40, help="100 KB objects per measurement")
    parser.add_argument("--large-count", type=int, default=4, help="10 MB objects per measurement")
    args = parser.parse_args()
    counts = {"100 KB": args.small_count, "10 MB": args.large_count}

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="docsvc-bench-") as folder:
        for encrypt in (False, True):
            rows += local_rows(Path(folder), counts, encrypt)
    if args.s3:
        if not args.endpoint:
            parser.error("--s3 needs --endpoint or DOCSVC_S3_ENDPOINT")
        rows += s3_rows(args.endpoint, os.environ.get("DOCSVC_S3_ACCESS_KEY", ""),
                        os.environ.get("DOCSVC_S3_SECRET_KEY", ""), os.environ.get("DOCSVC_S3_REGION", "us-east-1"),
                        counts)
    print("raw baselines: local = write + fsync of the same bytes / plain read; "
          "s3 = bare minio put_object / get_object on the same server and bucket")
    print_table(rows)


if __name__ == "__main__":
    main()
