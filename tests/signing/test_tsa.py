"""The RFC 3161 time-stamping authority, checked by pyHanko's own validator."""

from __future__ import annotations

import asyncio
import hashlib
import urllib.request
from datetime import UTC, datetime, timedelta

from asn1crypto import algos, cms, core, tsp
from pyhanko.sign.ades.report import AdESStatus
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation.ades import ades_timestamp_validation

from signing.tsa import CONTENT_TYPE_REPLY, DEFAULT_POLICY_OID, TimestampAuthority
from tests.signing.pki import TestPki


def _request(digest: bytes, algorithm: str = "sha256", **extra: object) -> bytes:
    return tsp.TimeStampReq({"version": "v1", "message_imprint": {
        "hash_algorithm": algos.DigestAlgorithm({"algorithm": algorithm}), "hashed_message": digest},
        "cert_req": True, **extra}).dump()


def _post(pki: TestPki, body: bytes) -> tuple[str, tsp.TimeStampResp]:
    req = urllib.request.Request(pki.tsa_url, data=body, headers={"Content-Type": "application/timestamp-query"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.headers["Content-Type"], tsp.TimeStampResp.load(resp.read())


def test_token_over_http_is_accepted_by_pyhanko(pki: TestPki) -> None:
    digest = hashlib.sha256(b"van ban can dong dau thoi gian").digest()
    token = asyncio.run(HTTPTimeStamper(pki.tsa_url).async_timestamp(digest, "sha256"))
    spec = pki.trust.pdf_validation_spec().signature_validation_spec
    result = asyncio.run(ades_timestamp_validation(token["content"], spec, lambda _algo: digest))
    assert result.ades_subindic.status is AdESStatus.PASSED, result.failure_msg
    status = result.api_status
    assert status.trusted and status.intact and status.valid
    assert abs(status.timestamp - datetime.now(UTC)) < timedelta(minutes=1)


def test_nonce_policy_and_certificates(pki: TestPki) -> None:
    content_type, resp = _post(pki, _request(b"\x01" * 32, nonce=424242))
    assert content_type == CONTENT_TYPE_REPLY
    assert resp["status"]["status"].native == "granted"
    signed = resp["time_stamp_token"]["content"]
    info = signed["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 424242
    assert info["message_imprint"]["hashed_message"].native == b"\x01" * 32
    assert info["policy"].native == DEFAULT_POLICY_OID
    subjects = [c.chosen.subject.native["common_name"] for c in signed["certificates"]]
    assert any(s.endswith(" TSA") for s in subjects) and len(subjects) == 3  # TSA, issuing CA, root
    without = tsp.TimeStampReq({"version": "v1", "message_imprint": {
        "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}), "hashed_message": b"\x02" * 32}}).dump()
    assert tsp.TimeStampResp.load(pki.ca.timestamp_authority().respond(without))["time_stamp_token"]["content"][
        "certificates"].native is None


class _Response(core.Sequence):
    """TimeStampResp with the token optional, as in RFC 3161 (asn1crypto requires it)."""

    _fields = [("status", tsp.PKIStatusInfo), ("time_stamp_token", cms.ContentInfo, {"optional": True})]


def test_bad_requests_get_rejections(pki: TestPki) -> None:
    tsa = pki.ca.timestamp_authority()
    cases = {
        b"garbage": "bad_data_format",
        _request(b"\x00" * 16): "bad_data_format",  # wrong length for sha256
        _request(b"\x00" * 16, algorithm="md5"): "bad_alg",
        _request(b"\x00" * 32, req_policy="1.2.3.4"): "unaccepted_policy",
    }
    for body, failure in cases.items():
        status = _Response.load(tsa.respond(body))["status"]
        assert status["status"].native == "rejection"
        assert failure in status["fail_info"].native, (body[:10], status.native)


def test_clock_is_injectable(pki: TestPki) -> None:
    fixed = datetime(2026, 11, 20, 7, 3, 22, tzinfo=UTC)
    tsa = TimestampAuthority(pki.ca.tsa_certificate, pki.ca.timestamp_authority().key, clock=lambda: fixed)
    resp = tsp.TimeStampResp.load(tsa.respond(_request(b"\x03" * 32)))
    info = resp["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["gen_time"].native == fixed
