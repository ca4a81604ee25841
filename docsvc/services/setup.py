"""First-start and upgrade steps run by ``docsvc init`` (idempotent)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from docsvc import secrets_store
from docsvc.db import migrate

# Later capabilities append (name, step) pairs: e.g. object-store bucket, search schema, internal CA.
INIT_STEPS: list[tuple[str, Callable[["Container"], str]]] = []  # type: ignore[name-defined]  # noqa: F821


def initialise(container: "Container") -> list[str]:  # type: ignore[name-defined]  # noqa: F821
    s = container.settings
    Path(s.data_dir).mkdir(parents=True, exist_ok=True)
    done = []
    migrate.upgrade(container.db.engine)
    done.append(f"database schema at {migrate.current_revision(container.db.engine)} ({container.db.dialect})")
    secrets_store.secret_key(s)
    secrets_store.encryption_keys(s)
    done.append("secrets ready" + (" (generated under the data folder)" if not s.secret_key else ""))
    for name, step in INIT_STEPS:
        done.append(f"{name}: {step(container)}")
    return done
