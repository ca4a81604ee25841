"""Every benchmark, on the embedded and on the real backends, side by side with the bare library
doing the same work in the same run; one Markdown table on stdout and in bench/results/.

    eval "$(scripts/services.sh env)"     # real backends (else only the embedded ones are measured)
    .venv/bin/python bench/run.py [--quick] [--only pipeline,sign,search,api]

* upload + register, 1-page and 20-page born-digital PDFs, until indexed and searchable
  (DocumentService.create + IncomingService.register + the outbox drain, then polling search
  until every document is found), against a bare put of the same bytes (minio ``put_object`` on
  the same S3 server and bucket; a file write + fsync for the local store);
* sign + issue at PAdES B-LT (the chairman's signature with his PIN, then number, seal and
  issue), against bare pyHanko making the same two B-LT signatures (bench/signing.py);
* search p50/p95 at 10k and 100k documents (bench/search.py's corpus and query mix), against the
  same Elasticsearch request body sent with the bare client / the bare FTS5 MATCH on the same
  SQLite index;
* requests/s of the inbox and the document, as JSON (``GET /api/v1/inbox``, ``GET /api/v1/documents/{id}``)
  and as pages (``GET /work``, ``GET /documents/{id}``) under gunicorn (2
  workers x 8 threads), against
  the same gunicorn serving a bare WSGI app with a body of the same size.

* volume work (issue 16): 250 born-digital PDFs received through the batch path (metadata read,
  rows registered in one action) until searchable, against 250 single uploads; 50 documents
  batch-signed at B-LT with the PIN once, against bare pyHanko with the key loaded once; the
  reports dashboard at 100k documents, kept per reader and computed fresh.

Ratios are docsvc / bare for rates (lower = slower than bare) and docsvc / bare for latencies
(higher = slower). It asserts nothing; the machine is shared, so read ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import urllib3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import FAST_HASH, Stack, free_port, real_settings  # noqa: E402


@dataclass
class Row:
    benchmark: str
    backend: str
    ours: float
    bare: float
    unit: str
    bare_name: str
    higher_is_better: bool = True

    def cells(self) -> str:
        ratio = self.ours / self.bare if self.bare else float("nan")
        return (f"| {self.benchmark} | {self.backend} | {self.ours:,.2f} {self.unit} | {self.bare:,.2f} {self.unit} "
                f"({self.bare_name}) | {ratio:.3g} |")


HEADER = "| benchmark | backend | docsvc | bare library | docsvc / bare |\n|---|---|---:|---:|---:|"


# ------------------------------------------------------------------ a workbench (in-process)
class Bench:
    """An initialised container with the demo organisation, the signers enrolled and the internal
    CA's OCSP/CRL/TSA on a loopback server (as `docsvc init` + `docsvc demo` would leave it)."""

    def __init__(self, backend: str) -> None:
        from signing.pki_http import PkiServer
        self.pki = PkiServer()
        public = self.pki.base_url.removesuffix("/pki")
        data = ROOT / "var" / "bench" / uuid.uuid4().hex[:10]
        if backend == "real":
            # no broker: the loop below drains the outbox itself, so "indexed" is measured here
            self.settings = replace(real_settings(data, 0), public_url=public, broker_url="")
        else:
            from docsvc.settings import load_settings
            self.settings = load_settings(environ={}, data_dir=data, public_url=public,
                                          ca_passphrase="bench-ca-passphrase", **FAST_HASH)
        self.stack = Stack(self.settings, 0)
        self.stack.prepare()
        self.c = self.stack.container
        self.pki.attach(self.c.signatures.ca)
        from docsvc.tasks.app import use_container
        use_container(self.c)
        self.users = self.stack.demo.users

    def actor(self, username: str) -> Any:
        return self.c.identity.actor_for(self.users[username])

    def close(self) -> None:
        self.stack.cleanup()
        self.pki.close()


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ------------------------------------------------------------------ upload + register
def bench_pipeline(b: Bench, backend: str, counts: dict[str, int]) -> list[Row]:
    from bench.load import unique_pdf
    from docsvc.services.documents import DocumentInput, Upload
    from search import SearchQuery
    from tests.fixtures.pdfs import official_pdf
    clerk = b.actor("vanthu")
    rows = []
    for name, pages in (("1 page", 1), ("20 pages", 20)):
        template = official_pdf(pages=pages)
        n = counts[name]
        files = [unique_pdf(template) for _ in range(n)]
        batch = f"bm{uuid.uuid4().hex[:8]}"

        def ours() -> None:
            for data in files:
                view = b.c.documents.create(clerk, DocumentInput(
                    direction="incoming", type="QĐ", subject=f"Quyết định về kế hoạch cải cách mã {batch}",
                    issuing_body="Ủy ban nhân dân tỉnh Lạng Sơn", code_number="15", code_notation="QĐ-UBND",
                    received_via="paper"), Upload("van-ban.pdf", io.BytesIO(data)), [])
                b.c.incoming.register(clerk, view.data["id"], confirm_duplicate=True)
            deadline = time.monotonic() + 120
            while b.c.indexing.search(clerk, SearchQuery(q=batch, size=1, highlight=False)).total < n:
                if time.monotonic() > deadline:
                    raise RuntimeError("documents not searchable within 120 s")
                b.c.indexing.drain_all()
                time.sleep(0.05)

        t_ours = timed(ours)
        t_bare = timed(lambda: [bare_put(b, data) for data in files])
        rows.append(Row(f"upload + register, {name}, until searchable", backend, n / t_ours, n / t_bare, "docs/s",
                        "minio put_object" if backend == "real" else "file write + fsync"))
    return rows


