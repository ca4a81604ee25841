"""pyhanko-certvalidator fetchers that go over the network only through :mod:`signing.netguard`.

:class:`GuardedFetcherBackend` is pyhanko-certvalidator's ``requests`` backend with the HTTP
calls replaced by :func:`signing.netguard.fetch` (address policy, time-outs, size limit, checked
redirects, a total time budget per operation) and one rule of its own:

**No chasing of CA issuer certificates (AIA ``caIssuers``) over the network.** A certificate
path is built from what the signature carries, the document's DSS and the configured roots and
intermediates; certvalidator fetches an issuer only when it cannot complete a path, i.e. exactly
for a chain that does not (yet) reach a trust root — the uploader's own self-made chain. OCSP
responses and CRLs are fetched only while validating a path already built to a trust root (that
is how certvalidator orders its work), so a certificate that chains to no configured root makes
no request at all. CRL issuer certificates named by such a CRL are still fetched (guarded).

The internal CA's URLs are not affected: :class:`signing.local_pki.LocalPki` answers them
in-process and hands only the other URLs to this backend.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable
from typing import Any

from asn1crypto import cms, x509
from pyhanko_certvalidator.fetchers import FetcherBackend, Fetchers
from pyhanko_certvalidator.fetchers.api import FetchLimits
from pyhanko_certvalidator.fetchers.common_utils import FetchBudget, complete_certificate_fetch_jobs
from pyhanko_certvalidator.fetchers.requests_fetchers.cert_fetch_client import RequestsCertificateFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.crl_client import RequestsCRLFetcher
from pyhanko_certvalidator.fetchers.requests_fetchers.ocsp_client import RequestsOCSPFetcher

from signing.netguard import Deadline, FetchPolicy, HttpReply, fetch

log = logging.getLogger("signing.fetch")


class _GuardedHttp:
    """Replaces the ``requests`` calls of pyhanko-certvalidator's fetchers (same signatures)."""

    policy: FetchPolicy
    deadline: Deadline

    def _get(self, url: str, *, acceptable_content_types: Any) -> Awaitable[HttpReply]:
        headers = {"Accept": ",".join(acceptable_content_types)}
        return asyncio.to_thread(self._guarded_request, "GET", url, None, headers)

    def _post(self, url: str, data: bytes, *, content_type: str,
              acceptable_content_types: Any) -> Awaitable[HttpReply]:
        headers = {"Accept": ",".join(acceptable_content_types), "Content-Type": content_type}
        return asyncio.to_thread(self._guarded_request, "POST", url, data, headers)

    def _guarded_request(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> HttpReply:
        try:
            return fetch(method, url, self.policy, body=body, headers=headers, deadline=self.deadline)
        except ValueError as exc:
            log.info("validation data not fetched: %s %s: %s", method, url[:200], exc)
            raise


class GuardedOCSPFetcher(_GuardedHttp, RequestsOCSPFetcher):  # type: ignore[misc]  # _GuardedHttp replaces the mixin's requests calls, same use
    pass


class GuardedCRLFetcher(_GuardedHttp, RequestsCRLFetcher):  # type: ignore[misc]  # _GuardedHttp replaces the mixin's requests calls, same use
    pass


class GuardedCertificateFetcher(_GuardedHttp, RequestsCertificateFetcher):  # type: ignore[misc]  # _GuardedHttp replaces the mixin's requests calls, same use
    def fetch_cert_issuers(self, cert: x509.Certificate | cms.AttributeCertificateV2
                           ) -> AsyncGenerator[x509.Certificate, None]:
        """Never over the network (see the module's docstring): no issuers found."""
        if isinstance(cert, x509.Certificate) and cert.authority_information_access_value is not None:
            log.info("not chasing the CA issuer URLs of %s: a chain must be complete without them",
                     cert.subject.human_friendly[:200])
        return complete_certificate_fetch_jobs([])


class GuardedFetcherBackend(FetcherBackend):
    """Fetchers under ``policy``; each :meth:`get_fetchers` (one validation context, i.e. one
    operation) gets a fresh request budget and a fresh total time budget."""

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self.limits = FetchLimits(max_requests=self.policy.max_requests,
                                  max_cert_requests=max(1, self.policy.max_requests // 4), max_aia_urls_per_object=2)

    def get_fetchers(self) -> Fetchers:
        budget = FetchBudget(self.limits)
        deadline = Deadline(self.policy.total_timeout)
        fetchers: list[Any] = [
            GuardedOCSPFetcher(per_request_timeout=self.policy.timeout, budget=budget),
            GuardedCRLFetcher(per_request_timeout=self.policy.timeout, budget=budget),
            GuardedCertificateFetcher(per_request_timeout=self.policy.timeout, budget=budget)]
        for f in fetchers:
            f.policy, f.deadline = self.policy, deadline
        return Fetchers(ocsp_fetcher=fetchers[0], crl_fetcher=fetchers[1], cert_fetcher=fetchers[2])

    async def close(self) -> None:
        return None
