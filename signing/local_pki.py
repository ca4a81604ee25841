"""The internal CA answered in-process: pyHanko's time-stamper and fetchers for its own URLs.

A service that signs with its own internal CA used to fetch the signature time-stamp, the OCSP
responses and the CRLs of PAdES B-LT from itself, over HTTP (``<public_url>/pki/...``). Under
load every worker thread may be busy signing, so these self-calls waited for a free thread of
the same server and timed out (issue #9). :class:`LocalPki` answers the URLs under the CA's base
URL in this process instead:

- :meth:`LocalPki.timestamper` is a pyHanko ``TimeStamper`` whose request goes to the local
  :class:`~signing.tsa.TimestampAuthority`, not to a socket;
- :meth:`LocalPki.fetcher_backend` is a pyhanko-certvalidator ``FetcherBackend`` whose OCSP, CRL
  and certificate fetchers answer a certificate whose URLs are all under the base URL in-process,
  and hand every other certificate (external CAs) to the guarded HTTP fetchers
  (:mod:`signing.guarded_fetchers`: public addresses or an allow-list, time-outs, size limits).

The answers are those of the HTTP endpoints: both are computed by the same
:class:`~signing.pki_http.PkiResponder` from the same method, path and body (the same DER OCSP
request with its nonce, the same DER ``TimeStampReq``), and the fetchers process them with
pyhanko-certvalidator's own helpers (nonce check, status check, PEM/DER handling), as its HTTP
fetchers do. Only the socket is gone. (Like any OCSP response or time-stamp, each one is fresh:
its producedAt, genTime and serial number are those of the moment it is made.) The HTTP
endpoints stay for outside validators (pdfsig, Acrobat, other agencies).

Give it to :class:`~signing.trust.TrustStore` (``local_pki=``): its validation contexts and
validation policy then use the local fetchers, and :func:`~signing.pades.sign_pdf` and
:func:`~signing.ltv.add_ltv` turn a TSA URL it serves into the local time-stamper.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

from asn1crypto import cms, core, crl, ocsp, pem, tsp, x509
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko_certvalidator import errors as cv_errors
from pyhanko_certvalidator.authority import Authority
from pyhanko_certvalidator.fetchers import CertificateFetcher, CRLFetcher, FetcherBackend, Fetchers, OCSPFetcher
from pyhanko_certvalidator.fetchers.api import FetchLimits
from pyhanko_certvalidator.fetchers.common_utils import (
    FetchBudget,
    FetchKind,
    complete_certificate_fetch_jobs,
    crl_job_results_as_completed,
    enumerate_delivery_point_urls,
    format_ocsp_request,
    gather_aia_issuer_urls,
    ocsp_job_get_earliest,
    process_ocsp_response_data,
    queue_fetch_task,
    unpack_cert_content,
)
from pyhanko_certvalidator.util import get_ocsp_urls, get_relevant_crl_dps, issuer_serial

from signing.ca import InternalCA
from signing.pki_http import CONTENT_TYPE_CRL, CONTENT_TYPE_OCSP, PkiReply, PkiResponder
from signing.tsa import CONTENT_TYPE_REPLY

Cert: TypeAlias = x509.Certificate | cms.AttributeCertificateV2
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class _Base:
    scheme: str
    host: str
    port: int | None
    path: str  # without trailing slash

    @classmethod
    def parse(cls, url: str) -> _Base | None:
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        return cls(scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme],
                   urllib.parse.unquote(parts.path).rstrip("/"))

    def relative(self, other: _Base) -> str | None:
        """``other``'s path under this base (as a WSGI app mounted here sees it), or None."""
        if (other.scheme, other.host, other.port) != (self.scheme, self.host, self.port):
            return None
        if other.path.startswith(self.path + "/"):
            return other.path[len(self.path):]
        return None