def bare_put(b: Bench, data: bytes) -> None:
    store = b.c.store
    name = f"bare/{uuid.uuid4().hex}"
    if hasattr(store, "client"):
        store.client.put_object(store.bucket, name, io.BytesIO(data), len(data), content_type="application/pdf")
    else:
        path = Path(b.settings.data_dir) / "bare" / name.split("/")[-1]
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


# ------------------------------------------------------------------ sign + issue
def bench_sign_issue(b: Bench, backend: str, n: int, bare_setup: Any) -> list[Row]:
    from bench.signing import bare_pyhanko
    from docsvc.services.demo import DEMO_PIN
    from docsvc.services.documents import DocumentInput, Upload
    from docsvc.services.outgoing import RecipientInput
    from signing.pades import PadesLevel
    from tests.fixtures.pdfs import official_pdf
    officer, head, leader, clerk = (b.actor(u) for u in ("chuyenvien", "truongphong", "chutich", "vanthu"))
    pdf = official_pdf()
    drafts = []
    for i in range(n + 1):
        view = b.c.documents.create(officer, DocumentInput(direction="outgoing", type="QĐ",
                                                           subject=f"Quyết định ban hành số {i}"),
                                    Upload("du-thao.pdf", io.BytesIO(pdf)), [])
        b.c.approval.submit(officer, view.data["id"], signer_id=b.users["chutich"])
        b.c.approval.decide(head, view.data["id"], "approved")
        drafts.append(view.data["id"])

    def ours(doc_id: int) -> None:
        b.c.outgoing.sign(leader, doc_id, pin=DEMO_PIN)
        b.c.outgoing.issue(clerk, doc_id, recipients=[RecipientInput(name="Các phòng, ban chuyên môn")])

    def bare() -> None:
        signed = bare_pyhanko(bare_setup, pdf, PadesLevel.B_LT)
        bare_pyhanko(bare_setup, signed, PadesLevel.B_LT, bare_setup.org_key.signer(), field_name="Signature2")

    ours(drafts.pop())  # warm-up (CA opened, keys loaded, OCSP responder warm)
    bare()
    t_ours = t_bare = 0.0
    for doc_id in drafts:  # alternate: drift on the shared machine hits both alike
        t_ours += timed(lambda: ours(doc_id))
        t_bare += timed(bare)
    return [Row("sign + issue (B-LT signer + B-LT seal)", backend, n / t_ours, n / t_bare, "docs/s",
                "pyHanko, two B-LT signatures")]


# ------------------------------------------------------------------ volume work (issue 16)
def _intake_pdfs(n: int) -> list[bytes]:
    """n born-digital documents in Decree 30's layout (not secret: their content is kept)."""
    import random

    from tests.fixtures.intake_docs import born_digital
    rng, out = random.Random(16), []
    while len(out) < n:
        data, truth = born_digital(rng, len(out))
        if truth["secrecy"] == 0:
            out.append(data)
    return out


def _drain_until_searchable(b: Bench, clerk: Any, doc_ids: list[int]) -> None:
    from search import SearchQuery
    deadline = time.monotonic() + 300
    b.c.indexing.drain_all()
    with b.c.db.read() as s:
        from docsvc.db.models import Document
        probes = [s.get(Document, i).subject for i in doc_ids[-3:]]
    while not all(b.c.indexing.search(clerk, SearchQuery(q=p, size=1, highlight=False)).total for p in probes):
        if time.monotonic() > deadline:
            raise RuntimeError("documents not searchable within 300 s")
        b.c.indexing.drain_all()
        time.sleep(0.05)


