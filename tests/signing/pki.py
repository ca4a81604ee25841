"""Real trust services for the signing tests, built once per test process.

- :func:`test_pki` — an internal CA (2048-bit keys for speed) whose CRL, OCSP and TSA are served
  over HTTP by :class:`signing.pki_http.PkiServer` on a free loopback port: OCSP fetching during
  B-LT and time-stamping go through our own responders for real;
- :func:`softhsm` — a SoftHSM2 configuration with its tokens, created before the PKCS#11 module
  is first loaded (SoftHSM reads its configuration and token list once per process);
- :func:`nss_db` — an NSS database trusting the test root, for poppler's ``pdfsig``.

They are process-wide singletons (not fixtures) because both ``tests/signing`` and
``tests/contract/signing`` use them, and a second SoftHSM configuration cannot be loaded.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from signing.ca import InternalCA
from signing.images import seal_png, signature_png
from signing.keys import Pkcs12KeySource
from signing.netguard import FetchPolicy
from signing.pki_http import PkiServer
from signing.trust import TrustStore

ORGANISATION = "Ủy ban nhân dân xã Đồng Đăng"
SIGNER = "Hoàng Văn Nam"
USER_PIN = "246810"
ORG_PIN = "135790"
SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_PIN = "112233"
_lock = threading.Lock()
#: The test CAs' responders listen on 127.0.0.1, which the default fetch policy refuses (SSRF).
LOOPBACK_ALLOWED = FetchPolicy(allow=("127.0.0.1",))


def _tempdir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


@dataclass
class TestPki:
    ca: InternalCA
    server: PkiServer
    directory: Path
    user_p12: bytes
    org_p12: bytes
    user_key: Pkcs12KeySource
    org_key: Pkcs12KeySource
    signature_image: bytes
    seal_image: bytes
    _extra: dict[str, object] = field(default_factory=dict)

    __test__ = False  # not a test class for pytest

    @property
    def tsa_url(self) -> str:
        return self.ca.urls.tsa

    @property
    def trust(self) -> TrustStore:
        """Trust in this CA, whose CRL, OCSP and TSA listen on loopback: allow-listed for fetching."""
        return TrustStore.build(internal_ca=self.ca, fetch_policy=LOOPBACK_ALLOWED)

    @property
    def root_pem(self) -> Path:
        path = self.directory / "root.crt"
        return path

    def new_user(self, name: str, pin: str = USER_PIN, **options: object) -> Pkcs12KeySource:
        p12, _ = self.ca.issue_pkcs12("user", name, pin, **options)  # type: ignore[arg-type]
        return Pkcs12KeySource(p12, pin)


@lru_cache(maxsize=1)
def test_pki() -> TestPki:
    with _lock:
        directory = _tempdir("docsvc-pki-")
        server = PkiServer()
        ca = InternalCA.init(directory / "ca", "test-ca-passphrase", organisation=ORGANISATION,
                             base_url=server.base_url, key_size=2048)
        server.attach(ca)
        atexit.register(server.close)
        user_p12, _ = ca.issue_pkcs12("user", SIGNER, USER_PIN, title="Chủ tịch", unit="Văn phòng")
        org_p12, _ = ca.issue_pkcs12("organisation", ORGANISATION, ORG_PIN)
        return TestPki(ca=ca, server=server, directory=directory / "ca", user_p12=user_p12, org_p12=org_p12,
                       user_key=Pkcs12KeySource(user_p12, USER_PIN), org_key=Pkcs12KeySource(org_p12, ORG_PIN),
                       signature_image=signature_png(SIGNER), seal_image=seal_png(ORGANISATION))


test_pki.__test__ = False  # type: ignore[attr-defined]


# ====================================================================== SoftHSM2
@dataclass(frozen=True)
class SoftHsm:
    module: str
    signing_token: str  # holds an enrolled key "org-seal"
    fresh_token: str  # never logged into: a wrong PIN reaches C_Login for real
    pin: str
    leader_token: str = "docsvc-leader"  # a leader's USB token: only docsvc-signer (another process) logs in
    csc_token: str = "docsvc-csc"  # the HSM of the test remote-signing service (tests/signing/csc_service.py)


@lru_cache(maxsize=1)
def softhsm() -> SoftHsm:
    if not Path(SOFTHSM_MODULE).is_file() or shutil.which("softhsm2-util") is None:
        pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2)")
    directory = _tempdir("docsvc-softhsm-")
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    labels = ("docsvc-sign", "docsvc-fresh", "docsvc-leader", "docsvc-csc")
    for label in labels:
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", TOKEN_PIN,
                        "--so-pin", "87654321"], check=True, capture_output=True)
    import pkcs11
    visible = {t.label for t in pkcs11.lib(SOFTHSM_MODULE).get_tokens()}
    if not set(labels) <= visible:
        pytest.skip("SoftHSM2 was already loaded in this process with another configuration")
    return SoftHsm(SOFTHSM_MODULE, labels[0], labels[1], TOKEN_PIN)


# ====================================================================== pdfsig
def nss_db(ca: Any = None) -> Path:
    """An NSS database trusting the root of ``ca`` (default: the test PKI's), ``certutil -t "CT,C,C"``."""
    if shutil.which("certutil") is None or shutil.which("pdfsig") is None:
        pytest.skip("pdfsig / certutil missing (apt-get install poppler-utils libnss3-tools)")
    authorities = ca if isinstance(ca, (list, tuple)) else [ca or test_pki().ca]
    return _nss_db_for(tuple(a.root_certificate.public_bytes(serialization.Encoding.PEM) for a in authorities))


@lru_cache(maxsize=8)
def _nss_db_for(root_pems: tuple[bytes, ...]) -> Path:
    directory = _tempdir("docsvc-nss-")
    subprocess.run(["certutil", "-N", "--empty-password", "-d", f"sql:{directory}"], check=True, capture_output=True)
    for n, root_pem in enumerate(root_pems):
        root = directory / f"root{n}.pem"
        root.write_bytes(root_pem)
        subprocess.run(["certutil", "-A", "-n", f"docsvc-test-root-{n}", "-t", "CT,C,C", "-i", str(root),
                        "-d", f"sql:{directory}"], check=True, capture_output=True)
    return directory


@dataclass(frozen=True)
class PdfsigSignature:
    field_name: str
    signature_validation: str
    certificate_validation: str | None
    signature_type: str | None


def pdfsig(pdf: bytes, ca: Any = None) -> list[PdfsigSignature]:
    """Run ``pdfsig`` on ``pdf`` with the NSS database trusting our root; parse its report."""
    db = nss_db(ca)
    path = _tempdir("docsvc-pdfsig-") / "doc.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdfsig", "-nssdir", f"sql:{db}", str(path)], capture_output=True, text=True, timeout=60)
    out = []
    for block in re.split(r"^Signature #\d+:\s*$", done.stdout, flags=re.M)[1:]:
        def field_of(name: str, text: str = block) -> str | None:
            m = re.search(rf"- {name}: (.*)$", text, flags=re.M)
            return m.group(1).strip() if m else None
        out.append(PdfsigSignature(field_of("Signature Field Name") or "", field_of("Signature Validation") or "",
                                   field_of("Certificate Validation"), field_of("Signature Type")))
    return out


