"""Trust configuration: which roots the service trusts, and how revocation is checked.

One :class:`TrustStore` is built at start from the internal CA (if any) and the external CA root
files of the configuration; it hands out a fresh pyHanko ``ValidationContext`` for each signing
(validation contexts cache fetched OCSP/CRL, so one per operation keeps them current) and the
AdES validation policy used by :mod:`signing.validate`. With a :class:`~signing.local_pki.LocalPki`
(``local_pki=``), both fetch the internal CA's OCSP responses, CRLs and certificates in-process;
everything else goes over HTTP only as :class:`~signing.netguard.FetchPolicy` allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
from pyhanko.sign.validation.policy_decl import (
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.fetchers import FetcherBackend, OwnedFetcherBackend
from pyhanko_certvalidator.policy_decl import (
    NO_REVOCATION,
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)
from pyhanko_certvalidator.registry import SimpleTrustManager

from signing.embedded_fallback import EmbeddedFallbackBackend
from signing.guarded_fetchers import GuardedFetcherBackend
from signing.netguard import FetchPolicy
from signing.x509util import load_certificate_files, to_asn1_cert

if TYPE_CHECKING:
    from signing.local_pki import LocalPki

#: pyHanko's default difference policy, unchanged: docsvc judges modifications after signing as
#: stock validators do (an earlier Acrobat-like relaxation accepted new visible signature fields
#: after certification and hid that every issued document failed elsewhere). The fields filled
#: after certification are created by the certifying signature (``signing.pagefields``).
DIFF_POLICY = DEFAULT_DIFF_POLICY

#: Revocation modes of pyHanko's legacy ValidationContext, used when signing.
REVOCATION_MODES = ("soft-fail", "hard-fail", "require")
#: A signer's certificate must allow one of these (RFC 5280 names as pyHanko spells them).
SIGNER_KEY_USAGE = frozenset({"non_repudiation", "digital_signature"})


@dataclass(frozen=True)
class TrustStore:
    """Trusted roots plus known intermediates, and the revocation policy.

    ``revocation_mode`` applies when signing: ``hard-fail`` (default) requires a successful
    OCSP/CRL check wherever a certificate names a responder or distribution point; ``require``
    demands revocation data for every certificate; ``soft-fail`` tolerates unreachable responders.

    ``local_pki`` (a :class:`~signing.local_pki.LocalPki` of the internal CA) answers the internal
    CA's URLs in-process when fetching; every other URL goes over HTTP under ``fetch_policy``
    (:mod:`signing.netguard`: public addresses or the allow-list, time-outs, size limits) and never
    to chase CA issuer certificates (:mod:`signing.guarded_fetchers`).
    """

    roots: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()
    allow_fetching: bool = True
    revocation_mode: str = "hard-fail"
    check_revocation_on_validate: bool = True
    local_pki: LocalPki | None = field(default=None, compare=False)
    fetch_policy: FetchPolicy = field(default_factory=FetchPolicy)
    _asn1_roots: tuple = field(init=False, repr=False, compare=False)
    _asn1_intermediates: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # No roots is allowed: nothing is trusted, and validation still reports every other fact
        # (integrity, signer, time, level) with an INDETERMINATE verdict (``docsvc verify`` without trust).
        if self.revocation_mode not in REVOCATION_MODES:
            raise ValueError(f"revocation_mode must be one of {REVOCATION_MODES}")
        object.__setattr__(self, "_asn1_roots", tuple(to_asn1_cert(c) for c in self.roots))
        object.__setattr__(self, "_asn1_intermediates", tuple(to_asn1_cert(c) for c in self.intermediates))

    @classmethod
    def build(cls, *, internal_ca: object | None = None, root_files: Iterable[Path | str] = (),
              intermediate_files: Iterable[Path | str] = (), **options: object) -> TrustStore:
        """Roots from the internal CA (an :class:`~signing.ca.InternalCA`) and from PEM/DER files."""
        roots: list[x509.Certificate] = []
        intermediates: list[x509.Certificate] = []
        if internal_ca is not None:
            roots.append(internal_ca.root_certificate)  # type: ignore[attr-defined]
            intermediates.append(internal_ca.issuing_certificate)  # type: ignore[attr-defined]
        roots.extend(load_certificate_files(root_files))
        intermediates.extend(load_certificate_files(intermediate_files))
        return cls(roots=tuple(roots), intermediates=tuple(intermediates), **options)  # type: ignore[arg-type]

    def fetcher_backend(self) -> FetcherBackend:
        """A new backend for one operation (the caller closes it): the internal CA in-process when
        there is a local PKI, everything else through the guarded HTTP fetchers."""
        network = GuardedFetcherBackend(self.fetch_policy)
        return self.local_pki.fetcher_backend(network) if self.local_pki is not None else network

    # ------------------------------------------------------------------ signing side
    def validation_context(self, *, moment: datetime | None = None, fetching: bool | None = None) -> ValidationContext:
        """A fresh context for one signing (or LTV update): checks the signer's chain and
        collects the OCSP responses and CRLs that B-LT embeds. The context owns its fetcher
        backend: pyHanko closes it when the signing operation ends."""
        allow = self.allow_fetching if fetching is None else fetching
        backend = self.fetcher_backend() if allow else None
        return ValidationContext(
            trust_roots=list(self._asn1_roots), other_certs=list(self._asn1_intermediates), moment=moment,
            allow_fetching=allow, revocation_mode=self.revocation_mode,
            fetcher_backend=OwnedFetcherBackend(backend) if backend is not None else None)

    # ------------------------------------------------------------------ validation side
    def pdf_validation_spec(self, embedded: LocalKnowledge | None = None) -> PdfSignatureValidationSpec:
        """The AdES policy for validating received documents: chain to one of our roots,
        revocation data required (embedded, or fetched online when allowed).

        ``embedded`` is the document's own revocation data (its DSS): with fetching allowed, a fetch
        that fails or that the fetch policy refuses falls back to it for that certificate, as
        ``LOCAL_ONLY`` would (:mod:`signing.embedded_fallback`), so a B-LT document validates the same
        offline and online. It is not added to the policy's local knowledge here (the caller does).

        With fetching allowed the policy carries a fetcher backend of its own, which pyHanko leaves to
        the caller: close it (``spec.signature_validation_spec.revinfo_gathering_policy
        .fetcher_backend.close()``) when the validation is over, as :mod:`signing.validate` does."""
        revinfo = (CertRevTrustPolicy(REQUIRE_REVINFO, freshness=None,
                                      freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION)
                   if self.check_revocation_on_validate else CertRevTrustPolicy(NO_REVOCATION))
        fetch_rule = (RevinfoOnlineFetchingRule.NO_HISTORICAL_FETCH if self.allow_fetching
                      else RevinfoOnlineFetchingRule.LOCAL_ONLY)
        backend = self.fetcher_backend() if self.allow_fetching else None
        if backend is not None and embedded is not None:
            backend = EmbeddedFallbackBackend(backend, ocsps=[o.ocsp_response_data for o in embedded.known_ocsps])
        spec = SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(list(self._asn1_roots)), revinfo_policy=revinfo),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(online_fetching_rule=fetch_rule,
                                                                 fetcher_backend=backend),
            local_knowledge=LocalKnowledge(known_certs=list(self._asn1_intermediates)),
            key_usage_settings=KeyUsageConstraints(key_usage=set(SIGNER_KEY_USAGE)),
        )
        return PdfSignatureValidationSpec(signature_validation_spec=spec, diff_policy=DIFF_POLICY)