def bench_batch_receive(b: Bench, backend: str, n: int) -> list[Row]:
    """n files through the batch path (metadata read from each, reviewed rows as read, registered
    in one action) against n single uploads with the six fields typed, both until searchable."""
    from docsvc.services.documents import DocumentInput, Upload
    from docsvc.services.intake.service import ReviewedRow
    clerk = b.actor("vanthu")
    batch_files, single_files = _intake_pdfs(n), [f + b"\n% single\n" for f in _intake_pdfs(n)]

    def batch() -> None:
        intake = b.c.intake.receive_many(clerk, [Upload(f"{i}.pdf", io.BytesIO(d)) for i, d in enumerate(batch_files)])
        b.c.run_batches()
        view = b.c.batches.get(clerk, intake["id"])
        rows = []
        for item in view["items"]:
            f = item["fields"]
            rows.append(ReviewedRow(item_id=item["id"], type=f.get("type") or "QĐ", subject=f.get("subject") or "?",
                                    number_notation=f.get("number_notation"), issuing_body=f.get("issuing_body", ""),
                                    confirm_duplicate=True))
        reg = b.c.intake.register_many(clerk, intake["id"], rows)
        b.c.run_batches()
        done = b.c.batches.get(clerk, reg["id"])
        _drain_until_searchable(b, clerk, [i["document_id"] for i in done["items"] if i["document_id"]])

    def single() -> None:
        ids = []
        for i, data in enumerate(single_files):
            view = b.c.documents.create(clerk, DocumentInput(
                direction="incoming", type="QĐ", subject=f"Quyết định số {i} về kế hoạch năm 2026",
                issuing_body="Ủy ban nhân dân tỉnh Lạng Sơn", code_number=str(i + 1), code_notation="QĐ-UBND",
                received_via="electronic"), Upload("van-ban.pdf", io.BytesIO(data)), [])
            b.c.incoming.register(clerk, view.data["id"], confirm_duplicate=True)
            ids.append(view.data["id"])
        _drain_until_searchable(b, clerk, ids)

    t_batch = timed(batch)
    t_single = timed(single)
    return [Row(f"receive {n} born-digital PDFs: batch (metadata read) vs single uploads, until searchable",
                backend, n / t_batch, n / t_single, "docs/s", "single uploads, fields typed")]


def bench_batch_sign(b: Bench, backend: str, n: int, bare_setup: Any) -> list[Row]:
    """n documents signed at B-LT by one batch (PIN once) against bare pyHanko signing the same n
    with the key loaded once."""
    from bench.signing import bare_pyhanko
    from docsvc.services.demo import DEMO_PIN
    from docsvc.services.documents import DocumentInput, Upload
    from signing.pades import PadesLevel
    from tests.fixtures.pdfs import official_pdf
    officer, head, leader = (b.actor(u) for u in ("chuyenvien", "truongphong", "chutich"))
    pdf = official_pdf()
    drafts = []
    for i in range(n + 1):
        view = b.c.documents.create(officer, DocumentInput(direction="outgoing", type="QĐ",
                                                           subject=f"Quyết định ký lô số {i}"),
                                    Upload("du-thao.pdf", io.BytesIO(pdf)), [])
        b.c.approval.submit(officer, view.data["id"], signer_id=b.users["chutich"])
        b.c.approval.decide(head, view.data["id"], "approved")
        drafts.append(view.data["id"])
    b.c.outgoing.sign(leader, drafts.pop(), pin=DEMO_PIN)  # warm-up (CA, key, OCSP responder)
    bare_pyhanko(bare_setup, pdf, PadesLevel.B_LT)

    def ours() -> None:
        started = b.c.batch_actions.sign_many(leader, drafts, pin=DEMO_PIN)
        b.c.batches.wait(started["id"], timeout=1800)
        view = b.c.batches.get(leader, started["id"])
        if view["failed"]:
            raise RuntimeError(f"batch signing failed: {view['items'][0]['error']}")

    t_ours = timed(ours)
    t_bare = timed(lambda: [bare_pyhanko(bare_setup, pdf, PadesLevel.B_LT) for _ in range(n)])
    return [Row(f"batch sign {n} documents at B-LT (PIN once)", backend, n / t_ours, n / t_bare, "docs/s",
                "pyHanko, key loaded once")]


