"""Background work without an external broker or beat process (embedded default).

Requests never run slow work themselves: they *kick* a task (:func:`docsvc.tasks.app.kick`) and
return. :class:`EmbeddedWorker`, a daemon thread that ``docsvc serve``/``docsvc worker`` start
explicitly (nothing starts at import), runs the kicked tasks and, when asked to, the periodic ones.
Kicks are coalesced: ten uploads in a second ask for one more drain, not ten.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from docsvc.tasks.app import PERIODIC, celery_app

log = logging.getLogger("docsvc.tasks")


class KickBoard:
    """Names of argument-less tasks asked for and not yet run (a set: repeated kicks coalesce)."""

    def __init__(self) -> None:
        self._wanted: set[str] = set()
        self._lock = threading.Lock()
        self.event = threading.Event()

    def request(self, task_name: str) -> None:
        with self._lock:
            self._wanted.add(task_name)
        self.event.set()

    def take(self) -> list[str]:
        with self._lock:
            wanted, self._wanted = sorted(self._wanted), set()
            self.event.clear()
            return wanted


#: the kicks of this process; served by the process's EmbeddedWorker when one runs
KICKS = KickBoard()


class EmbeddedWorker(threading.Thread):
    """Runs kicked tasks as soon as they are asked for and, with ``periodic``, each periodic task at
    its interval, in a daemon thread of the serving process (never in a request's thread)."""

    def __init__(self, *, periodic: bool = True, tick: float = 1.0, kicks: KickBoard = KICKS) -> None:
        super().__init__(name="docsvc-embedded-worker", daemon=True)
        self._stop_event = threading.Event()
        self._tick = tick
        self._periodic = periodic
        self._kicks = kicks
        self._next: dict[str, float] = {}

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.run_kicked()
            if self._periodic:
                self.run_due(time.monotonic())
            self._kicks.event.wait(self._tick)

    def run_kicked(self) -> list[str]:
        ran = []
        for task_name in self._kicks.take():
            if self._run(task_name):
                ran.append(task_name)
        return ran

    def run_due(self, now: float) -> list[str]:
        ran = []
        for name, (task_name, every) in PERIODIC.items():
            due = self._next.setdefault(name, now + _seconds(every))
            if now < due:
                continue
            self._next[name] = now + _seconds(every)
            if self._run(task_name):
                ran.append(name)
        return ran

    def _run(self, task_name: str) -> bool:
        try:
            celery_app.tasks[task_name].apply()
            return True
        except Exception:  # one failing task must not stop the others
            log.exception("background task %s failed", task_name)
            return False

    def stop(self) -> None:
        self._stop_event.set()
        self._kicks.event.set()


def _seconds(every: timedelta) -> float:
    return every.total_seconds()