POPPLER_STALE_ERROR = "Unknown issue with Certificate or corrupted data."


def assert_pdfsig_trusts_every_signature(pdf: bytes, expected: int, ca: Any = None) -> None:
    """Every PAdES signature valid and its certificate trusted, per pdfsig and NSS.

    Two limits of Debian's poppler 22.12 are worked around, not hidden:

    - pdfsig does not verify RFC 3161 document time-stamps ("Signature has not yet been
      verified", type "unknown"); our own validator covers those;
    - pdfsig reads NSS's error code after ``CERT_PKIXVerifyCert`` without checking its return
      value (fixed in later poppler), so once it has fetched one OCSP response, the next
      *different* signer certificate in the same run is reported "Unknown issue" from a stale
      error even when it verifies. For those, the certificate is checked with NSS's own
      ``vfychain`` (same database, PKIX, e-mail signer usage, OCSP on the leaf).
    """
    results = pdfsig(pdf, ca)
    signatures = [r for r in results if r.signature_type == "ETSI.CAdES.detached"]
    assert len(signatures) == expected, results
    certs = _signer_certificates(pdf)
    for index, r in enumerate(signatures):
        assert r.signature_validation == "Signature is Valid.", r
        if index > 0 and r.certificate_validation == POPPLER_STALE_ERROR:
            verdict = _vfychain(certs[r.field_name], ca)
            assert "Chain is good!" in verdict, (r, verdict)
        else:
            assert r.certificate_validation == "Certificate is Trusted.", r
    for r in results:
        if r not in signatures and r.signature_validation:  # empty: a field nobody signed (yet)
            assert r.field_name.startswith("Timestamp"), r


