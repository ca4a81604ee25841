"""The pages of issue 20: the profile registers the token's certificate; the document page offers
"sign with my token" (the page's script: prepare on docsvc, sign on docsvc-signer at 127.0.0.1,
finish on docsvc — replayed here request by request, as the browser makes them) and remote signing
(PIN/OTP form), beside the server-held PIN."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from signing.localsigner.service import LocalSignerServer
from signing.localsigner.token import TokenConfig
from tests.api.test_split_signing import _draft
from tests.helpers import page_text
from tests.signing.pki import leader_token, remote_signing


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    token, remote = leader_token(), remote_signing()
    return {"trust_roots": (token.root_file,), "trust_intermediates": (token.chain_file,), "fetch_allow": "127.0.0.1",
            "csc_url": remote.service.url, "csc_client_id": remote.client_id, "csc_client_secret": remote.client_secret}


def _local(server: LocalSignerServer, method: str, path: str, body: Any = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request(method, path, body=json.dumps(body).encode() if body is not None else None,
                 headers={"Origin": "http://localhost", "Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.status == 200, response.read()
    return json.loads(response.read())


def test_leader_signs_from_the_pages_with_token_and_remotely(api, pages, container) -> None:  # type: ignore[no-untyped-def]
    token, remote = leader_token(), remote_signing()
    page = pages("chutich")
    pem = token.certificates[token.key_label].public_bytes(Encoding.PEM).decode()
    r = page.post("/me/certificates", {"certificate": pem})
    assert r.status_code == 303, page_text(r)[:300]
    profile = page.get("/me")
    subject = token.certificates[token.key_label].subject.rfc4514_string()[:20]
    assert "docsvc-signer serve" in page_text(profile) and subject in profile.get_data(as_text=True)
    html = profile.get_data(as_text=True)
    assert html.count('id="own-keys"') == 1 and "<section" not in html.split("<title>")[1].split("</title>")[0]
    assert page.post("/me/remote-credential", {"credential_id": ""}).status_code == 303

    doc_id = _draft(api)
    shown = page.get(f"/documents/{doc_id}")
    html = shown.get_data(as_text=True)
    assert 'data-sign-mode="token"' in html and 'data-sign-mode="remote"' in html and 'data-action="sign"' in html
    assert "connect-src 'self' http://127.0.0.1:8765" in shown.headers["Content-Security-Policy"]

    # The page's script, step by step: the certificate from docsvc-signer, prepare, sign, finish.
    signer = LocalSignerServer(TokenConfig(token.hsm.module, token.hsm.leader_token, token.key_label),
                               "http://localhost", port=0, ask_pin=lambda _: token.hsm.pin, show=lambda _: None).start()
    try:
        cert = _local(signer, "GET", "/certificate")
        headers = {"X-CSRF-Token": page.csrf}
        r = page.client.post(f"/documents/{doc_id}/sign-token/prepare", json={"certificate": cert["certificate"]},
                             headers=headers)
        assert r.status_code == 201, r.get_json()
        prepared = r.get_json()
        signed = _local(signer, "POST", "/sign", {"items": [prepared]})
    finally:
        signer.close()
    no_csrf = page.client.post(f"/documents/{doc_id}/sign-token/finish", json={
        "prepared_id": prepared["prepared_id"], "signature": signed["signatures"][0]["signature"]})
    assert no_csrf.status_code in (400, 403)  # the page's own CSRF protection applies
    r = page.client.post(f"/documents/{doc_id}/sign-token/finish", json={
        "prepared_id": prepared["prepared_id"], "signature": signed["signatures"][0]["signature"]}, headers=headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["redirect"].endswith(f"/documents/{doc_id}")
    assert api.as_user("chutich").get(f"/api/v1/documents/{doc_id}").get_json()["status"] == "signed"
    # a second finish of the same preparation is refused, as JSON for the script
    again = page.client.post(f"/documents/{doc_id}/sign-token/finish", json={
        "prepared_id": prepared["prepared_id"], "signature": signed["signatures"][0]["signature"]}, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "preparation_used"

    # Remote signing from the page: a wrong PIN is said on the page, the right one signs.
    other = _draft(api, title="Thông báo lịch tiếp công dân tháng 12")
    r = page.post(f"/documents/{other}/sign_remote", {"pin": "111111", "otp": ""})
    assert r.status_code == 403
    r = page.post(f"/documents/{other}/sign_remote", {"pin": remote.user_pin, "otp": ""})
    assert r.status_code == 303, page_text(r)[:500]
    assert api.as_user("chutich").get(f"/api/v1/documents/{other}").get_json()["status"] == "signed"
