"""Issue 14 §5: validating an uploaded signed PDF must not make the service fetch the URLs of the
uploader's own certificates (blind SSRF). A real HTTP server on 127.0.0.1 records every request;
the certificates (made with ``cryptography``) name it as caIssuers, OCSP and CRL location."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from signing.netguard import FetchPolicy
from signing.trust import TrustStore
from signing.validate import Verdict, verify_report
from tests.signing.hostile import HostileChain, RecordingServer, hostile_chain, signed_with
from tests.signing.pki import TestPki

LOOPBACK = FetchPolicy(allow=("127.0.0.1",))


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as s:
        yield s


@pytest.fixture
def chain(server: RecordingServer) -> HostileChain:
    return hostile_chain(server.url)


def test_control_an_unguarded_fetcher_chases_the_uploaders_ca_issuer_url(
        server: RecordingServer, chain: HostileChain, pki: TestPki, document: bytes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The old behaviour (pyHanko's stock HTTP fetchers): the self-made chain's caIssuers URL on
    loopback is requested. Proves the server and certificates below would notice a fetch."""
    signed = signed_with(document, chain.p12("signer"))
    monkeypatch.setattr(TrustStore, "fetcher_backend", lambda self: RequestsFetcherBackend(per_request_timeout=2))
    verify_report(signed, pki.trust)
    assert any(hit.startswith("GET /aia/") for hit in server.hits), server.hits


@pytest.mark.parametrize("with_chain", [False, True], ids=["chain-missing", "chain-embedded"])
def test_an_untrusted_chain_makes_no_request_even_to_allowed_addresses(
        server: RecordingServer, chain: HostileChain, pki: TestPki, document: bytes, with_chain: bool) -> None:
    """Self-made chain, root not trusted: no caIssuers chasing, no OCSP, no CRL — even with
    127.0.0.1 on the allow-list (the test PKI's trust allows loopback)."""
    signed = signed_with(document, chain.p12("signer", with_chain=with_chain))
    report = verify_report(signed, pki.trust)
    assert server.hits == []
    assert report.verdict is not Verdict.VALID
    assert report.signatures[0].trusted is False


def test_a_trusted_chain_fetches_nothing_from_loopback_by_default(
        server: RecordingServer, chain: HostileChain, document: bytes) -> None:
    signed = signed_with(document, chain.p12("direct_signer"))
    report = verify_report(signed, TrustStore(roots=(chain.root,)))  # default policy: public addresses only
    assert server.hits == []
    assert report.signatures[0].revocation.status != "good"
    assert any("revocation" in r for r in report.signatures[0].reasons), report.to_text()
    assert report.verdict is not Verdict.VALID


def test_a_trusted_chain_fetches_revocation_data_from_an_allowed_address(
        server: RecordingServer, chain: HostileChain, document: bytes) -> None:
    """The same upload with 127.0.0.1 allow-listed: OCSP/CRL are requested — the guard, not a
    broken fetcher, kept the requests above from happening."""
    signed = signed_with(document, chain.p12("direct_signer"))
    verify_report(signed, TrustStore(roots=(chain.root,), fetch_policy=LOOPBACK))
    assert any(hit.startswith(("POST /ocsp", "GET /crl/")) for hit in server.hits), server.hits
    assert not any(hit.startswith("GET /aia/") for hit in server.hits)  # issuers never chased


def test_a_slow_responder_costs_at_most_the_time_budget(server: RecordingServer, chain: HostileChain,
                                                         document: bytes) -> None:
    """A tarpit on an allowed address: the validation ends within the operation's time budget."""
    import time

    from tests.signing.hostile import Script
    for path in ("/ocsp", "/crl/Hostile-Root.crl"):
        server.scripts[path] = Script(body=b"x", delay=5)
    signed = signed_with(document, chain.p12("direct_signer"))
    policy = FetchPolicy(allow=("127.0.0.1",), timeout=0.5, total_timeout=1.0)
    started = time.monotonic()
    report = verify_report(signed, TrustStore(roots=(chain.root,), fetch_policy=policy))
    assert time.monotonic() - started < 4
    assert server.hits  # it did try (allowed), and gave up in time
    assert report.verdict is not Verdict.VALID
