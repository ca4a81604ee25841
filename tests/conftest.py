"""Fixtures shared by the whole suite.

Every test that takes ``settings`` (and what builds on it: ``container``, ``app``, ``client``) runs on
the embedded backends, and again on the real ones (PostgreSQL, S3, Elasticsearch) when their URLs are
set in the environment (``eval "$(scripts/services.sh env)"``, as CI does). Each test gets a fresh
database: a copy of a migrated template (SQLite file copy / PostgreSQL ``CREATE DATABASE ... TEMPLATE``);
a test that takes ``demo`` with the default settings gets a copy of a template where the demo is seeded.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from docsvc.settings import Settings, load_settings
from tests.helpers import ApiClient, drop_backend_data

REAL_DATABASE_URL = os.environ.get("DOCSVC_DATABASE_URL", "")
HAS_REAL_DB = REAL_DATABASE_URL.startswith("postgresql")
HAS_REAL_S3 = bool(os.environ.get("DOCSVC_S3_ENDPOINT"))
HAS_REAL_SEARCH = os.environ.get("DOCSVC_SEARCH_URL", "").startswith("http")


def real_backend_overrides() -> dict[str, Any]:
    """Settings pointing one test at the real servers, isolated: its own bucket and index."""
    suffix = uuid.uuid4().hex[:12]
    out: dict[str, Any] = {}
    if HAS_REAL_S3:
        out.update(storage_url=f"s3://docsvc-t-{suffix}", s3_endpoint=os.environ["DOCSVC_S3_ENDPOINT"],
                   s3_access_key=os.environ.get("DOCSVC_S3_ACCESS_KEY", ""),
                   s3_secret_key=os.environ.get("DOCSVC_S3_SECRET_KEY", ""),
                   s3_region=os.environ.get("DOCSVC_S3_REGION", "us-east-1"))
    if HAS_REAL_SEARCH:
        out.update(search_url=os.environ["DOCSVC_SEARCH_URL"], search_index=f"docsvc-t-{suffix}")
    return out

# `make test` runs the suite on pytest-xdist workers (`-n auto --dist loadgroup`). Every test has its own
# database, data folder, bucket and index, and each worker its own session fixtures (CA, loopback PKI
# server, SoftHSM token folder, SQLite template under its own temporary folder, free ports), so tests
# are spread freely; only these folders run as one unit on one worker, module after module: the fault
# tests (they start one set of private PostgreSQL, Elasticsearch, Redis and S3 servers, stopped and killed
# by the tests: two sets at once would only compete for memory) and the browser tests (one Chromium).
# Tests that log in to the shared SoftHSM2 tokens run on the browser tests' worker (one after the other):
# two workers logging in to one token at once get UserAlreadyLoggedIn.
XDIST_GROUPS = {"tests/faults/": "faults", "tests/browser/": "browser", "tests/api/test_token_enrol.py": "browser",
                "tests/api/test_split_signing": "browser", "tests/api/test_remote_signing.py": "browser"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        for folder, group in XDIST_GROUPS.items():
            if path.startswith(folder):
                item.add_marker(pytest.mark.xdist_group(group))
    # Tests marked slow (the short load run, schemathesis) first: pytest-xdist hands out the groups, largest
    # first, then single tests in this order; a long test handed out last would finish on one worker alone.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """Bytes parameters (PDFs made by the fixtures, which hold their creation time) are named by
    their size, not their content: every pytest-xdist worker must collect the same test ids, also
    when two workers collect in different seconds. Equal ids get pytest's index suffix."""
    if isinstance(val, bytes | bytearray):
        return f"{argname}-{len(val)}B"
    return None