class LocalPki:
    """The internal CA's URLs answered in this process.

    ``ca`` is the opened :class:`~signing.ca.InternalCA`; the URLs its certificates carry
    (``ca.urls.base``) are served, and so are those under each of ``also_serves`` — base URLs that
    are known to reach this same CA's endpoints (e.g. the application's ``<public_url>/pki`` when
    it differs from the base the CA was created with). ``answered`` counts the in-process answers
    by ``METHOD path``.
    """

    def __init__(self, ca: InternalCA, *, also_serves: Iterable[str] = ()) -> None:
        self.ca = ca
        self.responder = PkiResponder(lambda: ca)
        bases = [_Base.parse(ca.urls.base), *(_Base.parse(u) for u in also_serves)]
        self._bases = tuple(dict.fromkeys(b for b in bases if b is not None))
        self._timestampers: dict[str, LocalTimeStamper] = {}
        self._lock = threading.Lock()
        self.answered: dict[str, int] = {}

    # ------------------------------------------------------------------ routing
    def path_of(self, url: str) -> str | None:
        """The path of ``url`` relative to a base this object serves, or None when it is not ours."""
        target = _Base.parse(url)
        if target is None:
            return None
        for base in self._bases:
            path = base.relative(target)
            if path is not None:
                return path
        return None

    def serves(self, url: str) -> bool:
        return self.path_of(url) is not None

    def request(self, method: str, url: str, body: bytes = b"") -> PkiReply:
        """What the HTTP endpoint at ``url`` would answer, computed here (``url`` must be served)."""
        path = self.path_of(url)
        if path is None:
            raise ValueError(f"{url} is not served by the internal CA in this process")
        reply = self.responder.answer(method, path, body)
        label = "/ocsp/..." if path.startswith("/ocsp/") else "(not found)" if reply.status.startswith("404") else path
        key = f"{method} {label}"  # a bounded set of keys, whatever URLs a received document names
        with self._lock:
            self.answered[key] = self.answered.get(key, 0) + 1
        return reply

    def answered_count(self) -> int:
        with self._lock:
            return sum(self.answered.values())

    # ------------------------------------------------------------------ pyHanko plumbing
    def timestamper(self, url: str | None = None) -> LocalTimeStamper:
        """The time-stamper of the CA's TSA at ``url`` (default ``ca.urls.tsa``; any served URL).
        One per URL and object: pyHanko's time-stamper caches the TSA's certificates."""
        url = url or self.ca.urls.tsa
        if not self.serves(url):
            raise ValueError(f"{url} is not served by the internal CA in this process")
        with self._lock:
            if url not in self._timestampers:
                self._timestampers[url] = LocalTimeStamper(self, url)
            return self._timestampers[url]

    def fetcher_backend(self, http_fallback: FetcherBackend | bool = True, *,
                        limits: FetchLimits = FetchLimits()) -> LocalFetcherBackend:  # noqa: B008
        """Fetchers answering our URLs here and any other with ``http_fallback``: ``True`` for a
        new :class:`~signing.guarded_fetchers.GuardedFetcherBackend` with the default policy
        (public addresses only, no CA issuer chasing), a backend of the caller's, or ``False`` to
        refuse every URL that is not ours. The fallback is closed with the returned backend."""
        if http_fallback is True:
            from signing.guarded_fetchers import GuardedFetcherBackend
            fallback: FetcherBackend | None = GuardedFetcherBackend()
        else:
            fallback = http_fallback or None
        return LocalFetcherBackend(self, fallback, limits=limits)


# ====================================================================== time-stamping
class LocalTimeStamper(TimeStamper):
    """RFC 3161 time-stamps from the local TSA: the request pyHanko builds (nonce, certReq) is
    answered by the same code as ``POST <base>/tsa``, and the reply checked as pyHanko's HTTP
    client checks it (content type, then :func:`handle_tsp_response` for status and nonce)."""

    def __init__(self, pki: LocalPki, url: str) -> None:
        super().__init__()
        self.url = url
        self._pki = pki

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        reply = self._pki.request("POST", self.url, req.dump())
        if not reply.ok or reply.content_type != CONTENT_TYPE_REPLY:
            raise TimestampRequestError(f"the internal time-stamping authority refused the request: {reply.status}")
        try:
            response = tsp.TimeStampResp.load(reply.body)
            response["status"]  # noqa: B018 - asn1crypto parses lazily: fail here, not in pyHanko
            return response
        except ValueError:
            # asn1crypto requires timeStampToken, which a rejection (RFC 3161) leaves out
            raise TimestampRequestError(f"the internal time-stamping authority refused the request: "
                                        f"{_status_text(reply.body)}") from None


def _status_text(body: bytes) -> str:
    try:
        status = tsp.PKIStatusInfo.load(core.Sequence.load(body)[0].dump()).native
    except (ValueError, TypeError, IndexError, KeyError):
        return "malformed reply"
    return f"{status['status']}: {'; '.join(status.get('status_string') or [])}"


