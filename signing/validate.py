"""Validation of every signature in a PDF (ours or received), as a report for people and programs.

Each signature is validated with pyHanko's AdES (ETSI EN 319 102-1) long-term process, which uses
the document's DSS and document time-stamps as proof of existence and fetches OCSP/CRL online
when allowed. The report gives per signature: the signer, the signing time (and whether a trusted
time-stamp vouches for it), integrity, cryptographic validity, trust, revocation status with its
source, coverage, modifications after signing (pyHanko's difference analysis), the DocMDP
permission, the PAdES level — and a verdict with reasons; then an overall verdict.

``verify_report(pdf, trust)`` returns a :class:`ValidationReport`; ``.to_json()`` is a dict,
``.to_text()`` a bilingual (Vietnamese / English) text report.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus, AdESSubIndic
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation.ades import (
    AdESBasicValidationResult,
    _dss_to_local_knowledge,
    ades_basic_validation,
    ades_lta_validation,
    ades_timestamp_validation,
    ades_with_time_validation,
)
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.policy_decl import LocalKnowledge, PdfSignatureValidationSpec
from pyhanko.sign.validation.status import DocumentTimestampStatus, PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

from signing.errors import InvalidDocumentError
from signing.trust import TrustStore
from signing.x509util import iso_vietnam, signature_timestamp_tokens, utcnow


class Verdict(str, Enum):
    VALID = "valid"
    VALID_WITH_WARNINGS = "valid_with_warnings"
    INDETERMINATE = "indeterminate"
    INVALID = "invalid"

    @property
    def rank(self) -> int:
        return [Verdict.VALID, Verdict.VALID_WITH_WARNINGS, Verdict.INDETERMINATE, Verdict.INVALID].index(self)


_VERDICT_VI = {Verdict.VALID: "HỢP LỆ / VALID",
               Verdict.VALID_WITH_WARNINGS: "HỢP LỆ, CÓ CẢNH BÁO / VALID WITH WARNINGS",
               Verdict.INDETERMINATE: "CHƯA XÁC ĐỊNH / INDETERMINATE", Verdict.INVALID: "KHÔNG HỢP LỆ / INVALID"}
#: Current-time results that the long-term process (proof of existence) may still turn into a pass.
_NEEDS_LONG_TERM = frozenset({AdESIndeterminate.OUT_OF_BOUNDS_NO_POE, AdESIndeterminate.REVOKED_NO_POE,
                              AdESIndeterminate.REVOKED_CA_NO_POE, AdESIndeterminate.TRY_LATER,
                              AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
                              AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
                              AdESIndeterminate.REVOCATION_OUT_OF_BOUNDS_NO_POE})
_PERMISSIONS = {MDPPerm.NO_CHANGES: "no_changes", MDPPerm.FILL_FORMS: "form_filling",
                MDPPerm.ANNOTATE: "annotations"}


@dataclass(frozen=True)
class CertificateInfo:
    common_name: str
    organisation: str | None
    serial: str  # hex
    issuer: str
    not_before: str
    not_after: str

    @classmethod
    def of(cls, cert: asn1_x509.Certificate) -> CertificateInfo:
        subject = cert.subject.native
        issuer = cert.issuer.native
        return cls(common_name=str(subject.get("common_name", cert.subject.human_friendly)),
                   organisation=subject.get("organization_name"), serial=format(cert.serial_number, "x"),
                   issuer=str(issuer.get("common_name", cert.issuer.human_friendly)),
                   not_before=iso_vietnam(cert.not_valid_before), not_after=iso_vietnam(cert.not_valid_after))


@dataclass(frozen=True)
class Revocation:
    status: str  # good | revoked | unknown | not_checked
    source: str  # document_dss | signature | online | none
    revoked_at: str | None = None


@dataclass
class SignatureReport:
    index: int
    field_name: str
    kind: str  # signature | certification | document_timestamp
    signer: CertificateInfo
    signing_time: str | None
    time_source: str  # signature_timestamp | document_timestamp | claimed
    timestamp_authority: str | None
    intact: bool
    valid: bool
    trusted: bool
    revocation: Revocation
    coverage: str  # entire_file | entire_revision | partial
    modification: str | None  # none | lta_updates | form_filling | annotations | other
    docmdp_permission: str | None
    docmdp_ok: bool | None
    pades_level: str
    ades_indication: str
    ades_subindication: str | None
    verdict: Verdict = Verdict.VALID
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Why the signer is not trusted (None when trusted): no_trust_roots | no_chain |
    # no_revocation_address | revocation_unavailable | chain_invalid; and the certificate concerned.
    trust_problem: str | None = None
    trust_problem_subject: str | None = None


@dataclass
class ValidationReport:
    file_sha256: str
    validated_at: str
    signatures: list[SignatureReport]
    verdict: Verdict
    reasons: list[str]
    certified: bool
    certification_permission: str | None

    @property
    def valid(self) -> bool:
        return self.verdict in (Verdict.VALID, Verdict.VALID_WITH_WARNINGS)

    def to_json(self) -> dict[str, Any]:
        def convert(value: Any) -> Any:
            if isinstance(value, Enum):
                return value.value
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            if isinstance(value, list):
                return [convert(v) for v in value]
            return value
        plain: dict[str, Any] = convert(asdict(self))
        return plain

    def to_text(self) -> str:
        out = ["Kết quả kiểm tra chữ ký số / Signature validation report",
               f"Tệp / File SHA-256: {self.file_sha256}",
               f"Thời điểm kiểm tra / Validated at: {self.validated_at}",
               f"Kết luận / Verdict: {_VERDICT_VI[self.verdict]}"]
        out += [f"  - {r}" for r in self.reasons]
        if self.certified:
            out.append(f"Văn bản được chứng thực (DocMDP) / Certified document, permission: "
                       f"{self.certification_permission}")
        for s in self.signatures:
            label = {"document_timestamp": "Dấu thời gian văn bản / Document timestamp",
                     "certification": "Chữ ký chứng thực / Certification signature"}.get(
                s.kind, "Chữ ký / Signature")
            out += ["", f"[{s.index}] {label}: {s.field_name} — {_VERDICT_VI[s.verdict]}",
                    f"    Người ký / Signer: {s.signer.common_name}"
                    + (f" — {s.signer.organisation}" if s.signer.organisation else ""),
                    f"    Chứng thư số / Certificate: serial {s.signer.serial}, cấp bởi / issued by {s.signer.issuer}, "
                    f"hiệu lực / valid {s.signer.not_before} → {s.signer.not_after}",
                    f"    Thời điểm ký / Signing time: {s.signing_time or '-'} ({_TIME_SOURCE[s.time_source]})",
                    f"    Toàn vẹn / Intact: {_yes(s.intact)}; "
                    f"chữ ký hợp lệ / cryptographically valid: {_yes(s.valid)}; "
                    f"tin cậy / trusted: {_yes(s.trusted)}",
                    f"    Thu hồi / Revocation: {s.revocation.status} (nguồn / source: {s.revocation.source})",
                    f"    Phạm vi / Coverage: {s.coverage}; thay đổi sau khi ký / modified after signing: "
                    f"{s.modification or 'not analysed'}",
                    f"    Mức PAdES / PAdES level: {s.pades_level}; AdES: {s.ades_indication}"
                    + (f" ({s.ades_subindication})" if s.ades_subindication else "")]
            if s.docmdp_permission:
                out.append(f"    DocMDP: {s.docmdp_permission}, tuân thủ / respected: {_yes(s.docmdp_ok)}")
            out += [f"    ✗ {r}" for r in s.reasons] + [f"    ! {w}" for w in s.warnings]
        return "\n".join(out) + "\n"


_TIME_SOURCE = {"signature_timestamp": "dấu thời gian tin cậy / trusted timestamp",
                "document_timestamp": "dấu thời gian văn bản / document timestamp",
                "claimed": "đồng hồ máy người ký, không kiểm chứng / signer's own clock, unverified"}


def _yes(value: bool | None) -> str:
    return "không rõ / unknown" if value is None else ("có / yes" if value else "KHÔNG / NO")


# ====================================================================== entry point
def verify_report(pdf: bytes, trust: TrustStore, *, now: datetime | None = None) -> ValidationReport:
    """Validate every signature and document time-stamp of ``pdf`` against ``trust``."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        if reader.encrypted:
            raise InvalidDocumentError("the PDF is encrypted; decrypt it before validating")
        sigs = list(reader.embedded_signatures)
    except InvalidDocumentError:
        raise
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise InvalidDocumentError(f"not a readable PDF: {exc}") from None
    now = now or utcnow()
    reports = asyncio.run(_validate_all(reader, sigs, trust, now)) if sigs else []
    certification = None
    try:
        perms = reader.root["/Perms"]["/DocMDP"]
        certification = _PERMISSIONS.get(MDPPerm(perms["/Reference"][0]["/TransformParams"].get("/P", 2)))
    except (KeyError, IndexError, TypeError, ValueError):
        pass
    verdict, reasons = _overall(reports)
    return ValidationReport(file_sha256=hashlib.sha256(pdf).hexdigest(), validated_at=iso_vietnam(now),
                            signatures=reports, verdict=verdict, reasons=reasons,
                            certified=certification is not None, certification_permission=certification)