def bench_dashboard(b: Bench, backend: str, size: int, rounds: int) -> list[Row]:
    """The dashboard's p95 with ``size`` incoming documents (a third with a lead assignment),
    against the bare count of the same documents (one SELECT COUNT)."""
    import random
    from datetime import timedelta

    from sqlalchemy import func, insert, select

    from bench.search import percentiles
    from docsvc.db.base import utcnow
    from docsvc.db.models import Assignment, Document, DocumentReader, DocumentType
    from docsvc.domain.access import leaders_token
    from docsvc.services.reports import summary
    leader = b.actor("chutich")
    officer = b.users["chuyenvien"]
    rng = random.Random(7)
    now = utcnow()
    with b.c.db.write() as s:
        types = list(s.execute(select(DocumentType.id)).scalars())[:10]
        first = (s.execute(select(func.max(Document.id))).scalar() or 0) + 1
        docs, readers, assigns = [], [], []
        for i in range(size):
            doc_id = first + i
            arrival = now - timedelta(days=rng.randint(0, 300), minutes=rng.randint(0, 1440))
            done = rng.random() < 0.5
            docs.append({"id": doc_id, "agency_id": leader.agency_id, "direction": "incoming",
                         "type_id": rng.choice(types), "status": "completed" if done else "assigned",
                         "subject": f"Văn bản đến số {i}", "issuing_body": "UBND tỉnh", "urgency": 0, "secrecy": 0,
                         "language": "vi", "description": "", "arrival_at": arrival, "arrival_number": i + 1,
                         "register_year": arrival.year, "content_offline": False, "current_version": 1,
                         "completed_at": arrival + timedelta(days=rng.randint(1, 20)) if done else None,
                         "created_at": arrival, "updated_at": arrival})
            readers.append({"document_id": doc_id, "token": leaders_token(leader.agency_id)})
            if i % 3 == 0:
                deadline = (arrival + timedelta(days=10)).date()
                assigns.append({"document_id": doc_id, "user_id": officer, "role": "lead", "deadline": deadline,
                                "instruction": "", "assigned_by": leader.user_id, "assigned_at": arrival,
                                "status": "done" if done else "open",
                                "completed_at": docs[-1]["completed_at"]})
        for chunk in range(0, size, 5000):
            s.execute(insert(Document), docs[chunk:chunk + 5000])
            s.execute(insert(DocumentReader), readers[chunk:chunk + 5000])
        for chunk in range(0, len(assigns), 5000):
            s.execute(insert(Assignment), assigns[chunk:chunk + 5000])
    summary.rebuild(b.c.db)  # the documents were inserted around the services, which keep the summary
    ours, bare, cold = [], [], []
    for _ in range(rounds):
        cold.append(timed(lambda: b.c.reports.dashboard(leader, fresh=True)) * 1000)  # computed now
        ours.append(timed(lambda: b.c.reports.dashboard(leader)) * 1000)  # kept DOCSVC_REPORT_CACHE_SECONDS
        with b.c.db.read() as s:
            bare.append(timed(lambda: s.execute(select(func.count()).select_from(Document).where(
                Document.agency_id == leader.agency_id)).scalar()) * 1000)
    p95_ours, p95_bare = percentiles(ours)[1], percentiles(bare)[1]
    return [Row(f"dashboard p95 at {size:,} documents (kept per reader)", backend, p95_ours, p95_bare, "ms",
                "SELECT COUNT of the same documents", higher_is_better=False),
            Row(f"dashboard computed fresh at {size:,} documents (p95)", backend,
                percentiles(cold)[1], p95_bare, "ms", "SELECT COUNT of the same documents",
                higher_is_better=False)]


