"""The internal PKI's URLs: :class:`PkiResponder` answers them by method and path, and
:func:`pki_wsgi_app` serves those answers over HTTP.

Relative to the PKI's base URL (``ca.urls.base``, e.g. ``<public_url>/pki``):

- ``POST /ocsp`` (body: DER request) and ``GET /ocsp/<base64 request>`` -> ``application/ocsp-response``
- ``GET /crl/issuing.crl``, ``GET /crl/root.crl`` -> ``application/pkix-crl``
- ``GET /certs/issuing.crt``, ``GET /certs/root.crt`` -> ``application/pkix-cert``
- ``POST /tsa`` (body: DER TimeStampReq) -> ``application/timestamp-reply``

The application may mount the WSGI app under ``/pki`` (e.g. werkzeug's ``DispatcherMiddleware``)
for outside validators; :class:`signing.local_pki.LocalPki` puts the same :class:`PkiResponder`
behind pyHanko's fetchers and time-stamper, so that signing never waits for an HTTP round trip to
its own process. :class:`PkiServer` runs the WSGI app on a loopback port in a thread, for tests,
benchmarks and demos.
"""

from __future__ import annotations

import base64
import binascii
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from signing.ca import InternalCA
from signing.tsa import CONTENT_TYPE_REPLY, TimestampAuthority

MAX_REQUEST_BYTES = 64 * 1024
CONTENT_TYPE_OCSP = "application/ocsp-response"
CONTENT_TYPE_CRL = "application/pkix-crl"
CONTENT_TYPE_CERT = "application/pkix-cert"
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(frozen=True)
class PkiReply:
    """One answer of the PKI: an HTTP status line, a content type and the body."""

    status: str
    content_type: str
    body: bytes

    @property
    def ok(self) -> bool:
        return self.status.startswith("200 ")


class PkiResponder:
    """The answers behind the PKI's URLs, by method and path relative to the base URL.

    ``ca_provider`` is called per request (the CA can be opened lazily or swapped); the TSA
    defaults to the CA's own time-stamping authority, built once per CA directory."""

    def __init__(self, ca_provider: Callable[[], InternalCA],
                 tsa_provider: Callable[[], TimestampAuthority] | None = None) -> None:
        self._ca = ca_provider
        self._tsa_provider = tsa_provider
        self._tsa_cache: dict[str, TimestampAuthority] = {}
        self._lock = threading.Lock()

    def answer(self, method: str, path: str, body: bytes = b"") -> PkiReply:
        """What ``method path`` (``path`` decoded, as WSGI's ``PATH_INFO``) with ``body`` gets."""
        try:
            if method == "POST" and path in ("/ocsp", "/tsa"):
                _check_body(body)
                if path == "/ocsp":
                    return PkiReply("200 OK", CONTENT_TYPE_OCSP, self._ca().ocsp_response(body))
                return PkiReply("200 OK", CONTENT_TYPE_REPLY, self.tsa().respond(body))
            if method == "GET" and path.startswith("/ocsp/"):
                request = _b64_path(path[len("/ocsp/"):])
                return PkiReply("200 OK", CONTENT_TYPE_OCSP, self._ca().ocsp_response(request))
            if method == "GET" and path in ("/crl/issuing.crl", "/crl/root.crl"):
                return PkiReply("200 OK", CONTENT_TYPE_CRL, self._ca().crl_der(_scope(path)))
            if method == "GET" and path in ("/certs/issuing.crt", "/certs/root.crt"):
                return PkiReply("200 OK", CONTENT_TYPE_CERT, self._ca().certificate_der(_scope(path)))
        except _BadRequest as exc:
            return PkiReply("400 Bad Request", "text/plain; charset=utf-8", str(exc).encode())
        return PkiReply("404 Not Found", "text/plain; charset=utf-8", b"not found")

    def tsa(self) -> TimestampAuthority:
        if self._tsa_provider is not None:
            return self._tsa_provider()
        ca = self._ca()
        key = str(ca.directory)
        with self._lock:
            if key not in self._tsa_cache:
                self._tsa_cache[key] = ca.timestamp_authority()
            return self._tsa_cache[key]


def pki_wsgi_app(ca_provider: Callable[[], InternalCA] | PkiResponder,
                 tsa_provider: Callable[[], TimestampAuthority] | None = None) -> Callable[..., Iterable[bytes]]:
    """A WSGI callable serving the CA given by ``ca_provider`` (or an existing responder)."""
    responder = ca_provider if isinstance(ca_provider, PkiResponder) else PkiResponder(ca_provider, tsa_provider)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "") or "/"
        try:
            body = _body(environ) if method == "POST" else b""
        except _BadRequest as exc:
            return _reply(start_response, PkiReply("400 Bad Request", "text/plain; charset=utf-8", str(exc).encode()))
        return _reply(start_response, responder.answer(method, path, body))

    return app


class _BadRequest(ValueError):
    pass


def _scope(path: str) -> str:
    return path.rsplit("/", 1)[1].split(".")[0]


def _check_body(body: bytes) -> None:
    if not 0 < len(body) <= MAX_REQUEST_BYTES:
        raise _BadRequest(f"the request body must be 1..{MAX_REQUEST_BYTES} bytes")


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


def _reply(start_response: StartResponse, reply: PkiReply) -> list[bytes]:
    start_response(reply.status, [("Content-Type", reply.content_type), ("Content-Length", str(len(reply.body))),
                                  ("Cache-Control", "no-store")])
    return [reply.body]


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
    pointing here, then attached with :meth:`attach`. ``requests`` counts the requests served by
    ``METHOD path`` (tests use it to prove what did, or did not, go over HTTP).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, prefix: str = "/pki") -> None:
        self._ca: InternalCA | None = None
        self._prefix = prefix.rstrip("/")
        self.requests: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        inner = pki_wsgi_app(self._current_ca)

        def mounted(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            with self._count_lock:
                self.requests[f"{environ['REQUEST_METHOD']} {path}"] += 1
            if not path.startswith(self._prefix + "/"):
                return _reply(start_response, PkiReply("404 Not Found", "text/plain", b"not found"))
            environ = {**environ, "PATH_INFO": path[len(self._prefix):],
                       "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + self._prefix}
            return inner(environ, start_response)

        self._server = make_server(host, port, mounted, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.base_url = f"http://{host}:{self._server.server_port}{self._prefix}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="pki-http", daemon=True)
        self._thread.start()

    def attach(self, ca: InternalCA) -> None:
        self._ca = ca

    def request_count(self) -> int:
        """How many requests this server has answered so far."""
        with self._count_lock:
            return sum(self.requests.values())

    def _current_ca(self) -> InternalCA:
        if self._ca is None:
            raise _BadRequest("no CA attached yet")
        return self._ca

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> PkiServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
