"""The validation report: content, verdicts, JSON and text forms, and validation in the future."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from signing.errors import InvalidDocumentError
from signing.keys import Pkcs12KeySource
from signing.ltv import add_ltv
from signing.pades import sign_pdf
from signing.validate import Verdict, verify_report
from tests.fixtures.pdfs import encrypted_pdf, malformed_pdf
from tests.signing.pki import SIGNER, TestPki


@contextmanager
def _ca_clock(pki: TestPki, moment: datetime) -> Iterator[None]:
    """Our OCSP/CRL responders answer as if it were ``moment``."""
    pki.ca.clock = lambda: moment
    try:
        yield
    finally:
        from signing.x509util import utcnow
        pki.ca.clock = utcnow


def test_report_json_and_text(pki: TestPki, document: bytes) -> None:
    signed = sign_pdf(document, pki.user_key, level="B-LT", timestamper=pki.tsa_url, validation_context=pki.trust,
                      certify=True, reason="Ký ban hành")
    report = verify_report(signed, pki.trust)
    data = report.to_json()
    json.dumps(data, ensure_ascii=False)  # plain JSON types only
    assert data["verdict"] == "valid" and data["certified"] is True
    sig = data["signatures"][0]
    assert sig["signer"]["common_name"] == SIGNER
    assert sig["signer"]["serial"] == format(pki.user_key.certificate.serial_number, "x")
    assert sig["signer"]["issuer"].endswith("Issuing CA")
    assert sig["signing_time"].endswith("+07:00") and sig["time_source"] == "signature_timestamp"
    assert sig["timestamp_authority"].endswith("TSA")
    assert (sig["intact"], sig["valid"], sig["trusted"]) == (True, True, True)
    assert sig["revocation"] == {"status": "good", "source": "document_dss", "revoked_at": None}
    assert sig["coverage"] == "entire_revision" and sig["modification"] == "lta_updates"
    assert sig["docmdp_permission"] == "form_filling" and sig["pades_level"] == "B-LT"
    assert sig["ades_indication"] == "PASSED"
    text = report.to_text()
    for expected in ("Kết luận / Verdict: HỢP LỆ / VALID", f"Người ký / Signer: {SIGNER}", "B-LT",
                     "dấu thời gian tin cậy / trusted timestamp", "Thu hồi / Revocation: good"):
        assert expected in text, text


def test_unsigned_and_unreadable_documents(pki: TestPki, document: bytes) -> None:
    report = verify_report(document, pki.trust)
    assert report.verdict is Verdict.INVALID and report.signatures == []
    assert "no digital signature" in report.reasons[0]
    for bad in (malformed_pdf(), b"hello", encrypted_pdf()):
        with pytest.raises(InvalidDocumentError):
            verify_report(bad, pki.trust)


def test_revocation_after_a_timestamped_signature_is_a_warning(pki: TestPki, document: bytes) -> None:
    p12, issued = pki.ca.issue_pkcs12("user", "Thu Hồi Sau", "1")
    signed = sign_pdf(document, Pkcs12KeySource(p12, "1"), level="B-LT", timestamper=pki.tsa_url,
                      validation_context=pki.trust)
    time.sleep(2.5)  # the revocation must be later than the time-stamp by more than the 1 s tolerance
    pki.ca.revoke(issued.serial, reason="key_compromise")
    report = verify_report(signed, pki.trust)
    sig = report.signatures[0]
    assert sig.revocation.status == "revoked" and sig.revocation.revoked_at
    assert report.verdict is Verdict.VALID_WITH_WARNINGS
    assert any("revoked at" in w for w in sig.warnings)


def test_time_stamped_signatures_outlive_the_signer_certificate(pki: TestPki, document: bytes) -> None:
    """After the signer's certificate expired, a time-stamp (B-T and up) still proves the signature
    was made while it was valid; a B-B signature has nothing to prove it and becomes indeterminate."""
    b_b = sign_pdf(document, pki.user_key, level="B-B", validation_context=pki.trust)
    b_lta = add_ltv(sign_pdf(document, pki.user_key, level="B-LT", timestamper=pki.tsa_url,
                             validation_context=pki.trust), pki.trust, pki.tsa_url)
    later = pki.user_key.certificate.not_valid_after_utc + timedelta(days=30)
    assert later < pki.ca.tsa_certificate.not_valid_after_utc
    with _ca_clock(pki, later):
        kept = verify_report(b_lta, pki.trust, now=later)
        lost = verify_report(b_b, pki.trust, now=later)
    assert kept.verdict is Verdict.VALID, kept.to_text()
    assert kept.signatures[0].time_source == "signature_timestamp"
    assert kept.signatures[0].signing_time < kept.signatures[0].signer.not_after
    assert lost.verdict is Verdict.INDETERMINATE, lost.to_text()


def test_validation_time_is_reported_in_vietnam_time(pki: TestPki, document: bytes) -> None:
    signed = sign_pdf(document, pki.user_key, level="B-B")
    moment = datetime(2026, 11, 20, 7, 3, 22, tzinfo=UTC)
    assert verify_report(signed, pki.trust).validated_at.endswith("+07:00")
    with _ca_clock(pki, max(moment, pki.user_key.certificate.not_valid_before_utc + timedelta(hours=1))):
        report = verify_report(signed, pki.trust, now=max(moment, pki.user_key.certificate.not_valid_before_utc
                                                          + timedelta(hours=1)))
    assert report.validated_at.endswith("+07:00")


def test_received_non_pades_signature_is_reported(pki: TestPki, document: bytes) -> None:
    """A document signed elsewhere with the older adbe.pkcs7.detached format validates, with a warning."""
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
    meta = PdfSignatureMetadata(field_name="Legacy", subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED)
    signed = PdfSigner(meta, signer=pki.user_key.signer()).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(document))).getvalue()
    report = verify_report(signed, pki.trust)
    sig = report.signatures[0]
    assert sig.pades_level == "not PAdES (adbe.pkcs7.detached)"
    assert sig.intact and sig.valid and sig.trusted
    assert report.verdict is Verdict.VALID_WITH_WARNINGS
    assert any("not a PAdES signature" in w for w in sig.warnings)