# ------------------------------------------------------------------ search
def bench_search(backend: str, sizes: list[int], queries: int, cache: Path) -> list[Row]:
    from bench.search import index_all, make_documents, percentiles, query_mix
    from search import open_index
    rows = []
    mix = query_mix(random.Random(7), queries)
    for n in sizes:
        docs = list(make_documents(n))
        if backend == "real":
            index = open_index(os.environ["DOCSVC_SEARCH_URL"], index=f"docsvc-bench-{uuid.uuid4().hex[:8]}")
            index.ensure_schema()
            index_all(index, docs)
            raw = _es_raw(index)
        else:
            path = cache / f"search-{n}.sqlite"
            fresh = not path.exists()
            index = open_index(f"embedded:{path}")
            if fresh or index.count() != n:
                index.clear()
                index_all(index, docs)
            raw = _fts_raw(path)
        try:
            for _k, q, p in mix[:12]:
                index.search(q, p)
                raw(q, p)
            ours_t, raw_t = [], []
            for _k, q, p in mix:
                ours_t.append(timed(lambda: index.search(q, p)))
                raw_t.append(timed(lambda: raw(q, p)))
            (o50, o95), (r50, r95) = percentiles(ours_t), percentiles(raw_t)
            bare_name = "same body, bare elasticsearch client" if backend == "real" else "bare FTS5 MATCH"
            rows += [Row(f"search p50, {n // 1000}k documents", backend, o50 * 1000, r50 * 1000, "ms", bare_name,
                         False),
                     Row(f"search p95, {n // 1000}k documents", backend, o95 * 1000, r95 * 1000, "ms", bare_name,
                         False)]
        finally:
            if backend == "real":
                index.drop()
            index.close()
    return rows


def _es_raw(index: Any) -> Callable[[Any, Any], Any]:
    from search.elastic import search_body
    return lambda q, p: index.client.search(index=index.alias, **search_body(q, p))


def _fts_raw(path: Path) -> Callable[[Any, Any], Any]:
    """The core of the embedded search with sqlite3 alone: the FTS5 MATCH ranked by BM25, top 20
    (no access filter, facets, snippets or cursor)."""
    import sqlite3

    from search.query_text import parse_query
    from search.sqlite_fts import fts_expression
    local = threading.local()

    def run(q: Any, _p: Any) -> Any:
        if not hasattr(local, "conn"):
            local.conn = sqlite3.connect(path)
        parsed = parse_query(q.q)
        if parsed.empty:
            return local.conn.execute("SELECT rowid FROM docs LIMIT 20").fetchall()
        return local.conn.execute("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 20",
                                  (fts_expression(parsed),)).fetchall()
    return run


# ------------------------------------------------------------------ API under gunicorn
def hammer(url: str, headers: dict[str, str], seconds: float, threads: int) -> float:
    """Requests per second of ``threads`` clients sending GET ``url`` for ``seconds``."""
    done = [0] * threads
    deadline = time.monotonic() + seconds

    def client(i: int) -> None:
        http = urllib3.PoolManager(maxsize=1)
        while time.monotonic() < deadline:
            r = http.request("GET", url, headers=headers)
            if r.status != 200:
                raise RuntimeError(f"{url}: {r.status} {r.data[:200]!r}")
            done[i] += 1
    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    start = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / (time.monotonic() - start)


