"""The Flask application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, redirect
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from docsvc.bootstrap import Container, build_container
from docsvc.settings import Settings
from docsvc.web.api import register_api_modules
from docsvc.web.api.common import INT_MAX
from docsvc.web.errors import install_error_handlers
from docsvc.web.pages import register_pages
from docsvc.web.pages.base import app_error_page


def serve_app(settings: Settings | None = None) -> Flask:
    """The serving process's entry point (gunicorn: ``gunicorn 'docsvc.web.app:serve_app()'``):
    configures logging and points this process's tasks at the app's container, then builds the app."""
    container = build_container(settings)
    configure_logging(container.settings)
    from docsvc.tasks.app import use_container
    use_container(container)  # tasks sent by requests go to the configured broker (or run in-process)
    return create_app(container=container)


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.broker_is_embedded and settings.log_level.upper() != "DEBUG":
        # Tasks run in this process (docsvc.tasks.embedded): Celery's "Task ... succeeded" line, INFO,
        # would print at every outbox drain. Shown at DEBUG; failures are ERRORs.
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)


def create_app(settings: Settings | None = None, container: Container | None = None) -> Flask:
    """Build the WSGI app for ``container``, with no effect outside it (no logging set-up, no task
    wiring: :func:`serve_app` does those for a serving process)."""
    container = container or build_container(settings)
    s = container.settings
    app = Flask(__name__, static_folder=None)
    app.url_map.converters["int"] = BoundedInt  # /documents/99999999999999 is a 404, not an overflow
    app.config.update(MAX_CONTENT_LENGTH=s.max_upload_mb * 1024 * 1024)
    if isinstance(app.json, DefaultJSONProvider):  # always, unless a provider class was configured
        app.json.sort_keys = False
        app.json.ensure_ascii = False  # Vietnamese stays readable in JSON
    app.extensions["docsvc"] = container
    app.register_blueprint(register_api_modules())
    register_pages(app)
    install_error_handlers(app, page=app_error_page)

    from docsvc.web.api.meta import health_response

    app.add_url_rule("/health", "health", health_response)
    app.add_url_rule("/", "root", lambda: redirect("/work"))
    _mount_pki(app, container)
    if s.trusted_proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=s.trusted_proxy_hops,  # type: ignore[method-assign]
                                x_proto=s.trusted_proxy_hops)
    return app


class BoundedInt(IntegerConverter):
    """``<int:...>`` path arguments no larger than the databases store (INT_MAX)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


def _mount_pki(app: Flask, container: Container) -> None:
    """The internal CA's OCSP responder, CRLs, certificates and time-stamping authority under
    /pki (the URLs its certificates carry). The CA opens on the first request that needs it."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from signing.pki_http import pki_wsgi_app

    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {  # type: ignore[method-assign]
        "/pki": pki_wsgi_app(lambda: container.signatures.ca)})
