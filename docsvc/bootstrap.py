"""The one place that reads configuration and wires adapters into services."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any, Callable

from sqlalchemy import text

from docsvc.db.engine import make_engine
from docsvc.db.uow import Database
from docsvc.services.identity import IdentityService
from docsvc.services.passwords import Passwords
from docsvc.settings import ConfigError, Settings, load_settings

log = logging.getLogger("docsvc")


@dataclass
class BackendStatus:
    name: str
    ok: bool
    detail: str
    latency_ms: float
    setting: str

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, "latency_ms": round(self.latency_ms, 1)}


@dataclass
class Container:
    """Wired services and adapters of one process. Built once; shared by requests and tasks."""

    settings: Settings
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def db(self) -> Database:
        return Database(make_engine(self.settings.database_url))

    @cached_property
    def passwords(self) -> Passwords:
        return Passwords(self.settings.password_hash_memory_kib, self.settings.password_hash_time_cost)

    @cached_property
    def identity(self) -> IdentityService:
        s = self.settings
        return IdentityService(self.db, self.passwords, token_ttl=timedelta(hours=s.token_ttl_hours),
                               max_failures=s.login_max_failures, lockout=timedelta(minutes=s.login_lockout_minutes))

    # ------------------------------------------------------------ health
    def backend_checks(self) -> dict[str, tuple[str, Callable[[], str]]]:
        """name → (setting that configures it, check returning a detail or raising)."""
        return {"database": ("DOCSVC_DATABASE_URL", self._check_database),
                "broker": ("DOCSVC_BROKER_URL", self._check_broker)}

    def health(self) -> list[BackendStatus]:
        out = []
        for name, (setting, check) in self.backend_checks().items():
            started = time.perf_counter()
            try:
                detail, ok = check(), True
            except Exception as exc:  # a health check reports, it does not raise
                detail, ok = _one_line(exc), False
            out.append(BackendStatus(name, ok, detail, (time.perf_counter() - started) * 1000, setting))
        return out

    def _check_database(self) -> str:
        with self.db.engine.connect() as conn:
            conn.execute(text("select 1"))
        from docsvc.db.migrate import current_revision, head_revision
        current, head = current_revision(self.db.engine), head_revision(self.db.engine)
        if current != head:
            raise RuntimeError(f"schema at revision {current}, code expects {head}: run `docsvc init`")
        return f"{self.db.dialect} (schema {current})"

    def _check_broker(self) -> str:
        if self.settings.broker_is_embedded:
            return "embedded (tasks run in-process)"
        from kombu import Connection
        with Connection(self.settings.broker_url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        return conn.transport_cls if isinstance(conn.transport_cls, str) else "redis"

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()


def _one_line(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text_[0] if text_ else ''}"[:300]


def build_container(settings: Settings | None = None) -> Container:
    return Container(settings or load_settings())


def require_backends(container: Container) -> None:
    """Fail at start with one clear line naming the setting of the first unreachable backend."""
    for status in container.health():
        if not status.ok:
            raise ConfigError(status.setting, f"{status.name} not usable: {status.detail}")