@pytest.hookimpl(trylast=True)  # after pytest-xdist has named the groups
def pytest_collection_finish(session: pytest.Session) -> None:
    """Stops a run whose groups pytest-xdist did not honour (pytest 9.2 ignored its nodeid suffix, and the
    SoftHSM2 and browser tests then ran on two workers at once and failed at random)."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    lost = [item.nodeid for item in session.items
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(f"pytest-xdist did not group {len(lost)} tests (e.g. {lost[0]}); "
                                "check the pytest and pytest-xdist versions")


# The internal CA of every test is a copy of one made per session (RSA key generation is slow),
# served by one loopback PKI server (OCSP, CRL, TSA) attached to the running test's CA.
CA_PASSPHRASE = "test-ca-passphrase-2026"


class _CurrentCa:
    """Stands for the CA of the container under test (opened only when a request needs it)."""

    def __init__(self) -> None:
        self.container: Any = None

    def __getattr__(self, name: str) -> Any:
        if self.container is None:
            raise RuntimeError("no test container is running")
        return getattr(self.container.signatures.ca, name)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, _CurrentCa]]:
    from signing.ca import InternalCA
    from signing.pki_http import PkiServer
    server = PkiServer()
    template = tmp_path_factory.mktemp("ca-template") / "ca"
    # 2048-bit CA keys (production: 3072): made once per session and xdist worker, the cost is in the wait
    InternalCA.init(template, CA_PASSPHRASE, organisation="docsvc test", base_url=server.base_url, key_size=2048)
    current = _CurrentCa()
    server.attach(current)  # type: ignore[arg-type]
    yield server, template, current
    server.close()


# Fast password hashing in tests (production keeps the memory-hard defaults).
FAST_HASH = {"password_hash_memory_kib": 1024, "password_hash_time_cost": 1}
# Tests log in very often from one address: login rate limits out of the way (tests/api/test_login_limits.py
# sets low ones).
RELAXED_LOGIN_LIMITS = {"login_rate_per_account": "100000 per minute", "login_rate_per_address": "100000 per minute"}


def backend_params() -> list[Any]:
    params: list[Any] = ["embedded"]
    if HAS_REAL_DB:
        params.append(pytest.param("real", marks=pytest.mark.real_backend))
    return params


# ---------------------------------------------------------------- databases
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from docsvc.db import migrate
    from docsvc.db.engine import make_engine
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


class PostgresDatabases:
    """Creates a migrated template database once, then one copy per test."""

    def __init__(self, admin_url: str) -> None:
        import psycopg
        url = make_url(admin_url)
        self._url = url
        self._connect = lambda: psycopg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password, dbname=url.database,
            autocommit=True)
        self._conn = self._connect()
        self.template = f"docsvc_tpl_{uuid.uuid4().hex[:8]}"
        self._execute(f'CREATE DATABASE "{self.template}"')
        from docsvc.db import migrate
        from docsvc.db.engine import make_engine
        engine = make_engine(self.url_of(self.template))
        migrate.upgrade(engine)
        engine.dispose()

    def url_of(self, name: str) -> str:
        return self._url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        """A new database copied from ``template`` (default: the migrated one)."""
        name = f"docsvc_t_{uuid.uuid4().hex[:10]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template or self.template}" STRATEGY FILE_COPY')
        return name

    def drop(self, name: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _execute(self, sql: str) -> None:
        """Run an admin statement, reconnecting once if the server was restarted (fault tests)."""
        import time

        import psycopg
        for attempt in range(5):
            try:
                self._conn.execute(sql)
                return
            except psycopg.OperationalError:
                self._conn.close()
                self._conn = self._connect()
            except psycopg.errors.InsufficientPrivilege:
                # DROP ... WITH (FORCE) cannot end an autovacuum worker (not ours) busy on the database
                time.sleep(0.5 * (attempt + 1))
        self._conn.execute(sql)

    def close(self) -> None:
        self.drop(self.template)
        self._conn.close()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    if not HAS_REAL_DB:
        pytest.skip("DOCSVC_DATABASE_URL is not a PostgreSQL URL")
    dbs = PostgresDatabases(REAL_DATABASE_URL)
    yield dbs
    dbs.close()


@dataclass(frozen=True)
class DemoTemplate:
    """A migrated database where the demo (``seed_demo``: organisations, units, users) is seeded once per
    session and xdist worker: seeding costs more than many tests. ``audit_key``: the key its audit events
    are chained with, copied into the data folder of every test that starts from it."""
    database: str  # SQLite: the file; PostgreSQL: the template database's name
    audit_key: Path


def seed_demo_template(data_dir: Path, database_url: str, pki: tuple[Any, Path, _CurrentCa]) -> Path:
    """Seed the demo into the migrated database at ``database_url``; returns the audit key file used."""
    from docsvc.bootstrap import build_container
    from docsvc.services.demo import seed_demo
    c = build_container(make_test_settings(data_dir, database_url, pki))
    try:
        seed_demo(c.identity)
    finally:
        c.close()
    return data_dir / "keys" / "audit_key"


@pytest.fixture(scope="session")
def sqlite_demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory,
                         pki: tuple[Any, Path, _CurrentCa]) -> DemoTemplate:
    folder = tmp_path_factory.mktemp("demo-template")
    path = folder / "demo.sqlite"
    shutil.copy(sqlite_template, path)
    return DemoTemplate(str(path), seed_demo_template(folder / "var", f"sqlite:///{path}", pki))


@pytest.fixture(scope="session")
def postgres_demo_template(postgres_databases: PostgresDatabases, tmp_path_factory: pytest.TempPathFactory,
                           pki: tuple[Any, Path, _CurrentCa]) -> Iterator[DemoTemplate]:
    name = postgres_databases.create()
    key = seed_demo_template(tmp_path_factory.mktemp("demo-template") / "var", postgres_databases.url_of(name), pki)
    yield DemoTemplate(name, key)
    postgres_databases.drop(name)


@pytest.fixture(params=backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    """'embedded' or 'real': which family of backends this test runs on."""
    return request.param


@pytest.fixture
def demo_template(backend: str, request: pytest.FixtureRequest) -> DemoTemplate | None:
    """The demo template this test's database is copied from: when it takes ``demo`` (directly or through
    ``api``, ``pages``...) and keeps the default settings (others may change what seeding writes: they
    seed their own); None: the migrated template."""
    if "demo" not in request.fixturenames or request.getfixturevalue("settings_overrides"):
        return None
    return request.getfixturevalue("sqlite_demo_template" if backend == "embedded" else "postgres_demo_template")


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest, sqlite_template: Path,
                 demo_template: DemoTemplate | None) -> Iterator[str]:
    if backend == "embedded":
        path = tmp_path / "docsvc.sqlite"
        shutil.copy(demo_template.database if demo_template else sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    dbs: PostgresDatabases = request.getfixturevalue("postgres_databases")
    name = dbs.create(demo_template.database if demo_template else None)
    try:
        yield dbs.url_of(name)
    finally:
        dbs.drop(name)


# ---------------------------------------------------------------- settings, app, client
@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its tests."""
    return {}


