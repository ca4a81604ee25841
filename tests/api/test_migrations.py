"""Alembic migrations run on SQLite and PostgreSQL, down and up again, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from docsvc.db import migrate
from docsvc.db.base import Base


def test_schema_matches_models(container) -> None:  # type: ignore[no-untyped-def]
    with container.db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], diff


def test_down_and_up_again(container) -> None:  # type: ignore[no-untyped-def]
    engine = container.db.engine
    head = migrate.head_revision(engine)
    assert migrate.current_revision(engine) == head
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == head
