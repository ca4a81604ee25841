"""The reports dashboard computed fresh (no kept copy), before and after a change, side by side in one run.

    .venv/bin/python bench/dashboard.py --size 100000 [--rounds 20] [--before <git rev>]
    eval "$(scripts/services.sh env)"; .venv/bin/python bench/dashboard.py --real ...   # PostgreSQL

The data set (an agency with ``size`` documents: incoming ones registered through the year with
lead, co-handling and re-assigned assignments to officers and units, some past their deadline,
issued outgoing ones, a few secret ones, and a sister agency's documents) is built once per size
and reused: under ``var/bench-cache/dashboard-<size>/`` on SQLite, as a PostgreSQL database
``docsvc_dashboard_speed_<size>`` kept on the server (``--drop`` removes it at the end).

With ``--before REV`` the dashboard module of git revision REV runs against a copy of the data at
that revision's schema (``--before-schema``, default 0016: without the report indexes of 0017), and the
current module against the data at the current head, alternating round by round; the table
gives the p50/p95 of each, for the leader (reads everything) and for a unit head (reads little).
It asserts that both give the same figures (apart from ``computed_at``), and that the current
dashboard (from the reports summary, built on first use as ``docsvc init`` does) equals the current
row counting. A second table gives what keeping the summary costs one write transaction (the same
write on the copy without the summary and on the current data, alternating).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import shutil
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAST_HASH = {"password_hash_memory_kib": 1024, "password_hash_time_cost": 1}  # logins are not measured

SISTER_SHARE = 0.1  # documents of the sister agency (never counted in ours)


def seed(c: Any, users: dict[str, int], size: int, rng: random.Random) -> None:
    """Insert ``size`` documents of the demo commune (and a tenth as many of the sister agency)
    with their reader tokens and assignments, as the services would have left them."""
    from sqlalchemy import func, insert, select

    from docsvc.db.base import utcnow
    from docsvc.db.models import Assignment, Document, DocumentReader, DocumentType, Organisation, User
    from docsvc.domain.access import leaders_token, registry_token, unit_token, user_token
    now = utcnow()
    with c.db.write() as s:
        agency = s.execute(select(User.agency_id).where(User.id == users["chutich"])).scalar_one()
        sister = s.execute(select(User.agency_id).where(User.id == users["snv.giamdoc"])).scalar_one()
        units = list(s.execute(select(Organisation.id).where(Organisation.parent_id == agency)).scalars())
        types_ = list(s.execute(select(DocumentType.id)).scalars())[:12]
        first = (s.execute(select(func.max(Document.id))).scalar() or 0) + 1
        first_a = (s.execute(select(func.max(Assignment.id))).scalar() or 0) + 1
        officers = [users["chuyenvien"], users["truongphong"], users["vanthu"]]
        docs: list[dict[str, Any]] = []
        readers: list[dict[str, Any]] = []
        assigns: list[dict[str, Any]] = []
        number = 0
        for i in range(size + int(size * SISTER_SHARE)):
            doc_id = first + i
            ours = i < size
            ag = agency if ours else sister
            created = now - timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 1440))
            secrecy = rng.choice((1, 1, 2, 3)) if rng.random() < 0.03 else 0
            tokens = {registry_token(ag), leaders_token(ag)}
            row: dict[str, Any] = {
                "id": doc_id, "agency_id": ag, "type_id": rng.choice(types_), "subject": f"Văn bản số {i}",
                "issuing_body": "UBND tỉnh", "urgency": rng.choice((0, 0, 0, 1, 2)), "secrecy": secrecy,
                "language": "vi", "description": "", "content_offline": bool(secrecy), "current_version": 1,
                "created_at": created, "updated_at": created, "register_year": created.year,
                "code_number": f"{i % 999 + 1:02d}", "code_notation": "QĐ-UBND"}
            if rng.random() < 0.8:  # incoming
                number += 1
                done = rng.random() < 0.55
                row.update(direction="incoming", arrival_at=created, arrival_number=number,
                           status="completed" if done else rng.choice(("registered", "assigned", "in_progress")),
                           completed_at=created + timedelta(days=rng.randint(1, 25), hours=rng.randint(0, 23))
                           if done else None)
                if row["status"] != "registered" and rng.random() < 0.7:
                    lead_user = rng.random() < 0.6
                    target = {"user_id": rng.choice(officers), "unit_id": None} if lead_user else \
                        {"user_id": None, "unit_id": rng.choice(units)}
                    deadline = (created + timedelta(days=rng.choice((5, 10, 15, 30)))).date()
                    a_done = done and rng.random() < 0.95
                    status = "done" if a_done else "open"
                    if not lead_user and rng.random() < 0.3:  # the unit head re-assigned it to an officer
                        assigns.append({"id": first_a + len(assigns), "document_id": doc_id, "role": "lead",
                                        **target, "deadline": deadline, "instruction": "",
                                        "assigned_by": users["chutich"], "assigned_at": created,
                                        "status": "reassigned", "completed_at": None})
                        tokens.add(unit_token(target["unit_id"]))
                        target = {"user_id": rng.choice(officers), "unit_id": None}
                    assigns.append({"id": first_a + len(assigns), "document_id": doc_id, "role": "lead", **target,
                                    "deadline": deadline, "instruction": "", "assigned_by": users["chutich"],
                                    "assigned_at": created, "status": status,
                                    "completed_at": row["completed_at"] - timedelta(days=rng.randint(0, 1))
                                    if a_done else None})
                    tokens.add(user_token(target["user_id"]) if target["user_id"] else unit_token(target["unit_id"]))
                    if rng.random() < 0.3:
                        co = rng.choice(units)
                        assigns.append({"id": first_a + len(assigns), "document_id": doc_id, "role": "co",
                                        "user_id": None, "unit_id": co, "deadline": deadline, "instruction": "",
                                        "assigned_by": users["chutich"], "assigned_at": created, "status": "open",
                                        "completed_at": None})
                        tokens.add(unit_token(co))
            else:  # outgoing, issued or still a draft
                issued = rng.random() < 0.8
                row.update(direction="outgoing", status=rng.choice(("issued", "issued", "recalled")) if issued
                           else "draft", issued_date=created.date() if issued else None,
                           created_by=rng.choice(officers), drafting_unit_id=rng.choice(units))
                tokens = tokens if issued else {user_token(row["created_by"])}
            docs.append(row)
            readers.extend({"document_id": doc_id, "token": t} for t in sorted(tokens))
        for key in ("arrival_at", "arrival_number", "completed_at", "issued_date", "created_by", "drafting_unit_id"):
            for row in docs:
                row.setdefault(key, None)
        for chunk in range(0, len(docs), 5000):
            s.execute(insert(Document), docs[chunk:chunk + 5000])
        for chunk in range(0, len(readers), 5000):
            s.execute(insert(DocumentReader), readers[chunk:chunk + 5000])
        for chunk in range(0, len(assigns), 5000):
            s.execute(insert(Assignment), assigns[chunk:chunk + 5000])


def settings_for(size: int, real: bool) -> Any:
    from docsvc.settings import load_settings
    data = ROOT / "var" / "bench-cache" / f"dashboard-{size}{'-pg' if real else ''}"
    settings = load_settings(environ={}, data_dir=data, ca_passphrase="bench-ca-passphrase", **FAST_HASH)
    if real:
        from dataclasses import replace

        from sqlalchemy.engine import make_url
        base = load_settings()
        if not base.database_url.startswith("postgresql"):
            raise SystemExit("PostgreSQL is not configured: eval \"$(scripts/services.sh env)\"")
        settings = replace(settings, database_url=make_url(base.database_url).set(
            database=f"docsvc_dashboard_speed_{size}").render_as_string(hide_password=False))
    return settings


def pg_admin(url: str, *statements: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url
    u = make_url(url)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password, dbname="postgres",
                         autocommit=True) as conn:
        for st in statements:
            conn.execute(st)


def build(size: int, real: bool, rebuild: bool = False) -> tuple[Any, dict[str, int]]:
    """The container over the data set of ``size`` documents, built the first time (and its reports
    summary built then, when the schema has none yet, or with ``rebuild``)."""
    from sqlalchemy import select

    from docsvc.bootstrap import build_container
    from docsvc.db.models import User
    from docsvc.services.demo import seed_demo
    from docsvc.services.setup import initialise
    settings = settings_for(size, real)
    marker = Path(settings.data_dir) / "seeded"
    if not marker.exists():
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        Path(settings.data_dir).mkdir(parents=True)
        if real:
            from sqlalchemy.engine import make_url
            name = make_url(settings.database_url).database
            pg_admin(settings.database_url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        c = build_container(settings)
        initialise(c)
        users = seed_demo(c.identity).users
        started = time.perf_counter()
        seed(c, users, size, random.Random(7))
        print(f"built {size:,} documents in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        marker.write_text("ok")
        rebuild = True  # inserted around the services, which keep the summary
    c = build_container(settings)
    from docsvc.db import migrate
    from docsvc.services.reports import summary
    migrate.upgrade(c.db.engine)
    with c.db.read() as s:
        users = dict(s.execute(select(User.username, User.id)).all())
        ready = summary.is_ready(s)
    if rebuild or not ready:  # as `docsvc init` (or `docsvc reports rebuild-summary`) does
        started = time.perf_counter()
        counted = summary.rebuild(c.db)
        print(f"summary rebuilt from {counted:,} documents in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return c, users


def before_copy(c: Any, revision: str) -> Any:
    """A Database over a copy of the data set at schema ``revision``."""
    from docsvc.db import migrate
    from docsvc.db.engine import make_engine
    from docsvc.db.uow import Database
    url = c.settings.database_url
    if url.startswith("sqlite"):
        src = Path(url.removeprefix("sqlite:///"))
        dst = src.with_name("before.sqlite")
        c.db.dispose()
        shutil.copyfile(src, dst)
        copy_url = f"sqlite:///{dst}"
    else:
        from sqlalchemy.engine import make_url
        u = make_url(url)
        c.db.dispose()
        name = f"{u.database}_before"
        # a template must have no session: end this process's own (its pools reconnect)
        pg_admin(url, f'DROP DATABASE IF EXISTS "{name}"', "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 f"WHERE datname = '{u.database}' AND pid <> pg_backend_pid()",
                 f'CREATE DATABASE "{name}" TEMPLATE "{u.database}"')
        copy_url = u.set(database=name).render_as_string(hide_password=False)
    db = Database(make_engine(copy_url))
    migrate.downgrade(db.engine, revision)
    return db


def old_module(rev: str) -> types.ModuleType:
    src = subprocess.run(["git", "show", f"{rev}:docsvc/services/reports/dashboard.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("dashboard_before", loader=None)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    exec(compile(src, f"{rev}:dashboard.py", "exec"), mod.__dict__)  # noqa: S102 - our own code at REV
    return mod


def p(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def actor_year() -> int:
    from docsvc.timeutil import vn_today
    return vn_today().year


def figures(d: Any) -> dict[str, Any]:
    out = d.to_dict()
    out.pop("computed_at")
    return out


def write_cost(after: Any, before: Any, rounds: int) -> None:
    """What keeping the summary costs a write: the same one-document write transaction (an incoming
    document's lead assignment completed, then reopened) on the data without the summary (no hook)
    and with it, alternating."""
    from sqlalchemy import select

    from docsvc.db.base import utcnow
    from docsvc.db.models import Assignment
    with after.read() as s:
        ids = list(s.execute(select(Assignment.id).where(Assignment.role == "lead", Assignment.status == "open")
                             .order_by(Assignment.id).limit(rounds)).scalars())
    times: dict[str, list[float]] = {"before": [], "after": []}
    for assignment_id in ids:
        for name, db in (("before", before), ("after", after)):
            for status in ("done", "open"):
                started = time.perf_counter()
                with db.write() as s:
                    a = s.get(Assignment, assignment_id)
                    a.status, a.completed_at = status, utcnow() if status == "done" else None
                times[name].append((time.perf_counter() - started) * 1000)
    print("\n| one write (complete or reopen an assignment) | p50 ms | p95 ms |\n|---|---:|---:|")
    for name, t in times.items():
        print(f"| {name} | {statistics.median(t):.1f} | {p(t, 0.95):.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--before", help="git revision whose dashboard module is measured beside the current one")
    parser.add_argument("--before-schema", default="0016", help="schema revision of the data the old code reads")
    parser.add_argument("--real", action="store_true", help="on PostgreSQL (DOCSVC_DATABASE_URL)")
    parser.add_argument("--drop", action="store_true", help="drop the PostgreSQL databases at the end")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the reports summary of a kept data set")
    args = parser.parse_args()
    from docsvc.services.reports.dashboard import ReportService
    c, users = build(args.size, args.real, args.rebuild)
    if args.real:
        with c.db.engine.begin() as conn:
            from sqlalchemy import text
            conn.execute(text("ANALYZE"))
    leader = c.identity.actor_for(users["chutich"])
    head = c.identity.actor_for(users["truongphong"])
    runs: dict[str, Callable[..., Any]] = {"after": ReportService(c.db, cache_seconds=0).dashboard}
    db = None
    if args.before:
        db = before_copy(c, args.before_schema)
        if args.real:
            with db.engine.begin() as conn:
                from sqlalchemy import text
                conn.execute(text("ANALYZE"))
        runs = {"before": old_module(args.before).ReportService(db, cache_seconds=0).dashboard, **runs}
    backend = "PostgreSQL" if args.real else "SQLite"
    print(f"| dashboard fresh, {args.size:,} documents, {backend} | reader | p50 ms | p95 ms |\n|---|---|---:|---:|")
    for who, actor in (("leader", leader), ("unit head", head)):
        times: dict[str, list[float]] = {k: [] for k in runs}
        results: dict[str, Any] = {}
        for name, fn in runs.items():  # warm-up (and the figures compared)
            results[name] = figures(fn(actor, fresh=True))
        if "before" in results and results["before"] != results["after"]:
            raise SystemExit(f"the figures differ for the {who}")
        rows = ReportService(c.db, cache_seconds=0).count_rows(actor, year=actor_year())
        if figures(rows) != results["after"]:
            raise SystemExit(f"the summary and the row counting differ for the {who}")
        for _ in range(args.rounds):
            for name, fn in runs.items():
                started = time.perf_counter()
                fn(actor, fresh=True)
                times[name].append((time.perf_counter() - started) * 1000)
        for name, t in times.items():
            print(f"| {name} | {who} | {statistics.median(t):,.0f} | {p(t, 0.95):,.0f} |", flush=True)
    if db is not None:
        write_cost(c.db, db, args.rounds)
    if args.drop and args.real:
        from sqlalchemy.engine import make_url
        name = make_url(c.settings.database_url).database
        c.db.dispose()
        if db is not None:
            db.dispose()
        pg_admin(c.settings.database_url, f'DROP DATABASE IF EXISTS "{name}_before"',
                 f'DROP DATABASE IF EXISTS "{name}"')
        shutil.rmtree(c.settings.data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