def bench_api(backend: str, seconds: float, threads: int) -> list[Row]:
    from tests.fixtures.pdfs import official_pdf
    if backend == "real":
        stack = Stack.real(workers=2, celery=False)
    else:
        from docsvc.settings import load_settings
        port = free_port()
        data = ROOT / "var" / "bench" / uuid.uuid4().hex[:10]
        stack = Stack(load_settings(environ={}, data_dir=data, public_url=f"http://127.0.0.1:{port}",
                                    ca_passphrase="bench-ca-passphrase", **FAST_HASH), port, workers=2)
    rows = []
    with stack:
        http = urllib3.PoolManager()
        token = json.loads(http.request("POST", f"{stack.url}/api/v1/auth/token", body=json.dumps(
            {"username": "vanthu", "password": stack.demo.password}).encode(),
            headers={"Content-Type": "application/json"}).data)["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        pdf = official_pdf()
        last = None
        for i in range(30):  # an inbox with work in it
            r = http.request("POST", f"{stack.url}/api/v1/documents", headers=auth, fields={
                "direction": "incoming", "type": "QĐ", "subject": f"Quyết định số {i} về kế hoạch năm 2026",
                "received_via": "paper", "file": ("van-ban.pdf", pdf, "application/pdf")})
            last = json.loads(r.data)["id"]
        page = page_session(http, stack.url, "vanthu", stack.demo.password)
        for name, path, headers in (("API GET /api/v1/inbox", "/api/v1/inbox", auth),
                                    ("API GET /api/v1/documents/{id}", f"/api/v1/documents/{last}", auth),
                                    ("page GET /work (my work)", "/work", page),
                                    ("page GET /documents/{id}", f"/documents/{last}", page)):
            size = len(http.request("GET", stack.url + path, headers=headers).data)
            ours = hammer(stack.url + path, headers, seconds, threads)
            bare = bare_gunicorn_rate(size, seconds, threads)
            rows.append(Row(f"{name} ({size // 1000} kB), gunicorn 2×8", backend, ours, bare, "req/s",
                            "bare WSGI app, same gunicorn"))
    return rows


def page_session(http: Any, base: str, username: str, password: str) -> dict[str, str]:
    """Sign in through the login form (CSRF token included); the session cookie as headers."""
    import re
    login = http.request("GET", f"{base}/login")
    cookie = login.headers.get("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.data.decode()).group(1)
    r = http.request("POST", f"{base}/login", fields={"username": username, "password": password,
                                                      "csrf_token": token},
                     encode_multipart=False, headers={"Cookie": cookie}, redirect=False)
    if r.status != 303:
        raise RuntimeError(f"page login failed: {r.status} {r.data[:200]!r}")
    return {"Cookie": r.headers["Set-Cookie"].split(";", 1)[0]}


def bare_gunicorn_rate(size: int, seconds: float, threads: int) -> float:
    port = free_port()
    env = {**os.environ, "BENCH_BODY_BYTES": str(size)}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                             "--threads", "8", "--worker-class", "gthread", "--log-level", "warning",
                             "bench.bare_wsgi:app"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        http = urllib3.PoolManager()
        for _ in range(100):
            try:
                http.request("GET", f"http://127.0.0.1:{port}/", retries=False)
                break
            except urllib3.exceptions.HTTPError:
                time.sleep(0.1)
        return hammer(f"http://127.0.0.1:{port}/", {}, seconds, threads)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


# ------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every benchmark")
    parser.add_argument("--only", default="pipeline,sign,search,api,volume",
                        help="volume: batch receive, batch sign, dashboard (issue 16); dashboard: that one alone")
    parser.add_argument("--embedded-only", action="store_true")
    args = parser.parse_args()
    only = set(args.only.split(","))
    q = args.quick
    counts = {"1 page": 8 if q else 40, "20 pages": 4 if q else 15}
    sizes = [2000, 10000] if q else [10000, 100000]
    backends = ["embedded"] + ([] if args.embedded_only or not os.environ.get("DOCSVC_DATABASE_URL", "")
                               .startswith("postgresql") else ["real"])
    cache = ROOT / "var" / "bench-cache"
    cache.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []

    def emit(new: list[Row]) -> None:
        rows.extend(new)
        for r in new:
            print(r.cells(), flush=True)

    print(HEADER, flush=True)
    bare_setup = None
    if only & {"sign", "volume"}:
        from bench.signing import Setup
        tmp = tempfile.TemporaryDirectory(prefix="docsvc-bench-run-")
        bare_setup = Setup(Path(tmp.name))
    for backend in backends:
        if "volume" in only:
            if bare_setup is None:
                from bench.signing import Setup
                tmp = tempfile.TemporaryDirectory(prefix="docsvc-bench-run-")
                bare_setup = Setup(Path(tmp.name))
            b = Bench(backend)
            try:
                emit(bench_batch_receive(b, backend, 25 if q else 250))
                emit(bench_batch_sign(b, backend, 5 if q else 50, bare_setup))
                emit(bench_dashboard(b, backend, 10_000 if q else 100_000, 10 if q else 40))
            finally:
                b.close()
        elif "dashboard" in only:
            b = Bench(backend)
            try:
                emit(bench_dashboard(b, backend, 10_000 if q else 100_000, 10 if q else 40))
            finally:
                b.close()
        if only & {"pipeline", "sign"}:
            b = Bench(backend)
            try:
                if "pipeline" in only:
                    emit(bench_pipeline(b, backend, counts))
                if "sign" in only:
                    emit(bench_sign_issue(b, backend, 3 if q else 10, bare_setup))
            finally:
                b.close()
        if "search" in only:
            emit(bench_search(backend, sizes, 10 if q else 40, cache))
        if "api" in only:
            emit(bench_api(backend, 5 if q else 20, 8))
    if bare_setup is not None:
        bare_setup.server.close()
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    table = "\n".join([HEADER, *(r.cells() for r in rows)])
    (out / f"run-{stamp}{'-quick' if q else ''}.md").write_text(
        f"# bench/run.py {stamp} ({'quick' if q else 'full'}; {os.cpu_count()} cores)\n\n{table}\n")
    print(f"\nwritten to bench/results/run-{stamp}{'-quick' if q else ''}.md")


if __name__ == "__main__":
    main()
