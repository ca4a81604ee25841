"""One error shape for every 4xx/5xx: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, make_response
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from docsvc.errors import BackendUnavailable, DomainError

log = logging.getLogger("docsvc.web")


def _json_error(status: int, code: str, message: str, details: object = None):  # type: ignore[no-untyped-def]
    response = jsonify({"error": {"code": code, "message": message, "details": details}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="docsvc"'
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def with_retry_after(response: Any, details: object) -> Any:
    """A 429 tells when to come back (``details["retry_after"]`` seconds), on pages and in the API."""
    if isinstance(details, dict) and isinstance(details.get("retry_after"), int):
        response = make_response(response)
        response.headers["Retry-After"] = str(details["retry_after"])
    return response


def install_error_handlers(app: Flask, page: Callable[[int, str, str], Any] | None = None) -> None:
    """JSON errors for the API; with ``page`` (status, code, message → response), requests outside
    the API are answered with a page instead (unknown URLs, wrong methods, uploads too large...)."""
    from docsvc.web.pages import wants_page

    def _error(status: int, code: str, message: str, details: object = None):  # type: ignore[no-untyped-def]
        if page is not None and wants_page():
            return page(status, code, message)
        return _json_error(status, code, message, details)

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):  # type: ignore[no-untyped-def]
        if isinstance(exc, BackendUnavailable):
            log.warning("backend unavailable: %s", exc.message)
        return with_retry_after(_error(exc.status, exc.code, exc.message, exc.details), exc.details)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return _error(413, "payload_too_large",
                      f"the upload exceeds the limit of {limit // (1024 * 1024)} MB" if limit else
                      "the upload is too large", {"limit_bytes": limit})

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        code = (exc.name or "error").lower().replace(" ", "_")
        return _error(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(RecursionError)
    def _too_deep(exc: RecursionError):  # type: ignore[no-untyped-def]
        # Only input nested without bound (JSON, XML, a PDF's objects…) recurses this deep: the
        # caller's fault, told as such; no traceback in the answer or the log.
        log.warning("request refused: input nested too deeply (%s)", exc)
        return _error(400, "invalid_input", "the input is nested too deeply")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        unavailable = _backend_outage(exc)
        if unavailable:
            log.warning("backend unavailable: %s: %s", unavailable, exc)
            return _error(503, "backend_unavailable", f"the {unavailable} is unavailable; try again shortly",
                          {"backend": unavailable})
        log.exception("unhandled error")
        return _error(500, "internal_error", "an unexpected error occurred; it has been logged")


def _backend_outage(exc: BaseException) -> str | None:
    """Map connection failures from the backends' libraries to the backend's name (503, not 500)."""
    for err in _chain(exc):
        module = type(err).__module__
        if isinstance(err, (ConnectionError, TimeoutError)):
            return _backend_name(module)
        if module.startswith(("urllib3", "elastic_transport")) and "Connection" in type(err).__name__:
            return _backend_name(module)
        if module.startswith(("psycopg", "sqlalchemy")) and type(err).__name__ == "OperationalError":
            return "database"
        if module.startswith(("redis", "kombu")) and "Connection" in type(err).__name__:
            return "task queue"
    return None


def _backend_name(module: str) -> str:
    if module.startswith(("elastic", "search")):
        return "search index"
    if module.startswith("storage"):
        return "object store"
    if module.startswith(("redis", "kombu")):
        return "task queue"
    if module.startswith(("minio", "urllib3")):
        return "object store"
    return "backend"


def _chain(exc: BaseException):  # type: ignore[no-untyped-def]
    seen = 0
    while exc is not None and seen < 10:
        yield exc
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1
