"""Periodic tasks without an external broker or beat process (embedded default)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from docsvc.tasks.app import PERIODIC, celery_app

log = logging.getLogger("docsvc.tasks")


class EmbeddedScheduler(threading.Thread):
    """Runs each periodic task at its interval in a daemon thread of the serving process."""

    def __init__(self, tick: float = 1.0) -> None:
        super().__init__(name="docsvc-embedded-beat", daemon=True)
        self._stop_event = threading.Event()
        self._tick = tick
        self._next: dict[str, float] = {}

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.run_due(time.monotonic())
            self._stop_event.wait(self._tick)

    def run_due(self, now: float) -> list[str]:
        ran = []
        for name, (task_name, every) in PERIODIC.items():
            due = self._next.setdefault(name, now + _seconds(every))
            if now < due:
                continue
            self._next[name] = now + _seconds(every)
            try:
                celery_app.tasks[task_name].apply()
                ran.append(name)
            except Exception:  # one failing task must not stop the others
                log.exception("periodic task %s failed", name)
        return ran

    def stop(self) -> None:
        self._stop_event.set()


def _seconds(every: timedelta) -> float:
    return every.total_seconds()
