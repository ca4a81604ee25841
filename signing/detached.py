"""Detached CMS signatures over arbitrary bytes, carrying an RFC 3161 signature time-stamp.

Used for records that must prove who wrote them and when (e.g. audit checkpoints): the signature
is a DER ``ContentInfo`` (``SignedData``, content detached) that any CMS tool can check
(``openssl cms -verify -binary -inform DER -content <data> -in <sig>``), with the signer's chain
embedded and a time-stamp token from the configured TSA in the unsigned attributes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

from signing.errors import TimestampError
from signing.keys import KeySource
from signing.pades import local_pki_of, timestamper_for
from signing.trust import TrustStore


def sign_detached(data: bytes, key: KeySource, *, timestamper: TimeStamper | str,
                  trust: TrustStore | None = None) -> bytes:
    """The DER CMS signature of ``data`` by ``key``, time-stamped by ``timestamper`` (a pyHanko
    time-stamper or a TSA URL, answered in-process when ``trust``'s local PKI serves it)."""
    if isinstance(timestamper, str):
        timestamper = timestamper_for(timestamper, local_pki=local_pki_of(trust))
    try:
        signed = asyncio.run(key.signer().async_sign_general_data(data, "sha256", detached=True,
                                                                  timestamper=timestamper))
    except (OSError, TimeoutError) as exc:
        raise TimestampError(f"the time-stamping authority did not answer: {exc}") from exc
    return bytes(signed.dump())


@dataclass(frozen=True)
class DetachedVerdict:
    """What a detached signature proves: ``intact`` (the data is what was signed), ``trusted``
    (the signer's chain leads to a trusted root), ``timestamp`` (the TSA's time, when its token is
    intact and trusted). ``problem`` says what failed first, in one sentence."""

    intact: bool
    trusted: bool
    signer: str
    timestamp: datetime | None
    problem: str | None = None
    signer_common_name: str = ""

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted and self.timestamp is not None and self.problem is None


def verify_detached(data: bytes, signature: bytes, trust: TrustStore, *,
                    moment: datetime | None = None) -> DetachedVerdict:
    """Check ``signature`` (from :func:`sign_detached`) over ``data``: integrity, the signer's
    chain at ``moment`` (default now) and the signature time-stamp. Never raises for a bad
    signature: the verdict says what is wrong."""
    try:
        content = cms.ContentInfo.load(signature)
        signed_data = content["content"]
        if content["content_type"].native != "signed_data":
            raise ValueError("not a CMS SignedData")
        if len(signed_data["signer_infos"]) != 1:
            raise ValueError("expected exactly one signer")
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        return DetachedVerdict(False, False, "", None, f"the signature cannot be read ({exc})")
    try:
        status = asyncio.run(async_validate_detached_cms(
            data, signed_data, signer_validation_context=trust.validation_context(moment=moment),
            ts_validation_context=trust.validation_context(moment=moment)))
    except Exception as exc:  # noqa: BLE001 - malformed or forged CMS data is a bad signature, not a crash
        return DetachedVerdict(False, False, "", None, f"the signature cannot be checked ({type(exc).__name__}: {exc})")
    cert = status.signing_cert
    signer = cert.subject.human_friendly if cert is not None else ""
    common_name = str(cert.subject.native.get("common_name", "")) if cert is not None else ""
    if not status.intact or not status.valid:
        return DetachedVerdict(False, False, signer, None, "the signature does not match the data (modified or forged)")
    if not status.trusted:
        return DetachedVerdict(True, False, signer, None, "the signer's certificate is not trusted")
    ts = status.timestamp_validity
    if ts is None:
        return DetachedVerdict(True, True, signer, None, "the signature carries no time-stamp")
    if not (ts.intact and ts.valid and ts.trusted):
        return DetachedVerdict(True, True, signer, None, "the time-stamp token is invalid or not trusted")
    return DetachedVerdict(True, True, signer, ts.timestamp, signer_common_name=common_name)