def _overall(reports: list[SignatureReport]) -> tuple[Verdict, list[str]]:
    if not reports:
        return Verdict.INVALID, ["văn bản không có chữ ký số / the document has no digital signature"]
    worst = max((r.verdict for r in reports), key=lambda v: v.rank)
    reasons = [f"[{r.index}] {r.field_name}: {msg}" for r in reports for msg in (r.reasons or r.warnings)
               if r.verdict is not Verdict.VALID]
    return worst, reasons


@dataclass
class _Context:
    spec: PdfSignatureValidationSpec  # with the document's DSS as local knowledge
    timing: ValidationTimingInfo
    knowledge: LocalKnowledge
    dss_revision: int | None
    doc_ts: list[EmbeddedPdfSignature]
    no_roots: bool = False


async def _validate_all(reader: PdfFileReader, sigs: list[EmbeddedPdfSignature], trust: TrustStore,
                        now: datetime) -> list[SignatureReport]:
    dss_facts = _dss_to_local_knowledge(reader)
    base = trust.pdf_validation_spec(embedded=dss_facts)
    backend = base.signature_validation_spec.revinfo_gathering_policy.fetcher_backend
    try:
        return await _validate_with(reader, sigs, base, now, dss_facts, no_roots=not trust.roots)
    finally:  # a backend on the policy is ours to close (pyHanko closes only those it provisions)
        if backend is not None:
            await backend.close()


