"""`make run` starts quietly: no DSA deprecation warning from pyHanko's import, no setuptools license
warning, no INFO line at every outbox drain when tasks run in-process."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_signing_library_prints_no_deprecation_warning() -> None:
    # a fresh interpreter: the warning is printed once per process, at pyHanko's import
    r = subprocess.run([sys.executable, "-W", "default", "-c", "import signing.pades, signing.validate"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "DSA is deprecated" not in r.stderr, r.stderr


def test_the_licence_is_an_spdx_expression() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"  # a table ({text = ...}) makes setuptools warn at every install


def test_in_process_tasks_log_their_success_only_at_debug(settings: Any) -> None:
    from docsvc.web.app import configure_logging, create_app
    trace = logging.getLogger("celery.app.trace")
    before = trace.level
    try:
        assert settings.broker_is_embedded
        create_app(settings).extensions["docsvc"].close()
        assert trace.level == before  # building an app has no effect outside it (issue 21 §2)
        configure_logging(settings)  # what a serving process does (serve_app, docsvc serve/worker)
        # its own level, whatever the root's: "Task docsvc.drain_outbox[...] succeeded" every 30 s stays out,
        # failures (ERROR) still show
        assert trace.level == logging.WARNING
        trace.setLevel(logging.NOTSET)
        configure_logging(dataclasses.replace(settings, log_level="DEBUG"))
        assert trace.level == logging.NOTSET  # asked for DEBUG: left alone
    finally:
        trace.setLevel(before)
