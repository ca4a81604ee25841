"""Engine creation with the per-dialect settings the consistency rules depend on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine. SQLite gets WAL, foreign keys, a busy timeout and ``BEGIN IMMEDIATE``
    (a write transaction takes the lock at its start, so two writers queue instead of one
    failing on lock upgrade), and a pool like PostgreSQL's: opening a SQLite connection and
    setting its pragmas cost more than most of the queries a unit of work makes (a document page
    runs several units of work). PostgreSQL's pool pre-pings; a forked worker forgets the parent's
    connections (docsvc.tasks.app)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, poolclass=QueuePool, pool_size=10, max_overflow=20,
                               connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args={"connect_timeout": 5})


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        # Read-only units of work (execution option readonly=True) begin deferred so readers
        # never queue behind writers (WAL lets them read a consistent snapshot).
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("readonly") else "BEGIN IMMEDIATE")
