"""The internal CA: creation, issuance, renewal, revocation, CRL and OCSP served over HTTP."""

from __future__ import annotations

import base64
import multiprocessing
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from signing.ca import CertificateKind, CertificateRequest, InternalCA
from signing.errors import CaPassphraseError, CertificateAuthorityError, UnknownCertificateError
from signing.keys import read_pkcs12
from tests.signing.pki import TestPki


def _ocsp_status(pki: TestPki, cert: x509.Certificate, *, get: bool = False) -> ocsp.OCSPResponse:
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, pki.ca.issuing_certificate, hashes.SHA1()).build()
    der = request.public_bytes(serialization.Encoding.DER)
    if get:
        url = f"{pki.ca.urls.ocsp}/{base64.b64encode(der).decode()}"
        body = urllib.request.urlopen(url, timeout=10).read()
    else:
        req = urllib.request.Request(pki.ca.urls.ocsp, data=der, headers={"Content-Type": "application/ocsp-request"})
        body = urllib.request.urlopen(req, timeout=10).read()
    return ocsp.load_der_ocsp_response(body)


def _crl(pki: TestPki) -> x509.CertificateRevocationList:
    return x509.load_der_x509_crl(urllib.request.urlopen(pki.ca.urls.crl("issuing"), timeout=10).read())


def test_init_writes_encrypted_keys_and_refuses_a_second_init(tmp_path: Path) -> None:
    ca = InternalCA.init(tmp_path / "ca", "pass-phrase", organisation="Sở Nội vụ", base_url="http://127.0.0.1:9/pki",
                         key_size=2048)
    for stem in ("root", "issuing", "tsa"):
        assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "ca" / f"{stem}.key").read_bytes()
        assert (tmp_path / "ca" / f"{stem}.key").stat().st_mode & 0o077 == 0
    assert ca.issuing_certificate.issuer == ca.root_certificate.subject
    with pytest.raises(CertificateAuthorityError, match="already exists"):
        InternalCA.init(tmp_path / "ca", "pass-phrase", organisation="Sở Nội vụ", base_url="http://127.0.0.1:9/pki")
    reopened = InternalCA.open(tmp_path / "ca", "pass-phrase")
    assert reopened.root_certificate == ca.root_certificate
    with pytest.raises(CaPassphraseError):
        InternalCA.open(tmp_path / "ca", "wrong")
    with pytest.raises(CertificateAuthorityError, match="no CA"):
        InternalCA.open(tmp_path / "elsewhere", "pass-phrase")
    with pytest.raises(CertificateAuthorityError, match="passphrase"):
        InternalCA.init(tmp_path / "other", "", organisation="X", base_url="http://127.0.0.1:9/pki")
    with pytest.raises(CertificateAuthorityError, match="http"):
        InternalCA.init(tmp_path / "other", "p", organisation="X", base_url="ftp://x")
    assert not InternalCA.exists(tmp_path / "other")


def test_issued_certificates_can_sign_and_point_at_our_services(pki: TestPki) -> None:
    issued = pki.ca.issue("user", "Lê Thị Hoa", ec.generate_private_key(ec.SECP256R1()).public_key(),
                          unit="Phòng Kinh tế", title="Chuyên viên")
    cert = issued.certificate
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    aia = {d.access_method: d.access_location.value
           for d in cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value}
    assert aia[AuthorityInformationAccessOID.OCSP] == f"{pki.server.base_url}/ocsp"
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value[0].full_name[0].value
    assert cdp == f"{pki.server.base_url}/crl/issuing.crl"
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "Lê Thị Hoa"
    assert issued.kind is CertificateKind.USER and not issued.revoked
    tsa = pki.ca.tsa_certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert tsa.critical and list(tsa.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


def test_revocation_shows_in_crl_and_ocsp_over_http(pki: TestPki) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    issued = pki.ca.issue("user", "Trần Văn Bình", key.public_key())
    good = _ocsp_status(pki, issued.certificate)
    assert good.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert good.certificate_status is ocsp.OCSPCertStatus.GOOD
    pki.ca.issuing_certificate.public_key().verify(  # type: ignore[call-arg]
        good.signature, good.tbs_response_bytes, padding.PKCS1v15(), good.signature_hash_algorithm)
    assert _crl(pki).get_revoked_certificate_by_serial_number(issued.serial) is None

    revoked = pki.ca.revoke(issued.serial, reason="key_compromise")
    assert revoked.revoked and revoked.revocation_reason == "keyCompromise"
    for get in (False, True):
        answer = _ocsp_status(pki, issued.certificate, get=get)
        assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
        assert answer.revocation_reason is x509.ReasonFlags.key_compromise
    crl = _crl(pki)
    assert crl.is_signature_valid(pki.ca.issuing_certificate.public_key())
    assert crl.get_revoked_certificate_by_serial_number(issued.serial) is not None
    again = pki.ca.revoke(issued.serial, reason="superseded")  # idempotent: first reason kept
    assert again.revocation_reason == "keyCompromise" and again.revoked_at == revoked.revoked_at
    with pytest.raises(CertificateAuthorityError, match="reason"):
        pki.ca.revoke(issued.serial, reason="because")
    with pytest.raises(UnknownCertificateError):
        pki.ca.revoke(12345)


def test_root_crl_covers_the_issuing_ca(pki: TestPki) -> None:
    crl = x509.load_der_x509_crl(urllib.request.urlopen(pki.ca.urls.crl("root"), timeout=10).read())
    assert crl.issuer == pki.ca.root_certificate.subject
    assert crl.is_signature_valid(pki.ca.root_certificate.public_key())
    assert urllib.request.urlopen(pki.ca.urls.certificate("root"), timeout=10).read() == \
        pki.ca.root_certificate.public_bytes(serialization.Encoding.DER)


def test_ocsp_answers_bad_requests_without_crashing(pki: TestPki) -> None:
    malformed = ocsp.load_der_ocsp_response(pki.ca.ocsp_response(b"not an OCSP request"))
    assert malformed.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    other_key = ec.generate_private_key(ec.SECP256R1())
    foreign = x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(x509.Name([])) \
        .public_key(other_key.public_key()).serial_number(7) \
        .not_valid_before(pki.ca.root_certificate.not_valid_before_utc) \
        .not_valid_after(pki.ca.root_certificate.not_valid_after_utc).sign(other_key, hashes.SHA256())
    req = ocsp.OCSPRequestBuilder().add_certificate(foreign, foreign, hashes.SHA1()).build()
    unauthorized = ocsp.load_der_ocsp_response(pki.ca.ocsp_response(req.public_bytes(serialization.Encoding.DER)))
    assert unauthorized.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED
    unknown_req = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        _hash(pki.ca.issuing_certificate.subject.public_bytes()), _key_hash(pki.ca.issuing_certificate), 99,
        hashes.SHA1()).build()
    unknown = ocsp.load_der_ocsp_response(pki.ca.ocsp_response(unknown_req.public_bytes(serialization.Encoding.DER)))
    assert unknown.certificate_status is ocsp.OCSPCertStatus.UNKNOWN