async def _validate_with(reader: PdfFileReader, sigs: list[EmbeddedPdfSignature], base: PdfSignatureValidationSpec,
                         now: datetime, dss_facts: LocalKnowledge, *, no_roots: bool = False) -> list[SignatureReport]:
    own = base.signature_validation_spec.local_knowledge
    knowledge = LocalKnowledge(known_ocsps=own.known_ocsps + dss_facts.known_ocsps,
                               known_crls=own.known_crls + dss_facts.known_crls,
                               known_certs=own.known_certs + dss_facts.known_certs)
    spec = dataclasses.replace(base, signature_validation_spec=dataclasses.replace(
        base.signature_validation_spec, local_knowledge=knowledge))
    timing = ValidationTimingInfo(validation_time=now, best_signature_time=now, point_in_time_validation=False)
    ctx = _Context(spec, timing, dss_facts, _dss_revision(reader),
                   [s for s in sigs if s.sig_object_type == "/DocTimeStamp"], no_roots)
    out = []
    for index, sig in enumerate(sigs, start=1):
        if sig.sig_object_type == "/DocTimeStamp":
            out.append(await _timestamp_report(index, sig, ctx, later=sigs[index:]))
        else:
            out.append(await _signature_report(index, sig, ctx, later=sigs[index:]))
    return out


