"""How services hand work to the background, injected instead of reaching into ``docsvc.tasks``.

A :class:`TaskDispatch` belongs to one container. The process that runs tasks binds it
(``docsvc.tasks.app.use_container``: Celery workers through the broker, or the embedded worker
thread); services only hold it (``OutgoingService(enqueue=...)``, the outbox kick in the session
info), so the dependency points down: tasks → bootstrap → services, never back up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("docsvc.dispatch")

Kick = Callable[[str], None]
Enqueue = Callable[..., None]

#: Where a unit of work's session finds the container's dispatch (``Database(session_info=...)``).
DISPATCH_INFO = "task_dispatch"


class NoTaskRunner(RuntimeError):
    """Nothing in this process runs tasks (a plain CLI command): the periodic tasks catch up."""


class TaskDispatch:
    def __init__(self) -> None:
        self._kick: Kick | None = None
        self._enqueue: Enqueue | None = None

    def bind(self, *, kick: Kick, enqueue: Enqueue) -> None:
        self._kick, self._enqueue = kick, enqueue

    @property
    def bound(self) -> bool:
        return self._kick is not None

    def kick(self, task_name: str) -> None:
        """Ask for a run of the argument-less task soon, never in the caller's thread."""
        if self._kick is None:
            raise NoTaskRunner(f"no task runner for {task_name}")
        self._kick(task_name)

    def enqueue(self, task_name: str, *args: Any, **kwargs: Any) -> None:
        if self._enqueue is None:
            raise NoTaskRunner(f"no task runner for {task_name}")
        self._enqueue(task_name, *args, **kwargs)
