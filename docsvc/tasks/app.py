"""The Celery application, configured from settings.

With ``DOCSVC_BROKER_URL`` set (Redis in production) tasks go to workers and beat schedules the
periodic ones. Without it (embedded default) there is no external broker: :func:`kick` hands slow
work (the outbox drain: extraction, OCR) to :class:`docsvc.tasks.embedded.EmbeddedWorker`, a
background thread of ``docsvc serve``/``docsvc worker`` that also runs the periodic tasks; short
tasks sent with :func:`enqueue` run in-process (eager).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from docsvc.bootstrap import Container, build_container
from docsvc.settings import Settings, load_settings

celery_app = Celery("docsvc")
celery_app.conf.update(
    task_serializer="json", accept_content=["json"], result_serializer="json",
    task_ignore_result=True, timezone="Asia/Ho_Chi_Minh", enable_utc=True,
    task_acks_late=True,  # a worker killed mid-task leaves the message for another worker
    task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    imports=["docsvc.tasks.jobs"],
)

# Periodic tasks: name → (task name, interval). Task modules add their entries here.
PERIODIC: dict[str, tuple[str, timedelta]] = {}

_lock = threading.Lock()
_container: Container | None = None


def configure(settings: Settings) -> Celery:
    import docsvc.tasks.jobs  # noqa: F401  (late: registers the tasks and their PERIODIC entries)
    if celery_app.conf.broker_url != (settings.broker_url or "memory://"):
        _drop_broker_connections()
    if settings.broker_is_embedded:
        celery_app.conf.update(broker_url="memory://", task_always_eager=True, task_eager_propagates=True)
    else:
        celery_app.conf.update(broker_url=settings.broker_url, task_always_eager=False,
                               broker_transport_options={"visibility_timeout": 3600})
    celery_app.conf.beat_schedule = {name: {"task": task, "schedule": every}
                                     for name, (task, every) in PERIODIC.items()}
    return celery_app


def _drop_broker_connections() -> None:
    """Forget the pooled connections to the previous broker: Celery keeps them once made, so a
    process whose settings change (tests, several containers) would go on sending there."""
    pool = celery_app._pool
    if pool is not None:
        pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def use_container(container: Container) -> None:
    """Tasks of this process use ``container`` (the web app's, or the worker's own), and the
    container's services hand their background work to this process's task runner."""
    global _container
    with _lock:
        _container = container
    configure(container.settings)
    _bind(container)


def _bind(container: Container) -> None:
    container.dispatch.bind(kick=kick, enqueue=enqueue)


@worker_process_init.connect
def _fresh_connections_after_fork(**_: Any) -> None:
    """A prefork pool child starts with copies of its parent's pooled connections (database,
    Elasticsearch, S3): two processes on one socket corrupt each other's traffic ("database
    unavailable", garbled index writes). Each child builds its own container instead."""
    global _container
    with _lock:
        parent = _container
        if parent is None:
            return
        _container = build_container(parent.settings)
        _container.extra.update(parent.extra)
        _bind(_container)
    if "db" in parent.__dict__:
        parent.db.engine.dispose(close=False)  # forget the parent's connections without closing its sockets


def task_container() -> Container:
    global _container
    with _lock:
        if _container is None:
            _container = build_container(load_settings())
            configure(_container.settings)
            _bind(_container)
        return _container


def kick(task_name: str) -> None:
    """Ask for a run of the argument-less task ``task_name`` soon, never in the caller's thread:
    sent to the workers through the broker, or (embedded) to this process's background worker,
    where repeated kicks coalesce into one run."""
    if celery_app.conf.task_always_eager:
        from docsvc.tasks.embedded import KICKS
        KICKS.request(task_name)
    else:
        celery_app.send_task(task_name)


def enqueue(task_name: str, *args: Any, **kwargs: Any) -> None:
    """Send a task; in embedded mode it runs now, in this process."""
    celery_app.send_task(task_name, args=args, kwargs=kwargs) if not celery_app.conf.task_always_eager \
        else celery_app.tasks[task_name].apply(args=args, kwargs=kwargs)
