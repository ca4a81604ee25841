"""Load test: concurrent clients against gunicorn + a Celery worker on the real backends, then a
verifier checks every accepted document.

    eval "$(scripts/services.sh env)"
    .venv/bin/python bench/load.py [--clients 50] [--duration 300] [--web-workers 2]

Each client is a thread with its own connection pool, acting as the demo users: the registry
clerk receives incoming PDFs (1 page, or 20 pages one time in five; every file unique) and
registers them; anyone searches (Vietnamese words, folded or not, or a document's own code) and
opens the inbox or a document; an officer drafts, the unit head approves, the chairman signs with
his PIN (PAdES B-LT) and the clerk issues (number, seal). After ``--duration`` the clients stop and
the verifier (bench/verify.py) checks that every accepted document is stored intact (SHA-256),
indexed and searchable, and in its register with no gap or duplicate. It prints requests, errors
by status, throughput and latency percentiles per operation; exit status 1 if the verification
fails or a 5xx was answered.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import urllib3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import Stack  # noqa: E402
from bench.verify import Accepted, Verification, verify_accepted  # noqa: E402

WORDS = ["kế hoạch", "quyết định", "phòng chống thiên tai", "chuyển đổi số", "ngân sách", "cải cách hành chính",
         "tuyển dụng công chức", "giải phóng mặt bằng", "nông thôn mới", "an toàn thông tin"]
FOLDED = ["ke hoach", "quyet dinh", "thien tai", "chuyen doi so", "ngan sach", "cai cach hanh chinh"]


def unique_pdf(template: bytes) -> bytes:
    """The same PDF with a unique comment after %%EOF: another file (another SHA-256), still valid."""
    return template + f"\n% docsvc-load {uuid.uuid4().hex}\n".encode()


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    errors: list[str] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: str, status: int, seconds: float, body: Any) -> None:
        with self.lock:
            self.latencies[op].append(seconds)
            self.statuses[op][status] += 1
            if status >= 500 and len(self.errors) < 50:
                self.errors.append(f"{op}: {status} {str(body)[:200]}")

    def accept(self, a: Accepted) -> None:
        with self.lock:
            self.accepted.append(a)


class Client:
    """One simulated user session (a thread): HTTP calls timed and counted."""

    def __init__(self, url: str, tokens: dict[str, str], stats: Stats, docs: dict[str, bytes], ids: dict[str, int],
                 seed: int) -> None:
        self.url, self.tokens, self.stats, self.docs, self.ids = url, tokens, stats, docs, ids
        self.http = urllib3.PoolManager(maxsize=2, timeout=urllib3.Timeout(connect=5, read=120), retries=False)
        self.rng = random.Random(seed)

    def call(self, op: str, user: str, method: str, path: str, *, body: Any = None, fields: Any = None,
             query: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        start = time.perf_counter()
        try:
            if fields is not None:
                r = self.http.request(method, self.url + path, fields=fields, headers=headers)
            elif body is not None:
                r = self.http.request(method, self.url + path, body=json.dumps(body).encode(),
                                      headers={**headers, "Content-Type": "application/json"})
            else:
                r = self.http.request(method, self.url + path, fields=query, headers=headers)
            status, data = r.status, r.data
        except urllib3.exceptions.HTTPError as exc:
            status, data = 599, str(exc).encode()  # no answer at all: counted as a server-side failure
        self.stats.record(op, status, time.perf_counter() - start, data[:300])
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    # ------------------------------------------------------------ scenarios
    def receive(self) -> None:
        pages = "20 pages" if self.rng.random() < 0.2 else "1 page"
        pdf, code = unique_pdf(self.docs[pages]), f"lt{uuid.uuid4().hex[:10]}"
        status, doc = self.call(f"upload {pages}", "vanthu", "POST", "/api/v1/documents", fields={
            "direction": "incoming", "type": "QĐ", "subject": f"Quyết định về {self.rng.choice(WORDS)} mã {code}",
            "number_notation": f"{self.rng.randint(1, 999)}/QĐ-UBND", "issuing_body": "Ủy ban nhân dân tỉnh Lạng Sơn",
            "issued_date": "2026-11-20", "received_via": "paper", "file": ("van-ban.pdf", pdf, "application/pdf")})
        if status != 201:
            return
        accepted = Accepted(doc["id"], hashlib.sha256(pdf).hexdigest(), code)
        self.stats.accept(accepted)
        status, reg = self.call("register", "vanthu", "POST", f"/api/v1/documents/{doc['id']}/register",
                                body={"confirm_duplicate": True})
        if status == 200:
            accepted.number, accepted.register = reg["arrival_number"], "incoming"

    def search(self) -> None:
        q = self.rng.choice(WORDS + FOLDED)
        with self.stats.lock:
            known = self.rng.choice(self.stats.accepted).token if self.stats.accepted and self.rng.random() < 0.3 \
                else None
        self.call("search", self.rng.choice(["vanthu", "chutich", "chuyenvien"]), "GET", "/api/v1/search",
                  query={"q": known or q, "facets": "type,year"})

    def browse(self) -> None:
        user = self.rng.choice(["vanthu", "chutich", "truongphong", "chuyenvien"])
        self.call("inbox", user, "GET", "/api/v1/inbox")
        with self.stats.lock:
            doc = self.rng.choice(self.stats.accepted).doc_id if self.stats.accepted else None
        if doc is not None:
            self.call("document", "vanthu", "GET", f"/api/v1/documents/{doc}")

    def sign_and_issue(self) -> None:
        pdf, code = unique_pdf(self.docs["1 page"]), f"lt{uuid.uuid4().hex[:10]}"
        status, draft = self.call("draft", "chuyenvien", "POST", "/api/v1/documents", fields={
            "direction": "outgoing", "type": "QĐ", "subject": f"Quyết định ban hành {self.rng.choice(WORDS)} mã {code}",
            "file": ("du-thao.pdf", pdf, "application/pdf")})
        if status != 201:
            return
        doc_id = draft["id"]
        accepted = Accepted(doc_id, hashlib.sha256(pdf).hexdigest(), code)
        self.stats.accept(accepted)
        steps = [("submit", "chuyenvien", "submit", {"signer_id": self.ids["chutich"]}),
                 ("approve", "truongphong", "approve", {}), ("sign", "chutich", "sign", {"pin": "123456"})]
        for op, user, action, payload in steps:
            if self.call(op, user, "POST", f"/api/v1/documents/{doc_id}/{action}", body=payload)[0] != 200:
                return
        status, issued = self.call("issue", "vanthu", "POST", f"/api/v1/documents/{doc_id}/issue",
                                   body={"recipients": [{"name": "Các phòng, ban chuyên môn"}]})
        if status == 200:
            accepted.number, accepted.register = int(issued["code_number"]), "outgoing"

    def run(self, deadline: float) -> None:
        """Every scenario once (so that even a short run covers each kind of request), then a weighted
        random mix until the deadline."""
        scenarios = [(self.receive, 35), (self.search, 30), (self.browse, 20), (self.sign_and_issue, 15)]
        funcs, weights = zip(*scenarios, strict=True)
        for scenario in funcs:
            self._attempt(scenario)
        while time.monotonic() < deadline:
            self._attempt(self.rng.choices(funcs, weights)[0])

    def _attempt(self, scenario: Callable[[], None]) -> None:
        try:
            scenario()
        except Exception as exc:  # noqa: BLE001 - a client bug must not hide the rest of the run
            self.stats.record("client error", 0, 0.0, f"{type(exc).__name__}: {exc}")


@dataclass
class LoadResult:
    clients: int
    seconds: float
    stats: Stats
    verification: Verification

    @property
    def requests(self) -> int:
        return sum(sum(c.values()) for c in self.stats.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for c in self.stats.statuses.values() for s, n in c.items() if s >= 500 or s == 0)

    def report(self) -> str:
        lines = [f"load: {self.clients} clients for {self.seconds:.0f} s: {self.requests} requests "
                 f"({self.requests / self.seconds:.1f}/s), {len(self.stats.accepted)} documents accepted "
                 f"({len(self.stats.accepted) / self.seconds:.2f}/s), 5xx or no answer: {self.server_errors}",
                 "| operation | requests | statuses | p50 ms | p95 ms | p99 ms |", "|---|---:|---|---:|---:|---:|"]
        for op in sorted(self.stats.latencies):
            t = sorted(self.stats.latencies[op])
            pct = [t[min(len(t) - 1, int(len(t) * q))] * 1000 for q in (0.5, 0.95, 0.99)]
            statuses = ", ".join(f"{s}×{n}" for s, n in sorted(self.stats.statuses[op].items()))
            lines.append(f"| {op} | {len(t)} | {statuses} | {pct[0]:.0f} | {pct[1]:.0f} | {pct[2]:.0f} |")
        lines.append(self.verification.summary())
        lines += [f"  5xx: {e}" for e in self.stats.errors[:10]]
        return "\n".join(lines)


def run_load(stack: Stack, *, clients: int, duration: float, seed: int = 1) -> LoadResult:
    from tests.fixtures.pdfs import official_pdf
    docs = {"1 page": official_pdf(), "20 pages": official_pdf(pages=20)}
    http = urllib3.PoolManager()
    tokens = {}
    for user in ("vanthu", "chuyenvien", "truongphong", "chutich"):
        r = http.request("POST", f"{stack.url}/api/v1/auth/token", body=json.dumps(
            {"username": user, "password": stack.demo.password}).encode(), headers={"Content-Type": "application/json"})
        tokens[user] = json.loads(r.data)["access_token"]
    me = http.request("GET", f"{stack.url}/api/v1/me", headers={"Authorization": f"Bearer {tokens['chutich']}"})
    ids = {"chutich": json.loads(me.data)["id"]}
    stats = Stats()
    deadline = time.monotonic() + duration
    started = time.monotonic()
    threads = [threading.Thread(target=Client(stack.url, tokens, stats, docs, ids, seed + i).run, args=(deadline,))
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    verification = verify_accepted(stack.container, stats.accepted)
    return LoadResult(clients, elapsed, stats, verification)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=300, help="seconds of load")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes (8 threads each)")
    parser.add_argument("--celery-concurrency", type=int, default=2)
    args = parser.parse_args()
    with Stack.real(workers=args.web_workers, celery_concurrency=args.celery_concurrency) as stack:
        result = run_load(stack, clients=args.clients, duration=args.duration)
    print(result.report())
    print(f"logs of gunicorn and the worker: {stack.logs}")
    sys.exit(0 if result.verification.ok and not result.server_errors else 1)


if __name__ == "__main__":
    main()
