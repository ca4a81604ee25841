"""The internal CA answered in-process (signing.local_pki): signing at B-T, B-LT and B-LTA, LTV
and validation make no HTTP request to the internal CA, their results are what outside validators
(pdfsig + NSS over HTTP, pyHanko over HTTP) accept, the answers are those of the HTTP endpoints,
and every URL that is not the internal CA's still goes over HTTP.

The CA of this module has URLs on a loopback port where nothing listens while signing: an HTTP
request to it would be refused, and the signature would fail. A :class:`PkiServer` is started on
that port only when an outside validator needs it.
"""

from __future__ import annotations

import asyncio
import base64
import io
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import algos, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import ocsp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers import OwnedFetcherBackend

from signing.ca import InternalCA
from signing.errors import TimestampError, ValidationDataError
from signing.keys import Pkcs12KeySource
from signing.local_pki import LocalPki
from signing.ltv import add_ltv
from signing.pades import PadesLevel, sign_pdf, timestamper_for
from signing.pki_http import PkiServer
from signing.trust import TrustStore
from signing.validate import Verdict, verify_report
from signing.x509util import to_asn1_cert, utcnow
from tests.signing.pki import (
    LOOPBACK_ALLOWED,
    ORGANISATION,
    SIGNER,
    USER_PIN,
    TestPki,
    _tempdir,
    assert_pdfsig_trusts_every_signature,
    assert_stock_pyhanko_accepts_offline,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class OwnPki:
    """An internal CA whose URLs point at ``port`` (nothing listens there unless a test serves it)."""

    ca: InternalCA
    port: int
    local: LocalPki
    key: Pkcs12KeySource

    __test__ = False

    def local_trust(self) -> TrustStore:
        """Trust with the CA answered in-process, by a fresh LocalPki (fresh counters in ``local``)."""
        self.local = LocalPki(self.ca)
        return TrustStore.build(internal_ca=self.ca, local_pki=self.local)

    @property
    def http_trust(self) -> TrustStore:
        """The same trust, fetching everything over HTTP (as before issue #9)."""
        return TrustStore.build(internal_ca=self.ca, fetch_policy=LOOPBACK_ALLOWED)

    def assert_nothing_listens(self) -> None:
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", self.port)) != 0, "something listens on the CA's port"

    def serve(self) -> PkiServer:
        server = PkiServer(port=self.port)
        server.attach(self.ca)
        return server


@pytest.fixture(scope="module")
def own() -> OwnPki:
    port = _free_port()
    directory: Path = _tempdir("docsvc-local-pki-")
    ca = InternalCA.init(directory / "ca", "local-pki-passphrase", organisation=ORGANISATION,
                         base_url=f"http://127.0.0.1:{port}/pki", key_size=2048)
    p12, _ = ca.issue_pkcs12("user", SIGNER, USER_PIN, title="Chủ tịch")
    return OwnPki(ca, port, LocalPki(ca), Pkcs12KeySource(p12, USER_PIN))


@pytest.fixture
def served(own: OwnPki) -> Iterator[PkiServer]:
    with own.serve() as server:
        yield server


LEVELS = [PadesLevel.B_T, PadesLevel.B_LT, PadesLevel.B_LTA]


# ====================================================================== no HTTP when signing
def test_without_the_local_pki_signing_needs_the_http_server(own: OwnPki, document: bytes) -> None:
    """The control: with nothing listening, signing over HTTP fails (so the tests below would
    notice a single HTTP request to the internal CA)."""
    own.assert_nothing_listens()
    with pytest.raises(ValidationDataError):
        sign_pdf(document, own.key, level="B-LT", timestamper=own.ca.urls.tsa, validation_context=own.http_trust)
    with pytest.raises(TimestampError):
        sign_pdf(document, own.key, level="B-T", timestamper=own.ca.urls.tsa)


@pytest.mark.parametrize("level", LEVELS, ids=lambda lv: lv.value)
def test_signing_answers_the_internal_ca_in_process(own: OwnPki, document: bytes, level: PadesLevel) -> None:
    own.assert_nothing_listens()
    trust = own.local_trust()
    signed = sign_pdf(document, own.key, level=level, timestamper=own.ca.urls.tsa, validation_context=trust)
    answered = dict(own.local.answered)
    assert answered.get("POST /tsa", 0) >= (2 if level is PadesLevel.B_LTA else 1), answered
    assert answered.get("POST /ocsp", 0) >= 1, answered  # the signer's status, checked before signing
    report = verify_report(signed, trust)  # online revocation checks answered in-process too
    assert report.valid, report.to_text()
    regular = [s for s in report.signatures if s.kind != "document_timestamp"]
    assert [s.pades_level for s in regular] == [level.value]
    assert regular[0].time_source == "signature_timestamp"
    assert own.local.answered_count() > sum(answered.values())  # validation fetched in-process as well


@pytest.mark.parametrize("level", [PadesLevel.B_LT, PadesLevel.B_LTA], ids=lambda lv: lv.value)
def test_outside_validators_accept_it_over_http(own: OwnPki, document: bytes, level: PadesLevel) -> None:
    """Signed without any server; then pdfsig (NSS asks the OCSP responder over HTTP) and
    pyHanko fetching over HTTP only both accept the result."""
    own.assert_nothing_listens()
    signed = sign_pdf(document, own.key, level=level, timestamper=own.ca.urls.tsa, validation_context=own.local_trust())
    with own.serve() as server:
        assert_pdfsig_trusts_every_signature(signed, 1, own.ca)
        report = verify_report(signed, own.http_trust)
        assert report.valid, report.to_text()
        assert [s.pades_level for s in report.signatures if s.kind != "document_timestamp"] == [level.value]
        assert server.request_count() > 0  # the HTTP endpoints still serve outside validators


@pytest.mark.parametrize("level", [PadesLevel.B_LT, PadesLevel.B_LTA], ids=lambda lv: lv.value)
def test_with_the_responders_down_or_refused_the_embedded_data_decide(own: OwnPki, document: bytes,
                                                                      level: PadesLevel) -> None:
    """Nobody answers the CA's URLs (nothing listens; or the fetch guard refuses loopback): a B-LT or
    B-LTA document is VALID from its DSS alone, exactly as validated offline, and stock pyHanko with
    fetching off agrees. A B-T document embeds nothing: a failed fetch proves nothing, it stays
    INDETERMINATE (revocation unknown)."""
    own.assert_nothing_listens()
    signed = sign_pdf(document, own.key, level=level, timestamper=own.ca.urls.tsa, validation_context=own.local_trust())
    bare = sign_pdf(document, own.key, level="B-T", timestamper=own.ca.urls.tsa, validation_context=own.local_trust())
    refused = TrustStore.build(internal_ca=own.ca)  # the default fetch policy: loopback is not fetched
    for trust in (own.http_trust, refused):
        report = verify_report(signed, trust)
        assert report.verdict is Verdict.VALID, report.to_text()
        regular = [s for s in report.signatures if s.kind != "document_timestamp"]
        assert [(s.revocation.status, s.revocation.source) for s in regular] == [("good", "document_dss")]
        unproven = verify_report(bare, trust)
        assert unproven.verdict is Verdict.INDETERMINATE, unproven.to_text()
        assert unproven.signatures[0].revocation.status == "unknown"
    expected = 2 if level is PadesLevel.B_LTA else 1
    assert assert_stock_pyhanko_accepts_offline(signed, own.ca.root_certificate, "require") == expected


def test_failed_fetches_never_hide_the_known_crls(own: OwnPki) -> None:
    """Why the fallback is for OCSP only: with real CRLs and nothing listening on the CA's URLs,
    certvalidator judges known CRLs before fetching, so a path is valid (hard-fail) when the
    fetches fail but the CRLs are known (the document's DSS); with no CRL known the failures stand."""
    from asn1crypto import crl as asn1_crl
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.errors import InsufficientRevinfoError

    from signing.embedded_fallback import EmbeddedFallbackBackend
    from signing.guarded_fetchers import GuardedFetcherBackend
    own.assert_nothing_listens()
    crls = [asn1_crl.CertificateList.load(own.ca.crl_der(scope)) for scope in ("issuing", "root")]

    def validate(known: list[asn1_crl.CertificateList]) -> None:
        backend = EmbeddedFallbackBackend(GuardedFetcherBackend(LOOPBACK_ALLOWED))  # no OCSP embedded
        vc = ValidationContext(trust_roots=[to_asn1_cert(own.ca.root_certificate)],
                               other_certs=[to_asn1_cert(own.ca.issuing_certificate)], crls=known,
                               allow_fetching=True, revocation_mode="hard-fail",
                               fetcher_backend=OwnedFetcherBackend(backend))
        asyncio.run(CertificateValidator(to_asn1_cert(own.key.certificate), validation_context=vc)
                    .async_validate_usage({"non_repudiation"}))

    validate(crls)
    with pytest.raises(InsufficientRevinfoError):  # nothing known: a failed fetch proves nothing
        validate([])


def test_the_embedded_validation_data_is_the_internal_cas(own: OwnPki, document: bytes) -> None:
    """B-LT's DSS holds the internal CA's own OCSP responses (signed by the issuing CA, status
    good for the signer) and certificates, as the HTTP responder would have given them."""
    signed = sign_pdf(document, own.key, level="B-LT", timestamper=own.ca.urls.tsa,
                      validation_context=own.local_trust())
    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(signed), strict=False))
    responses = [ocsp.load_der_ocsp_response(ref.get_object().data) for ref in dss.ocsps]
    assert responses and all(r.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL for r in responses)
    by_serial = {r.serial_number: r for r in responses}
    mine = by_serial[own.key.certificate.serial_number]
    assert mine.certificate_status is ocsp.OCSPCertStatus.GOOD
    issuing = own.ca.issuing_certificate
    issuing.public_key().verify(mine.signature, mine.tbs_response_bytes,  # type: ignore[call-arg, union-attr]
                                padding.PKCS1v15(), mine.signature_hash_algorithm)
    embedded = {c.dump() for c in dss.load_certs()}
    assert issuing.public_bytes(serialization.Encoding.DER) in embedded
    assert own.ca.tsa_certificate.public_bytes(serialization.Encoding.DER) in embedded


