"""Long-term validity: when a refresh is due, and what it adds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from signing.errors import InvalidDocumentError
from signing.ltv import add_ltv, ltv_deadline, needs_refresh
from signing.pades import sign_pdf
from signing.validate import Verdict, verify_report
from signing.x509util import utcnow
from tests.signing.pki import TestPki, assert_pdfsig_trusts_every_signature


def test_deadline_follows_the_certificates(pki: TestPki, document: bytes) -> None:
    b_lt = sign_pdf(document, pki.user_key, level="B-LT", timestamper=pki.tsa_url, validation_context=pki.trust)
    deadline = ltv_deadline(b_lt)
    assert not deadline.protected_by_document_timestamp
    assert deadline.deadline == pki.user_key.certificate.not_valid_after_utc  # the first to expire
    assert not needs_refresh(b_lt, horizon=timedelta(days=90))
    assert needs_refresh(b_lt, now=deadline.deadline - timedelta(days=30), horizon=timedelta(days=90))

    refreshed = add_ltv(b_lt, pki.trust, pki.tsa_url)
    after = ltv_deadline(refreshed)
    assert after.protected_by_document_timestamp
    assert after.deadline == pki.ca.tsa_certificate.not_valid_after_utc  # now the archival time-stamp's
    assert not needs_refresh(refreshed, now=deadline.deadline - timedelta(days=30))
    with pytest.raises(InvalidDocumentError):
        ltv_deadline(document)


def test_refresh_adds_dss_and_document_timestamp_and_validates(pki: TestPki, document: bytes) -> None:
    b_t = sign_pdf(document, pki.user_key, level="B-T", timestamper=pki.tsa_url, validation_context=pki.trust)
    first = add_ltv(b_t, pki.trust, pki.tsa_url)
    assert first.startswith(b_t)
    report = verify_report(first, pki.trust)
    assert report.verdict is Verdict.VALID, report.to_text()
    assert [s.kind for s in report.signatures] == ["signature", "document_timestamp"]
    assert report.signatures[0].pades_level == "B-LTA"
    assert report.signatures[0].revocation.source == "document_dss"

    second = add_ltv(first, pki.trust, pki.tsa_url)  # the archival chain grows by one time-stamp
    report = verify_report(second, pki.trust)
    assert report.verdict is Verdict.VALID
    assert [s.kind for s in report.signatures] == ["signature", "document_timestamp", "document_timestamp"]
    assert_pdfsig_trusts_every_signature(second, expected=1)
    with pytest.raises(InvalidDocumentError):
        add_ltv(document, pki.trust, pki.tsa_url)
    assert utcnow() < ltv_deadline(second).deadline
