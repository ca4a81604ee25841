"""Long-term validity of archived signed documents (PAdES B-LTA).

A signature stays verifiable after its certificates expire only if, before they do, the document
receives the validation data (certificates, OCSP responses, CRLs) in its DSS and a document
time-stamp over them; that time-stamp must in turn be renewed before *its* certificate expires.

- :func:`ltv_deadline` — when the current evidence stops being verifiable;
- :func:`needs_refresh` — whether that happens within ``horizon``;
- :func:`add_ltv` — one more round: fresh validation data + a document time-stamp.

The application's periodic task calls ``needs_refresh`` on archived documents and ``add_ltv`` on
those that need it, and stores the result as a new version.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext

from signing.errors import InvalidDocumentError, SigningError
from signing.pades import local_pki_of, map_signing_exception, timestamper_for
from signing.trust import TrustStore
from signing.x509util import signature_timestamp_tokens, utcnow

DEFAULT_HORIZON = timedelta(days=90)


@dataclass(frozen=True)
class LtvDeadline:
    """``deadline``: expiry of the first certificate the current evidence depends on."""

    deadline: datetime
    certificate: str  # subject of that certificate
    protected_by_document_timestamp: bool


def ltv_deadline(pdf: bytes) -> LtvDeadline:
    """With document time-stamps, the last one's TSA chain; without, every signature's signer
    chain and signature time-stamp chain."""
    reader = _reader(pdf)
    timestamps = list(reader.embedded_timestamp_signatures)
    if timestamps:
        certs = _certs_of(timestamps[-1])
    else:
        signatures = list(reader.embedded_regular_signatures)
        if not signatures:
            raise InvalidDocumentError("the document has no signature")
        certs = [c for s in signatures for c in _certs_of(s)]
    first = min(certs, key=lambda c: c.not_valid_after)
    return LtvDeadline(first.not_valid_after, first.subject.human_friendly, bool(timestamps))


def needs_refresh(pdf: bytes, now: datetime | None = None, horizon: timedelta = DEFAULT_HORIZON) -> bool:
    """True when the evidence expires before ``now + horizon`` (or the document has no document
    time-stamp yet and its signatures' certificates expire in that window)."""
    return ltv_deadline(pdf).deadline <= (now or utcnow()) + horizon


def add_ltv(pdf: bytes, validation_context: ValidationContext | TrustStore,
            timestamper: TimeStamper | str) -> bytes:
    """Append validation data and a document time-stamp (two incremental updates).

    A document that already has document time-stamps gets the data of the last one (the chain of
    archival time-stamps, PAdES §5.5); otherwise the data of every signature and its
    time-stamps. Certificates must still be valid: run this before :func:`ltv_deadline`.
    A trust store with a local PKI answers the internal CA's URLs (and TSA URL) in-process.
    """
    reader = _reader(pdf)
    vc = validation_context.validation_context() if isinstance(validation_context, TrustStore) \
        else validation_context
    ts = timestamper_for(timestamper, local_pki=local_pki_of(validation_context)) \
        if isinstance(timestamper, str) else timestamper
    stamper = PdfTimeStamper(ts)
    try:
        if list(reader.embedded_timestamp_signatures):
            out = stamper.update_archival_timestamp_chain(reader, vc, in_place=False)
            return out.getvalue()
        signatures = list(reader.embedded_regular_signatures)
        if not signatures:
            raise InvalidDocumentError("the document has no signature to preserve")
        paths = asyncio.run(_collect(signatures, vc))
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        for sig, sig_paths in zip(signatures, paths, strict=True):
            DocumentSecurityStore.supply_dss_in_writer(
                writer, sig.pkcs7_content.hex().encode("ascii"), paths=sig_paths, validation_context=vc)
        with_dss = io.BytesIO()
        writer.write(with_dss)
        stamped = stamper.timestamp_pdf(IncrementalPdfFileWriter(with_dss, strict=False), "sha256", vc,
                                        in_place=True)
        return stamped.getvalue()
    except SigningError:
        raise
    except Exception as exc:  # noqa: BLE001 - mapped to typed errors, unknown ones re-raised
        mapped = map_signing_exception(exc, "a signature in the document")
        if mapped is exc:
            raise
        raise mapped from exc


async def _collect(signatures: list[EmbeddedPdfSignature], vc: ValidationContext) -> list[list[object]]:
    try:
        return [await collect_validation_info(sig, vc) for sig in signatures]
    finally:  # release the HTTP session in this event loop; the time-stamp step runs in another
        await vc.aclose()


def _reader(pdf: bytes) -> PdfFileReader:
    try:
        return PdfFileReader(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError) as exc:
        raise InvalidDocumentError(f"not a readable PDF: {exc}") from None


def _certs_of(sig: EmbeddedPdfSignature) -> list[asn1_x509.Certificate]:
    """The signer's certificate, the certificates embedded with it, and those of its time-stamps."""
    certs = [sig.signer_cert, *sig.other_embedded_certs]
    for token in signature_timestamp_tokens(sig.signer_info):
        certs.extend(c.chosen for c in token["content"]["certificates"] or [])
    return certs