def test_ltv_refresh_in_process(own: OwnPki, document: bytes) -> None:
    own.assert_nothing_listens()
    b_t = sign_pdf(document, own.key, level="B-T", timestamper=own.ca.urls.tsa, validation_context=own.local_trust())
    trust = own.local_trust()
    extended = add_ltv(b_t, trust, own.ca.urls.tsa)
    assert own.local.answered.get("POST /tsa", 0) >= 1 and own.local.answered.get("POST /ocsp", 0) >= 1
    again = add_ltv(extended, trust, own.ca.urls.tsa)  # the archival chain grows by one time-stamp
    report = verify_report(again, trust)
    assert report.valid, report.to_text()
    assert [s.kind for s in report.signatures].count("document_timestamp") == 2
    assert report.signatures[0].pades_level == "B-LTA"


# ====================================================================== same answers as HTTP
def _http(method: str, url: str, body: bytes | None = None) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/octet-stream")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def _local(own: OwnPki, method: str, url: str, body: bytes = b"") -> tuple[int, str, bytes]:
    reply = own.local.request(method, url, body)
    return int(reply.status.split()[0]), reply.content_type, reply.body


def _ocsp_request(own: OwnPki, nonce: bool) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(own.key.certificate, own.ca.issuing_certificate, hashes.SHA1())
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(b"\x07" * 16), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def test_local_answers_are_the_http_answers(own: OwnPki, served: PkiServer) -> None:
    """The same status, content type and bytes in-process as over HTTP for CRLs, certificates
    and errors; for OCSP (POST and GET, the CA's clock fixed) the same response except its
    producedAt, which ``cryptography`` stamps with the wall clock to the second."""
    fixed = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    own.ca.clock = lambda: fixed
    try:
        base = own.ca.urls
        get_url = f"{base.ocsp}/{base64.b64encode(_ocsp_request(own, nonce=False)).decode()}"
        ocsp_cases = [("POST", base.ocsp, _ocsp_request(own, nonce=True)), ("GET", get_url, None)]
        byte_cases = [("GET", base.crl("issuing"), None), ("GET", base.crl("root"), None),
                      ("GET", base.certificate("issuing"), None), ("GET", base.certificate("root"), None),
                      ("POST", base.ocsp, b""), ("GET", f"{base.base}/nothing-here", None),
                      ("POST", base.tsa, b"not a request"), ("POST", base.ocsp, b"\x30\x03\x02\x01\x01")]
        for method, url, body in ocsp_cases + byte_cases:
            over_http = _http(method, url, body if body is not None or method == "GET" else b"")
            in_process = _local(own, method, url, body or b"")
            assert in_process[:2] == over_http[:2], (method, url, in_process[:2], over_http[:2])
            if (method, url, body) in ocsp_cases:
                assert _ocsp_facts(in_process[2]) == _ocsp_facts(over_http[2]), (method, url)
            else:
                assert in_process[2] == over_http[2], (method, url)
    finally:
        own.ca.clock = utcnow


