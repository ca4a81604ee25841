"""Search benchmark: indexing rate and query latency of both adapters on synthetic Vietnamese documents.

    .venv/bin/python bench/search.py [--docs 100000] [--queries 60] [--es URL] [--extract] [--engines]
                                     [--baseline REV] [--index-dir DIR]

* generates ``--docs`` documents (subjects, ~1 KB full texts, metadata, reader tokens) from a fixed seed;
* indexes them in the embedded index (SQLite FTS5) and, with ``--es`` (default: $DOCSVC_SEARCH_URL),
  in Elasticsearch; reports documents per second;
* runs a query mix (folded, exact, phrase, prefix, filtered + faceted; for a registry clerk who reads
  most documents and an officer who reads few) and reports p50/p95 per kind and adapter;
* sends the very request body the Elasticsearch adapter builds with the bare client, alternating
  with the adapter, and reports the adapter's overhead as a ratio (Python analysis, snippets, mapping);
* ``--baseline REV`` (repeatable): the embedded adapter of another commit (``git show REV:search/``, e.g. the one
  before the relevance plan) on the same documents and queries, run alternately with this one query by
  query, so that both see the same machine load; reports both and their ratios (wall and CPU time);
* ``--index-dir DIR``: keep the embedded index files there and reuse them when they already hold
  ``--docs`` documents (iterating on the query side without re-indexing);
* ``--extract``: pypdf against poppler's ``pdftotext`` on a multi-page Vietnamese PDF;
* ``--engines``: the embedded-engine choice, SQLite FTS5 against tantivy (``pip install -e '.[engines]'``)
  running the same relevance plan (``bench/tantivy_plan.py``) on the same pre-tokenised texts and queries,
  and the adapter's bare FTS5 statement alone (``BareFts5Statement``: what FTS5 costs at the least).

It prints figures; it asserts nothing. Scratch files go to a temporary folder, the Elasticsearch
index to ``docsvc-bench-<random>`` (deleted at the end).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search import IndexDocument, Principal, SearchIndex, SearchQuery, open_index  # noqa: E402

# ------------------------------------------------------------------ synthetic documents
TYPES = [("QĐ", "Quyết định"), ("CT", "Chỉ thị"), ("TB", "Thông báo"), ("HD", "Hướng dẫn"),
         ("KH", "Kế hoạch"), ("BC", "Báo cáo"), ("TTr", "Tờ trình"), ("GM", "Giấy mời"), (None, "Công văn")]
ACTIONS = ["phê duyệt", "triển khai", "tăng cường", "kiện toàn", "ban hành", "sửa đổi, bổ sung",
           "tổ chức", "thực hiện", "điều chỉnh", "giao chỉ tiêu", "khen thưởng", "kiểm tra"]
OBJECTS = ["kế hoạch tuyển dụng công chức", "công tác phòng chống thiên tai", "chuyển đổi số",
           "quy chế làm việc", "dự toán ngân sách nhà nước", "công tác cải cách hành chính",
           "chương trình mục tiêu quốc gia", "đề án phát triển du lịch", "hoạt động thương mại biên giới",
           "công tác văn thư lưu trữ", "phòng cháy chữa cháy", "an toàn thông tin mạng",
           "giải phóng mặt bằng", "bảo vệ môi trường", "xây dựng nông thôn mới", "quản lý đất đai"]
PLACES = ["tỉnh Lạng Sơn", "huyện Cao Lộc", "cửa khẩu Đồng Đăng", "thành phố Lạng Sơn", "huyện Lộc Bình",
          "huyện Văn Quan", "xã Tân Thanh", "huyện Chi Lăng", "huyện Hữu Lũng", "huyện Tràng Định"]
BODIES = [("UBND tỉnh Lạng Sơn", "UBND"), ("Sở Nội vụ", "SNV"), ("Sở Tài chính", "STC"),
          ("Sở Kế hoạch và Đầu tư", "SKHĐT"), ("Sở Y tế", "SYT"), ("Sở Giáo dục và Đào tạo", "SGDĐT"),
          ("Công an tỉnh", "CAT"), ("Bộ Chỉ huy Quân sự tỉnh", "BCH"), ("UBND huyện Cao Lộc", "UBND"),
          ("Văn phòng Chính phủ", "VPCP"), ("Bộ Nội vụ", "BNV"), ("Sở Thông tin và Truyền thông", "STTTT")]
SENTENCES = [
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015",
    "Căn cứ Nghị định số 30/2020/NĐ-CP của Chính phủ về công tác văn thư",
    "Theo đề nghị của Giám đốc {body}",
    "Các sở, ban, ngành và Ủy ban nhân dân các huyện chịu trách nhiệm thi hành {what}",
    "Giao {body} chủ trì, phối hợp với các cơ quan liên quan {action} {what} tại {place}",
    "Kinh phí thực hiện từ nguồn ngân sách nhà nước năm {year} và các nguồn hợp pháp khác",
    "Quyết định này có hiệu lực kể từ ngày ký", "Báo cáo kết quả thực hiện trước ngày 15 tháng 12",
    "Yêu cầu thủ trưởng các cơ quan, đơn vị nghiêm túc thực hiện",
    "Trong quá trình thực hiện nếu có vướng mắc, kịp thời phản ánh về {body} để tổng hợp",
    "Tình hình {what} trên địa bàn {place} cơ bản ổn định, tuy nhiên vẫn còn một số hạn chế",
    "Đẩy mạnh ứng dụng công nghệ thông tin, bảo đảm an toàn, an ninh mạng",
]
STATUSES = ["draft", "registered", "processing", "completed", "issued", "archived"]
UNITS = 40
USERS = 400


def make_documents(n: int, seed: int = 20240601, document: Callable[..., Any] = IndexDocument) -> Iterator[Any]:
    rng = random.Random(seed)
    base = datetime(2024, 6, 1, tzinfo=UTC)
    counters: dict[tuple[int, str, str], int] = {}
    for i in range(n):
        code, type_name = rng.choice(TYPES)
        body, abbrev = rng.choice(BODIES)
        year = rng.randint(2015, 2024)
        issued = date(year, 1, 1) + timedelta(days=rng.randint(0, 364))
        what, action, place = rng.choice(OBJECTS), rng.choice(ACTIONS), rng.choice(PLACES)
        key = (year, code or "", body)
        counters[key] = number = counters.get(key, 0) + 1
        notation = f"{number:02d}/{code}-{abbrev}" if code else f"{number:02d}/{abbrev}-VP"
        sentences = [rng.choice(SENTENCES).format(body=body, what=what, action=action, place=place, year=year)
                     for _ in range(rng.randint(6, 12))]
        secrecy = rng.choices([0, 1, 2, 3], weights=[90, 6, 3, 1])[0]
        unit = rng.randrange(UNITS)
        readers = [f"unit:{unit}", f"user:{rng.randrange(USERS)}", "org:1:registry"]
        if rng.random() < 0.2:
            readers.append(f"unit:{rng.randrange(UNITS)}")
        direction = rng.choice(["incoming", "outgoing", "internal"])
        yield document(
            id=f"doc-{i:07d}", direction=direction, type_code=code, type_name=type_name, number=number,
            notation=notation, issuing_body=body, organ_id=f"000.00.{i % 100:02d}.H41",
            incoming_number=number if direction == "incoming" else None,
            subject=f"{type_name} về việc {action} {what} tại {place} năm {year}",
            full_text=". ".join(sentences) + ".", issued_date=issued, year=year,
            arrival_date=issued + timedelta(days=2) if direction == "incoming" else None,
            status=rng.choice(STATUSES), secrecy=secrecy, urgency=rng.choices([0, 1, 2, 3], [80, 12, 6, 2])[0],
            dossier_ids=[f"hs-{year}-{rng.randrange(200)}"], signer="Nguyễn Văn An", readers=readers,
            content_indexed=secrecy == 0, updated_at=base + timedelta(seconds=i))


# ------------------------------------------------------------------ query mix
CLERK = Principal("clerk", 1, frozenset({"user:1", "unit:0", "org:1:registry"}))
OFFICER = Principal("officer", 0, frozenset({"user:7", "unit:3"}))


def query_mix(rng: random.Random, per_kind: int) -> list[tuple[str, SearchQuery, Principal]]:
    from search.vietnamese import fold
    kinds: dict[str, Callable[[], SearchQuery]] = {
        "folded": lambda: SearchQuery(q=fold(f"{rng.choice(ACTIONS)} {rng.choice(OBJECTS).split()[0]}")),
        "exact": lambda: SearchQuery(q=f"{rng.choice(ACTIONS)} {rng.choice(PLACES)}"),
        "phrase": lambda: SearchQuery(q=f'"{rng.choice(OBJECTS)}"'),
        "prefix": lambda: SearchQuery(q=f"{rng.choice(OBJECTS).split()[0]} {rng.choice(PLACES).split()[-1][:3]}*"),
        "notation": lambda: SearchQuery(q=f"{rng.randint(1, 60):02d}/QĐ-UBND"),
        "filtered+faceted": lambda: SearchQuery(
            q=rng.choice(["", fold(rng.choice(OBJECTS))]), type_codes=rng.choice(TYPES)[0] or "TB",
            year=rng.randint(2015, 2024), facets=["type", "issuing_body", "year", "status", "urgency"]),
    }
    out = []
    for _ in range(per_kind):
        for kind, make in kinds.items():
            out.append((kind, make(), rng.choice([CLERK, OFFICER])))
    return out


def percentiles(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def report_latency(name: str, timings: dict[str, list[float]]) -> None:
    everything = [t for values in timings.values() for t in values]
    p50, p95 = percentiles(everything)
    print(f"  {name:<14} all queries        p50 {p50 * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms")
    for kind, values in timings.items():
        p50, p95 = percentiles(values)
        print(f"  {'':<14} {kind:<18} p50 {p50 * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms")


# ------------------------------------------------------------------ adapters
def index_all(index: SearchIndex, docs: Sequence[IndexDocument], batch: int = 1000) -> float:
    start = time.perf_counter()
    for i in range(0, len(docs), batch):
        index.upsert(docs[i:i + batch])
        done = min(i + batch, len(docs))
        if done % 20000 == 0 or done == len(docs):
            print(f"    {done} documents, {done / (time.perf_counter() - start):,.0f}/s", flush=True)
    index.refresh()
    return len(docs) / (time.perf_counter() - start)


def run_queries(index: SearchIndex, mix: list[tuple[str, SearchQuery, Principal]]) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    for _kind, query, principal in mix[:12]:
        index.search(query, principal)  # warm caches
    for kind, query, principal in mix:
        start = time.perf_counter()
        index.search(query, principal)
        timings.setdefault(kind, []).append(time.perf_counter() - start)
    return timings


def open_embedded(opener: Callable[[str], Any], path: Path, docs: Sequence[Any]) -> Any:
    """The embedded index at ``path``, indexed with ``docs`` unless it already holds that many."""
    index = opener(f"embedded:{path}")
    index.ensure_schema()
    if index.count() == len(docs):
        print(f"embedded index {path.name}: reused ({len(docs)} documents)", flush=True)
        return index
    index.clear()
    print(f"embedded index {path.name} (SQLite FTS5): indexing…", flush=True)
    rate = index_all(index, docs)
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    print(f"  embedded indexing: {rate:,.0f} docs/s, file {size / 1e6:.0f} MB")
    return index


def load_baseline(rev: str, into: Path, package: str) -> ModuleType:
    """The ``search`` package of commit ``rev``, importable as ``package`` (its imports renamed)."""
    root = Path(__file__).resolve().parent.parent
    names = subprocess.run(["git", "-C", str(root), "ls-tree", "-r", "--name-only", rev, "search/"],
                           check=True, capture_output=True, text=True).stdout.split()
    for name in names:
        if not name.endswith(".py"):
            continue
        text = subprocess.run(["git", "-C", str(root), "show", f"{rev}:{name}"], check=True, capture_output=True,
                              text=True).stdout
        target = into / package / Path(name).relative_to("search")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(re.sub(r"^(\s*)(from|import) search\b", rf"\1\2 {package}", text, flags=re.M))
    sys.path.insert(0, str(into))
    importlib.invalidate_caches()
    return importlib.import_module(package)


def convert(value: Any, cls: Callable[..., Any]) -> Any:
    """A query or principal rebuilt as the baseline's class of the same name (same constructor fields)."""
    accepted = {f.name for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    return cls(**{f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.init and f.name in accepted})


def compare_embedded(runs: dict[str, tuple[Any, list[tuple[str, Any, Any]]]]) -> None:
    """Each query on every index in turn (the order rotating), wall and CPU time; then the ratios of
    the first index to each other one."""
    names = list(runs)
    for name in names:  # warm caches
        index, mix = runs[name]
        for _kind, query, principal in mix[:12]:
            index.search(query, principal)
    wall: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    cpu: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    count = len(next(iter(runs.values()))[1])
    for i in range(count):
        for name in names[i % len(names):] + names[:i % len(names)]:
            index, mix = runs[name]
            kind, query, principal = mix[i]
            start, start_cpu = time.perf_counter(), time.process_time()
            index.search(query, principal)
            cpu[name].setdefault(kind, []).append(time.process_time() - start_cpu)
            wall[name].setdefault(kind, []).append(time.perf_counter() - start)
    for name in names:
        print(f"{name}: wall time")
        report_latency("", wall[name])
        print(f"{name}: CPU time of this process")
        report_latency("", cpu[name])
    first = names[0]
    for other in names[1:]:
        for label, table in (("wall", wall), ("CPU", cpu)):
            a50, a95 = percentiles([t for v in table[first].values() for t in v])
            b50, b95 = percentiles([t for v in table[other].values() for t in v])
            print(f"{first} / {other} ({label}): p50 {a50 * 1000:.1f} / {b50 * 1000:.1f} ms = {a50 / b50:.2f}x, "
                  f"p95 {a95 * 1000:.1f} / {b95 * 1000:.1f} ms = {a95 / b95:.2f}x")


def es_overhead(index: SearchIndex, mix: list[tuple[str, SearchQuery, Principal]]) -> None:
    from search.elastic import search_body
    client, alias = index.client, index.alias  # type: ignore[attr-defined]
    adapter_t: list[float] = []
    raw_t: list[float] = []
    for _kind, query, principal in mix:
        start = time.perf_counter()
        index.search(query, principal)
        adapter_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        client.search(index=alias, **search_body(query, principal))
        raw_t.append(time.perf_counter() - start)
    a50, a95 = percentiles(adapter_t)
    r50, r95 = percentiles(raw_t)
    print(f"  Elasticsearch adapter vs the same body sent raw ({len(mix)} queries, alternating):")
    print(f"    adapter p50 {a50 * 1000:.1f} ms p95 {a95 * 1000:.1f} ms | raw p50 {r50 * 1000:.1f} ms "
          f"p95 {r95 * 1000:.1f} ms | overhead ratio p50 {a50 / r50:.2f}x, p95 {a95 / r95:.2f}x, "
          f"total {sum(adapter_t) / sum(raw_t):.2f}x")


def bench_adapters(args: argparse.Namespace) -> None:
    print(f"generating {args.docs} documents…", flush=True)
    start = time.perf_counter()
    docs = list(make_documents(args.docs))
    chars = sum(len(d.full_text) + len(d.subject) for d in docs)
    print(f"  {time.perf_counter() - start:.1f}s, {chars / len(docs):.0f} characters of text per document")
    mix = query_mix(random.Random(7), args.queries)
    if not args.es_only:
        _bench_embedded(args, docs, mix)
    if not args.es:
        print("Elasticsearch: skipped (no --es URL and DOCSVC_SEARCH_URL unset)")
        return
    es = open_index(args.es, index=f"docsvc-bench-{uuid.uuid4().hex[:8]}")
    es.ensure_schema()
    try:
        print("Elasticsearch: indexing…", flush=True)
        rate = index_all(es, docs)
        stats = es.client.indices.stats(index=es.alias, metric="store")  # type: ignore[attr-defined]
        size = sum(i["total"]["store"]["size_in_bytes"] for i in stats["indices"].values())
        print(f"  Elasticsearch indexing: {rate:,.0f} docs/s, store {size / 1e6:.0f} MB")
        report_latency("elasticsearch", run_queries(es, mix))
        es_overhead(es, mix)
    finally:
        es.drop()  # type: ignore[attr-defined]
        es.close()


def _bench_embedded(args: argparse.Namespace, docs: list[Any], mix: list[tuple[str, Any, Any]]) -> None:
    """The embedded adapter on ``docs``, and each ``--baseline`` revision's beside it."""
    with tempfile.TemporaryDirectory(prefix="docsvc-bench-") as tmp:
        folder = Path(args.index_dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        embedded = open_embedded(open_index, folder / f"search-{len(docs)}.sqlite", docs)
        if not args.baseline:
            report_latency("embedded", run_queries(embedded, mix))
        else:
            runs: dict[str, tuple[Any, list[tuple[str, Any, Any]]]] = {"embedded": (embedded, mix)}
            for rev in args.baseline:
                tag = re.sub(r"[^0-9A-Za-z]", "_", rev)
                base = load_baseline(rev, Path(tmp), f"search_{tag}")
                base_docs = list(make_documents(args.docs, document=base.IndexDocument))
                old = open_embedded(base.open_index, folder / f"search-{tag}-{len(docs)}.sqlite", base_docs)
                runs[f"baseline {rev}"] = (old, [(kind, convert(q, base.SearchQuery), convert(p, base.Principal))
                                                 for kind, q, p in mix])
            compare_embedded(runs)
            for index, _mix in list(runs.values())[1:]:
                index.close()
        embedded.close()


# ------------------------------------------------------------------ text extraction
def bench_extract(pages: int = 60) -> None:
    import shutil
    import subprocess

    from search.extract import extract_text
    from tests.unit.search.documents import text_pdf
    rng = random.Random(3)
    page_lines = [[rng.choice(SENTENCES).format(body=rng.choice(BODIES)[0], what=rng.choice(OBJECTS),
                                                action=rng.choice(ACTIONS), place=rng.choice(PLACES), year=2024)[:95]
                   for _ in range(45)] for _ in range(pages)]
    pdf = text_pdf(page_lines)
    print(f"text extraction, {pages}-page born-digital Vietnamese PDF ({len(pdf) / 1e3:.0f} kB):")
    runs = 5
    start = time.perf_counter()
    for _ in range(runs):
        text = extract_text(pdf).text
    t_pypdf = (time.perf_counter() - start) / runs
    print(f"  pypdf      {t_pypdf * 1000:7.0f} ms/document  {pages / t_pypdf:6.0f} pages/s ({len(text)} chars)")
    if shutil.which("pdftotext") is None:
        print("  pdftotext  not installed")
        return
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(pdf)
        fh.flush()
        start = time.perf_counter()
        for _ in range(runs):
            out = subprocess.run(["pdftotext", "-enc", "UTF-8", fh.name, "-"], capture_output=True, check=True)
        t_poppler = (time.perf_counter() - start) / runs
    print(f"  pdftotext  {t_poppler * 1000:7.0f} ms/document  {pages / t_poppler:6.0f} pages/s "
          f"({len(out.stdout.decode())} chars)")
    print(f"  pypdf / pdftotext time ratio: {t_pypdf / t_poppler:.1f}x")


# ------------------------------------------------------------------ engine choice
class BareFts5Statement:
    """The embedded adapter's own FTS5 statement for a relevance search and nothing else: the plan's
    MATCH expression (``ranked_expression``) with BM25 for every matching row, top ``size + 1`` —
    no access filter, filters, total, facets, pages or highlights. The floor under what the adapter
    can cost on FTS5, whatever is done around it."""

    def __init__(self, path: Path) -> None:
        import sqlite3
        self.conn = sqlite3.connect(path)

    def search(self, query: SearchQuery, principal: Principal) -> None:
        from search.fields import search_texts
        from search.query_plan import plan_query, search_passes
        from search.sqlite_fts import BM25, ranked_expression
        plan = search_passes(plan_query(query.q))[0]
        expression = None if plan.empty else ranked_expression(plan, search_texts(principal.clearance), frozenset())
        if expression is not None:
            self.conn.execute(f"SELECT rowid, {BM25} FROM fts WHERE fts MATCH ? ORDER BY 2, 1 LIMIT ?",
                              (expression, query.size + 1)).fetchall()

    def close(self) -> None:
        self.conn.close()


def bench_engines(n: int, per_kind: int, index_dir: str = "") -> None:
    """SQLite FTS5 (the embedded adapter) against tantivy running the same relevance plan
    (``bench/tantivy_plan.py``) on the same documents, access filter and queries, alternately."""
    try:
        from bench.tantivy_plan import TantivyPlanIndex
    except ImportError:
        print("engine choice: tantivy is not installed (pip install -e '.[engines]') — skipped")
        return
    docs = list(make_documents(n))
    mix = [(k, dataclasses.replace(q, highlight=False), p) for k, q, p in query_mix(random.Random(7), per_kind)]
    print(f"engine choice on {n} documents (same plan, reader filter, filters, facets; no highlights):")
    with tempfile.TemporaryDirectory(prefix="docsvc-engines-") as tmp:
        folder = Path(index_dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        sqlite = open_embedded(open_index, folder / f"search-{n}.sqlite", docs)
        Path(tmp, "tantivy").mkdir()
        tindex = TantivyPlanIndex(str(Path(tmp, "tantivy")))
        start = time.perf_counter()
        for i in range(0, n, 5000):
            tindex.upsert(docs[i:i + 5000])
        tindex.refresh()
        size = sum(p.stat().st_size for p in Path(tmp, "tantivy").iterdir())
        print(f"  tantivy indexing: {n / (time.perf_counter() - start):,.0f} docs/s, {size / 1e6:.0f} MB "
              "(no stored texts)")
        bare = BareFts5Statement(folder / f"search-{n}.sqlite")
        compare_embedded({"tantivy": (tindex, mix), "SQLite FTS5": (sqlite, mix), "bare FTS5 statement": (bare, mix)})
        bare.close()
        sqlite.close()
        tindex.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=60, help="queries of each kind (6 kinds)")
    parser.add_argument("--es", default=os.environ.get("DOCSVC_SEARCH_URL", ""),
                        help="Elasticsearch URL (default $DOCSVC_SEARCH_URL; empty: embedded only)")
    parser.add_argument("--extract", action="store_true", help="also compare pypdf and pdftotext")
    parser.add_argument("--engines", action="store_true", help="also compare SQLite FTS5 and tantivy")
    parser.add_argument("--baseline", action="append", default=[],
                        help="git revision whose embedded adapter runs beside this one (repeatable)")
    parser.add_argument("--index-dir", default="", help="keep and reuse the embedded index files in this folder")
    parser.add_argument("--es-only", action="store_true",
                        help="Elasticsearch alone (a large run such as --docs 1000000, no embedded index)")
    args = parser.parse_args(argv)
    bench_adapters(args)
    if args.extract:
        bench_extract()
    if args.engines:
        bench_engines(args.docs, args.queries, args.index_dir)


if __name__ == "__main__":
    main()