async def _ades_result(sig: EmbeddedPdfSignature, ctx: _Context) -> Any:
    """AdES validation at the current time (basic, or with the signature time-stamp); when that
    is inconclusive because time has passed (expired or revoked certificate), the long-term
    process with the document time-stamps as proof of existence.

    pyHanko's long-term process always adds a past validation that needs proof of existence for
    every CA certificate, which a freshly signed document cannot have; so it is used only when
    the current-time validation cannot conclude."""
    sig.compute_integrity_info(diff_policy=ctx.spec.diff_policy)
    common: dict[str, Any] = dict(
        validation_spec=ctx.spec.signature_validation_spec, raw_digest=sig.compute_digest(),
        timing_info=ctx.timing, extra_status_kwargs=sig.summarise_integrity_info(), status_cls=PdfSignatureStatus)
    result: AdESBasicValidationResult[Any]
    if _has_signature_timestamp(sig):
        result = await ades_with_time_validation(sig.signed_data, **common)
    else:
        # pyHanko 0.38's basic validation ignores status_cls: add the PDF facts ourselves
        del common["extra_status_kwargs"], common["status_cls"]
        result = await ades_basic_validation(sig.signed_data, **common)
        if result.api_status is not None:
            fields = {f.name: getattr(result.api_status, f.name) for f in dataclasses.fields(result.api_status)
                      if f.init}
            result = dataclasses.replace(result, api_status=PdfSignatureStatus(
                **fields, **sig.summarise_integrity_info()))
    if result.ades_subindic in _NEEDS_LONG_TERM and ctx.doc_ts:
        return await ades_lta_validation(sig, ctx.spec, timing_info=ctx.timing)
    return result


# ====================================================================== one signature
async def _signature_report(index: int, sig: EmbeddedPdfSignature, ctx: _Context,
                            later: list[EmbeddedPdfSignature]) -> SignatureReport:
    result = await _ades_result(sig, ctx)
    status = result.api_status
    indication = result.ades_subindic
    cert = sig.signer_cert
    ts_status = getattr(status, "timestamp_validity", None) if status is not None else None
    if ts_status is not None and ts_status.valid and ts_status.intact and ts_status.trusted:
        signing_time, time_source = ts_status.timestamp, "signature_timestamp"
        tsa = _cn(ts_status.signing_cert)
    elif getattr(result, "oldest_evidence_record_timestamp", None) is not None:
        signing_time, time_source, tsa = result.oldest_evidence_record_timestamp, "document_timestamp", None
    else:
        signing_time, time_source, tsa = sig.self_reported_timestamp, "claimed", None
        if getattr(status, "signer_reported_dt", None):
            signing_time = status.signer_reported_dt
    intact = bool(status and status.intact) if status is not None else _intact_fallback(sig)
    valid = bool(status and status.valid)
    trusted = bool(status and status.trusted) and indication.status is AdESStatus.PASSED
    coverage = _coverage(sig)
    modification = _modification(status)
    docmdp = sig.docmdp_level
    certifying = sig.sig_object.get("/Reference") is not None and docmdp is not None
    report = SignatureReport(
        index=index, field_name=sig.field_name, kind="certification" if certifying else "signature",
        signer=CertificateInfo.of(cert), signing_time=iso_vietnam(signing_time) if signing_time else None,
        time_source=time_source, timestamp_authority=tsa, intact=intact, valid=valid, trusted=trusted,
        revocation=_revocation(sig, status, indication, ctx.knowledge, trusted, ctx.spec),
        coverage=coverage, modification=modification,
        docmdp_permission=_PERMISSIONS.get(docmdp) if docmdp else None,
        docmdp_ok=getattr(status, "docmdp_ok", None), pades_level=_pades_level(sig, ctx),
        ades_indication=indication.status.name, ades_subindication=_subindication(indication))
    if not trusted:
        report.trust_problem, report.trust_problem_subject = _trust_problem(sig, status, indication, ctx)
    _judge(report, result.failure_msg, later)
    return report


async def _timestamp_report(index: int, sig: EmbeddedPdfSignature, ctx: _Context,
                            later: list[EmbeddedPdfSignature]) -> SignatureReport:
    sig.compute_integrity_info(diff_policy=ctx.spec.diff_policy)
    result = await ades_timestamp_validation(
        sig.signed_data, ctx.spec.signature_validation_spec, sig.compute_digest, timing_info=ctx.timing,
        extra_status_kwargs=sig.summarise_integrity_info(), status_cls=DocumentTimestampStatus)
    status = result.api_status
    indication = result.ades_subindic
    trusted = bool(status and status.trusted) and indication.status is AdESStatus.PASSED
    tst = sig.signed_data["encap_content_info"]["content"].parsed
    report = SignatureReport(
        index=index, field_name=sig.field_name, kind="document_timestamp", signer=CertificateInfo.of(sig.signer_cert),
        signing_time=iso_vietnam(tst["gen_time"].native), time_source="document_timestamp",
        timestamp_authority=_cn(sig.signer_cert), intact=bool(status and status.intact),
        valid=bool(status and status.valid), trusted=trusted,
        revocation=Revocation("good" if trusted else "unknown", "online" if trusted else "none"),
        coverage=_coverage(sig), modification=_modification(status), docmdp_permission=None, docmdp_ok=None,
        pades_level="document time-stamp (PAdES-LTA)", ades_indication=indication.status.name,
        ades_subindication=_subindication(indication))
    if not trusted:
        report.trust_problem, report.trust_problem_subject = _trust_problem(sig, status, indication, ctx)
    _judge(report, result.failure_msg, later)
    return report


