"""Why a signature is INDETERMINATE: no trust roots at all, no path to a root, or a path to a root
whose revocation status cannot be established (a certificate without CRL/OCSP address)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from signing.keys import Pkcs12KeySource
from signing.pades import sign_pdf
from signing.trust import TrustStore
from signing.validate import Verdict, verify_report
from tests.signing.pki import TestPki

PIN = "112233"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sở Thử nghiệm"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _chain_without_revocation_addresses() -> tuple[x509.Certificate, Pkcs12KeySource]:
    """A root and a signer certificate that names no CRL distribution point and no OCSP responder."""
    now = datetime.now(UTC)
    root_key, key = rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)
    root = (x509.CertificateBuilder().subject_name(_name("Gốc thử nghiệm")).issuer_name(_name("Gốc thử nghiệm"))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(_name("Nguyễn Văn Thử")).issuer_name(root.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    p12 = pkcs12.serialize_key_and_certificates(b"thu", key, leaf, [root],
                                                serialization.BestAvailableEncryption(PIN.encode()))
    return root, Pkcs12KeySource(p12, PIN)


@pytest.fixture(scope="module")
def no_url_signed(document: bytes) -> tuple[x509.Certificate, bytes]:
    root, key = _chain_without_revocation_addresses()
    return root, sign_pdf(document, key, level="B-B")


def test_chain_to_a_root_without_revocation_address_says_revocation_data_is_missing(no_url_signed) -> None:  # type: ignore[no-untyped-def]
    root, signed = no_url_signed
    report = verify_report(signed, TrustStore(roots=(root,)))
    sig = report.signatures[0]
    assert report.verdict is Verdict.INDETERMINATE and sig.intact and sig.valid and not sig.trusted
    assert sig.trust_problem == "no_revocation_address" and sig.trust_problem_subject == "Nguyễn Văn Thử"
    text = " ".join(sig.reasons)
    assert "revocation data is unavailable" in text and "no CRL/OCSP address" in text
    assert "no trusted chain" not in text
    assert "no CRL/OCSP address" in report.to_text()


def test_no_path_to_a_root_still_says_so(no_url_signed, pki: TestPki) -> None:  # type: ignore[no-untyped-def]
    _, signed = no_url_signed
    sig = verify_report(signed, pki.trust).signatures[0]  # trusts another root only
    assert sig.verdict is Verdict.INDETERMINATE and sig.trust_problem == "no_chain"
    assert any("no trusted chain to a configured root" in r for r in sig.reasons)


def test_without_any_trust_root_every_other_fact_is_reported(pki: TestPki, document: bytes) -> None:
    signed = sign_pdf(document, pki.user_key, level="B-LT", timestamper=pki.tsa_url, validation_context=pki.trust)
    report = verify_report(signed, TrustStore(roots=()))
    sig = report.signatures[0]
    assert report.verdict is Verdict.INDETERMINATE and sig.verdict is Verdict.INDETERMINATE
    assert sig.trust_problem == "no_trust_roots"
    assert sig.intact and sig.valid and sig.signer.common_name == "Hoàng Văn Nam"
    assert sig.signing_time and sig.pades_level in ("B-T", "B-LT")
    assert any("no trust roots were given" in r for r in sig.reasons)
    # Tampering is still found without trust: INVALID, not INDETERMINATE.
    tampered = bytearray(signed)
    tampered[1500] ^= 0x01
    assert verify_report(bytes(tampered), TrustStore(roots=())).verdict is Verdict.INVALID
