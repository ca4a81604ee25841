"""``docsvc-signer serve``: the signing page's bridge to the token, on 127.0.0.1 only.

The page (logged in to docsvc) prepares the documents itself, then calls this service from the
browser: ``GET /certificate`` (the token's certificate, to prepare with), ``POST /sign`` with the
prepared items (``{"items": [{"prepared_id", "data_to_be_signed", "document": {...}}]}``) →
``{"signatures": [{"prepared_id", "signature"}]}``; the page sends those to docsvc. This service
never talks to docsvc and holds no credential of it.

- binds 127.0.0.1 (never another interface);
- answers only requests whose ``Origin`` is the configured docsvc origin (CORS for that origin
  alone; a page of any other site gets 403 before anything is shown or signed), and only with a
  ``Host`` of 127.0.0.1/localhost (DNS rebinding);
- shows each batch on its console and asks the PIN once per batch (``ask_pin``).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from signing.localsigner.batch import Item, sign_items
from signing.localsigner.token import Token, TokenConfig, TokenError, key_kind

MAX_BODY = 8 * 1024 * 1024
MAX_ITEMS = 200


class LocalSignerServer:
    """The HTTP service; ``start()`` serves in a thread (tests, the CLI's foreground loop)."""

    def __init__(self, config: TokenConfig, origin: str, *, port: int = 8765,
                 ask_pin: Callable[[str], str], show: Callable[[str], None] = print) -> None:
        self.config, self.origin = config, origin.rstrip("/")
        self.ask_pin, self.show = ask_pin, show
        self._lock = threading.Lock()  # one batch (one PIN prompt) at a time
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def start(self) -> LocalSignerServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="docsvc-signer", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # ------------------------------------------------------------ operations
    def certificate(self) -> dict[str, Any]:
        cert = Token(self.config).certificate()
        return {"certificate": base64.b64encode(cert.public_bytes(Encoding.DER)).decode(),
                "subject": cert.subject.rfc4514_string(), "key": key_kind(cert)}

    def sign(self, body: dict[str, Any]) -> dict[str, Any]:
        raw = body.get("items")
        if not isinstance(raw, list) or not raw or len(raw) > MAX_ITEMS:
            raise TokenError(f"send 1 to {MAX_ITEMS} items to sign")
        items = [Item.from_json(v) for v in raw]
        with self._lock:
            signatures = sign_items(Token(self.config), items, self.ask_pin, self.show)
        return {"signatures": [{"prepared_id": pid, "signature": base64.b64encode(sig).decode()}
                               for pid, sig in signatures.items()]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "docsvc-signer"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _allowed(self) -> bool:
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
                return host in ("127.0.0.1", "localhost") and self.headers.get("Origin", "").rstrip("/") \
                    == server.origin

            def _send(self, status: int, body: dict[str, Any] | None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                if self._allowed():
                    self.send_header("Access-Control-Allow-Origin", server.origin)
                    self.send_header("Access-Control-Allow-Methods", "GET, POST")
                    self.send_header("Access-Control-Allow-Headers", "Content-Type")
                    self.send_header("Access-Control-Allow-Private-Network", "true")
                    self.send_header("Vary", "Origin")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _refuse(self) -> bool:
                if self._allowed():
                    return False
                self._send(403, {"error": {"code": "origin_refused",
                                           "message": "this signer answers only the configured docsvc page"}})
                return True

            def do_OPTIONS(self) -> None:
                if not self._refuse():
                    self._send(204, None)

            def do_GET(self) -> None:
                if self._refuse():
                    return
                if self.path == "/status":
                    self._send(200, {"service": "docsvc-signer", "ready": True})
                elif self.path == "/certificate":
                    self._run(server.certificate)
                else:
                    self._send(404, {"error": {"code": "not_found", "message": self.path}})

            def do_POST(self) -> None:
                if self._refuse():
                    return
                if self.path != "/sign":
                    self._send(404, {"error": {"code": "not_found", "message": self.path}})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length <= 0 or length > MAX_BODY:
                    self._send(400, {"error": {"code": "bad_request", "message": "a JSON body up to 8 MB"}})
                    return
                try:
                    body = json.loads(self.rfile.read(length))
                except ValueError:
                    self._send(400, {"error": {"code": "bad_request", "message": "the body is not JSON"}})
                    return
                self._run(lambda: server.sign(body if isinstance(body, dict) else {}))

            def _run(self, operation: Callable[[], dict[str, Any]]) -> None:
                try:
                    self._send(200, operation())
                except TokenError as exc:
                    self._send(422, {"error": {"code": "token", "message": str(exc)}})

        return Handler
