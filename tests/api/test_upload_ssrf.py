"""Issue 14 §5 through the API: receiving a signed PDF validates its signatures on receipt; the
uploader's certificate URLs (caIssuers, OCSP, CRL on a recording loopback server) are requested
only for a chain reaching a configured root (DOCSVC_TRUST_ROOTS) and only to an allowed address
(DOCSVC_FETCH_ALLOW); the internal CA keeps being answered in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.pdfs import official_pdf
from tests.helpers import created, upload
from tests.signing.hostile import HostileChain, RecordingServer, hostile_chain, signed_with


@pytest.fixture(scope="module")
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as s:
        yield s


@pytest.fixture(scope="module")
def chain(server: RecordingServer) -> HostileChain:
    return hostile_chain(server.url)


@pytest.fixture(scope="module")
def root_file(chain: HostileChain, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile-root") / "root.pem"
    path.write_bytes(chain.root_pem())
    return path


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest, root_file: Path) -> dict[str, Any]:
    trusted, allow = request.param
    return {"trust_roots": (root_file,) if trusted else (), "fetch_allow": allow}


def _receive(api: Any, pdf: bytes) -> dict[str, Any]:
    doc = created(upload(api.as_user("vanthu"), file=pdf, filename="hostile.pdf"))
    return next(f for f in doc["files"] if f["role"] == "main")["signatures"]


@pytest.mark.parametrize("settings_overrides", [(False, "127.0.0.1"), (True, "")], indirect=True,
                         ids=["untrusted-root-loopback-allowed", "trusted-root-nothing-allowed"])
def test_receipt_makes_no_request_to_the_uploaders_urls(api: Any, server: RecordingServer, chain: HostileChain,
                                                         settings_overrides: dict[str, Any]) -> None:
    server.hits.clear()
    for key in (chain.p12("signer"), chain.p12("signer", with_chain=True), chain.p12("direct_signer")):
        report = _receive(api, signed_with(official_pdf(), key))
        assert report["verdict"] not in ("valid", "valid_with_warnings"), report
    assert server.hits == []


@pytest.mark.parametrize("settings_overrides", [(True, "127.0.0.1")], indirect=True)
def test_a_trusted_root_and_an_allowed_address_are_fetched(api: Any, server: RecordingServer, chain: HostileChain,
                                                           settings_overrides: dict[str, Any]) -> None:
    """The control: with the root configured and 127.0.0.1 allowed, revocation data is requested
    (so the empty hit lists above are the guard's doing); caIssuers are still never chased."""
    server.hits.clear()
    _receive(api, signed_with(official_pdf(), chain.p12("direct_signer")))
    assert any(hit.startswith(("POST /ocsp", "GET /crl/")) for hit in server.hits), server.hits
    assert not any(hit.startswith("GET /aia/") for hit in server.hits)
