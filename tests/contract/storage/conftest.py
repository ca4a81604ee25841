"""Every storage contract test runs on the local store, and on S3 when DOCSVC_S3_ENDPOINT is set.

Each S3 test gets its own bucket (created with Object Lock by the store), emptied and deleted
afterwards. Versions under compliance retention cannot be deleted by anyone before it expires: the
tests only use retentions of a few seconds in compliance mode, and buckets still holding one are
retried once at the end of the session.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import KeyRing, ObjectStore
from tests.contract.storage.backends import ADAPTERS, Backend, make_backend


@pytest.fixture(scope="session")
def s3_prefix() -> str:
    return f"docsvc-st-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def keyring() -> KeyRing:
    return KeyRing.generate("k1")


@pytest.fixture(scope="session")
def locked_leftovers() -> Iterator[list[Backend]]:
    left: list[Backend] = []
    yield left
    if left:
        time.sleep(5)  # longer than any compliance retention the tests set
        for b in left:
            b.cleanup()


@pytest.fixture(params=ADAPTERS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, s3_prefix: str,
            locked_leftovers: list[Backend]) -> Iterator[Backend]:
    b = make_backend(request.param, tmp_path, s3_prefix)
    yield b
    if not b.cleanup():
        locked_leftovers.append(b)


@pytest.fixture
def store(backend: Backend, keyring: KeyRing) -> Iterator[ObjectStore]:
    s = backend.open(keyring)
    s.ensure_ready()
    yield s
    s.close()
