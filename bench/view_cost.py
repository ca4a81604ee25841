"""What one request of the document page or the JSON document costs, in this process: a profile
(cProfile) or instruction counts (callgrind), both repeatable on a busy machine where the
requests/s of ``bench/run.py --only api`` are not.

    .venv/bin/python bench/view_cost.py prepare var/view-cost    # demo, 30 documents, 2,000 reads of the last
    .venv/bin/python bench/view_cost.py run var/view-cost --view page --requests 200 [--profile out.prof]
    valgrind --tool=callgrind --callgrind-out-file=var/cg.%p \\
        .venv/bin/python bench/view_cost.py run var/view-cost --view api --requests 10 --callgrind

``prepare`` keeps the settings (embedded, or the real backends of the environment in a database of
their own) in ``DIR/settings.json``; ``run`` opens that deployment, signs in as the registry clerk
and sends the requests through Flask's test client after a warm-up. ``--callgrind`` zeroes callgrind's
counters before the requests and dumps them after (``callgrind_control``): the dump named
``requests`` (``var/cg.PID.1``) counts the requests only, not the start-up; its ``summary`` divided
by ``--requests`` is the instructions per request."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import FAST_HASH, env_of, real_settings  # noqa: E402

VIEWS = {"page": "/documents/{id}", "api": "/api/v1/documents/{id}"}


def prepare(data: Path, real: bool, reads: int) -> None:
    from docsvc.bootstrap import build_container
    from docsvc.services.demo import seed_demo
    from docsvc.services.setup import initialise
    from docsvc.settings import load_settings
    from docsvc.web.app import create_app
    from tests.fixtures.pdfs import official_pdf
    data = data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    settings = (real_settings(data, 0) if real else
                load_settings(environ={}, data_dir=data, public_url="http://127.0.0.1:8000",
                              ca_passphrase="bench-ca-passphrase", **FAST_HASH))
    container = build_container(settings)
    initialise(container)
    demo = seed_demo(container.identity)
    client = create_app(container=container).test_client()
    token = client.post("/api/v1/auth/token", json={"username": "vanthu", "password": demo.password}
                        ).get_json()["access_token"]
    pdf, last = official_pdf(), None
    for i in range(30):  # the inbox of bench/run.py's API benchmark
        r = client.post("/api/v1/documents", headers={"Authorization": f"Bearer {token}"}, data={
            "direction": "incoming", "type": "QĐ", "subject": f"Quyết định số {i} về kế hoạch năm 2026",
            "received_via": "paper", "file": (__import__("io").BytesIO(pdf), "van-ban.pdf", "application/pdf")})
        assert r.status_code == 201, r.get_data(as_text=True)[:300]
        last = r.get_json()["id"]
    for _ in range(reads):  # bench/run.py hammers the JSON document before its page: the reads are in its history
        assert client.get(f"/api/v1/documents/{last}", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    container.close()
    env = {k: v for k, v in env_of(settings).items() if k.startswith("DOCSVC_")}
    (data / "settings.json").write_text(json.dumps({"env": env, "password": demo.password, "document": last}))
    print(f"prepared {data} (document {last})")


def requester(data: Path, view: str, *, fresh: bool = False) -> Callable[[], Any]:
    """A function sending one request of ``view`` as the registry clerk (signed in), on the prepared
    deployment brought to this code's schema; ``fresh``: on a copy of it (embedded backends), so that
    runs compared with each other start from the same data (every read adds an audit event)."""
    from docsvc.bootstrap import build_container
    from docsvc.db.migrate import upgrade
    from docsvc.settings import load_settings
    from docsvc.web.app import create_app
    saved = json.loads((data / "settings.json").read_text())
    env = saved["env"]
    if fresh:
        copy = Path(tempfile.mkdtemp(prefix=f"{data.name}-", dir=data.parent))
        shutil.copytree(data, copy, dirs_exist_ok=True)
        atexit.register(shutil.rmtree, copy, ignore_errors=True)
        env = {k: v.replace(str(data), str(copy)) for k, v in env.items()}
    container = build_container(load_settings(environ=env))
    upgrade(container.db.engine)
    client = create_app(container=container).test_client()
    path = VIEWS[view].format(id=saved["document"])
    headers: dict[str, str] = {}
    if view == "api":
        token = client.post("/api/v1/auth/token", json={"username": "vanthu", "password": saved["password"]}
                            ).get_json()["access_token"]
        headers["Authorization"] = f"Bearer {token}"
    else:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
        assert csrf
        r = client.post("/login", data={"username": "vanthu", "password": saved["password"],
                                        "csrf_token": csrf.group(1)})
        assert r.status_code == 303, r.status_code

    def one() -> Any:
        r = client.get(path, headers=headers)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code} {r.get_data(as_text=True)[:300]}")
        return r
    return one


def callgrind(command: str, *args: str) -> None:
    """``callgrind_control`` on this process (run under ``valgrind --tool=callgrind``)."""
    subprocess.run(["callgrind_control", command, *args, str(os.getpid())], check=True, capture_output=True)


def run(data: Path, view: str, requests: int, profile: str | None, counted: bool, fresh: bool) -> None:
    one = requester(data.resolve(), view, fresh=fresh)
    for _ in range(20):  # warm-up: templates compiled, statement caches filled, token stamp written
        one()

    def loop() -> None:
        for _ in range(requests):
            one()
    start, cpu = time.perf_counter(), time.process_time()
    if profile:
        import cProfile
        cProfile.runctx("loop()", globals(), {"loop": loop}, profile)
    elif counted:
        callgrind("-z")
        loop()
        callgrind("-d", "requests")
    else:
        loop()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{view}: {requests} requests, {seconds / requests * 1000:.2f} ms each, {cpu / requests * 1000:.2f} ms "
          f"of CPU ({len(one().data)} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("data", type=Path)
    p.add_argument("--real", action="store_true", help="the real backends of the environment")
    p.add_argument("--reads", type=int, default=2000, help="reads of the document (audit events) before the runs")
    r = sub.add_parser("run")
    r.add_argument("data", type=Path)
    r.add_argument("--view", choices=sorted(VIEWS), default="page")
    r.add_argument("--requests", type=int, default=200)
    r.add_argument("--profile", help="write a cProfile of the requests to this file")
    r.add_argument("--callgrind", action="store_true", help="callgrind counts of the requests alone")
    r.add_argument("--fresh", action="store_true", help="on a copy of the prepared data (embedded backends)")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.data, args.real, args.reads)
    else:
        run(args.data, args.view, args.requests, args.profile, args.callgrind, args.fresh)


if __name__ == "__main__":
    main()
