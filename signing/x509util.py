"""Small conversions between ``cryptography`` and ``asn1crypto`` objects, and certificate reading.

pyHanko speaks asn1crypto; certificates are built and parsed with ``cryptography``. Everything
that converts between the two, or reads certificates from files, lives here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from asn1crypto import cms, core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

VIETNAM_TZ = timezone(timedelta(hours=7), "+07:00")


def to_asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def to_asn1_key(key: PrivateKeyTypes) -> asn1_keys.PrivateKeyInfo:
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return asn1_keys.PrivateKeyInfo.load(der)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in ``data``: one DER certificate, or one or more PEM blocks."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def load_certificate_files(paths: Iterable[Path | str]) -> list[x509.Certificate]:
    """Certificates from files (PEM bundles or DER); a file that holds none raises ``ValueError``."""
    out: list[x509.Certificate] = []
    for path in paths:
        try:
            certs = load_certificates(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable PEM or DER certificate file ({exc})") from exc
        out.extend(certs)
    return out


def signature_timestamp_tokens(signer_info: cms.SignerInfo) -> list[cms.ContentInfo]:
    """The signature time-stamp tokens in a CMS SignerInfo's unsigned attributes (without parsing
    the rest: ``.native`` on unsigned attributes decodes whole tokens and costs tenths of a second)."""
    unsigned = signer_info["unsigned_attrs"]
    if isinstance(unsigned, core.Void):
        return []
    return [token for attr in unsigned if attr["type"].native == "signature_time_stamp_token"
            for token in attr["values"]]


def common_name(name: x509.Name) -> str:
    attrs = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else name.rfc4514_string()


def in_vietnam_time(moment: datetime) -> datetime:
    """The same instant shown in +07:00 (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM_TZ)


def iso_vietnam(moment: datetime) -> str:
    """ISO 8601 in Vietnam time, to the second: ``2026-11-20T14:03:22+07:00``."""
    return in_vietnam_time(moment).replace(microsecond=0).isoformat()


def utcnow() -> datetime:
    return datetime.now(UTC)
