"""The leader signs from the document page with the key on their own token (issue 20): the page's
script asks docsvc-signer on 127.0.0.1 (another origin: CORS for the docsvc origin only) for the
token's certificate, prepares on docsvc, has the token sign, and finishes on docsvc."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from playwright.sync_api import expect

from bench.stack import free_port
from signing.localsigner.service import LocalSignerServer
from signing.localsigner.token import TokenConfig
from tests.api.test_split_signing import _draft
from tests.helpers import ApiClient
from tests.signing.pki import leader_token

PORT = free_port()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    token = leader_token()
    return {"trust_roots": (token.root_file,), "trust_intermediates": (token.chain_file,), "fetch_allow": "127.0.0.1",
            "local_signer_port": PORT}


def test_sign_with_my_token_from_the_document_page(login, live_server, app, demo) -> None:  # type: ignore[no-untyped-def]
    token = leader_token()
    api = ApiClient(app.test_client(), demo.password)
    cert = token.certificates[token.key_label]

    def setup() -> int:  # off the main thread: Playwright's sync API runs an event loop there
        r = api.as_user("chutich").post("/api/v1/me/certificates", json={"certificate": cert.public_bytes(
            Encoding.PEM).decode()})
        assert r.status_code == 201, r.get_json()
        return _draft(api)
    with ThreadPoolExecutor(1) as pool:
        doc_id = pool.submit(setup).result()
    shown: list[str] = []
    signer = LocalSignerServer(TokenConfig(token.hsm.module, token.hsm.leader_token, token.key_label), live_server,
                               port=PORT, ask_pin=lambda _: token.hsm.pin, show=shown.append).start()
    try:
        leader = login("chutich")
        leader.goto(f"/documents/{doc_id}")
        leader.click("form[data-sign-mode=token] button[type=submit]")
        expect(leader.locator(".flash.success")).to_contain_text("Đã ký số")
        expect(leader.locator("#signatures [data-verdict]")).to_have_attribute("data-verdict", "valid")
    finally:
        signer.close()
    assert shown and "1 document(s) to sign" in shown[0]  # docsvc-signer showed the document before signing
    with ThreadPoolExecutor(1) as pool:
        status = pool.submit(lambda: api.as_user("chutich").get(f"/api/v1/documents/{doc_id}").get_json()["status"])
        assert status.result() == "signed"