# ====================================================================== fetchers
class LocalFetcherBackend(FetcherBackend):
    """Every :meth:`get_fetchers` call starts fresh caches and a fresh fetch budget (as
    pyhanko-certvalidator's own backends do); :meth:`close` closes the fallback backend."""

    def __init__(self, pki: LocalPki, fallback: FetcherBackend | None, *,
                 limits: FetchLimits = FetchLimits()) -> None:  # noqa: B008
        self.pki = pki
        self.fallback = fallback
        self.limits = limits

    def get_fetchers(self) -> Fetchers:
        other = self.fallback.get_fetchers() if self.fallback is not None else None
        budget = FetchBudget(self.limits)
        return Fetchers(
            ocsp_fetcher=LocalOCSPFetcher(self.pki, other.ocsp_fetcher if other else None, budget),
            crl_fetcher=LocalCRLFetcher(self.pki, other.crl_fetcher if other else None, budget),
            cert_fetcher=LocalCertificateFetcher(self.pki, other.cert_fetcher if other else None, budget))

    async def close(self) -> None:
        if self.fallback is not None:
            await self.fallback.close()


class _LocalCache:
    """Results of in-process fetches by tag, with pyhanko-certvalidator's de-duplication of
    concurrent fetches of the same tag."""

    def __init__(self, pki: LocalPki, budget: FetchBudget) -> None:
        self.pki = pki
        self._budget = budget
        self._results: dict[Any, Any] = {}
        self._running: dict[Any, Any] = {}

    def all_local(self, urls: list[str]) -> bool:
        """A certificate is answered here only when every URL it names is ours; with none, or
        with any foreign one, it goes to the fallback (the normal HTTP behaviour)."""
        return bool(urls) and all(self.pki.serves(u) for u in urls)

    async def cached(self, tag: Any, job: Callable[[], Any]) -> Any:
        return await queue_fetch_task(self._results, self._running, tag, job)

    def charge(self, kind: FetchKind) -> None:
        self._budget.charge(kind)

    def results(self) -> list[Any]:
        return [v for v in self._results.values() if not isinstance(v, Exception)]

    def items(self) -> list[tuple[Any, Any]]:
        return [(k, v) for k, v in self._results.items() if not isinstance(v, Exception)]


def _union(local: Iterable[Any], fallback: Callable[[], Iterable[Any]] | None) -> set[Any]:
    """What was fetched here and, when there is a fallback, what it fetched."""
    found = set(local)
    if fallback:
        found.update(fallback())
    return found


def _no_fetcher(kind: type[Exception], urls: list[str]) -> Exception:
    return kind(f"no fetcher for {', '.join(urls) or 'a certificate without URLs'}: only the internal CA "
                f"is answered in this process")


class LocalOCSPFetcher(OCSPFetcher):
    def __init__(self, pki: LocalPki, fallback: OCSPFetcher | None, budget: FetchBudget, *,
                 certid_hash_algo: str = "sha1", request_nonces: bool = True) -> None:
        self._local = _LocalCache(pki, budget)
        self._fallback = fallback
        self.certid_hash_algo = certid_hash_algo  # the defaults of pyhanko-certvalidator's HTTP fetchers
        self.request_nonces = request_nonces

    async def fetch(self, cert: Cert, authority: Authority) -> ocsp.OCSPResponse:
        urls = list(get_ocsp_urls(cert))
        if not self._local.all_local(urls):
            if self._fallback is None:
                raise _no_fetcher(cv_errors.OCSPFetchError, urls)
            return await self._fallback.fetch(cert, authority)
        tag = (issuer_serial(cert), authority.hashable)
        return await self._local.cached(tag, lambda: self._fetch(cert, authority, urls))

    async def _fetch(self, cert: Cert, authority: Authority, urls: list[str]) -> ocsp.OCSPResponse:
        request = format_ocsp_request(cert, authority, certid_hash_algo=self.certid_hash_algo,
                                      request_nonces=self.request_nonces)
        return await ocsp_job_get_earliest(self._single(url, request) for url in urls)

    async def _single(self, url: str, request: ocsp.OCSPRequest) -> ocsp.OCSPResponse:
        self._local.charge(FetchKind.OCSP)
        reply = self._local.pki.request("POST", url, request.dump())
        if not reply.ok or reply.content_type != CONTENT_TYPE_OCSP:
            raise cv_errors.OCSPFetchError(f"Failed to fetch OCSP response from {url}: {reply.status}")
        return process_ocsp_response_data(reply.body, ocsp_request=request, ocsp_url=url)

    def fetched_responses(self) -> Iterable[ocsp.OCSPResponse]:
        return _union(self._local.results(), self._fallback.fetched_responses if self._fallback else None)

    def fetched_responses_for_cert(self, cert: Cert) -> Iterable[ocsp.OCSPResponse]:
        target, fallback = issuer_serial(cert), self._fallback
        return _union([resp for (subject, _), resp in self._local.items() if subject == target],
                      (lambda: fallback.fetched_responses_for_cert(cert)) if fallback is not None else None)