def _judge(r: SignatureReport, failure_msg: str | None, later: list[EmbeddedPdfSignature]) -> None:
    """Set the verdict and its reasons from the facts gathered."""
    reasons, warnings = r.reasons, r.warnings
    if not r.intact:
        reasons.append("nội dung đã bị thay đổi sau khi ký / the signed content was altered (hash mismatch)")
    if r.intact and not r.valid:
        reasons.append("chữ ký không khớp chứng thư / the cryptographic signature is invalid")
    revoked_after_signing = (r.revocation.status == "revoked" and r.ades_indication == AdESStatus.PASSED.name
                             and r.time_source != "claimed")
    if r.revocation.status == "revoked" and not revoked_after_signing:
        reasons.append("chứng thư số đã bị thu hồi / the certificate is revoked")
    if r.coverage == "partial":
        reasons.append("chữ ký không bao trùm bản sửa đổi của nó / the signature does not cover its revision")
    if r.modification == "other":
        reasons.append("văn bản bị sửa đổi trái phép sau khi ký / the document was modified after signing "
                       "in a way that is not allowed")
    if r.docmdp_ok is False and r.modification != "other":
        reasons.append("thay đổi vượt quá quyền DocMDP / changes exceed the certification's DocMDP permission")
    if r.ades_indication == AdESStatus.FAILED.name and not reasons:
        reasons.append(f"AdES: {r.ades_subindication} ({failure_msg or 'failed'})")
    if reasons:
        r.verdict = Verdict.INVALID
        return
    if r.ades_indication == AdESStatus.INDETERMINATE.name or not r.trusted:
        if not r.trusted:
            reasons.append(_untrusted_reason(r))
        if r.revocation.status == "unknown" and r.trust_problem not in _SAYS_REVOCATION:
            reasons.append("không xác định được tình trạng thu hồi / revocation status unknown")
        if failure_msg and r.ades_subindication:
            reasons.append(f"AdES {r.ades_subindication}: {failure_msg}")
        r.verdict = Verdict.INDETERMINATE
        return
    if revoked_after_signing:
        warnings.append(f"chứng thư số bị thu hồi lúc {r.revocation.revoked_at}, sau thời điểm ký đã được chứng minh / "
                        f"the certificate was revoked at {r.revocation.revoked_at}, after the proven signing time")
    if r.kind != "document_timestamp" and r.time_source == "claimed":
        warnings.append("thời điểm ký lấy từ đồng hồ máy người ký, không có dấu thời gian / signing time is "
                        "the signer's own claim (no time-stamp)")
    if r.modification == "annotations":
        warnings.append("có chú thích được thêm sau khi ký / annotations were added after signing")
    if r.modification == "form_filling" and not later:
        warnings.append("có trường biểu mẫu được điền sau khi ký / form fields were filled after signing")
    if r.pades_level.startswith("not PAdES"):
        warnings.append("chữ ký không theo chuẩn PAdES / not a PAdES signature")
    r.verdict = Verdict.VALID_WITH_WARNINGS if warnings else Verdict.VALID


#: Trust problems whose reason already accounts for the unknown revocation status.
_SAYS_REVOCATION = frozenset({"no_revocation_address", "revocation_unavailable", "no_trust_roots"})


