"""open_store: URLs and options."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import ConfigurationError, KeyRing, ObjectStore, open_store
from storage.local import LocalObjectStore
from storage.s3 import S3ObjectStore


def test_file_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = open_store(f"file://{tmp_path}/objects")
    assert isinstance(absolute, LocalObjectStore) and absolute.root == tmp_path / "objects"
    monkeypatch.chdir(tmp_path)
    relative = open_store("file://var/objects", keyring=KeyRing.generate(), url_secret=b"x" * 16, base_url="http://a")
    assert isinstance(relative, LocalObjectStore) and relative.root == tmp_path / "var" / "objects"
    assert isinstance(relative, ObjectStore)
    monkeypatch.chdir("/")
    assert relative.root == tmp_path / "var" / "objects"  # resolved once, at opening


def test_s3_urls() -> None:
    store = open_store("s3://docsvc-files", endpoint="http://127.0.0.1:9000", access_key="a", secret_key="b",
                       region="us-east-1", keyring=KeyRing.generate())
    assert isinstance(store, S3ObjectStore) and store.bucket == "docsvc-files" and isinstance(store, ObjectStore)
    assert S3ObjectStore._parse_endpoint("https://minio.internal:9000/") == ("minio.internal:9000", True)
    assert S3ObjectStore._parse_endpoint("minio.internal:9000") == ("minio.internal:9000", True)


@pytest.mark.parametrize("url, options", [
    ("", {}), ("file://", {}), ("ftp://x", {}),
    ("s3://Bad_Bucket", {"endpoint": "http://h", "access_key": "a", "secret_key": "b"}),
    ("s3://bucket", {}), ("s3://bucket", {"endpoint": "http://h:1/path", "access_key": "a", "secret_key": "b"}),
    ("s3://bucket", {"endpoint": "http://h:1", "access_key": "a", "secret_key": "b", "part_size": 1024}),
    ("file:///tmp/x", {"endpoint": "http://h:1"}), ("file:///tmp/x", {"keyring": "k1:abc"}),
    ("file:///tmp/x", {"url_secret": b"short"}),
])
def test_bad_urls_and_options(url: str, options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        open_store(url, **options)
