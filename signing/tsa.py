"""RFC 3161 time-stamping authority: turns a DER ``TimeStampReq`` into a DER ``TimeStampResp``.

The responder signs with its own certificate (extended key usage ``timeStamping``, critical), as
RFC 3161 §2.3 requires. Bad requests get a *rejection* response with the RFC's failure info, never
an exception: the HTTP endpoint always has a body to return.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute

from signing.x509util import to_asn1_cert

CONTENT_TYPE_REQUEST = "application/timestamp-query"
CONTENT_TYPE_REPLY = "application/timestamp-reply"
# Policy under which our tokens are issued (a private arc; configurable per deployment).
DEFAULT_POLICY_OID = "1.3.6.1.4.1.57264.1.3161"
_HASHES = {"sha256": 32, "sha384": 48, "sha512": 64, "sha3_256": 32, "sha3_512": 64}


@dataclass
class TimestampAuthority:
    """Signs time-stamp tokens with ``key`` and ``certificate``; ``chain`` is embedded on request."""

    certificate: x509.Certificate
    key: PrivateKeyTypes
    chain: list[x509.Certificate] = field(default_factory=list)
    policy_oid: str = DEFAULT_POLICY_OID
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self._asn1_cert = to_asn1_cert(self.certificate)
        self._asn1_chain = [to_asn1_cert(c) for c in self.chain]
        if not isinstance(self.key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise ValueError("the TSA key must be RSA or EC")

    # ------------------------------------------------------------------ public
    def respond(self, request_der: bytes) -> bytes:
        """The DER ``TimeStampResp`` answering ``request_der`` (granted, or a rejection)."""
        try:
            request = tsp.TimeStampReq.load(request_der)
            _ = request.native  # force a full parse: malformed input fails here
        except (ValueError, TypeError, OverflowError):
            return _rejection("bad_data_format", "the request is not a DER TimeStampReq")
        problem = self._check(request)
        if problem:
            return _rejection(*problem)
        token = self._token(request)
        status = tsp.PKIStatusInfo({"status": "granted"})
        return tsp.TimeStampResp({"status": status, "time_stamp_token": token}).dump()

    # ------------------------------------------------------------------ internals
    def _check(self, request: tsp.TimeStampReq) -> tuple[str, str] | None:
        if request["version"].native != "v1":
            return "bad_request", "only version 1 requests are supported"
        imprint = request["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        if algorithm not in _HASHES:
            return "bad_alg", f"hash algorithm {algorithm} is not accepted"
        if len(imprint["hashed_message"].native) != _HASHES[algorithm]:
            return "bad_data_format", "the message imprint has the wrong length for its algorithm"
        policy = request["req_policy"].native
        if policy is not None and policy != self.policy_oid:
            return "unaccepted_policy", f"policy {policy} is not offered"
        if request["extensions"].native:
            return "unaccepted_extension", "request extensions are not supported"
        return None

    def _token(self, request: tsp.TimeStampReq) -> cms.ContentInfo:
        now = self.clock().astimezone(UTC)
        info: dict[str, object] = {
            "version": "v1",
            "policy": self.policy_oid,
            "message_imprint": request["message_imprint"],
            "serial_number": secrets.randbits(127) | 1,
            "gen_time": now,
            "accuracy": {"seconds": 1},
            "ordering": False,
            "tsa": asn1_x509.GeneralName(name="directory_name", value=self._asn1_cert.subject),
        }
        if request["nonce"].native is not None:
            info["nonce"] = request["nonce"]
        tst_info = tsp.TSTInfo(info).dump()
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(now.replace(microsecond=0))})),
            simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(self._asn1_cert)),
            simple_cms_attribute("message_digest", hashlib.sha256(tst_info).digest()),
        ])
        signature, mechanism = self._sign(signed_attrs.dump())
        digest_algorithm = algos.DigestAlgorithm({"algorithm": "sha256"})
        signer_info = cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
                "issuer": self._asn1_cert.issuer, "serial_number": self._asn1_cert.serial_number})}),
            "digest_algorithm": digest_algorithm,
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": mechanism}),
            "signature": signature,
        })
        signed_data: dict[str, object] = {
            "version": "v3",
            "digest_algorithms": cms.DigestAlgorithms([digest_algorithm]),
            "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(tst_info)},
            "signer_infos": [signer_info],
        }
        if request["cert_req"].native:
            signed_data["certificates"] = [self._asn1_cert, *self._asn1_chain]
        return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})

    def _sign(self, data: bytes) -> tuple[bytes, str]:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256()), "sha256_rsa"
        assert isinstance(self.key, ec.EllipticCurvePrivateKey)
        return self.key.sign(data, ec.ECDSA(hashes.SHA256())), "sha256_ecdsa"


def _rejection(failure: str, text: str) -> bytes:
    status = tsp.PKIStatusInfo({
        "status": "rejection",
        "status_string": [text],
        "fail_info": tsp.PKIFailureInfo({failure}),
    })
    # asn1crypto declares timeStampToken mandatory (RFC 3161 makes it optional): encode the
    # one-field SEQUENCE by hand
    body = status.dump()
    return b"\x30" + _der_length(len(body)) + body


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw
