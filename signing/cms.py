"""Detached CMS signatures over arbitrary bytes (packages exchanged between systems).

``sign_detached`` signs with a :class:`~signing.keys.KeySource`; ``verify_detached`` checks the
signature against the data and the signer's chain against a :class:`~signing.trust.TrustStore`
(revocation checked where it can be learned; an unreachable responder does not block: soft-fail).
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass

from asn1crypto import cms

from signing.keys import KeySource
from signing.trust import TrustStore

MAX_SIGNATURE_BYTES = 256 * 1024


@dataclass(frozen=True)
class CmsVerdict:
    valid: bool
    signer: str | None
    reason: str | None = None
    certificate_der: bytes | None = None  # the signer's certificate (DER), when the signature is valid


def sign_detached(data: bytes, key: KeySource, *, digest_algorithm: str = "sha256") -> bytes:
    """A DER-encoded detached CMS SignedData over ``data``."""
    signer = key.signer()
    info = asyncio.run(signer.async_sign_general_data(data, digest_algorithm, detached=True))
    return info.dump()


def verify_detached(data: bytes, signature: bytes | None, trust: TrustStore) -> CmsVerdict:
    """Whether ``signature`` is an intact detached CMS signature over ``data`` by a certificate that
    chains to ``trust``. Never raises for bad input: the verdict says why."""
    if not signature:
        return CmsVerdict(False, None, "the package is not signed")
    if len(signature) > MAX_SIGNATURE_BYTES:
        return CmsVerdict(False, None, "the signature is too large")
    try:
        info = cms.ContentInfo.load(signature)
        if info["content_type"].native != "signed_data":
            return CmsVerdict(False, None, "the signature is not a CMS SignedData")
        signed_data = info["content"]
        signed_data.native  # noqa: B018 - parse every field now: malformed DER raises here
    except Exception as exc:  # noqa: BLE001 - hostile DER in many shapes
        return CmsVerdict(False, None, f"the signature cannot be read: {type(exc).__name__}")
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    # Revocation as far as it can be learned (the internal CA in-process, others through the guarded
    # fetchers); a responder that cannot be reached does not block the exchange (soft-fail).
    context = dataclasses.replace(trust, revocation_mode="soft-fail").validation_context()
    try:
        status = asyncio.run(async_validate_detached_cms(data, signed_data, signer_validation_context=context))
    except Exception as exc:  # noqa: BLE001
        return CmsVerdict(False, None, f"the signature cannot be validated: {type(exc).__name__}: {exc}"[:300])
    cert = status.signing_cert
    name = cert.subject.native.get("common_name") if cert is not None else None
    if not status.intact or not status.valid:
        return CmsVerdict(False, name, "the package was changed after it was signed")
    if not status.trusted:
        return CmsVerdict(False, name, "the signer's certificate does not chain to a trusted root")
    return CmsVerdict(True, name, certificate_der=cert.dump())
