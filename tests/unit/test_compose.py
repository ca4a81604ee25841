"""docker-compose.yml: the production stack has every service, health checks, volumes, and only
environment variables the settings understand."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import yaml

from docsvc.settings import PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_every_service_is_there() -> None:
    assert {"web", "worker", "beat", "postgres", "minio", "elasticsearch", "redis"} <= set(SERVICES)


def test_images_are_pinned_to_supported_versions() -> None:
    assert SERVICES["postgres"]["image"].startswith("postgres:15")
    assert re.fullmatch(r"elasticsearch:8\.\d+\.\d+", SERVICES["elasticsearch"]["image"])
    assert SERVICES["redis"]["image"].startswith("redis:")
    assert SERVICES["minio"]["image"].startswith("minio/minio:RELEASE.")
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["image"] == "docsvc:latest" and SERVICES[name]["build"] == "."
    assert (ROOT / "Dockerfile").is_file()


def test_health_checks_and_volumes() -> None:
    for name in ("web", "worker", "beat", "postgres", "minio", "elasticsearch", "redis"):
        assert SERVICES[name]["healthcheck"]["test"], name
    for name, mount in [("postgres", "/var/lib/postgresql/data"), ("minio", "/data"),
                        ("elasticsearch", "/usr/share/elasticsearch/data"), ("redis", "/data")]:
        volumes = SERVICES[name]["volumes"]
        assert any(v.endswith(":" + mount) and v.split(":")[0] in COMPOSE["volumes"] for v in volumes), name


def test_web_serves_with_gunicorn_on_8000_after_init() -> None:
    web = SERVICES["web"]
    assert web["command"][0] == "gunicorn" and "docsvc.web.app:serve_app()" in web["command"]
    assert "8000:8000" in web["ports"]
    assert web["depends_on"]["init"]["condition"] == "service_completed_successfully"
    assert SERVICES["init"]["command"] == ["docsvc", "init"]
    assert all(SERVICES["init"]["depends_on"][s]["condition"] == "service_healthy"
               for s in ("postgres", "minio", "elasticsearch", "redis"))


def test_worker_and_beat_use_the_celery_app() -> None:
    assert SERVICES["worker"]["command"][:4] == ["celery", "-A", "docsvc.tasks.worker_app", "worker"]
    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "docsvc.tasks.worker_app", "beat"]


def test_environment_names_match_the_settings() -> None:
    known = {PREFIX + f.name.upper() for f in fields(Settings)}
    for name in ("web", "worker", "beat", "init"):
        env = SERVICES[name]["environment"]
        docsvc_vars = {k for k in env if k.startswith(PREFIX)}
        assert docsvc_vars <= known, docsvc_vars - known
        for required in ("DOCSVC_DATABASE_URL", "DOCSVC_STORAGE_URL", "DOCSVC_S3_ENDPOINT", "DOCSVC_SEARCH_URL",
                         "DOCSVC_BROKER_URL", "DOCSVC_SECRET_KEY", "DOCSVC_ENCRYPTION_KEYS", "DOCSVC_AUDIT_KEY"):
            assert required in env, (name, required)
        assert env["DOCSVC_DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env[
            "DOCSVC_DATABASE_URL"]
        assert env["DOCSVC_SEARCH_URL"] == "http://elasticsearch:9200"
        assert env["DOCSVC_S3_ENDPOINT"] == "http://minio:9000"
        assert env["DOCSVC_BROKER_URL"] == "redis://redis:6379/0"
