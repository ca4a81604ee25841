"""Fixtures of the fault tests: private backend servers (started once for all the fault tests, which run
on one xdist worker; stopped and restarted by the tests, and brought back up after each test), and per
test a fresh database, bucket and index on them.

They run where the real backends are installed (CI runs ``scripts/services.sh up``; locally
``eval "$(scripts/services.sh env)"`` says so) and are skipped on a machine without them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HAS_REAL_DB, PostgresDatabases, make_test_settings, running_container
from tests.faults.private import S3_ACCESS_KEY, S3_SECRET_KEY, PrivateServices
from tests.helpers import ApiClient


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" not in str(item.fspath):
            continue
        item.add_marker(pytest.mark.real_backend)
        if not HAS_REAL_DB:
            item.add_marker(pytest.mark.skip(reason="fault tests need the real backends installed "
                                                    "(scripts/services.sh up; eval its env)"))


@pytest.fixture(scope="session")
def private() -> Iterator[PrivateServices]:
    services = PrivateServices()
    try:
        services.up()
        yield services
    finally:
        services.close()


@pytest.fixture(scope="session")
def private_databases(private: PrivateServices) -> Iterator[PostgresDatabases]:
    dbs = PostgresDatabases(private.postgres_admin_url)
    yield dbs
    if private.is_up("postgres"):
        dbs.close()


@pytest.fixture
def fault_overrides() -> dict[str, Any]:
    """Override in a test module (e.g. a broker, a proxy in front of a backend)."""
    return {}


@pytest.fixture
def fault_settings(private: PrivateServices, private_databases: PostgresDatabases, tmp_path: Path,
                   pki: Any, fault_overrides: dict[str, Any]) -> Iterator[Any]:
    suffix = uuid.uuid4().hex[:12]
    name = private_databases.create()
    values: dict[str, Any] = {
        "storage_url": f"s3://docsvc-f-{suffix}", "s3_endpoint": private.s3_endpoint,
        "s3_access_key": S3_ACCESS_KEY, "s3_secret_key": S3_SECRET_KEY,
        "search_url": private.elasticsearch_url, "search_index": f"docsvc-f-{suffix}", **fault_overrides}
    yield make_test_settings(tmp_path / "var", private_databases.url_of(name), pki, **values)
    for service in ("postgres", "elasticsearch", "s3", "redis"):  # a failed test may leave one down
        if not private.is_up(service):
            private.up(service)
    private_databases.drop(name)


@pytest.fixture
def fault_container(fault_settings: Any, pki: Any) -> Iterator[Any]:
    with running_container(fault_settings, pki) as c:
        yield c


@pytest.fixture
def fault_api(fault_container: Any) -> ApiClient:
    from docsvc.services.demo import seed_demo
    from docsvc.web.app import create_app
    demo = seed_demo(fault_container.identity)
    app = create_app(container=fault_container)
    app.config["TESTING"] = True
    return ApiClient(app.test_client(), demo.password)