def _untrusted_reason(r: SignatureReport) -> str:
    """Say why the signer is not trusted: no roots given, no path to a root, or a path whose
    revocation status cannot be established (which is not the same thing as no path)."""
    sub = f" ({r.ades_subindication})" if r.ades_subindication else ""
    who = r.trust_problem_subject or r.signer.common_name
    if r.trust_problem == "no_trust_roots":
        return ("không có chứng thư gốc tin cậy nào được cung cấp / no trust roots were given (configure "
                "DOCSVC_TRUST_ROOTS, run `docsvc ca init`, or pass --trust ROOT.pem): the signer can be neither "
                "trusted nor rejected")
    if r.trust_problem == "no_revocation_address":
        return (f"chuỗi chứng thư tới gốc tin cậy nhưng không có dữ liệu thu hồi: chứng thư \"{who}\" không ghi "
                f"địa chỉ CRL/OCSP và văn bản không kèm dữ liệu thu hồi / the certificate chains to a configured "
                f"root, but revocation data is unavailable: \"{who}\" has no CRL/OCSP address and the document "
                f"embeds no revocation data for it{sub}")
    if r.trust_problem == "revocation_unavailable":
        return (f"chuỗi chứng thư tới gốc tin cậy nhưng không lấy được dữ liệu thu hồi của \"{who}\" (CRL/OCSP "
                f"không truy cập được, văn bản không kèm) / the certificate chains to a configured root, but "
                f"revocation data for \"{who}\" is unavailable (its CRL/OCSP service did not answer and the "
                f"document embeds none){sub}")
    if r.trust_problem == "chain_invalid":
        return ("chuỗi chứng thư tới gốc tin cậy không hợp lệ / the certificate chain to a configured root is not "
                "valid" + sub)
    return "không xác lập được chuỗi tin cậy tới gốc được cấu hình / no trusted chain to a configured root" + sub


def _trust_problem(sig: EmbeddedPdfSignature, status: Any, indication: Any, ctx: _Context
                   ) -> tuple[str, str | None]:
    """Classify why ``sig``'s signer is not trusted (see :attr:`SignatureReport.trust_problem`).

    pyHanko reports a missing revocation status as CERTIFICATE_CHAIN_GENERAL_FAILURE (certvalidator's
    InsufficientRevinfoError is a PathValidationError) with the path it did build; so a built path
    plus a certificate on it that names no CRL/OCSP address and has no embedded revocation data is
    "revocation data unavailable", not "no chain"."""
    if ctx.no_roots:
        return "no_trust_roots", None
    path = getattr(status, "validation_path", None) if status is not None else None
    if path is None or indication is AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND:
        return "no_chain", None
    if indication not in (AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE, AdESIndeterminate.TRY_LATER):
        return "chain_invalid", None
    ocsps, crls = _archival_revinfo(sig)
    for cert in path.iter_certs(include_root=False):
        if _in_dss(cert, ctx.knowledge) or _covers_signer(cert, ocsps, crls):
            continue
        if not cert.ocsp_urls and not cert.crl_distribution_points:
            return "no_revocation_address", _cn(cert)
    for cert in path.iter_certs(include_root=False):
        if not (_in_dss(cert, ctx.knowledge) or _covers_signer(cert, ocsps, crls)):
            return "revocation_unavailable", _cn(cert)
    return "chain_invalid", None


# ====================================================================== facts
def _subindication(indication: AdESSubIndic) -> str | None:
    """The AdES sub-indication's name, or None when the validation passed. pyHanko types it as the
    ``AdESSubIndic`` base class; each concrete one (``AdESFailure``, ``AdESIndeterminate``...) is an enum."""
    if indication.status is AdESStatus.PASSED:
        return None
    return indication.name if isinstance(indication, Enum) else type(indication).__name__


def _cn(cert: asn1_x509.Certificate) -> str:
    return str(cert.subject.native.get("common_name", cert.subject.human_friendly))


def _intact_fallback(sig: EmbeddedPdfSignature) -> bool:
    try:
        sig.compute_integrity_info()
        return True
    except Exception:  # noqa: BLE001
        return False


