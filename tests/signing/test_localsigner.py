"""docsvc-signer's localhost service: only the configured docsvc page may call it, the PIN is
asked once per batch, signatures come from the SoftHSM2 token and verify with its certificate."""

from __future__ import annotations

import base64
import http.client
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from signing.localsigner.service import LocalSignerServer
from signing.localsigner.token import TokenConfig
from tests.signing.pki import leader_token

ORIGIN = "https://vanban.dongdang.gov.vn"


@pytest.fixture
def signer() -> Any:
    token = leader_token()
    asked: list[str] = []
    pins = iter([token.hsm.pin, "999999"])

    def ask_pin(text: str) -> str:
        asked.append(text)
        return next(pins)

    server = LocalSignerServer(TokenConfig(token.hsm.module, token.hsm.leader_token, token.key_label), ORIGIN,
                               port=0, ask_pin=ask_pin, show=lambda _: None).start()
    server.asked = asked  # type: ignore[attr-defined]
    yield server
    server.close()


def _call(server: LocalSignerServer, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, Any, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    raw = response.read()
    return response.status, (json.loads(raw) if raw else None), response.headers


def test_only_the_docsvc_origin_is_answered(signer: LocalSignerServer) -> None:
    assert signer.httpd.server_address[0] == "127.0.0.1"
    status, body, _ = _call(signer, "GET", "/certificate", Origin="https://evil.example")
    assert status == 403 and body["error"]["code"] == "origin_refused"
    status, _, _ = _call(signer, "GET", "/certificate")  # no Origin: not the page either
    assert status == 403
    status, _, _ = _call(signer, "GET", "/certificate", Origin=ORIGIN, Host="attacker.example")  # DNS rebinding
    assert status == 403
    status, _, headers = _call(signer, "OPTIONS", "/sign", Origin=ORIGIN)
    assert status == 204 and headers["Access-Control-Allow-Origin"] == ORIGIN
    status, body, headers = _call(signer, "GET", "/certificate", Origin=ORIGIN)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == ORIGIN
    assert base64.b64decode(body["certificate"]) == leader_token().certificates["leader"].public_bytes(
        __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)


def test_a_batch_asks_the_pin_once_and_signs_with_the_token(signer: LocalSignerServer) -> None:
    items = [{"prepared_id": f"p{n}", "data_to_be_signed": base64.b64encode(f"data {n}".encode()).decode(),
              "document": {"number": None, "subject": f"Văn bản {n}", "pages": 1, "sha256": "ab" * 32}}
             for n in range(3)]
    status, body, _ = _call(signer, "POST", "/sign", {"items": items}, Origin=ORIGIN)
    assert status == 200, body
    assert len(signer.asked) == 1 and "3 document(s) to sign" in signer.asked[0]  # type: ignore[attr-defined]
    public = leader_token().certificates["leader"].public_key()
    for n, entry in enumerate(body["signatures"]):
        assert entry["prepared_id"] == f"p{n}"
        public.verify(base64.b64decode(entry["signature"]), f"data {n}".encode(), padding.PKCS1v15(), hashes.SHA256())
    # the next batch asks again; a wrong PIN signs nothing
    status, body, _ = _call(signer, "POST", "/sign", {"items": items[:1]}, Origin=ORIGIN)
    assert status == 422 and "PIN" in body["error"]["message"]
    status, body, _ = _call(signer, "POST", "/sign", {"items": []}, Origin=ORIGIN)
    assert status == 422


def test_the_local_signer_imports_neither_docsvc_nor_pyhanko() -> None:
    """It is installed on the leader's computer: a small program, no server code."""
    import subprocess
    import sys
    code = ("import sys, signing.localsigner.cli, signing.localsigner.service; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('docsvc', 'pyhanko', 'flask', 'sqlalchemy')); "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
