"""PAdES signing (ETSI.CAdES.detached) at the four baseline levels.

- **B-B**: a CAdES signature with the signing-certificate attribute;
- **B-T**: plus a signature time-stamp from a TSA;
- **B-LT**: plus the validation data (certificates, OCSP responses, CRLs) in the DSS;
- **B-LTA**: plus a document time-stamp over all of it.

Every signature is an incremental update, so earlier signatures stay valid. The first one may
certify the document (DocMDP): later changes beyond the permission are then detected.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import BinaryIO

from cryptography import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator import errors as cv_errors
from pypdf import PdfReader

from signing.appearance import Appearance, DecreeStampStyle, ImageElement, Placement
from signing.errors import (
    CertificateError,
    CertificateExpiredError,
    CertificateRevokedError,
    InvalidDocumentError,
    KeyUsageError,
    ModificationNotAllowedError,
    SigningError,
    TimestampError,
    UntrustedCertificateError,
    ValidationDataError,
)
from signing.keys import KeySource
from signing.local_pki import LocalPki
from signing.pagefields import (
    IssueLayout,
    ManualPosition,
    add_issue_fields,
    copy_box,
    fill_issue_fields,
    find_slots,
    require_positions,
    seal_box,
)
from signing.placement import open_reader, page_box, signature_fields
from signing.trust import TrustStore
from signing.x509util import utcnow


class PadesLevel(str, Enum):
    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @classmethod
    def parse(cls, value: PadesLevel | str) -> PadesLevel:
        try:
            return cls(str(value.value if isinstance(value, PadesLevel) else value).upper())
        except ValueError:
            raise SigningError(f"unknown PAdES level {value!r}; one of {[lv.value for lv in cls]}") from None

    @property
    def timestamped(self) -> bool:
        return self is not PadesLevel.B_B

    @property
    def long_term(self) -> bool:
        return self in (PadesLevel.B_LT, PadesLevel.B_LTA)


#: DocMDP permissions of a certifying signature, by name.
CERTIFY_PERMISSIONS = {"no_changes": MDPPerm.NO_CHANGES, "form_filling": MDPPerm.FILL_FORMS,
                       "annotations": MDPPerm.ANNOTATE}

_TIMESTAMPERS: dict[str, HTTPTimeStamper] = {}
_TIMESTAMPERS_LOCK = threading.Lock()


def timestamper_for(url: str, *, timeout: float = 10, local_pki: LocalPki | None = None) -> TimeStamper:
    """One time-stamper per TSA URL for the process (it caches the TSA's certificate chain): the
    in-process one of ``local_pki`` when it serves ``url``, else an HTTP client."""
    if not url.startswith(("http://", "https://")):
        raise TimestampError(f"the TSA URL must be http(s)://..., not {url!r}")
    if local_pki is not None and local_pki.serves(url):
        return local_pki.timestamper(url)
    with _TIMESTAMPERS_LOCK:
        if url not in _TIMESTAMPERS:
            _TIMESTAMPERS[url] = HTTPTimeStamper(url, timeout=timeout)
        return _TIMESTAMPERS[url]


def sign_pdf(pdf: bytes | BinaryIO, key: KeySource, *, level: PadesLevel | str = PadesLevel.B_LT,
             appearance: Appearance | None = None, certify: bool = False, certify_permission: str = "form_filling",
             field_name: str | None = None, reason: str | None = None, location: str | None = None,
             contact_info: str | None = None, timestamper: TimeStamper | str | None = None,
             validation_context: ValidationContext | TrustStore | None = None,
             issue_fields: IssueFieldsRequest | None = None, fill: FillIssueFields | None = None) -> bytes:
    """Sign ``pdf`` with ``key`` and return the signed file (the input plus one incremental update,
    two for B-LT, three for B-LTA).

    ``appearance`` makes the signature visible (see :mod:`signing.appearance`); without it the
    signature is invisible. ``field_name`` names the new field, or the empty placeholder field to
    fill. ``timestamper`` (a pyHanko TimeStamper or a TSA URL) is required from B-T up;
    ``validation_context`` (or a :class:`TrustStore`) is required for B-LT/B-LTA and, when given,
    checks the signer's chain and revocation status before signing at any level. A trust store with
    a local PKI answers the internal CA's TSA URL, OCSP and CRLs in-process (no HTTP).

    ``issue_fields`` (with ``certify=True``) creates, in the certifying revision, the fields the
    registry fills at issue (:mod:`signing.pagefields`): number, date, seal and copy; ``fill``
    prints the number and date into them in the revision of this signature (the seal's).
    """
    data = pdf if isinstance(pdf, bytes) else pdf.read()
    level = PadesLevel.parse(level)
    key.check_certificate(utcnow())
    if isinstance(timestamper, str):
        timestamper = timestamper_for(timestamper, local_pki=local_pki_of(validation_context))
    if level.timestamped and timestamper is None:
        raise TimestampError(f"level {level.value} needs a time-stamping authority (timestamper)")
    if isinstance(validation_context, TrustStore):
        validation_context = validation_context.validation_context()
    if level.long_term and validation_context is None:
        raise ValidationDataError(f"level {level.value} needs a trust store to collect OCSP/CRL data")
    try:
        job = prepare_signing(data, key.certificate, key.signer(), level=level, appearance=appearance,
                              certify=certify, certify_permission=certify_permission, field_name=field_name,
                              reason=reason, location=location, contact_info=contact_info,
                              timestamper=timestamper if level.timestamped else None,
                              validation_context=validation_context, issue_fields=issue_fields, fill=fill)
        out = job.signer.sign_pdf(job.writer, existing_fields_only=job.existing_fields_only)
    except SigningError:
        raise
    except Exception as exc:  # noqa: BLE001 - mapped to typed errors, unknown ones re-raised
        mapped = map_signing_exception(exc, key.subject_name)
        if mapped is exc:
            raise
        raise mapped from exc
    assert isinstance(out, io.BytesIO)  # no output stream given: pyHanko writes to a new BytesIO
    return out.getvalue()


@dataclass
class SigningJob:
    """A document ready for pyHanko to sign: the writer (issue fields added or filled), the
    configured :class:`PdfSigner`, and whether the signature goes into an existing field."""

    writer: IncrementalPdfFileWriter
    signer: PdfSigner
    existing_fields_only: bool
    field_name: str


def prepare_signing(data: bytes, certificate: x509.Certificate, cms_signer: Signer, *, level: PadesLevel,
                    appearance: Appearance | None = None, certify: bool = False,
                    certify_permission: str = "form_filling", field_name: str | None = None,
                    reason: str | None = None, location: str | None = None, contact_info: str | None = None,
                    timestamper: TimeStamper | None = None, validation_context: ValidationContext | None = None,
                    issue_fields: IssueFieldsRequest | None = None,
                    fill: FillIssueFields | None = None) -> SigningJob:
    """Everything of a signature but the signing itself: the same placement, issue fields,
    certification and metadata whether the key is here (:func:`sign_pdf`) or with the signer
    (:mod:`signing.split`)."""
    if certify_permission not in CERTIFY_PERMISSIONS:
        raise SigningError(f"certify_permission must be one of {sorted(CERTIFY_PERMISSIONS)}")
    reader = open_reader(data)
    existing = signature_fields(reader)
    if certify and any(filled for _, _, filled in existing):
        raise InvalidDocumentError("only the first signature can certify the document; it is already signed")
    if certification_permission(reader) is MDPPerm.NO_CHANGES:
        raise ModificationNotAllowedError("the document is certified with 'no changes allowed': it cannot be "
                                          "signed again")
    placement = appearance.place(reader, field_name=field_name) if appearance is not None else None
    layout = _issue_layout(reader, issue_fields, placement) if issue_fields is not None else None
    if layout is not None and not certify:
        raise SigningError("the issue fields are created by the certifying signature (certify=True)")
    target = (placement.existing_field if placement and placement.existing_field else None) \
        or field_name or _free_field_name({name for name, _, _ in existing})
    creating = placement is not None and placement.existing_field is None
    # pyHanko draws at fractional points too, though its annotation says int
    field_spec = (SigFieldSpec(target, on_page=placement.page,
                               box=tuple(round(v, 2) for v in placement.box))  # type: ignore[arg-type]
                  if creating and placement is not None else None)
    meta = PdfSignatureMetadata(
        field_name=target, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES, reason=reason, location=location,
        contact_info=contact_info, certify=certify, docmdp_permissions=CERTIFY_PERMISSIONS[certify_permission],
        embed_validation_info=level.long_term and validation_context is not None,
        use_pades_lta=level is PadesLevel.B_LTA and validation_context is not None,
        validation_context=validation_context, signer_key_usage=_usable_key_usage(certificate))
    style = DecreeStampStyle(elements=placement.elements) if placement is not None else None
    signer = PdfSigner(meta, signer=cms_signer, timestamper=timestamper, stamp_style=style, new_field_spec=field_spec)
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    if writer.prev.encrypted:
        raise InvalidDocumentError("the PDF is encrypted; decrypt it before signing")
    if layout is not None:
        add_issue_fields(writer, layout)
    if fill is not None:
        fill_issue_fields(writer, number_notation=fill.number_notation, issued=fill.issued, place=fill.place)
    return SigningJob(writer, signer, placement is not None and not creating, target)


@dataclass(frozen=True)
class IssueFieldsRequest:
    """Create the issue fields when certifying: where the number and date go is found on page 1
    (``Số:``, ``ngày … tháng … năm``) unless given by hand; the seal's field sits over the left
    third of this signature's image (``seal_diameter_mm``); ``copy_field`` adds the empty field
    an electronic copy's text signature fills."""

    number: ManualPosition | None = None
    date: ManualPosition | None = None
    seal_diameter_mm: float = 38.0
    copy_field: bool = True


@dataclass(frozen=True)
class FillIssueFields:
    """The registry's values, printed into the issue fields in the seal's revision."""

    number_notation: str
    issued: date
    place: str | None = None


def _issue_layout(reader: PdfReader, request: IssueFieldsRequest, placement: Placement | None) -> IssueLayout:
    found_number, found_date = find_slots(reader)
    number = request.number or found_number
    when = request.date or found_date
    require_positions(number, when)
    seal = None
    if placement is not None:
        images = [e.rect for e in placement.elements if isinstance(e, ImageElement)]
        bx, by = placement.box[0], placement.box[1]
        image = (bx + images[0][0], by + images[0][1], bx + images[0][2], by + images[0][3]) if images \
            else placement.box
        seal = (placement.page, seal_box(image, page_box(reader, placement.page), request.seal_diameter_mm))
    return IssueLayout(number=number, date=when, seal=seal,  # type: ignore[arg-type]
                       copy=copy_box(reader) if request.copy_field else None)


def local_pki_of(trust: object) -> LocalPki | None:
    """The in-process internal CA of a :class:`TrustStore` (None for anything else)."""
    return trust.local_pki if isinstance(trust, TrustStore) else None


def certification_permission(reader: PdfReader) -> MDPPerm | None:
    """The DocMDP permission of a certified document (None if not certified)."""
    try:
        perms = reader.trailer["/Root"]["/Perms"]["/DocMDP"]  # type: ignore[index]  # pypdf: PdfObject
        for ref in perms["/Reference"]:
            ref = ref.get_object()
            if ref.get("/TransformMethod") == "/DocMDP":
                return MDPPerm(int(ref.get("/TransformParams", {}).get("/P", 2)))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return None


def _free_field_name(taken: set[str]) -> str:
    n = len(taken) + 1
    while f"Signature{n}" in taken:
        n += 1
    return f"Signature{n}"


def _usable_key_usage(cert: x509.Certificate) -> set[str]:
    """The signing key usages the certificate has (pyHanko requires all those it is given)."""
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return set()
    usages = {name for name, flag in (("digital_signature", ku.digital_signature),
                                      ("non_repudiation", ku.content_commitment)) if flag}
    return usages or {"non_repudiation"}


def map_signing_exception(exc: BaseException, subject: str = "the signer") -> BaseException:
    """A typed :class:`SigningError` for what pyHanko, certvalidator or aiohttp raised."""
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 8:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    for e in chain:
        if isinstance(e, cv_errors.RevokedError):
            return CertificateRevokedError(f"the certificate of {subject} (or its CA) is revoked: {e}")
        if isinstance(e, (cv_errors.ExpiredError, cv_errors.NotYetValidError)):
            return CertificateExpiredError(f"the certificate of {subject} is outside its validity period: {e}")
        if isinstance(e, cv_errors.InvalidCertificateError):
            return KeyUsageError(f"the certificate of {subject} cannot be used to sign: {e}")
        if isinstance(e, (cv_errors.InsufficientRevinfoError, cv_errors.OCSPFetchError, cv_errors.CRLFetchError)):
            return ValidationDataError(f"revocation data for {subject} could not be obtained: {e}")
        if isinstance(e, cv_errors.PathBuildingError):
            return UntrustedCertificateError(f"the certificate of {subject} does not chain to a trusted root: {e}")
        if isinstance(e, cv_errors.PathValidationError):
            return CertificateError(f"the certificate of {subject} failed validation: {e}")
        if isinstance(e, TimestampRequestError) or type(e).__module__.startswith("aiohttp"):
            return TimestampError(f"the time-stamping authority did not answer: {e}")
    for e in chain:
        if isinstance(e, PyHankoSigningError):
            text = str(e)
            if "forbid" in text.lower() or "mdp" in text.lower():
                return ModificationNotAllowedError(f"the document's certification forbids this signature: {text}")
            return SigningError(f"signing failed: {text}")
        if isinstance(e, PdfError):
            return InvalidDocumentError(f"the PDF cannot be signed: {e}")
    return exc


