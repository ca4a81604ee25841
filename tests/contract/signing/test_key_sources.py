"""Contract of the Signer port (signing.keys.KeySource): the same behaviour from a PKCS#12 file
and from a PKCS#11 token."""

from __future__ import annotations

import pytest

from signing.errors import CertificateExpiredError, KeyUnavailableError, WrongPinError
from signing.keys import KeyRing
from signing.pades import sign_pdf
from signing.validate import Verdict, verify_report
from tests.contract.signing.conftest import KeyAdapter
from tests.fixtures.pdfs import official_pdf
from tests.signing.pki import TestPki, assert_pdfsig_trusts_every_signature


def test_signs_a_b_lt_signature_that_validates(adapter: KeyAdapter, pki: TestPki) -> None:
    key = adapter.open()
    assert key.subject_name == pki.ca.organisation
    assert key.certificate.issuer == pki.ca.issuing_certificate.subject
    signed = sign_pdf(official_pdf(), key, level="B-LT", timestamper=pki.tsa_url, validation_context=pki.trust)
    report = verify_report(signed, pki.trust)
    assert report.verdict is Verdict.VALID, report.to_text()
    assert report.signatures[0].signer.serial == format(key.certificate.serial_number, "x")
    assert_pdfsig_trusts_every_signature(signed, expected=1)


def test_key_stays_loaded_between_signatures(adapter: KeyAdapter, pki: TestPki) -> None:
    key = adapter.open()
    signer = key.signer()
    once = sign_pdf(official_pdf(), key, level="B-B", validation_context=pki.trust)
    twice = sign_pdf(once, key, level="B-B", validation_context=pki.trust)
    assert key.signer() is signer
    assert verify_report(twice, pki.trust).valid
    ring = KeyRing()
    assert adapter.open_from_ring(ring) is adapter.open_from_ring(ring)


def test_wrong_pin(adapter: KeyAdapter) -> None:
    with pytest.raises(WrongPinError, match="wrong PIN"):
        adapter.open_with_pin("000999")


def test_expired_certificate(adapter: KeyAdapter) -> None:
    with pytest.raises(CertificateExpiredError, match="expired"):
        adapter.open_expired()


def test_missing_key(adapter: KeyAdapter) -> None:
    with pytest.raises(KeyUnavailableError):
        adapter.open_missing()


def test_concurrent_signatures_with_one_key(adapter: KeyAdapter, pki: TestPki) -> None:
    """Web workers share one loaded key: signatures from several threads at once all come out valid
    (the PKCS#11 session is serialised around the token operations)."""
    from concurrent.futures import ThreadPoolExecutor
    key = adapter.open()
    doc = official_pdf()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: sign_pdf(doc, key, level="B-B", validation_context=pki.trust), range(6)))
    for signed in results:
        assert verify_report(signed, pki.trust).signatures[0].valid


def test_signs_an_enveloped_xml_signature_that_signxml_verifies(adapter: KeyAdapter) -> None:
    """The edXML header's XML-DSig is made through the key source, so a token signs it as a file does."""
    from lxml import etree

    from signing.xmldsig import sign_enveloped, verify_enveloped
    key = adapter.open()
    ns = "urn:example:doc"
    root = etree.fromstring(f'<d:Doc xmlns:d="{ns}"><d:Header><d:Subject>Số 15</d:Subject></d:Header></d:Doc>'.encode())
    sign_enveloped(root, key, f"{{{ns}}}Header")
    data = etree.tostring(root, encoding="UTF-8")
    assert verify_enveloped(etree.fromstring(data), key.certificate, f"{{{ns}}}Header").valid
    assert "Số 16".encode() not in data
    changed = etree.fromstring(data.replace("Số 15".encode(), "Số 16".encode()))
    assert not verify_enveloped(changed, key.certificate, f"{{{ns}}}Header").valid
