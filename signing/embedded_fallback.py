"""When an OCSP fetch fails, the document's embedded OCSP responses still decide.

pyhanko-certvalidator, when fetching is enabled, asks the OCSP fetcher first and looks at the
locally known OCSP responses only if that fetch *succeeds*: a refused or failed fetch (an address the
:mod:`signing.netguard` policy refuses, a responder that is down, a machine with no network) raises
and the OCSP responses the PDF carries in its DSS are never looked at. A B-LT/B-LTA document,
which carries everything needed for its whole chain, then came out INDETERMINATE (chain failure,
revocation unknown) exactly where it was made to be self-sufficient: with someone who holds only
the PDF and the trust root, offline or behind the fetch guard.

:class:`EmbeddedFallbackBackend` wraps the fetcher backend of one validation. For a certificate
whose OCSP fetch failed it behaves as ``LOCAL_ONLY`` does: the fetcher answers with a response the
document embeds for that certificate, and pyHanko judges it and every other embedded response with
its usual checks (signature, responder authorisation, freshness, status). Where the document embeds
no response for that certificate, the fetch failure stands, as before. Nothing is relaxed: the
evidence considered is what ``LOCAL_ONLY`` would consider, plus whatever the network did deliver.

CRLs need no such help: certvalidator judges the known CRLs first and fetches only when they do not
settle the question (``tests/signing/test_local_pki.py`` checks this stays so).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TypeAlias

from asn1crypto import cms, ocsp, x509
from pyhanko_certvalidator.authority import Authority
from pyhanko_certvalidator.errors import OCSPFetchError
from pyhanko_certvalidator.fetchers import FetcherBackend, Fetchers
from pyhanko_certvalidator.fetchers.api import OCSPFetcher

log = logging.getLogger("signing.fetch")

#: What certvalidator's fetchers are asked about (asn1crypto is untyped, so it must be declared an alias).
Cert: TypeAlias = x509.Certificate | cms.AttributeCertificateV2


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


class EmbeddedFallbackBackend(FetcherBackend):
    """``inner``'s fetchers, with a failed OCSP fetch answered from ``ocsps`` (the document's
    embedded OCSP responses). Closing it closes ``inner``."""

    def __init__(self, inner: FetcherBackend, *, ocsps: Sequence[ocsp.OCSPResponse] = ()) -> None:
        self.inner, self.ocsps = inner, tuple(ocsps)

    def get_fetchers(self) -> Fetchers:
        fetchers = self.inner.get_fetchers()
        return Fetchers(ocsp_fetcher=_FallbackOCSPFetcher(fetchers.ocsp_fetcher, self.ocsps),
                        crl_fetcher=fetchers.crl_fetcher, cert_fetcher=fetchers.cert_fetcher)

    async def close(self) -> None:
        await self.inner.close()
