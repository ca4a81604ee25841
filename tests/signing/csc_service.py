"""A remote-signing service for the tests: the CSC API v2 endpoints docsvc uses, keys in SoftHSM2.

THIS IS A TEST SERVICE. It exists so that docsvc's CSC client (``signing/csc.py``) is exercised
against a real HTTP server and real keys, not mocks. It is not a qualified or production
remote-signing service: one process, in-memory tokens and SADs, PINs compared in memory.

What it implements, following the request/response members of the CSC API v2.0 specification:

- ``POST /oauth2/token`` — ``grant_type=client_credentials`` with HTTP Basic client authentication
  → ``{"access_token", "token_type": "Bearer", "expires_in"}``;
- ``POST /csc/v2/info`` — the service description (``specs``, ``methods``, ``authType``);
- ``POST /csc/v2/credentials/list`` (``userID``) → ``{"credentialIDs"}``;
- ``POST /csc/v2/credentials/info`` (``credentialID``, ``certificates``: none/single/chain,
  ``authInfo``) → ``key {status, algo, len}``, ``cert {status, certificates}``, ``authMode``
  ``explicit``, ``PIN {presence, format}``, ``OTP {presence}``, ``multisign``, ``SCAL`` ``2``;
- ``POST /csc/v2/credentials/authorize`` (``credentialID``, ``numSignatures``, ``hashes``,
  ``hashAlgorithmOID``, ``PIN``) → ``{"SAD", "expiresIn"}`` bound to those hashes (SCAL 2);
- ``POST /csc/v2/signatures/signHash`` (``credentialID``, ``SAD``, ``hashes``,
  ``hashAlgorithmOID``, ``signAlgo``) → ``{"signatures"}``, computed by the key on the SoftHSM2
  token (RSA PKCS#1 v1.5 over the DigestInfo); a SAD signs each authorised hash once.

Every ``/csc/v2`` call needs the bearer token; errors are ``{"error", "error_description"}`` with
the HTTP status the specification gives (400 invalid_request, 401 invalid_token, ...).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

SHA256_OID = "2.16.840.1.101.3.4.2.1"
SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
_DIGEST_INFO_SHA256 = bytes.fromhex("3031300d060960864801650304020105000420")


@dataclass
class Credential:
    credential_id: str
    user_id: str
    pin: str
    key_label: str
    certificates: list[x509.Certificate]
    multisign: int = 50


@dataclass
class _Sad:
    credential_id: str
    hashes: set[str]
    expires: float


@dataclass
class CscTestService:
    """``CscTestService(module, token_label, token_pin, client_id, client_secret).start()``."""

    module: str
    token_label: str
    token_pin: str
    client_id: str
    client_secret: str
    credentials: dict[str, Credential] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    _tokens: dict[str, float] = field(default_factory=dict)
    _sads: dict[str, _Sad] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> CscTestService:
        from signing.pkcs11lib import load_module
        self._session = load_module(self.module).get_token(token_label=self.token_label).open(user_pin=self.token_pin)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, name="csc-test-service", daemon=True).start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._session.close()

    def add(self, credential: Credential) -> None:
        self.credentials[credential.credential_id] = credential

    # ------------------------------------------------------------ endpoints
    def token(self, headers: Any, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        auth = headers.get("Authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if form.get("grant_type") != ["client_credentials"]:
            return 400, {"error": "unsupported_grant_type", "error_description": "grant_type client_credentials"}
        if auth != f"Basic {expected}":
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}
        tok = secrets.token_urlsafe(24)
        self._tokens[tok] = time.time() + 3600
        return 200, {"access_token": tok, "token_type": "Bearer", "expires_in": 3600}

    def call(self, endpoint: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.calls.append(endpoint)
        if endpoint == "info":
            return 200, {"specs": "2.0.0.2", "name": "docsvc CSC test service", "region": "VN", "lang": "vi",
                         "authType": ["oauth2client"], "methods": ["credentials/list", "credentials/info",
                                                                   "credentials/authorize", "signatures/signHash"]}
        if endpoint == "credentials/list":
            user = body.get("userID")
            if not isinstance(user, str):
                return 400, _bad("Missing (or invalid type) string parameter userID")
            return 200, {"credentialIDs": [c.credential_id for c in self.credentials.values() if c.user_id == user]}
        cred = self.credentials.get(str(body.get("credentialID")))
        if cred is None:
            return 400, _bad("Invalid parameter credentialID")
        if endpoint == "credentials/info":
            which = body.get("certificates", "single")
            certs = {"none": [], "single": cred.certificates[:1], "chain": cred.certificates}.get(which)
            if certs is None:
                return 400, _bad("Invalid parameter certificates")
            return 200, {"key": {"status": "enabled", "algo": [SHA256_WITH_RSA], "len": 2048},
                         "cert": {"status": "valid", "certificates": [
                             base64.b64encode(c.public_bytes(Encoding.DER)).decode() for c in certs]},
                         "authMode": "explicit", "PIN": {"presence": "true", "format": "N",
                                                         "label": "PIN", "description": "Mã PIN ký số"},
                         "OTP": {"presence": "false"}, "multisign": cred.multisign, "SCAL": "2", "lang": "vi"}
        if endpoint == "credentials/authorize":
            hashes = body.get("hashes")
            num = body.get("numSignatures")
            if not isinstance(num, int) or num < 1 or num > cred.multisign:
                return 400, _bad("Invalid parameter numSignatures")
            if not isinstance(hashes, list) or len(hashes) != num:
                return 400, _bad("Missing (or invalid type) array parameter hashes")
            if body.get("hashAlgorithmOID") != SHA256_OID:
                return 400, _bad("Invalid parameter hashAlgorithmOID")
            if not isinstance(body.get("PIN"), str):
                return 400, _bad("Missing (or invalid type) string parameter PIN")
            if not secrets.compare_digest(body["PIN"], cred.pin):
                return 400, {"error": "invalid_pin", "error_description": "The PIN is invalid"}
            sad = secrets.token_urlsafe(32)
            with self._lock:
                self._sads[sad] = _Sad(cred.credential_id, set(hashes), time.time() + 300)
            return 200, {"SAD": sad, "expiresIn": 300}
        if endpoint == "signatures/signHash":
            hashes = body.get("hashes")
            if not isinstance(hashes, list) or not hashes:
                return 400, _bad("Missing (or invalid type) array parameter hashes")
            if body.get("hashAlgorithmOID") != SHA256_OID:
                return 400, _bad("Invalid parameter hashAlgorithmOID")
            if body.get("signAlgo") != SHA256_WITH_RSA:
                return 400, _bad("Invalid parameter signAlgo")
            with self._lock:
                sad = self._sads.get(str(body.get("SAD")))
                if sad is None or sad.expires < time.time() or sad.credential_id != cred.credential_id:
                    return 400, {"error": "invalid_request", "error_description": "Invalid or expired SAD"}
                if not set(hashes) <= sad.hashes:
                    return 400, {"error": "invalid_request", "error_description": "Hash not authorised by the SAD"}
                sad.hashes -= set(hashes)
            return 200, {"signatures": [base64.b64encode(self._sign(cred, base64.b64decode(h))).decode()
                                        for h in hashes]}
        return 404, {"error": "invalid_request", "error_description": f"Unknown method {endpoint}"}

    def _sign(self, cred: Credential, digest: bytes) -> bytes:
        from pkcs11 import Attribute, Mechanism, ObjectClass
        with self._lock:
            key = next(self._session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                                  Attribute.LABEL: cred.key_label}))
            return bytes(key.sign(_DIGEST_INFO_SHA256 + digest, mechanism=Mechanism.RSA_PKCS))

    def authorised(self, headers: Any) -> bool:
        auth = headers.get("Authorization", "")
        return auth.startswith("Bearer ") and self._tokens.get(auth[7:], 0) > time.time()


def _bad(description: str) -> dict[str, Any]:
    return {"error": "invalid_request", "error_description": description}


def _handler(service: CscTestService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/oauth2/token":
                status, answer = service.token(self.headers, parse_qs(raw.decode()))
            elif self.path.startswith("/csc/v2/"):
                if not service.authorised(self.headers):
                    status, answer = 401, {"error": "invalid_token",
                                           "error_description": "The access token is not valid"}
                else:
                    try:
                        body = json.loads(raw or b"{}")
                    except ValueError:
                        body = None
                    status, answer = (service.call(self.path[len("/csc/v2/"):], body) if isinstance(body, dict)
                                      else (400, _bad("The request body is not a JSON object")))
            else:
                status, answer = 404, {"error": "invalid_request", "error_description": "Not found"}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