def _hash(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA1())
    digest.update(data)
    return digest.finalize()


def _key_hash(cert: x509.Certificate) -> bytes:
    return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest  # type: ignore[arg-type]


def test_renewal_keeps_key_and_subject_and_pkcs12_repacks(pki: TestPki) -> None:
    p12, issued = pki.ca.issue_pkcs12("user", "Phạm Thu Trang", "0000", validity_days=30)
    renewed_p12, renewed = pki.ca.renew_pkcs12(p12, "0000", validity_days=365)
    assert renewed.serial != issued.serial and renewed.certificate.subject == issued.certificate.subject
    assert renewed.certificate.public_key() == issued.certificate.public_key()
    assert renewed.not_after > issued.not_after
    key, cert, chain = read_pkcs12(renewed_p12, "0000")
    assert cert == renewed.certificate and key.public_key() == issued.certificate.public_key()
    assert chain == pki.ca.chain()
    assert not pki.ca.get(issued.serial).revoked  # renewal does not revoke
    with pytest.raises(CertificateAuthorityError):
        pki.ca.renew(pki.ca.issued(kind="tsa")[0].serial)


def _issue_many(directory: str, count: int) -> list[int]:
    ca = InternalCA.open(directory, "test-ca-passphrase")
    key = ec.generate_private_key(ec.SECP256R1())
    return [ca.issue("user", f"Người dùng {i}", key.public_key()).serial for i in range(count)]


def test_issuing_from_several_processes_loses_nothing(pki: TestPki) -> None:
    before = len(pki.ca.issued())
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        batches = pool.starmap(_issue_many, [(str(pki.directory), 5)] * 4)
    serials = [s for batch in batches for s in batch]
    assert len(set(serials)) == 20
    assert len(pki.ca.issued()) == before + 20
    assert all(pki.ca.get(s).subject.startswith("CN=Người dùng") for s in serials)


def test_issue_many_records_every_certificate_in_one_transaction_or_none(tmp_path: Path) -> None:
    """The bulk path: each certificate as ``issue`` makes it, recorded together; one bad request issues nothing."""
    ca = InternalCA.init(tmp_path / "ca", "pass-phrase", organisation="Sở Nội vụ", base_url="http://127.0.0.1:9/pki",
                         key_size=2048)
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    people = [CertificateRequest("user", f"Nguyễn Văn {i}", k.public_key(), organisation="UBND phường Hải Châu",
                                 unit="Văn phòng", title="Chuyên viên", email=f"nv{i}@danang.gov.vn")
              for i, k in enumerate(keys)]
    issued = ca.issue_many(people)
    assert [c.certificate.public_key() for c in issued] == [k.public_key() for k in keys]
    for c, r in zip(issued, people, strict=True):
        assert ca.get(c.serial) == c  # recorded, and what was returned is what the index holds
        assert c.certificate.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value == r.common_name
        assert c.certificate.issuer == ca.issuing_certificate.subject
    one = ca.issue("user", "Nguyễn Văn 0", keys[0].public_key(), organisation="UBND phường Hải Châu",
                   unit="Văn phòng", title="Chuyên viên", email="nv0@danang.gov.vn")
    assert one.certificate.subject == issued[0].certificate.subject  # the single path makes the same certificate
    before = len(ca.issued())
    with pytest.raises(CertificateAuthorityError, match="common name"):
        ca.issue_many([*people, CertificateRequest("user", " ", keys[0].public_key())])
    assert len(ca.issued()) == before
