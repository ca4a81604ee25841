"""Run the app under gunicorn from ``docsvc serve`` (production uses gunicorn's own CLI)."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from docsvc.settings import Settings


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], embedded: bool, periodic: bool) -> None:
        self.options = options
        self.embedded = embedded
        self.periodic = periodic
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        from docsvc.web.app import serve_app
        app = serve_app()  # also points this process's tasks at the app's container
        if self.embedded:  # each worker process drains what its requests kicked, in the background
            from docsvc.tasks.embedded import EmbeddedWorker
            EmbeddedWorker(periodic=self.periodic).start()
        return app


def run_server(settings: Settings, *, host: str, port: int, workers: int, threads: int) -> None:
    options = {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
               "timeout": 120, "accesslog": "-", "errorlog": "-", "loglevel": settings.log_level.lower()}
    # Without a broker, a background thread of each serving process runs the work its requests
    # kicked; the periodic tasks run there too when there is a single serving process.
    embedded = settings.broker_is_embedded
    _Gunicorn(options, embedded=embedded, periodic=embedded and workers == 1).run()
