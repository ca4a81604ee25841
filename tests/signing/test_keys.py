"""PKCS#12 key sources, their errors, and the key cache."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import pytest

from signing.ca import InternalCA
from signing.errors import (
    CertificateExpiredError,
    CertificateRevokedError,
    KeyUnavailableError,
    KeyUsageError,
    TimestampError,
    UntrustedCertificateError,
    WrongPinError,
)
from signing.keys import KeyRing, Pkcs12KeySource
from signing.pades import sign_pdf
from signing.validate import verify_report
from signing.x509util import utcnow
from tests.signing.pki import USER_PIN, TestPki


def test_wrong_pin_and_unreadable_files(pki: TestPki, tmp_path: Path) -> None:
    with pytest.raises(WrongPinError, match="wrong PIN"):
        Pkcs12KeySource(pki.user_p12, "000000")
    path = tmp_path / "nam.p12"
    path.write_bytes(pki.user_p12)
    with pytest.raises(WrongPinError):
        Pkcs12KeySource(path, "")
    assert Pkcs12KeySource(path, USER_PIN).subject_name == "Hoàng Văn Nam"
    (tmp_path / "junk.p12").write_bytes(b"this is not PKCS#12")
    with pytest.raises(KeyUnavailableError, match="not a PKCS#12"):
        Pkcs12KeySource(tmp_path / "junk.p12", "x")
    with pytest.raises(KeyUnavailableError, match="cannot read"):
        Pkcs12KeySource(tmp_path / "missing.p12", "x")


def test_expired_certificate(pki: TestPki, document: bytes) -> None:
    p12, _ = pki.ca.issue_pkcs12("user", "Người Hết Hạn", "1", not_before=utcnow() - timedelta(days=10),
                                 validity_days=3)
    with pytest.raises(CertificateExpiredError, match="expired"):
        Pkcs12KeySource(p12, "1")
    unchecked = Pkcs12KeySource(p12, "1", check=False)
    with pytest.raises(CertificateExpiredError):
        sign_pdf(document, unchecked, level="B-B")


def test_certificate_without_signing_key_usage(pki: TestPki, document: bytes) -> None:
    p12, _ = pki.ca.issue_pkcs12("user", "Khóa Mã Hóa", "1", key_usage=frozenset({"key_encipherment"}))
    with pytest.raises(KeyUsageError, match="digitalSignature"):
        Pkcs12KeySource(p12, "1")


def test_revoked_certificate_cannot_sign(pki: TestPki, document: bytes) -> None:
    p12, issued = pki.ca.issue_pkcs12("user", "Người Bị Thu Hồi", "1")
    key = Pkcs12KeySource(p12, "1")
    signed = sign_pdf(document, key, level="B-B", validation_context=pki.trust)  # fine before revocation
    pki.ca.revoke(issued.serial, reason="key_compromise")
    for level in ("B-B", "B-LT"):
        with pytest.raises(CertificateRevokedError, match="revoked"):
            sign_pdf(document, key, level=level, timestamper=pki.tsa_url, validation_context=pki.trust)
    report = verify_report(signed, pki.trust)  # a B-B signature has no proof it predates the revocation
    assert report.signatures[0].revocation.status == "revoked"
    assert not report.valid


def test_certificate_of_another_ca_is_untrusted(pki: TestPki, document: bytes, tmp_path: Path) -> None:
    other = InternalCA.init(tmp_path / "other", "x-passphrase", organisation="Tổ chức khác",
                            base_url="http://127.0.0.1:9/pki", key_size=2048)
    p12, _ = other.issue_pkcs12("user", "Người Ngoài", "1")
    key = Pkcs12KeySource(p12, "1")
    with pytest.raises(UntrustedCertificateError):
        sign_pdf(document, key, level="B-B", validation_context=pki.trust)
    signed = sign_pdf(document, key, level="B-B")  # without a trust store nothing is checked...
    report = verify_report(signed, pki.trust)  # ...but the validator does not trust it
    assert report.verdict.value == "indeterminate" and not report.signatures[0].trusted


def test_unreachable_tsa_is_a_timestamp_error(pki: TestPki, document: bytes) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TimestampError):
        sign_pdf(document, pki.user_key, level="B-T", timestamper=f"http://127.0.0.1:{port}/tsa")
    with pytest.raises(TimestampError, match="http"):
        sign_pdf(document, pki.user_key, level="B-T", timestamper="ftp://tsa")


def test_loaded_key_does_not_touch_the_file_again(pki: TestPki, document: bytes, tmp_path: Path) -> None:
    path = tmp_path / "nam.p12"
    path.write_bytes(pki.user_p12)
    key = Pkcs12KeySource(path, USER_PIN)
    path.unlink()
    first = sign_pdf(document, key, level="B-B")
    second = sign_pdf(first, key, level="B-B")
    assert key.signer() is key.signer()
    assert len(verify_report(second, pki.trust).signatures) == 2


def test_key_ring_caches_by_file_and_pin(pki: TestPki, tmp_path: Path) -> None:
    ring = KeyRing(max_entries=2, ttl_seconds=600)
    path = tmp_path / "nam.p12"
    path.write_bytes(pki.user_p12)
    a = ring.pkcs12(path, USER_PIN)
    assert ring.pkcs12(path, USER_PIN) is a
    with pytest.raises(WrongPinError):
        ring.pkcs12(path, "999999")  # never served from the cache
    renewed, _ = pki.ca.renew_pkcs12(pki.user_p12, USER_PIN)
    path.write_bytes(renewed)  # the file changed: a new key source
    b = ring.pkcs12(path, USER_PIN)
    assert b is not a and b.certificate != a.certificate
    expired_ring = KeyRing(ttl_seconds=0)
    assert expired_ring.pkcs12(path, USER_PIN) is not expired_ring.pkcs12(path, USER_PIN)
    with pytest.raises(KeyUnavailableError):
        ring.pkcs12(tmp_path / "none.p12", USER_PIN)
    ring.clear()
