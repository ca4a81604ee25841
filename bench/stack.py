"""A running docsvc stack for benchmarks and the load test: gunicorn (as docker-compose runs it)
and a Celery worker with beat, on the real backends named by the DOCSVC_* environment, each run
with its own database, bucket, index, Redis database and data folder (removed at the end).

    with Stack.real(workers=2) as stack:      # prepared like `docsvc init` + `docsvc demo`
        stack.url, stack.container, stack.settings
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import urllib3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAST_HASH = {"password_hash_memory_kib": 1024, "password_hash_time_cost": 1}  # logins are not measured


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_of(settings: Any) -> dict[str, str]:
    """This process's environment without DOCSVC_* variables, plus one per set setting, and this
    checkout first on the path: the servers start in their data folder, where ``import docsvc``
    would otherwise find the copy installed in the virtualenv (another checkout's code)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value in (None, "", ()):
            continue
        env[settings.env_name(f.name)] = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
    return env


def real_settings(data_dir: Path, port: int, **overrides: Any) -> Any:
    """Settings on the real backends of the environment, isolated: a new database on the same
    PostgreSQL server, its own bucket, index and Redis database."""
    import psycopg
    from sqlalchemy.engine import make_url

    from docsvc.settings import load_settings
    base = load_settings()
    if not base.database_url.startswith("postgresql"):
        raise SystemExit("the real backends are not configured: eval \"$(scripts/services.sh env)\"")
    suffix = uuid.uuid4().hex[:10]
    url = make_url(base.database_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                         dbname=url.database, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "docsvc_b_{suffix}"')
    broker = base.broker_url.rsplit("/", 1)[0] + f"/{8 + int(suffix[:2], 16) % 8}" if base.broker_url else ""
    return replace(base, data_dir=data_dir, database_url=url.set(database=f"docsvc_b_{suffix}")
                   .render_as_string(hide_password=False), storage_url=f"s3://docsvc-b-{suffix}",
                   search_index=f"docsvc-b-{suffix}", broker_url=broker, public_url=f"http://127.0.0.1:{port}",
                   ca_passphrase="bench-ca-passphrase", **{**FAST_HASH, **overrides})


class Stack:
    def __init__(self, settings: Any, port: int, *, workers: int = 2, threads: int = 8, celery: bool = True,
                 celery_concurrency: int = 2) -> None:
        self.settings, self.port = settings, port
        self.url = f"http://127.0.0.1:{port}"
        self.workers, self.threads = workers, threads
        self.celery, self.celery_concurrency = celery, celery_concurrency
        self.procs: list[subprocess.Popen] = []
        self.container: Any = None
        self.logs = ROOT / "var" / "bench-logs" / Path(settings.data_dir).name  # kept after cleanup

    @classmethod
    def real(cls, **kwargs: Any) -> Stack:
        port = free_port()
        data = ROOT / "var" / "bench" / uuid.uuid4().hex[:10]
        return cls(real_settings(data, port), port, **kwargs)

    def __enter__(self) -> Stack:
        self.prepare()
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.cleanup()

    def prepare(self) -> None:
        """`docsvc init` and `docsvc demo`, in this process (the container is kept for checks)."""
        from docsvc.bootstrap import build_container
        from docsvc.services.demo import enrol_demo_signers, seed_demo
        from docsvc.services.setup import initialise
        self.logs.mkdir(parents=True, exist_ok=True)
        self.container = build_container(self.settings)
        initialise(self.container)
        self.demo = seed_demo(self.container.identity)
        enrol_demo_signers(self.container.db, self.container.signatures)
        if self.settings.broker_url:
            import redis
            redis.Redis.from_url(self.settings.broker_url).flushdb()

    def start(self) -> None:
        env = env_of(self.settings)
        web = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
               "--threads", str(self.threads), "--worker-class", "gthread", "--timeout", "120",
               "--log-level", "warning", "docsvc.web.app:create_app()"]
        self.procs.append(self._spawn(web, env, "gunicorn.log"))
        if self.celery and self.settings.broker_url:
            worker = [sys.executable, "-m", "docsvc", "worker", "--beat", "--concurrency", str(self.celery_concurrency)]
            self.procs.append(self._spawn(worker, {**env, "DOCSVC_LOG_LEVEL": "WARNING"}, "worker.log"))
        http = urllib3.PoolManager()
        deadline = time.monotonic() + 60
        while True:
            try:
                if http.request("GET", f"{self.url}/health", timeout=2, retries=False).status == 200:
                    return
            except urllib3.exceptions.HTTPError:
                pass
            for p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{p.args[2]} exited; see {self.logs}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not become healthy; see {self.logs}")
            time.sleep(0.3)

    def _spawn(self, argv: list[str], env: dict[str, str], log: str) -> subprocess.Popen:
        with open(self.logs / log, "ab") as fh:
            return subprocess.Popen(argv, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=self.settings.data_dir,
                                    start_new_session=True)

    def stop(self) -> None:
        from tests.helpers import stop_process
        for p in self.procs:
            stop_process(p, timeout=30)
        self.procs.clear()

    def cleanup(self) -> None:
        """Drop what the run created: database, bucket (objects), index, data folder."""
        import psycopg
        from sqlalchemy.engine import make_url
        c = self.container
        if c is not None:
            from tests.helpers import drop_backend_data
            drop_backend_data(c)
            c.close()
        url = make_url(self.settings.database_url)
        if url.get_backend_name() != "postgresql":
            shutil.rmtree(self.settings.data_dir, ignore_errors=True)
            return
        with psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        shutil.rmtree(self.settings.data_dir, ignore_errors=True)

