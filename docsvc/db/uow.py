"""Units of work: one transaction per use case, with hooks that run only after commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from docsvc.errors import BackendUnavailable

AfterCommit = Callable[[], None]

#: ``session.info`` key, true on the sessions of ``Database.read()``: they write nothing and last one
#: request at most, so what a read transaction works out once (e.g. "may this actor read document
#: N") may be kept for its later questions (:func:`read_memo`), and dies with it.
READ_ONLY = "read_only"


class Database:
    """Owns the engine and opens sessions. ``write()`` and ``read()`` are the only entry points
    (``shared_read()`` lets the ``read()`` calls of one page share a transaction)."""

    def __init__(self, engine: Engine, session_info: Mapping[str, object] | None = None) -> None:
        """``session_info`` is copied into every session's ``info`` (e.g. the audit keys that
        ``docsvc.services.audit.record`` needs, so no use case has to pass them along)."""
        self.engine = engine
        info = dict(session_info or {})
        self._writer = sessionmaker(bind=engine, expire_on_commit=False, info=info)
        self._reader = sessionmaker(bind=engine.execution_options(readonly=True), expire_on_commit=False,
                                    info={**info, READ_ONLY: True})
        self._shared: ContextVar[Session | None] = ContextVar(f"docsvc_shared_read_{id(self)}", default=None)

    def listen(self, identifier: str, fn: Callable[..., object]) -> None:
        """Listen to a session event on the sessions this database opens (idempotent)."""
        for factory in (self._writer, self._reader):
            if not event.contains(factory, identifier, fn):
                event.listen(factory, identifier, fn)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A read-write transaction: committed when the block ends, rolled back on any error.
        Callables appended to ``session.info['after_commit']`` run after a successful commit."""
        with _translate_outage():
            session = self._writer()
            session.info["after_commit"] = []
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        for hook in session.info["after_commit"]:
            hook()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (the ``shared_read()`` one when inside it)."""
        shared = self._shared.get()
        if shared is not None:
            yield shared
            return
        with _translate_outage():
            session = self._reader()
            try:
                yield session
            finally:
                session.close()  # ends the transaction; loaded objects stay readable (detached)

    @contextmanager
    def shared_read(self) -> Iterator[None]:
        """One read transaction for every ``read()`` inside the block (in this thread or task).

        A page that asks several services (each checking access itself) then costs one
        transaction instead of one per box, and its boxes see one snapshot. ``write()`` is not
        affected: a write inside the block has its own transaction."""
        if self._shared.get() is not None:
            yield
            return
        with self.read() as session:
            token = self._shared.set(session)
            try:
                yield
            finally:
                self._shared.reset(token)

    def dispose(self) -> None:
        self.engine.dispose()


def after_commit(session: Session, hook: AfterCommit) -> None:
    """Run ``hook`` once the session's transaction has committed (never if it rolls back)."""
    session.info.setdefault("after_commit", []).append(hook)


def read_memo(session: Session, name: str) -> dict[Any, Any] | None:
    """A dict named ``name`` kept for the life of a read-only transaction, for what it works out once
    and asks again (nothing is kept between transactions, so no request sees another's answers);
    None in a write transaction, whose own changes could make a kept answer wrong."""
    if not session.info.get(READ_ONLY):
        return None
    memo: dict[Any, Any] = session.info.setdefault(f"memo:{name}", {})
    return memo


def bulk_targets(state: ORMExecuteState, id_columns: Mapping[str, str]) -> tuple[str, set[Any]] | None:
    """For a bulk ORM UPDATE or DELETE of a table named in ``id_columns`` (table name → column): the
    table's name and the values of that column in the rows its WHERE clause selects, read before the
    statement runs (so a delete's rows are still there); None for any other statement."""
    if not (state.is_update or state.is_delete):
        return None
    table = getattr(state.statement, "table", None)
    column = id_columns.get(getattr(table, "name", ""))
    if table is None or column is None:
        return None
    query = select(table.c[column])
    where = getattr(state.statement, "whereclause", None)  # UPDATE and DELETE statements have one
    if where is not None:
        query = query.where(where)
    with state.session.no_autoflush:
        return table.name, set(state.session.execute(query).scalars())


@contextmanager
def _translate_outage() -> Iterator[None]:
    """A database that cannot be reached is a 503 for the client, not a 500."""
    try:
        yield
    except OperationalError as exc:
        if _is_connection_problem(exc):
            raise BackendUnavailable("the database is unavailable; try again shortly",
                                     {"backend": "database"}) from exc
        raise
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise BackendUnavailable("the database connection was lost; try again shortly",
                                     {"backend": "database"}) from exc
        raise


def _is_connection_problem(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(s in text for s in ("connection", "could not connect", "server closed", "terminating",
                                   "timeout expired", "the database system is", "unable to open database"))