def make_test_settings(data_dir: Path, database_url: str, pki: tuple[Any, Path, _CurrentCa], **values: Any) -> Settings:
    """Settings of one test: its data folder (with a copy of the session's CA), its database, the
    loopback PKI server's URL, fast password hashing, then ``values``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    server, template, _ = pki
    shutil.copytree(template, data_dir / "ca")
    return load_settings(environ={}, **{"data_dir": data_dir, "database_url": database_url, **FAST_HASH,
                                        **RELAXED_LOGIN_LIMITS, "ca_passphrase": CA_PASSPHRASE,
                                        "public_url": server.base_url.removesuffix("/pki"), **values})


@contextmanager
def running_container(settings: Settings, pki: tuple[Any, Path, _CurrentCa]) -> Iterator[Any]:
    """The wired application, initialised like `docsvc init` does (bucket, index schema...)."""
    from docsvc.bootstrap import build_container
    from docsvc.services.setup import initialise
    from docsvc.tasks.app import use_container
    c = build_container(settings)
    c.extra["search_options"] = {"refresh": True}  # Elasticsearch: writes visible at once in tests
    initialise(c)
    use_container(c)
    pki[2].container = c
    try:
        yield c
    finally:
        pki[2].container = None
        drop_backend_data(c)
        c.close()


@pytest.fixture
def settings(backend: str, database_url: str, tmp_path: Path, settings_overrides: dict[str, Any],
             pki: tuple[Any, Path, _CurrentCa], demo_template: DemoTemplate | None) -> Settings:
    values: dict[str, Any] = real_backend_overrides() if backend == "real" else {}
    if demo_template is not None:  # the seeded events are chained with the template's audit key
        (tmp_path / "var" / "keys").mkdir(parents=True)
        shutil.copy(demo_template.audit_key, tmp_path / "var" / "keys" / "audit_key")
    return make_test_settings(tmp_path / "var", database_url, pki, **{**values, **settings_overrides})


@pytest.fixture
def container(settings: Settings, pki: tuple[Any, Path, _CurrentCa]) -> Iterator[Any]:
    with running_container(settings, pki) as c:
        yield c


@pytest.fixture
def app(container: Any) -> Any:
    from docsvc.web.app import create_app
    application = create_app(container=container)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def demo(container: Any) -> Any:
    """The demo's report (ids, password): seeded here, or already in the database copied from the demo
    template (``seed_demo`` then only looks its organisations and users up)."""
    from docsvc.services.demo import seed_demo
    return seed_demo(container.identity)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def api(client: Any, demo: Any) -> ApiClient:
    return ApiClient(client, demo.password)
