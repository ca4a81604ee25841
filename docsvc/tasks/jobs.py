"""Task registry: importing this module registers every task with the Celery app."""

from __future__ import annotations

from docsvc.tasks.app import celery_app


@celery_app.task(name="docsvc.ping")
def ping() -> str:
    """Round trip through the broker and a worker (used by health checks and tests)."""
    return "pong"
