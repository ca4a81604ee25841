"""Split signing: the document is prepared here, the private key signs elsewhere.

A leader's key stays on their USB token (``docsvc-signer``) or with a remote-signing provider
(:mod:`signing.csc`); the server never holds it. The PAdES signature is made in two steps:

- :func:`prepare` does everything :func:`signing.pades.sign_pdf` does before the key is used —
  placement and appearance, the certification (DocMDP) and, in the same revision, the number,
  date, seal and copy fields (:mod:`signing.pagefields`) — reserves room for the CMS, digests the
  ``/ByteRange`` and builds the CMS signed attributes. Those DER-encoded attributes are the data
  to be signed (:attr:`PreparedSignature.data_to_be_signed`; their SHA-256 is what a
  hash-signing service such as CSC ``signatures/signHash`` receives).
- :func:`finish` checks the signature value against the certificate named at prepare, builds the
  CMS around it, writes it into the reserved place, then adds what the server adds today: the
  signature time-stamp (B-T), the validation data in the DSS (B-LT) and a document time-stamp
  (B-LTA).

:func:`check_signer_certificate` is the trust check both steps run: validity, key usage, a path
to a trusted root (the internal CA or the outside roots of the trust store), revocation.

The prepared state (:meth:`PreparedSignature.state` plus the prepared PDF) is kept by the caller
on its own side — never handed to the client to send back.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_cms import ExternalSigner
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.appearance import Appearance
from signing.errors import (
    CertificateError,
    InvalidDocumentError,
    SignatureMismatchError,
    SigningError,
    TimestampError,
    ValidationDataError,
)
from signing.keys import check_signing_certificate
from signing.pades import (
    FillIssueFields,
    IssueFieldsRequest,
    PadesLevel,
    _usable_key_usage,
    local_pki_of,
    map_signing_exception,
    prepare_signing,
    timestamper_for,
)
from signing.trust import TrustStore
from signing.x509util import common_name, to_asn1_cert, utcnow

DIGEST = "sha256"


@dataclass(frozen=True)
class PreparedSignature:
    """A document waiting for its signature value: the prepared PDF (placeholder reserved) and
    what is needed to put the CMS in it."""

    prepared_pdf: bytes
    document_digest: bytes
    reserved_start: int
    reserved_end: int
    signed_attributes: bytes  # DER of the CMS SignedAttributes (SET OF Attribute)
    field_name: str
    certificate_sha256: str

    @property
    def data_to_be_signed(self) -> bytes:
        """What the key signs (with SHA-256 and its mechanism: PKCS#1 v1.5 or ECDSA)."""
        return self.signed_attributes

    @property
    def hash_to_sign(self) -> bytes:
        """SHA-256 of :attr:`data_to_be_signed` (for services that sign a hash)."""
        return hashlib.sha256(self.signed_attributes).digest()

    @property
    def prepared_sha256(self) -> str:
        return hashlib.sha256(self.prepared_pdf).hexdigest()

    def state(self) -> dict[str, Any]:
        """JSON-able bookkeeping to keep server-side beside the prepared PDF."""
        return {"document_digest": self.document_digest.hex(), "reserved_start": self.reserved_start,
                "reserved_end": self.reserved_end, "signed_attributes": base64.b64encode(
                    self.signed_attributes).decode(), "field_name": self.field_name,
                "certificate_sha256": self.certificate_sha256, "prepared_sha256": self.prepared_sha256}

    @classmethod
    def from_state(cls, state: dict[str, Any], prepared_pdf: bytes) -> PreparedSignature:
        if hashlib.sha256(prepared_pdf).hexdigest() != state["prepared_sha256"]:
            raise InvalidDocumentError("the prepared document was altered while waiting for its signature")
        return cls(prepared_pdf, bytes.fromhex(state["document_digest"]), int(state["reserved_start"]),
                   int(state["reserved_end"]), base64.b64decode(state["signed_attributes"]), state["field_name"],
                   state["certificate_sha256"])


def certificate_sha256(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


# ====================================================================== trust
def check_signer_certificate(cert: x509.Certificate, chain: list[x509.Certificate], trust: TrustStore) -> None:
    """Refuse a certificate that cannot sign now: expired or not yet valid, no signing key usage,
    no path to a trusted root, revoked (hard-fail: revocation data must be obtainable)."""
    check_signing_certificate(cert, utcnow())
    vc = trust.validation_context()
    validator = CertificateValidator(to_asn1_cert(cert), intermediate_certs=[to_asn1_cert(c) for c in chain],
                                     validation_context=vc)

    async def run() -> None:
        try:
            await validator.async_validate_usage(_usable_key_usage(cert))
        finally:
            await vc.aclose()
    try:
        asyncio.run(run())
    except Exception as exc:
        mapped = map_signing_exception(exc, common_name(cert.subject))
        if mapped is exc:
            raise
        raise mapped from exc


def complete_chain(cert: x509.Certificate, given: list[x509.Certificate], trust: TrustStore) -> list[x509.Certificate]:
    """``given`` plus the trust store's intermediates and roots up from ``cert``'s issuer (what a
    signature embeds so that any validator trusting the root finds the path)."""
    known = [*given, *trust.intermediates, *trust.roots]
    chain = list(given)
    current = cert
    for _ in range(8):
        if current.issuer == current.subject:
            break
        issuer = next((c for c in known if c.subject == current.issuer), None)
        if issuer is None:
            break
        if issuer not in chain:
            chain.append(issuer)
        current = issuer
    return chain


# ====================================================================== prepare
def prepare(pdf: bytes, certificate: x509.Certificate, chain: list[x509.Certificate] | None = None, *,
            appearance: Appearance | None = None, certify: bool = False, certify_permission: str = "form_filling",
            field_name: str | None = None, reason: str | None = None, location: str | None = None,
            issue_fields: IssueFieldsRequest | None = None, fill: FillIssueFields | None = None,
            reserve: int | None = None) -> PreparedSignature:
    """The document with its signature in place but empty, and the signed attributes to sign.

    The certificate's trust is checked by the caller (:func:`check_signer_certificate`) before and
    at :func:`finish`; here it only goes into the signed attributes (signing-certificate-v2)."""
    chain = list(chain or [])
    placeholder = ExternalSigner(signing_cert=to_asn1_cert(certificate), cert_registry=_registry(chain),
                                 signature_value=512)
    try:
        job = prepare_signing(pdf, certificate, placeholder, level=PadesLevel.B_B, appearance=appearance,
                              certify=certify, certify_permission=certify_permission, field_name=field_name,
                              reason=reason, location=location, issue_fields=issue_fields, fill=fill)
        # room for the CMS (hex, so twice its DER): certificates, a 4096-bit signature, a time-stamp token
        reserved = reserve or 2 * (16384 + sum(len(_der(c)) for c in [certificate, *chain]))
        prepared, _tbs, output = asyncio.run(job.signer.async_digest_doc_for_signing(
            job.writer, existing_fields_only=job.existing_fields_only, bytes_reserved=reserved))
        attrs = asyncio.run(placeholder.signed_attrs(prepared.document_digest, DIGEST, use_pades=True))
    except SigningError:
        raise
    except Exception as exc:
        mapped = map_signing_exception(exc, common_name(certificate.subject))
        if mapped is exc:
            raise
        raise mapped from exc
    assert isinstance(output, io.BytesIO)  # no output stream given: pyHanko writes to a new BytesIO
    return PreparedSignature(output.getvalue(), prepared.document_digest, prepared.reserved_region_start,
                             prepared.reserved_region_end, attrs.dump(), job.field_name,
                             certificate_sha256(certificate))


# ====================================================================== finish
def verify_signature_value(certificate: x509.Certificate, data: bytes, signature: bytes) -> None:
    """The signature value must verify over ``data`` (SHA-256) with the certificate's key."""
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            raise CertificateError(f"unsupported key type {type(key).__name__} (RSA or ECDSA keys sign here)")
    except InvalidSignature:
        raise SignatureMismatchError("the signature does not verify with the certificate over the prepared data "
                                     "(wrong key, another document's signature, or one already used)") from None


def finish(prepared: PreparedSignature, signature: bytes, certificate: x509.Certificate,
           chain: list[x509.Certificate] | None = None, *, level: PadesLevel | str = PadesLevel.B_LT,
           timestamper: TimeStamper | str | None = None,
           validation_context: ValidationContext | TrustStore | None = None) -> bytes:
    """The signed PDF: ``signature`` (over :attr:`PreparedSignature.data_to_be_signed`) in the
    CMS, then the signature time-stamp, the DSS and the document time-stamp the level asks for."""
    level = PadesLevel.parse(level)
    chain = list(chain or [])
    if certificate_sha256(certificate) != prepared.certificate_sha256:
        raise SignatureMismatchError("the certificate is not the one the document was prepared for")
    verify_signature_value(certificate, prepared.signed_attributes, signature)
    if isinstance(timestamper, str):
        timestamper = timestamper_for(timestamper, local_pki=local_pki_of(validation_context))
    if level.timestamped and timestamper is None:
        raise TimestampError(f"level {level.value} needs a time-stamping authority (timestamper)")
    vc_source = validation_context
    if level.long_term and vc_source is None:
        raise ValidationDataError(f"level {level.value} needs a trust store to collect OCSP/CRL data")
    external = ExternalSigner(signing_cert=to_asn1_cert(certificate), cert_registry=_registry(chain),
                              signature_value=signature)
    try:
        attrs = cms.CMSAttributes.load(prepared.signed_attributes)
        signature_cms = asyncio.run(external.async_sign_prescribed_attributes(
            DIGEST, signed_attrs=attrs, timestamper=timestamper if level.timestamped else None))
        output = io.BytesIO(prepared.prepared_pdf)
        PdfTBSDocument.resume_signing(output, PreparedByteRangeDigest(
            prepared.document_digest, prepared.reserved_start, prepared.reserved_end), signature_cms)
        signed = output.getvalue()
        if level.long_term:
            vc = vc_source.validation_context() if isinstance(vc_source, TrustStore) else vc_source
            signed = _add_validation_data(signed, certificate, chain, vc,  # type: ignore[arg-type]
                                          timestamper if level.timestamped else None,
                                          timestamper if level is PadesLevel.B_LTA else None)
    except SigningError:
        raise
    except Exception as exc:
        mapped = map_signing_exception(exc, common_name(certificate.subject))
        if mapped is exc:
            raise
        raise mapped from exc
    return signed


def _add_validation_data(pdf: bytes, certificate: x509.Certificate, chain: list[x509.Certificate],
                         vc: ValidationContext, signature_timestamper: TimeStamper | None,
                         document_timestamper: TimeStamper | None) -> bytes:
    """The DSS for the new signature — the signer's path and the TSA's, with their OCSP/CRL — in
    its own revision for B-LT, with the document time-stamp for B-LTA: what pyHanko's post-signing
    step writes when it holds the key (its pre-signing validation data, gathered here after)."""
    validator = CertificateValidator(to_asn1_cert(certificate), intermediate_certs=[to_asn1_cert(c) for c in chain],
                                     validation_context=vc)

    async def collect() -> list[Any]:
        try:
            paths = [await validator.async_validate_usage(_usable_key_usage(certificate))]
            if signature_timestamper is not None:
                paths.extend([p async for p in signature_timestamper.validation_paths(vc)])
            return paths
        finally:
            await vc.aclose()
    paths = asyncio.run(collect())
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    contents = reader.embedded_regular_signatures[-1].pkcs7_content.hex().encode("ascii")
    if document_timestamper is None:
        out = io.BytesIO(pdf)
        DocumentSecurityStore.add_dss(out, contents, paths=paths, validation_context=vc, strict=False)
        return out.getvalue()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    DocumentSecurityStore.supply_dss_in_writer(writer, contents, paths=paths, validation_context=vc)
    with_dss = io.BytesIO()
    writer.write(with_dss)
    stamped = PdfTimeStamper(document_timestamper).timestamp_pdf(IncrementalPdfFileWriter(with_dss, strict=False),
                                                                 DIGEST, vc, in_place=True)
    return stamped.getvalue()


def _registry(chain: list[x509.Certificate]) -> SimpleCertificateStore:
    return SimpleCertificateStore.from_certs([to_asn1_cert(c) for c in chain])


def _der(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding
    return cert.public_bytes(Encoding.DER)
