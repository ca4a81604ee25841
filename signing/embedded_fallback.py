"""When an OCSP/CRL fetch fails, the document's embedded revocation data still decide.

pyhanko-certvalidator, when fetching is enabled, asks the fetcher first and looks at the locally
known OCSP responses only if that fetch *succeeds*: a refused or failed fetch (an address the
:mod:`signing.netguard` policy refuses, a responder that is down, a machine with no network) raises
and the OCSP responses the PDF carries in its DSS are never looked at. A B-LT/B-LTA document,
which carries everything needed for its whole chain, then came out INDETERMINATE (chain failure,
revocation unknown) exactly where it was made to be self-sufficient: with someone who holds only
the PDF and the trust root, offline or behind the fetch guard.

:class:`EmbeddedFallbackBackend` wraps the fetcher backend of one validation. For a certificate
whose fetch failed it behaves as ``LOCAL_ONLY`` does: the OCSP fetcher answers with a response the
document embeds for that certificate (pyHanko then judges it and every other embedded response with
its usual checks: signature, responder authorisation, freshness, status); the CRL fetcher answers
with no new CRL, so the embedded CRLs are judged. Where the document embeds nothing for that
certificate, the fetch failure stands, as before. Nothing is relaxed: the evidence considered is
what ``LOCAL_ONLY`` would consider, plus whatever the network did deliver.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from asn1crypto import cms, crl, ocsp, x509
from pyhanko_certvalidator.authority import Authority
from pyhanko_certvalidator.errors import CRLFetchError, OCSPFetchError
from pyhanko_certvalidator.fetchers import FetcherBackend, Fetchers
from pyhanko_certvalidator.fetchers.api import CRLFetcher, OCSPFetcher

log = logging.getLogger("signing.fetch")

Cert = x509.Certificate | cms.AttributeCertificateV2


def _subject(cert: Cert) -> str:
    return cert.subject.human_friendly[:200] if isinstance(cert, x509.Certificate) else "an attribute certificate"


def _serial(cert: Cert) -> int | None:
    if isinstance(cert, x509.Certificate):
        return cert.serial_number
    try:
        return cert["ac_info"]["serial_number"].native
    except (KeyError, TypeError):
        return None


def _about(response: ocsp.OCSPResponse, serial: int | None, authority: Authority) -> bool:
    """Whether ``response`` has a single response for ``serial`` issued under ``authority``'s key
    (matched as certvalidator matches it: the key hash in the CertID's own hash algorithm)."""
    if serial is None:
        return False
    try:
        basic = response["response_bytes"]["response"].parsed
        for single in basic["tbs_response_data"]["responses"]:
            cert_id = single["cert_id"]
            algo = cert_id["hash_algorithm"]["algorithm"].native
            if cert_id["serial_number"].native == serial and algo in ("sha1", "sha256") \
                    and getattr(authority.public_key, algo) == cert_id["issuer_key_hash"].native:
                return True
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return False


class _FallbackOCSPFetcher(OCSPFetcher):
    def __init__(self, inner: OCSPFetcher, embedded: Sequence[ocsp.OCSPResponse]) -> None:
        self.inner, self.embedded = inner, embedded

    async def fetch(self, cert: Cert, authority: Authority) -> ocsp.OCSPResponse:
        try:
            return await self.inner.fetch(cert, authority)
        except OCSPFetchError as exc:
            serial = _serial(cert)
            for response in self.embedded:
                if _about(response, serial, authority):
                    log.info("OCSP for %s not fetched (%s): judged from the document's embedded response",
                             _subject(cert), exc)
                    return response
            raise

    def fetched_responses(self) -> Iterable[ocsp.OCSPResponse]:
        return self.inner.fetched_responses()

    def fetched_responses_for_cert(self, cert: Cert) -> Iterable[ocsp.OCSPResponse]:
        return self.inner.fetched_responses_for_cert(cert)


class _FallbackCRLFetcher(CRLFetcher):
    def __init__(self, inner: CRLFetcher, embedded: Sequence[crl.CertificateList]) -> None:
        self.inner, self.embedded = inner, embedded

    async def fetch(self, cert: Cert, *, use_deltas: Any = None) -> Iterable[crl.CertificateList]:
        try:
            return await self.inner.fetch(cert, use_deltas=use_deltas)
        except CRLFetchError as exc:
            if not self.embedded:
                raise
            # The embedded CRLs are judged (certvalidator adds every known CRL to what a fetch returns).
            log.info("CRL for %s not fetched (%s): judged from the document's embedded CRLs", _subject(cert), exc)
            return []

    def fetched_crls(self) -> Iterable[crl.CertificateList]:
        return self.inner.fetched_crls()

    def fetched_crls_for_cert(self, cert: Cert) -> Iterable[crl.CertificateList]:
        return self.inner.fetched_crls_for_cert(cert)


class EmbeddedFallbackBackend(FetcherBackend):
    """``inner``'s fetchers, with a failed OCSP/CRL fetch answered from ``ocsps``/``crls`` (the
    document's embedded revocation data). Closing it closes ``inner``."""

    def __init__(self, inner: FetcherBackend, *, ocsps: Sequence[ocsp.OCSPResponse] = (),
                 crls: Sequence[crl.CertificateList] = ()) -> None:
        self.inner, self.ocsps, self.crls = inner, tuple(ocsps), tuple(crls)

    def get_fetchers(self) -> Fetchers:
        fetchers = self.inner.get_fetchers()
        return Fetchers(ocsp_fetcher=_FallbackOCSPFetcher(fetchers.ocsp_fetcher, self.ocsps),
                        crl_fetcher=_FallbackCRLFetcher(fetchers.crl_fetcher, self.crls),
                        cert_fetcher=fetchers.cert_fetcher)

    async def close(self) -> None:
        await self.inner.close()
