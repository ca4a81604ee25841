"""Signed links, Content-Disposition, and the write-once rules, without a backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest

from storage.errors import (
    ConfigurationError,
    ExpiredLinkError,
    InvalidArgument,
    InvalidLinkError,
    LegalHoldError,
    RetentionError,
    RetentionShorteningError,
)
from storage.links import LinkSigner, content_disposition
from storage.locks import check_removable, normalise_until, retention_change_needed
from storage.port import ObjectInfo, RetentionMode

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
KEY = "sha256/00/" + "0" * 64


def test_content_disposition_keeps_vietnamese_names() -> None:
    header = content_disposition('Quyết định số 15/QĐ-UBND "mới".pdf')
    assert header.startswith('attachment; filename="Quyet dinh so 15_QD-UBND _moi_.pdf"')
    assert "filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh" in header
    assert "\n" not in content_disposition("a\nb.pdf").split("filename*")[0]


def test_signed_link_round_trip_and_expiry_boundary() -> None:
    signer = LinkSigner(b"s" * 32, "https://docsvc.example/")
    url = signer.sign(KEY, timedelta(minutes=5), "Tờ trình.pdf", NOW)
    parts = urlsplit(url)
    assert parts.path == f"/api/v1/objects/{KEY}"
    q = dict(parse_qsl(parts.query))
    signer.verify(KEY, q["expires"], q["signature"], q["filename"], NOW + timedelta(minutes=4, seconds=59))
    with pytest.raises(ExpiredLinkError):
        signer.verify(KEY, q["expires"], q["signature"], q["filename"], NOW + timedelta(minutes=5))
    with pytest.raises(InvalidLinkError):
        signer.verify(KEY, q["expires"], q["signature"], None, NOW)  # the file name is signed too
    with pytest.raises(InvalidLinkError):
        LinkSigner(b"t" * 32).verify(KEY, q["expires"], q["signature"], q["filename"], NOW)
    for bad_expires, bad_sig in [("soon", q["signature"]), (q["expires"], "ữ"), (q["expires"], "")]:
        with pytest.raises(InvalidLinkError):
            signer.verify(KEY, bad_expires, bad_sig, q["filename"], NOW)


def test_a_short_link_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        LinkSigner(b"short")


def _info(**kw: object) -> ObjectInfo:
    return ObjectInfo(key=KEY, sha256="0" * 64, size=1, created_at=NOW, content_type="a/b", encrypted=False, **kw)  # type: ignore[arg-type]


def test_removal_rules() -> None:
    check_removable(_info(), NOW)
    check_removable(_info(retain_until=NOW, retention_mode=RetentionMode.COMPLIANCE), NOW)  # expired at that instant
    with pytest.raises(RetentionError):
        check_removable(_info(retain_until=NOW + timedelta(seconds=1), retention_mode=RetentionMode.GOVERNANCE), NOW)
    with pytest.raises(LegalHoldError):
        check_removable(_info(legal_hold=True, retain_until=NOW - timedelta(days=1)), NOW)


def test_retention_changes() -> None:
    compliance = _info(retain_until=NOW + timedelta(days=10), retention_mode=RetentionMode.COMPLIANCE)
    assert retention_change_needed(compliance, NOW + timedelta(days=11), RetentionMode.COMPLIANCE, NOW)
    assert not retention_change_needed(compliance, NOW + timedelta(days=10), RetentionMode.COMPLIANCE, NOW)
    with pytest.raises(RetentionShorteningError):
        retention_change_needed(compliance, NOW + timedelta(days=9), RetentionMode.COMPLIANCE, NOW)
    with pytest.raises(RetentionShorteningError):
        retention_change_needed(compliance, NOW + timedelta(days=20), RetentionMode.GOVERNANCE, NOW)
    expired = _info(retain_until=NOW - timedelta(days=1), retention_mode=RetentionMode.COMPLIANCE)
    assert retention_change_needed(expired, NOW + timedelta(days=1), RetentionMode.GOVERNANCE, NOW)


def test_retention_dates_are_normalised() -> None:
    until = normalise_until(datetime(2026, 3, 1, 15, 0, 0, 1, tzinfo=timezone(timedelta(hours=7))), NOW)
    assert until == datetime(2026, 3, 1, 8, 0, 1, tzinfo=UTC)
    for bad in (datetime(2027, 1, 1), NOW, "2027-01-01"):
        with pytest.raises(InvalidArgument):
            normalise_until(bad, NOW)  # type: ignore[arg-type]