def _coverage(sig: EmbeddedPdfSignature) -> str:
    try:
        level = sig.evaluate_signature_coverage()
    except Exception:  # noqa: BLE001 - broken byte range: partial
        return "partial"
    return {SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
            SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision"}.get(level, "partial")


def _modification(status: Any) -> str | None:
    level = getattr(status, "modification_level", None) if status is not None else None
    if level is None:
        return None
    return {ModificationLevel.NONE: "none", ModificationLevel.LTA_UPDATES: "lta_updates",
            ModificationLevel.FORM_FILLING: "form_filling", ModificationLevel.ANNOTATIONS: "annotations"}.get(
        level, "other")


def _has_signature_timestamp(sig: EmbeddedPdfSignature) -> bool:
    return bool(signature_timestamp_tokens(sig.signer_info))


def _dss_revision(reader: PdfFileReader) -> int | None:
    """The first revision in which the document has a DSS."""
    for rev in range(reader.xrefs.total_revisions):
        if "/DSS" in reader.get_historical_root(rev):
            return rev
    return None


def _covers_signer(cert: asn1_x509.Certificate, ocsps: list[Any], crls: list[Any]) -> bool:
    """Whether the OCSP responses or CRLs (asn1crypto objects) speak about ``cert``."""
    for resp in ocsps:
        try:
            basic = resp["response_bytes"]["response"].parsed["tbs_response_data"]
            if any(r["cert_id"]["serial_number"].native == cert.serial_number for r in basic["responses"]):
                return True
        except (KeyError, ValueError, TypeError, AttributeError):
            continue
    for item in crls:
        try:
            if item["tbs_cert_list"]["issuer"] == cert.issuer:
                return True
        except (KeyError, ValueError, TypeError):
            continue
    return False


def _archival_revinfo(sig: EmbeddedPdfSignature) -> tuple[list[Any], list[Any]]:
    """OCSP responses and CRLs in the signature's adbe-revocationInfoArchival attribute."""
    try:
        for attr in sig.signer_info["signed_attrs"]:
            if attr["type"].native == "adobe_revocation_info_archival":
                value = attr["values"][0]
                return list(value["ocsp"] or []), list(value["crl"] or [])
    except (KeyError, ValueError, TypeError):
        pass
    return [], []


def _in_dss(cert: asn1_x509.Certificate, knowledge: LocalKnowledge) -> bool:
    return _covers_signer(cert, [o.ocsp_response_data for o in knowledge.known_ocsps],
                          [c.crl_data for c in knowledge.known_crls])


def _revocation(sig: EmbeddedPdfSignature, status: Any, indication: Any, knowledge: LocalKnowledge,
                trusted: bool, spec: Any) -> Revocation:
    cert = sig.signer_cert
    details = getattr(status, "revocation_details", None) if status is not None else None
    revoked = details is not None or indication in (AdESIndeterminate.REVOKED_NO_POE,
                                                    AdESIndeterminate.REVOKED_CA_NO_POE, AdESFailure.REVOKED)
    source = "none"
    if _in_dss(cert, knowledge):
        source = "document_dss"
    elif _covers_signer(cert, *_archival_revinfo(sig)):
        source = "signature"
    elif trusted or revoked:
        source = "online"
    revoked_at = None
    if details is not None:
        revoked_at = iso_vietnam(details.revocation_date)
        return Revocation("revoked", source, revoked_at)
    if revoked:
        return Revocation("revoked", source)
    checked = spec.signature_validation_spec.cert_validation_policy.revinfo_policy.revocation_checking_policy.essential
    if not checked:
        return Revocation("not_checked", "none")
    return Revocation("good" if trusted else "unknown", source if trusted else "none")


def _pades_level(sig: EmbeddedPdfSignature, ctx: _Context) -> str:
    subfilter = str(sig.sig_object.get("/SubFilter", ""))
    if subfilter != "/ETSI.CAdES.detached":
        return f"not PAdES ({subfilter.lstrip('/') or 'no subfilter'})"
    attrs = {a["type"].native for a in sig.signer_info["signed_attrs"]}
    if not attrs & {"signing_certificate", "signing_certificate_v2"}:
        return "not PAdES baseline (no signing-certificate attribute)"
    ts_after = [t for t in ctx.doc_ts if t.signed_revision > sig.signed_revision]
    if not (_has_signature_timestamp(sig) or ts_after):
        return "B-B"
    if not _in_dss(sig.signer_cert, ctx.knowledge):
        return "B-T"
    dss_rev = ctx.dss_revision
    if dss_rev is not None and any(t.signed_revision >= dss_rev for t in ts_after):
        return "B-LTA"
    return "B-LT"

