"""Private instances of the real backends for the fault tests, which stop, kill and restart them.

They are started with the project's own ``scripts/services.sh`` (the same binaries, users and
options as CI's shared servers) on free ports, with their data under ``var/test-services/<id>``,
so that stopping one never disturbs the shared servers other tests and people use.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "services.sh"
NAMES = ("postgres", "redis", "elasticsearch", "s3")
S3_ACCESS_KEY, S3_SECRET_KEY = "docsvc-access", "docsvc-secret-key"  # as scripts/services.sh sets them


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int, *, companions: tuple[int, ...] = ()) -> list[int]:
    """``count`` free loopback ports; each with ``port + c`` free too for every c in ``companions``."""
    out: list[int] = []
    rng = random.Random()
    while len(out) < count:
        port = rng.randrange(20000, 40000)
        if port not in out and all(_free(port + c) for c in (0, *companions)):
            out.append(port)
    return out


class PrivateServices:
    """One private set of backend servers driven through scripts/services.sh."""

    def __init__(self) -> None:
        self.dir = ROOT / "var" / "test-services" / uuid.uuid4().hex[:10]
        pg, redis, s3 = free_ports(3)
        (es,) = free_ports(1, companions=(100,))  # Elasticsearch's transport port is http + 100
        self.ports = {"postgres": pg, "redis": redis, "elasticsearch": es, "s3": s3}
        self.started: set[str] = set()

    def _env(self) -> dict[str, str]:
        return {**{k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_SVC_")},
                "DOCSVC_SVC_DIR": str(self.dir), "DOCSVC_SVC_PG_PORT": str(self.ports["postgres"]),
                "DOCSVC_SVC_REDIS_PORT": str(self.ports["redis"]),
                "DOCSVC_SVC_ES_PORT": str(self.ports["elasticsearch"]),
                "DOCSVC_SVC_S3_PORT": str(self.ports["s3"])}

    def _run(self, action: str, name: str) -> None:
        r = subprocess.run(["bash", str(SCRIPT), action, name], env=self._env(), capture_output=True, text=True,
                           timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"services.sh {action} {name} failed: {r.stderr.strip()[-2000:]}")

    def up(self, *names: str) -> None:
        for name in names or NAMES:
            self._run("up", name)
            self.started.add(name)

    def down(self, name: str) -> None:
        """A clean stop (PostgreSQL: fast shutdown, which ends every open session)."""
        self._run("down", name)

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash or an OOM kill would do (moto then forgets every object)."""
        if name == "postgres":
            raise ValueError("stop PostgreSQL with down(): a killed postmaster leaves its backends running")
        os.kill(self._pid(name), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while self.is_up(name) and time.monotonic() < deadline:
            time.sleep(0.2)
        {"redis": self.dir / "run" / "redis.pid", "elasticsearch": self.dir / "run" / "elasticsearch.pid",
         "s3": self.dir / "run" / "s3.pid"}[name].unlink(missing_ok=True)

    def _pid(self, name: str) -> int:
        if name == "postgres":
            return int((self.dir / "postgres" / "postmaster.pid").read_text().split()[0])
        pidfile = {"redis": "redis.pid", "elasticsearch": "elasticsearch.pid", "s3": "s3.pid"}[name]
        return int((self.dir / "run" / pidfile).read_text().strip())

    def freeze(self, name: str) -> None:
        """SIGSTOP: the server keeps its port and its connections but answers nothing (a hung
        process, a stalled disk): the client's timeouts decide what happens."""
        os.kill(self._pid(name), signal.SIGSTOP)

    def thaw(self, name: str) -> None:
        os.kill(self._pid(name), signal.SIGCONT)

    def is_up(self, name: str) -> bool:
        with socket.socket() as s:
            s.settimeout(1)
            return s.connect_ex(("127.0.0.1", self.ports[name])) == 0

    def close(self) -> None:
        for name in self.started:
            with contextlib.suppress(Exception):  # best effort at teardown
                self._run("down", name)
        shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------ URLs
    @property
    def postgres_admin_url(self) -> str:
        return f"postgresql+psycopg://docsvc:docsvc@127.0.0.1:{self.ports['postgres']}/docsvc"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports['redis']}/0"

    @property
    def elasticsearch_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['elasticsearch']}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"
