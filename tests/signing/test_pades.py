"""PAdES levels, sequential signatures, certification (DocMDP) and tampering — checked by our
validator and independently by poppler's pdfsig trusting the test root through NSS."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pyhanko.pdf_utils.generic import StreamObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing.appearance import SealAppearance, SignerAppearance
from signing.errors import ModificationNotAllowedError, SigningError, TimestampError, ValidationDataError
from signing.pades import FillIssueFields, IssueFieldsRequest, PadesLevel, sign_pdf
from signing.pagefields import SEAL_FIELD
from signing.validate import Verdict, verify_report
from tests.signing.pki import (
    SIGNER,
    TestPki,
    assert_pdfsig_trusts_every_signature,
    assert_stock_pyhanko_accepts_every_signature,
    pdfsig,
)


def _sign(pki: TestPki, pdf: bytes, level: str, **options: object) -> bytes:
    return sign_pdf(pdf, options.pop("key", pki.user_key), level=level, timestamper=pki.tsa_url,  # type: ignore[arg-type]
                    validation_context=pki.trust, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("level", [lv.value for lv in PadesLevel])
def test_every_level_validates_and_pdfsig_trusts_it(pki: TestPki, document: bytes, level: str) -> None:
    signed = _sign(pki, document, level, reason="Phê duyệt", location="Lạng Sơn")
    assert signed.startswith(document)  # an incremental update: the original bytes are untouched
    report = verify_report(signed, pki.trust)
    first = report.signatures[0]
    assert first.pades_level == level
    assert first.intact and first.valid and first.trusted
    assert first.revocation.status == "good"
    assert first.revocation.source == ("document_dss" if level in ("B-LT", "B-LTA") else "online")
    assert first.time_source == ("claimed" if level == "B-B" else "signature_timestamp")
    assert report.verdict is (Verdict.VALID_WITH_WARNINGS if level == "B-B" else Verdict.VALID), report.to_text()
    kinds = [s.kind for s in report.signatures]
    assert kinds == (["signature", "document_timestamp"] if level == "B-LTA" else ["signature"])
    assert_pdfsig_trusts_every_signature(signed, expected=1)


def test_signer_then_organisation_both_stay_valid(pki: TestPki, document: bytes) -> None:
    """The certification creates the seal's field (and the number and date fields); the seal
    fills them: form filling, which stock pyHanko and docsvc's validator both accept."""
    signer = _sign(pki, document, "B-LT", certify=True, issue_fields=IssueFieldsRequest(),
                   appearance=SignerAppearance(pki.signature_image, name=SIGNER))
    both = _sign(pki, signer, "B-LT", key=pki.org_key, appearance=SealAppearance(pki.seal_image),
                 fill=FillIssueFields("05/QĐ-UBND", date(2026, 12, 7)))
    report = verify_report(both, pki.trust)
    assert report.verdict is Verdict.VALID, report.to_text()
    assert report.certified and report.certification_permission == "form_filling"
    first, second = report.signatures
    assert first.kind == "certification" and first.modification == "form_filling" and first.docmdp_ok
    assert first.coverage == "entire_revision" and second.coverage == "entire_revision"
    assert second.signer.common_name == pki.ca.organisation and second.field_name == SEAL_FIELD
    assert assert_stock_pyhanko_accepts_every_signature(both) == 2
    assert_pdfsig_trusts_every_signature(both, expected=2)


def test_a_new_visible_field_after_certification_is_refused_as_stock_pyhanko_does(pki: TestPki,
                                                                                    document: bytes) -> None:
    """docsvc's validator used to accept a new visible signature field after certification (as
    Acrobat does) where stock pyHanko reports ILLEGAL modifications: now it judges as pyHanko."""
    signer = _sign(pki, document, "B-T", certify=True, appearance=SignerAppearance(pki.signature_image, name=SIGNER))
    both = _sign(pki, signer, "B-T", key=pki.org_key, appearance=SealAppearance(pki.seal_image))
    report = verify_report(both, pki.trust)
    first = report.signatures[0]
    assert first.modification == "other" and first.docmdp_ok is False
    assert report.verdict is Verdict.INVALID
    with pytest.raises(AssertionError):
        assert_stock_pyhanko_accepts_every_signature(both)


def _append_page_content(pdf: bytes, text: bytes = b"BT /F1 30 Tf 100 400 Td (GIA MAO) Tj ET") -> bytes:
    """An incremental update drawing on page 1: an unauthorised change after signing."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.add_stream_to_page(0, writer.add_object(StreamObject(stream_data=text)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_certification_detects_a_later_unauthorised_change(pki: TestPki, document: bytes) -> None:
    certified = _sign(pki, document, "B-T", certify=True)
    tampered = _append_page_content(certified)
    report = verify_report(tampered, pki.trust)
    sig = report.signatures[0]
    assert sig.intact and sig.valid  # the signed revision itself is untouched...
    assert sig.modification == "other" and sig.docmdp_ok is False  # ...but what came after is not allowed
    assert report.verdict is Verdict.INVALID
    assert any("modified after signing" in r for r in report.reasons)


def test_no_changes_certification_refuses_another_signature(pki: TestPki, document: bytes) -> None:
    locked = _sign(pki, document, "B-B", certify=True, certify_permission="no_changes")
    with pytest.raises(ModificationNotAllowedError):
        _sign(pki, locked, "B-B", key=pki.org_key)
    with pytest.raises(SigningError, match="first signature"):
        _sign(pki, locked, "B-B", certify=True)


def test_tampering_with_signed_bytes_is_detected(pki: TestPki, document: bytes) -> None:
    signed = _sign(pki, document, "B-T")
    # widen the page: one digit of the MediaBox, inside the signed byte range
    at = signed.index(b"/MediaBox") + signed[signed.index(b"/MediaBox"):].index(b"595")
    tampered = bytearray(signed)
    tampered[at] = ord("6")
    report = verify_report(bytes(tampered), pki.trust)
    assert report.verdict is Verdict.INVALID
    assert not report.signatures[0].intact
    assert any("altered" in r for r in report.reasons)
    results = pdfsig(bytes(tampered))
    assert results and results[0].signature_validation != "Signature is Valid."


def test_level_requirements_are_explicit(pki: TestPki, document: bytes) -> None:
    with pytest.raises(TimestampError):
        sign_pdf(document, pki.user_key, level="B-T")
    with pytest.raises(ValidationDataError):
        sign_pdf(document, pki.user_key, level="B-LT", timestamper=pki.tsa_url)
    with pytest.raises(SigningError, match="unknown PAdES level"):
        sign_pdf(document, pki.user_key, level="B-X")
    with pytest.raises(SigningError, match="certify_permission"):
        sign_pdf(document, pki.user_key, level="B-B", certify=True, certify_permission="everything")