def _ocsp_facts(der: bytes) -> tuple[object, ...]:
    response = ocsp.load_der_ocsp_response(der)
    return (response.response_status, response.responder_key_hash, response.certificate_status,
            response.serial_number, response.this_update_utc, response.next_update_utc,
            [(e.oid, e.value) for e in response.extensions], response.signature_hash_algorithm.name,
            response.certificates)


def test_local_timestamps_are_the_tsas(own: OwnPki, served: PkiServer) -> None:
    """Time-stamp tokens differ by serial number and time only; everything else — status,
    content type, policy, imprint, nonce, the TSA and its certificates — is the same."""
    digest = b"\x42" * 32
    body = tsp.TimeStampReq({"version": "v1", "message_imprint": {
        "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}), "hashed_message": digest},
        "nonce": 99, "cert_req": True}).dump()
    answers = [_http("POST", own.ca.urls.tsa, body), _local(own, "POST", own.ca.urls.tsa, body)]
    facts = []
    for status, content_type, data in answers:
        resp = tsp.TimeStampResp.load(data)
        signed = resp["time_stamp_token"]["content"]
        info = signed["encap_content_info"]["content"].parsed.native
        facts.append((status, content_type, resp["status"]["status"].native, info["policy"], info["message_imprint"],
                      info["nonce"], info["tsa"], [c.dump() for c in signed["certificates"]]))
    assert facts[0] == facts[1]
    assert facts[0][2] == "granted" and facts[0][5] == 99


def test_the_time_stamper_checks_the_reply_like_pyhankos_http_client(own: OwnPki) -> None:
    stamper = own.local.timestamper()
    assert timestamper_for(own.ca.urls.tsa, local_pki=own.local) is stamper
    token = asyncio.run(stamper.async_timestamp(b"\x01" * 32, "sha256"))
    assert token["content"]["encap_content_info"]["content"].parsed["nonce"].native is not None
    # A rejection (here: a policy the TSA does not offer) is a time-stamping error that says why.
    req = tsp.TimeStampReq({"version": "v1", "message_imprint": {
        "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}), "hashed_message": b"\x01" * 32},
        "req_policy": "1.2.3.4", "cert_req": True})
    with pytest.raises(TimestampRequestError, match="rejection: policy 1.2.3.4 is not offered"):
        asyncio.run(stamper.async_request_tsa_response(req))


# ====================================================================== routing
def test_which_urls_are_answered_in_process(own: OwnPki) -> None:
    local = LocalPki(own.ca, also_serves=["https://vanban.dongdang.gov.vn/pki/"])
    port = own.port
    assert local.path_of(f"http://127.0.0.1:{port}/pki/ocsp") == "/ocsp"
    assert local.path_of(f"HTTP://127.0.0.1:{port}/pki/crl/issuing.crl") == "/crl/issuing.crl"
    assert local.path_of("https://VANBAN.dongdang.gov.vn:443/pki/tsa") == "/tsa"
    for foreign in (f"http://127.0.0.1:{port}/pkix/ocsp", f"http://127.0.0.1:{port}/pki",
                    f"https://127.0.0.1:{port}/pki/ocsp",
                    f"http://localhost:{port}/pki/ocsp", f"http://127.0.0.1:{port + 1}/pki/ocsp",
                    "http://vanban.dongdang.gov.vn/pki/ocsp", "ldap://127.0.0.1/pki/ocsp", "not a url"):
        assert not local.serves(foreign), foreign
    with pytest.raises(ValueError):
        local.request("GET", "http://tsa.example.net/pki/tsa")
    with pytest.raises(ValueError):
        local.timestamper("http://tsa.example.net/tsa")


# ====================================================================== other URLs: HTTP as before
@pytest.fixture
def both(own: OwnPki, pki: TestPki) -> TrustStore:
    """Trust in our internal CA (answered in-process) and in an "external" CA (the session test
    PKI, served over HTTP by its counting PkiServer)."""
    own.local = LocalPki(own.ca)
    return TrustStore(roots=(own.ca.root_certificate, pki.ca.root_certificate),
                      intermediates=(own.ca.issuing_certificate, pki.ca.issuing_certificate), local_pki=own.local,
                      fetch_policy=LOOPBACK_ALLOWED)


def test_an_external_ca_and_tsa_still_go_over_http(own: OwnPki, pki: TestPki, both: TrustStore,
                                                   document: bytes) -> None:
    before = dict(pki.server.requests)
    signed = sign_pdf(document, pki.user_key, level="B-LT", timestamper=pki.tsa_url, validation_context=both)
    after = pki.server.requests
    assert after["POST /pki/tsa"] > before.get("POST /pki/tsa", 0)
    assert after["POST /pki/ocsp"] > before.get("POST /pki/ocsp", 0)
    assert own.local.answered_count() == 0  # nothing of the external CA was answered locally
    assert verify_report(signed, both).valid


def test_our_signer_with_an_external_tsa(own: OwnPki, pki: TestPki, both: TrustStore, document: bytes) -> None:
    """DOCSVC_TSA_URL pointing elsewhere: the time-stamp (and its TSA's status) over HTTP, our
    signer's status in-process."""
    own.assert_nothing_listens()
    before = dict(pki.server.requests)
    signed = sign_pdf(document, own.key, level="B-LT", timestamper=pki.tsa_url, validation_context=both)
    assert pki.server.requests["POST /pki/tsa"] > before.get("POST /pki/tsa", 0)
    assert own.local.answered.get("POST /tsa", 0) == 0
    assert own.local.answered.get("POST /ocsp", 0) >= 1
    report = verify_report(signed, both)
    assert report.valid, report.to_text()
    assert report.signatures[0].timestamp_authority == f"{ORGANISATION} TSA"


def test_without_http_fallback_foreign_urls_are_refused(own: OwnPki, pki: TestPki, document: bytes) -> None:
    local = LocalPki(own.ca)
    backend = local.fetcher_backend(http_fallback=False)
    before = pki.server.request_count()
    vc = ValidationContext(trust_roots=[to_asn1_cert(pki.ca.root_certificate)],
                           other_certs=[to_asn1_cert(pki.ca.issuing_certificate)], allow_fetching=True,
                           revocation_mode="hard-fail", fetcher_backend=OwnedFetcherBackend(backend))
    with pytest.raises(ValidationDataError):
        sign_pdf(document, pki.user_key, level="B-B", validation_context=vc)
    assert pki.server.request_count() == before