class LocalCRLFetcher(CRLFetcher):
    def __init__(self, pki: LocalPki, fallback: CRLFetcher | None, budget: FetchBudget) -> None:
        self._local = _LocalCache(pki, budget)
        self._fallback = fallback
        self._by_cert: dict[bytes, list[crl.CertificateList]] = {}

    async def fetch(self, cert: Cert, *, use_deltas: bool = True) -> Iterable[crl.CertificateList]:
        key = issuer_serial(cert)
        if key in self._by_cert:
            return self._by_cert[key]
        urls = [u for dp in get_relevant_crl_dps(cert, use_deltas=use_deltas)
                for u in enumerate_delivery_point_urls(dp)]
        if not self._local.all_local(urls):
            if self._fallback is not None:
                return await self._fallback.fetch(cert, use_deltas=use_deltas)
            if urls:
                raise _no_fetcher(cv_errors.CRLFetchError, urls)
        found = [c async for c in crl_job_results_as_completed([self._single(u) for u in urls])]
        self._by_cert[key] = found
        return found

    async def _single(self, url: str) -> crl.CertificateList:
        async def job() -> crl.CertificateList:
            self._local.charge(FetchKind.CRL)
            reply = self._local.pki.request("GET", url)
            if not reply.ok or reply.content_type != CONTENT_TYPE_CRL:
                raise cv_errors.CRLFetchError(f"Failure to fetch CRL from URL {url}: {reply.status}")
            data = reply.body
            try:
                if pem.detect(data):
                    _, _, data = pem.unarmor(data)
                return crl.CertificateList.load(data)
            except ValueError as exc:
                raise cv_errors.CRLFetchError(f"Failure to fetch CRL from URL {url}") from exc
        return await self._local.cached(url, job)

    def fetched_crls(self) -> Iterable[crl.CertificateList]:
        return _union(self._local.results(), self._fallback.fetched_crls if self._fallback else None)

    def fetched_crls_for_cert(self, cert: Cert) -> Iterable[crl.CertificateList]:
        key = issuer_serial(cert)
        if key in self._by_cert:
            return self._by_cert[key]
        if self._fallback is None:
            raise KeyError(key)
        return self._fallback.fetched_crls_for_cert(cert)  # KeyError when not fetched there either


class LocalCertificateFetcher(CertificateFetcher):
    def __init__(self, pki: LocalPki, fallback: CertificateFetcher | None, budget: FetchBudget) -> None:
        self._local = _LocalCache(pki, budget)
        self._fallback = fallback

    def fetch_cert_issuers(self, cert: Cert) -> AsyncGenerator[x509.Certificate, None]:
        urls = list(gather_aia_issuer_urls(cert))
        if self._local.all_local(urls):
            return self._issuers(urls, "certificate")
        if self._fallback is not None:
            return self._fallback.fetch_cert_issuers(cert)
        return self._issuers([], "certificate")

    def fetch_crl_issuers(self, certificate_list: crl.CertificateList) -> AsyncGenerator[x509.Certificate, None]:
        urls = list(certificate_list.issuer_cert_urls)
        if self._local.all_local(urls):
            return self._issuers(urls, "CRL")
        if self._fallback is not None:
            return self._fallback.fetch_crl_issuers(certificate_list)
        return self._issuers([], "CRL")

    def _issuers(self, urls: list[str], origin: str) -> AsyncGenerator[x509.Certificate, None]:
        return complete_certificate_fetch_jobs([self._single(u, origin) for u in urls])

    async def _single(self, url: str, origin: str) -> list[x509.Certificate]:
        async def job() -> list[x509.Certificate]:
            self._local.charge(FetchKind.CERT)
            reply = self._local.pki.request("GET", url)
            try:
                if not reply.ok:
                    raise ValueError(reply.status)
                return list(unpack_cert_content(reply.body, reply.content_type, url, True))
            except ValueError as exc:
                raise cv_errors.CertificateFetchError(
                    f"Failed to fetch certificate(s) from url {url} ({origin}).") from exc
        return await self._local.cached(url, job)

    def fetched_certs(self) -> Iterable[x509.Certificate]:
        found = [c for certs in self._local.results() for c in certs]
        if self._fallback is not None:  # pyhanko-certvalidator's HTTP fetchers keep a list per URL
            for item in self._fallback.fetched_certs():
                found.extend(item if isinstance(item, list) else [item])
        return found
