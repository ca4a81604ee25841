"""The internal PKI over HTTP: a plain WSGI application answering the URLs of :class:`PkiUrls`.

``pki_wsgi_app(lambda: ca)`` serves, relative to where it is mounted:

- ``POST /ocsp`` (body: DER request) and ``GET /ocsp/<base64 request>`` -> ``application/ocsp-response``
- ``GET /crl/issuing.crl``, ``GET /crl/root.crl`` -> ``application/pkix-crl``
- ``GET /certs/issuing.crt``, ``GET /certs/root.crt`` -> ``application/pkix-cert``
- ``POST /tsa`` (body: DER TimeStampReq) -> ``application/timestamp-reply``

The application may mount it under ``/pki`` (e.g. werkzeug's ``DispatcherMiddleware``) or call the
same functions from its own views. :class:`PkiServer` runs it on a loopback port in a thread, for
tests, benchmarks and demos.
"""

from __future__ import annotations

import base64
import binascii
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from signing.ca import InternalCA
from signing.tsa import CONTENT_TYPE_REPLY, TimestampAuthority

MAX_REQUEST_BYTES = 64 * 1024
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def pki_wsgi_app(ca_provider: Callable[[], InternalCA],
                 tsa_provider: Callable[[], TimestampAuthority] | None = None) -> Callable[..., Iterable[bytes]]:
    """A WSGI callable serving the CA given by ``ca_provider`` (called per request, so the CA can be
    opened lazily or swapped). The TSA defaults to the CA's own time-stamping authority."""
    tsa_cache: dict[str, TimestampAuthority] = {}

    def tsa() -> TimestampAuthority:
        if tsa_provider is not None:
            return tsa_provider()
        ca = ca_provider()
        key = str(ca.directory)
        if key not in tsa_cache:
            tsa_cache[key] = ca.timestamp_authority()
        return tsa_cache[key]

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "") or "/"
        try:
            if path == "/ocsp" and method == "POST":
                return _reply(start_response, "application/ocsp-response", ca_provider().ocsp_response(_body(environ)))
            if path.startswith("/ocsp/") and method == "GET":
                request = _b64_path(path[len("/ocsp/"):])
                return _reply(start_response, "application/ocsp-response", ca_provider().ocsp_response(request))
            if path == "/tsa" and method == "POST":
                return _reply(start_response, CONTENT_TYPE_REPLY, tsa().respond(_body(environ)))
            if method == "GET" and path in ("/crl/issuing.crl", "/crl/root.crl"):
                scope = path.rsplit("/", 1)[1].split(".")[0]
                return _reply(start_response, "application/pkix-crl", ca_provider().crl_der(scope))
            if method == "GET" and path in ("/certs/issuing.crt", "/certs/root.crt"):
                scope = path.rsplit("/", 1)[1].split(".")[0]
                return _reply(start_response, "application/pkix-cert", ca_provider().certificate_der(scope))
        except _BadRequest as exc:
            return _reply(start_response, "text/plain; charset=utf-8", str(exc).encode(), "400 Bad Request")
        return _reply(start_response, "text/plain; charset=utf-8", b"not found", "404 Not Found")

    return app


class _BadRequest(ValueError):
    pass


def _body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise _BadRequest("bad Content-Length") from None
    if length <= 0 or length > MAX_REQUEST_BYTES:
        raise _BadRequest(f"the request body must be 1..{MAX_REQUEST_BYTES} bytes")
    return environ["wsgi.input"].read(length)


def _b64_path(segment: str) -> bytes:
    try:
        return base64.b64decode(urllib.parse.unquote(segment), validate=False)
    except (binascii.Error, ValueError):
        raise _BadRequest("the OCSP request in the URL is not base64") from None


def _reply(start_response: StartResponse, content_type: str, body: bytes, status: str = "200 OK") -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store")])
    return [body]


# ====================================================================== a server in a thread
class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class PkiServer:
    """Serves :func:`pki_wsgi_app` on ``http://127.0.0.1:<free port>/pki`` in a daemon thread.

    The port is known before the CA exists (``base_url``), so a CA can be created with URLs
    pointing here, then attached with :meth:`attach`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, prefix: str = "/pki") -> None:
        self._ca: InternalCA | None = None
        self._prefix = prefix.rstrip("/")
        inner = pki_wsgi_app(self._current_ca)

        def mounted(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if not path.startswith(self._prefix + "/"):
                return _reply(start_response, "text/plain", b"not found", "404 Not Found")
            environ = {**environ, "PATH_INFO": path[len(self._prefix):],
                       "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + self._prefix}
            return inner(environ, start_response)

        self._server = make_server(host, port, mounted, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.base_url = f"http://{host}:{self._server.server_port}{self._prefix}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="pki-http", daemon=True)
        self._thread.start()

    def attach(self, ca: InternalCA) -> None:
        self._ca = ca

    def _current_ca(self) -> InternalCA:
        if self._ca is None:
            raise _BadRequest("no CA attached yet")
        return self._ca

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "PkiServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
