"""Split signing in the library: prepare here, sign with a key elsewhere, finish here.

The prepared revision must be what ``sign_pdf`` makes (certification, number/date/seal/copy
fields), so the organisation's seal fills the fields afterwards and every validator accepts it."""

from __future__ import annotations

from datetime import date

import pytest

from signing.appearance import SealAppearance, SignerAppearance
from signing.errors import InvalidDocumentError, SignatureMismatchError
from signing.pades import FillIssueFields, IssueFieldsRequest, PadesLevel, sign_pdf
from signing.pagefields import COPY_FIELD, DATE_FIELD, NUMBER_FIELD, SEAL_FIELD
from signing.placement import open_reader, signature_fields
from signing.split import PreparedSignature, check_signer_certificate, finish, prepare
from signing.validate import Verdict, verify_report
from tests.signing.pki import (
    SIGNER,
    TestPki,
    assert_pdfsig_trusts_every_signature,
    assert_stock_pyhanko_accepts_every_signature,
)


def _external_sign(pki: TestPki, data: bytes) -> bytes:
    """What the signer's side does with the data to be signed (here: the test user's key)."""
    return pki.user_key.signer().sign_raw(data, "sha256")


@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
def test_prepared_then_finished_matches_server_signing_and_validators_accept(pki: TestPki, document: bytes,
                                                                            level: str) -> None:
    key = pki.user_key
    prepared = prepare(document, key.certificate, key.chain, certify=True, issue_fields=IssueFieldsRequest(),
                       appearance=SignerAppearance(pki.signature_image, name=SIGNER), reason="Ký ban hành")
    # the state survives storage (server side), the signature comes from elsewhere
    stored = PreparedSignature.from_state(prepared.state(), prepared.prepared_pdf)
    signed = finish(stored, _external_sign(pki, stored.data_to_be_signed), key.certificate, key.chain, level=level,
                    timestamper=pki.tsa_url, validation_context=pki.trust)
    assert signed.startswith(document)
    # the same fields as a server-held key's certification makes
    names = {name for name, _, _ in signature_fields(open_reader(signed))}
    assert {SEAL_FIELD, COPY_FIELD} <= names
    fields = open_reader(signed).trailer["/Root"]["/AcroForm"]["/Fields"]
    assert {NUMBER_FIELD, DATE_FIELD} <= {f.get_object().get("/T") for f in fields}
    report = verify_report(signed, pki.trust)
    assert report.verdict is Verdict.VALID, report.to_text()
    assert report.signatures[0].pades_level == level and report.certified
    # the seal fills the prepared fields; stock pyHanko and pdfsig accept everything
    sealed = sign_pdf(signed, pki.org_key, level=level, timestamper=pki.tsa_url, validation_context=pki.trust,
                      appearance=SealAppearance(pki.seal_image), fill=FillIssueFields("07/QĐ-UBND", date(2026, 12, 7)))
    assert assert_stock_pyhanko_accepts_every_signature(sealed) == (2 if level == "B-LT" else 4)
    assert_pdfsig_trusts_every_signature(sealed, 2)
    assert verify_report(sealed, pki.trust).verdict is Verdict.VALID


def test_wrong_key_other_certificate_and_altered_state_are_refused(pki: TestPki, document: bytes) -> None:
    key = pki.user_key
    prepared = prepare(document, key.certificate, key.chain, certify=True, issue_fields=IssueFieldsRequest(),
                       appearance=SignerAppearance(pki.signature_image, name=SIGNER))
    other = pki.new_user("Người Khác")
    with pytest.raises(SignatureMismatchError):  # signed by another key
        finish(prepared, other.signer().sign_raw(prepared.data_to_be_signed, "sha256"), key.certificate,
               level=PadesLevel.B_B)
    with pytest.raises(SignatureMismatchError):  # a valid signature, but presented with another certificate
        finish(prepared, _external_sign(pki, prepared.data_to_be_signed), other.certificate, level=PadesLevel.B_B)
    again = prepare(document, key.certificate, key.chain, certify=True, issue_fields=IssueFieldsRequest(),
                    appearance=SignerAppearance(pki.signature_image, name=SIGNER))
    assert again.data_to_be_signed != prepared.data_to_be_signed
    with pytest.raises(SignatureMismatchError):  # a signature of an earlier preparation replayed
        finish(again, _external_sign(pki, prepared.data_to_be_signed), key.certificate, level=PadesLevel.B_B)
    tampered = bytearray(prepared.prepared_pdf)
    tampered[100] ^= 1
    with pytest.raises(InvalidDocumentError):
        PreparedSignature.from_state(prepared.state(), bytes(tampered))


def test_certificate_check_refuses_revoked(pki: TestPki) -> None:
    from signing.errors import CertificateRevokedError
    user = pki.new_user("Người Bị Thu Hồi")
    check_signer_certificate(user.certificate, user.chain, pki.trust)
    pki.ca.revoke(user.certificate.serial_number, reason="key_compromise")
    with pytest.raises(CertificateRevokedError):
        check_signer_certificate(user.certificate, user.chain, pki.trust)
