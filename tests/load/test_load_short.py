"""A short run of the load test (bench/load.py): 8 clients, each running every scenario once and then a
random mix for the rest of 5 s, on gunicorn + a Celery worker + the real backends, so that the verifier
itself runs on every CI run. It asserts correctness (nothing accepted is lost, registers without gaps),
never timings; the full load (50 clients for 5 minutes) is `bench/load.py`."""

from __future__ import annotations

import pytest

from tests.conftest import HAS_REAL_DB, HAS_REAL_S3, HAS_REAL_SEARCH

pytestmark = [pytest.mark.real_backend, pytest.mark.slow,
              pytest.mark.skipif(not (HAS_REAL_DB and HAS_REAL_S3 and HAS_REAL_SEARCH),
                                 reason="needs the real backends (scripts/services.sh env)")]


def test_short_load_run_loses_nothing() -> None:
    from bench.load import run_load
    from bench.stack import Stack
    with Stack.real(workers=2, celery_concurrency=2) as stack:
        result = run_load(stack, clients=8, duration=5)
    print(result.report())
    assert result.server_errors == 0, result.report()
    assert result.verification.ok, result.report()
    kinds = set(result.stats.statuses)
    assert {"upload 1 page", "register", "search", "sign", "issue"} <= kinds, kinds
    assert result.verification.searched == len(result.stats.accepted) > 10