def _signer_certificates(pdf: bytes) -> dict[str, bytes]:
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return {s.field_name: s.signer_cert.dump() for s in reader.embedded_regular_signatures}


def _vfychain(cert_der: bytes, ca: Any = None) -> str:
    directory = _tempdir("docsvc-vfy-")
    leaf, issuing = directory / "leaf.der", directory / "issuing.der"
    leaf.write_bytes(cert_der)
    from cryptography import x509
    authorities = ca if isinstance(ca, (list, tuple)) else [ca or test_pki().ca]
    issuer = x509.load_der_x509_certificate(cert_der).issuer
    authority = next((a for a in authorities if a.issuing_certificate.subject == issuer), authorities[0])
    issuing.write_bytes(authority.issuing_certificate.public_bytes(serialization.Encoding.DER))
    done = subprocess.run(["vfychain", "-d", f"sql:{nss_db(ca)}", "-pp", "-u", "4", "-g", "leaf", "-m", "ocsp",
                           str(leaf), str(issuing)], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


# ====================================================================== an enrolled token key
@dataclass(frozen=True)
class TokenKeys:
    hsm: SoftHsm
    key_label: str  # valid organisation certificate
    expired_label: str  # a key whose certificate has expired


@lru_cache(maxsize=1)
def token_keys() -> TokenKeys:
    """Keys generated on the SoftHSM token, certified by the test CA, certificates stored beside them."""
    from datetime import timedelta

    from signing.tokens import generate_token_key, store_certificate_on_token
    from signing.x509util import utcnow
    hsm, pki = softhsm(), test_pki()
    public = generate_token_key(hsm.module, hsm.signing_token, hsm.pin, "org-seal")
    issued = pki.ca.issue("organisation", ORGANISATION, public, unit="Văn thư")
    store_certificate_on_token(hsm.module, hsm.signing_token, hsm.pin, "org-seal", issued.certificate)
    old = generate_token_key(hsm.module, hsm.signing_token, hsm.pin, "old-seal")
    expired = pki.ca.issue("organisation", ORGANISATION, old, not_before=utcnow() - timedelta(days=30), validity_days=2)
    store_certificate_on_token(hsm.module, hsm.signing_token, hsm.pin, "old-seal", expired.certificate)
    return TokenKeys(hsm, "org-seal", "old-seal")


# ====================================================================== a leader's own token
@dataclass(frozen=True)
class LeaderToken:
    """Keys on the leader's SoftHSM token (``hsm.leader_token``), certified by the *outside* CA of
    :func:`test_pki` (as a government CA would be: trusted through DOCSVC_TRUST_ROOTS, OCSP on
    loopback). This process never logs in to that token: ``docsvc-signer`` runs as a subprocess,
    as it would on the leader's computer."""

    hsm: SoftHsm
    key_label: str  # the leader's valid key
    revoked_label: str  # a key whose certificate the CA revoked after it was registered
    certificates: dict[str, Any]  # label → cryptography Certificate
    root_file: Path  # the outside CA's root, PEM (DOCSVC_TRUST_ROOTS)
    chain_file: Path  # issuing CA + root, PEM

    def env(self) -> dict[str, str]:
        return {**os.environ, "SOFTHSM2_CONF": os.environ["SOFTHSM2_CONF"], "DOCSVC_SIGNER_MODULE": self.hsm.module,
                "DOCSVC_SIGNER_TOKEN_LABEL": self.hsm.leader_token, "DOCSVC_SIGNER_PIN": self.hsm.pin}


LEADER_NAME = SIGNER  # the demo chairman (chutich) of the API tests


@lru_cache(maxsize=1)
def leader_token() -> LeaderToken:
    """Generate the leader's keys on the token (then log out: the token is the signer's alone)."""
    from signing.keys import _TokenSession
    from signing.tokens import generate_token_key, store_certificate_on_token
    hsm, pki = softhsm(), test_pki()
    certs = {}
    for label in ("leader", "leader-revoked"):
        public = generate_token_key(hsm.module, hsm.leader_token, hsm.pin, label)
        issued = pki.ca.issue("user", LEADER_NAME, public, title="Chủ tịch")
        store_certificate_on_token(hsm.module, hsm.leader_token, hsm.pin, label, issued.certificate)
        certs[label] = issued.certificate
    _TokenSession.get(hsm.module, hsm.leader_token).logout()
    directory = _tempdir("docsvc-leader-")
    pem = serialization.Encoding.PEM
    root = directory / "outside-root.pem"
    root.write_bytes(pki.ca.root_certificate.public_bytes(pem))
    chain = directory / "outside-chain.pem"
    chain.write_bytes(pki.ca.issuing_certificate.public_bytes(pem) + pki.ca.root_certificate.public_bytes(pem))
    return LeaderToken(hsm, "leader", "leader-revoked", certs, root, chain)


@dataclass(frozen=True)
class RemoteSigning:
    """The test CSC service (its keys on the SoftHSM2 token ``hsm.csc_token``) with one
    credential of the leader, certified by the outside CA of :func:`test_pki`."""

    service: Any  # tests.signing.csc_service.CscTestService
    credential_id: str
    user_pin: str
    certificate: Any
    client_id: str = "docsvc-test-client"
    client_secret: str = "docsvc-test-secret"


@lru_cache(maxsize=1)
def remote_signing() -> RemoteSigning:
    from signing.keys import _TokenSession
    from signing.tokens import generate_token_key
    from tests.signing.csc_service import Credential, CscTestService
    hsm, pki = softhsm(), test_pki()
    public = generate_token_key(hsm.module, hsm.csc_token, hsm.pin, "csc-chutich")
    issued = pki.ca.issue("user", LEADER_NAME, public, title="Chủ tịch")
    _TokenSession.get(hsm.module, hsm.csc_token).logout()  # the service logs in itself, as an HSM client
    service = CscTestService(hsm.module, hsm.csc_token, hsm.pin, "docsvc-test-client", "docsvc-test-secret").start()
    atexit.register(service.close)
    service.add(Credential("cred-chutich-01", "chutich", "424242", "csc-chutich",
                           [issued.certificate, pki.ca.issuing_certificate, pki.ca.root_certificate]))
    return RemoteSigning(service, "cred-chutich-01", "424242", issued.certificate)


# ====================================================================== stock pyHanko
def assert_stock_pyhanko_accepts_every_signature(pdf: bytes, ca: Any = None) -> int:
    """Every signature and document time-stamp of ``pdf`` as pyHanko judges it out of the box
    (``validate_pdf_signature`` / ``validate_pdf_timestamp``, default difference policy, only the
    internal root trusted): intact, valid, trusted and, for signatures, DocMDP respected. This is
    what an agency validating with pyHanko-based tools sees; docsvc's own validator is not used.
    Returns how many were checked."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    from signing.x509util import to_asn1_cert
    authorities = ca if isinstance(ca, (list, tuple)) else [ca or test_pki().ca]
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    checked = 0
    for sig in reader.embedded_signatures:
        vc = ValidationContext(trust_roots=[to_asn1_cert(a.root_certificate) for a in authorities],
                               allow_fetching=True)
        if sig.sig_object_type == "/DocTimeStamp":
            ts = validate_pdf_timestamp(sig, validation_context=vc)
            assert ts.intact and ts.valid and ts.trusted, (sig.field_name, ts.pretty_print_details())
        else:
            status = validate_pdf_signature(sig, signer_validation_context=vc)
            assert status.intact and status.valid and status.trusted, (sig.field_name, status.pretty_print_details())
            assert status.docmdp_ok is not False, (sig.field_name, status.modification_level,
                                                   status.pretty_print_details())
            assert status.bottom_line, (sig.field_name, status.pretty_print_details())
        checked += 1
    return checked


def assert_stock_pyhanko_accepts_offline(pdf: bytes, root: Any, revocation_mode: str = "hard-fail") -> int:
    """Every signature and document time-stamp of ``pdf`` as stock pyHanko judges it with nothing but
    the PDF and ``root`` (a cryptography or asn1crypto certificate): no fetching at all, revocation
    checked (``hard-fail``: every certificate that names an OCSP responder or CRL must be covered;
    ``require``: every certificate below the root), the document's DSS the only source of
    certificates, OCSP responses and CRLs. This is what B-LT promises. Returns how many were checked."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    from signing.x509util import to_asn1_cert
    anchor = root if not isinstance(root, x509.Certificate) else to_asn1_cert(root)
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    dss = DocumentSecurityStore.read_dss(reader)
    checked = 0
    for sig in reader.embedded_signatures:
        vc = dss.as_validation_context({"trust_roots": [anchor], "allow_fetching": False,
                                        "revocation_mode": revocation_mode})
        if sig.sig_object_type == "/DocTimeStamp":
            ts = validate_pdf_timestamp(sig, validation_context=vc)
            assert ts.intact and ts.valid and ts.trusted, (sig.field_name, ts.pretty_print_details())
        else:
            status = validate_pdf_signature(sig, signer_validation_context=vc)
            assert status.intact and status.valid and status.trusted, (sig.field_name, status.pretty_print_details())
            assert status.timestamp_validity is None or status.timestamp_validity.trusted, sig.field_name
            assert status.docmdp_ok is not False and status.bottom_line, (sig.field_name,
                                                                          status.pretty_print_details())
        checked += 1
    return checked


def page_text(pdf: bytes, page: int = 1) -> str:
    """What poppler's ``pdftotext`` reads on ``page`` (form field appearances included)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext missing (apt-get install poppler-utils)")
    path = _tempdir("docsvc-text-") / "doc.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"], capture_output=True,
                          text=True, timeout=60, check=True)
    return re.sub(r"[ \t]+", " ", done.stdout)


def ink_in(pdf: bytes, rect: tuple[float, float, float, float], page: int = 1) -> int:
    """Dark pixels poppler's ``pdftoppm`` renders (72 dpi) inside ``rect`` (PDF points, lower-left origin)."""
    from PIL import Image
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm missing (apt-get install poppler-utils)")
    directory = _tempdir("docsvc-render-")
    (directory / "doc.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "72", "-f", str(page), "-l", str(page), "-png", str(directory / "doc.pdf"),
                    str(directory / "page")], check=True, capture_output=True, timeout=60)
    image = Image.open(next(directory.glob("page*.png"))).convert("L")
    height = image.height
    x0, y0, x1, y1 = (int(v) for v in rect)
    box = image.crop((x0, height - y1, x1, height - y0))
    return sum(1 for value in box.getdata() if value < 128)
