"""Interrupted uploads leave no visible object: a failing stream, a stream that changes under the
upload, and a writer process killed mid-upload (whose leftovers the sweep then removes)."""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from storage import IntegrityError, ObjectNotFound, ObjectStore, sweep_orphans
from storage.keys import make_key
from storage.locks import utcnow
from tests.contract.storage.backends import Backend
from tests.contract.storage.sources import ChangingStream, FailingStream, GeneratedStream, MiB

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("encrypt", [False, True], ids=["plain", "encrypted"])
def test_a_stream_failing_midway_leaves_nothing(store: ObjectStore, backend: Backend, encrypt: bool) -> None:
    data = os.urandom(3 * MiB)
    with pytest.raises(ConnectionResetError):
        store.put(FailingStream(data, fail_at=2 * MiB + 17), encrypt=encrypt)
    assert list(store.list()) == [] and backend.pending_uploads() == 0
    with pytest.raises(ObjectNotFound):
        store.stat(make_key(hashlib.sha256(data).hexdigest(), encrypted=encrypt))


def test_a_non_seekable_stream_failing_midway_leaves_nothing(store: ObjectStore, backend: Backend) -> None:
    class Broken(GeneratedStream):
        def read(self, n: int = -1) -> bytes:
            if self.pos >= 5 * MiB:
                raise TimeoutError("upload stalled")
            return super().read(n)

    with pytest.raises(TimeoutError):
        store.put(Broken(9 * MiB))
    assert list(store.list()) == [] and backend.pending_uploads() == 0


def test_content_changing_during_the_upload_never_publishes_a_mismatch(store: ObjectStore, backend: Backend) -> None:
    """S3 reads a seekable source twice (hash, then send); the local store once. Either the upload
    is refused and nothing (not even an unfinished multipart upload) remains, or what is stored
    matches its key."""
    stream = ChangingStream(os.urandom(12 * MiB))
    try:
        info = store.put(stream)
    except IntegrityError:
        assert backend.read_passes == 2
        assert list(store.list()) == [] and backend.pending_uploads() == 0
    else:
        assert backend.read_passes == 1
        assert hashlib.sha256(store.get_bytes(info.key)).hexdigest() == info.sha256


WRITER = textwrap.dedent("""
    import io, json, sys, time
    from storage import open_store
    url, options, block_on_pass = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])

    class Stalls(io.BytesIO):
        passes = 1
        def seek(self, pos, whence=0):
            if self.tell() > 0:
                self.passes += 1
            return super().seek(pos, whence)
        def read(self, n=-1):
            wanted = n if n is not None and n >= 0 else 1 << 30
            if self.passes == block_on_pass and self.tell() + wanted > 17 * 1024 * 1024:
                print("STALLED", flush=True)
                time.sleep(120)
            return super().read(n)

    open_store(url, **options).put(Stalls(bytes(range(256)) * (80 * 1024)))
""")


def test_a_writer_killed_midway_leaves_nothing_visible_and_the_sweep_cleans_up(
        store: ObjectStore, backend: Backend) -> None:
    options = {k: v.decode() if isinstance(v, bytes) else v for k, v in backend.options().items()}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, backend.url, json.dumps(options), str(backend.read_passes)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline() if ready else "(no output within 60 s)"
        assert line.strip() == "STALLED", line + (proc.stderr.read() if proc.stderr and proc.poll() is not None else "")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    key = make_key(hashlib.sha256(bytes(range(256)) * (80 * 1024)).hexdigest(), encrypted=False)
    assert list(store.list()) == [] and not store.exists(key)
    assert backend.pending_uploads() >= 1  # the crash left an unfinished upload behind...

    young = sweep_orphans(store, lambda k: False, grace=timedelta(hours=1))
    if backend.name == "local":  # ...which a sweep keeps during the grace period (moto dates every upload 2010)
        assert young.leftovers_removed == [] and backend.pending_uploads() >= 1
    report = sweep_orphans(store, lambda k: False, grace=timedelta(hours=1), now=utcnow() + timedelta(hours=2))
    assert backend.pending_uploads() == 0 and len(young.leftovers_removed) + len(report.leftovers_removed) >= 1
    assert report.deleted == [] and report.errors == []
