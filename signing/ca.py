"""Internal certification authority for deployments without an external CA.

``InternalCA.init(directory, passphrase, organisation=..., base_url=...)`` creates, in ``directory``:

- ``root.crt`` / ``root.key``: the organisation's self-signed root (20 years);
- ``issuing.crt`` / ``issuing.key``: the issuing CA signed by the root (10 years), which issues
  user and organisation certificates and signs their CRL and OCSP responses;
- ``tsa.crt`` / ``tsa.key``: the time-stamping authority's certificate (EKU timeStamping);
- ``index.sqlite``: every certificate issued, with its revocation state, and the CRL cache;
- ``ca.json``: names and URLs (written last: its presence means the CA is complete).

Private keys are PKCS#8 PEM encrypted with the passphrase. The index is SQLite (WAL, busy
timeout), so several processes (web workers, Celery, the CLI) can issue and revoke at once;
``init`` itself holds an exclusive file lock on ``directory/.lock``.

Certificates carry the URLs the service answers (see :class:`PkiUrls`): OCSP in the AIA, the CRL
in the CRL distribution point, the issuer certificate in caIssuers.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.errors import CaPassphraseError, CertificateAuthorityError, UnknownCertificateError
from signing.tsa import TimestampAuthority
from signing.x509util import utcnow

_CONFIG = "ca.json"
_INDEX = "index.sqlite"
CRL_VALIDITY = timedelta(days=7)
CRL_REFRESH = timedelta(hours=1)
OCSP_VALIDITY = timedelta(days=1)
_BACKDATE = timedelta(minutes=5)  # tolerate clock skew between the CA and relying parties


@dataclass(frozen=True)
class PkiUrls:
    """The URLs the service answers for the internal PKI, under one base such as
    ``http://127.0.0.1:8000/pki``. :func:`signing.pki_http.pki_wsgi_app` serves exactly these."""

    base: str

    def __post_init__(self) -> None:
        if not self.base.startswith(("http://", "https://")):
            raise CertificateAuthorityError(f"PKI base URL must be http(s)://...: {self.base!r}")
        object.__setattr__(self, "base", self.base.rstrip("/"))

    @property
    def ocsp(self) -> str:
        return f"{self.base}/ocsp"

    @property
    def tsa(self) -> str:
        return f"{self.base}/tsa"

    def crl(self, scope: str) -> str:
        return f"{self.base}/crl/{scope}.crl"

    def certificate(self, scope: str) -> str:
        return f"{self.base}/certs/{scope}.crt"


class CertificateKind(str, Enum):
    USER = "user"
    ORGANISATION = "organisation"
    TSA = "tsa"
    CA = "ca"


#: Key usage of a signing certificate: digitalSignature + nonRepudiation (contentCommitment).
SIGNING_KEY_USAGE = frozenset({"digital_signature", "content_commitment"})
_KEY_USAGE_FLAGS = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                    "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")


@dataclass(frozen=True)
class IssuedCertificate:
    """One row of the CA's index."""

    serial: int
    kind: CertificateKind
    subject: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None
    revocation_reason: str | None
    certificate: x509.Certificate

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def serial_hex(self) -> str:
        return format(self.serial, "x")


@dataclass(frozen=True)
class CertificateRequest:
    """What ``InternalCA.issue_many`` certifies: a public key and the subject's names (see ``issue``)."""

    kind: CertificateKind | str
    common_name: str
    public_key: object
    organisation: str | None = None
    unit: str | None = None
    title: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class _Authority:
    certificate: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes
    scope: str  # "root" | "issuing"

    @property
    def asn1(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.certificate.public_bytes(serialization.Encoding.DER))


class InternalCA:
    """An opened internal CA (keys decrypted in memory). Thread-safe; several processes may share
    a directory."""

    def __init__(self, directory: Path, root: _Authority, issuing: _Authority, tsa_cert: x509.Certificate,
                 tsa_key: PrivateKeyTypes, urls: PkiUrls, organisation: str) -> None:
        self.directory = directory
        self._root = root
        self._issuing = issuing
        self._tsa_cert = tsa_cert
        self._tsa_key = tsa_key
        self.urls = urls
        self.organisation = organisation
        #: Time source of CRLs and OCSP responses (replaceable, e.g. to test validation in the future).
        self.clock: Callable[[], datetime] = utcnow
        # asn1crypto views used to match OCSP requests, computed once
        self._by_key_hash = {
            (algo, getattr(a.asn1.public_key, algo)): a for a in (root, issuing) for algo in ("sha1", "sha256")
        }

    # ================================================================== creation / opening
    @staticmethod
    def exists(directory: Path | str) -> bool:
        return (Path(directory) / _CONFIG).is_file()

    @classmethod
    def init(cls, directory: Path | str, passphrase: str, *, organisation: str, base_url: str,
             country: str = "VN", key_size: int = 3072, now: datetime | None = None) -> InternalCA:
        """Create the root, issuing CA and TSA into ``directory`` (which must not hold a CA)."""
        directory = Path(directory)
        _require_passphrase(passphrase)
        if not organisation.strip():
            raise CertificateAuthorityError("the organisation name is required")
        urls = PkiUrls(base_url)
        directory.mkdir(parents=True, exist_ok=True)
        with _exclusive_lock(directory):
            if cls.exists(directory):
                raise CertificateAuthorityError(f"a CA already exists in {directory}")
            _remove_ca_files(directory)  # leftovers of an init that crashed half-way
            try:
                return cls._create(directory, passphrase, organisation, urls, country, key_size, now or utcnow())
            except BaseException:
                _remove_ca_files(directory)
                raise

    @classmethod
    def _create(cls, directory: Path, passphrase: str, organisation: str, urls: PkiUrls, country: str,
                key_size: int, now: datetime) -> InternalCA:
        org = _name(organisation, country=country, cn=f"{organisation} Root CA")
        root_key = rsa.generate_private_key(65537, key_size)
        root_cert = _ca_certificate(org, org, root_key.public_key(), root_key, now, 20 * 365, urls, None)
        root = _Authority(root_cert, root_key, "root")
        issuing_key = rsa.generate_private_key(65537, key_size)
        issuing_name = _name(organisation, country=country, cn=f"{organisation} Issuing CA")
        issuing_cert = _ca_certificate(issuing_name, org, issuing_key.public_key(), root_key, now, 10 * 365,
                                       urls, root_cert)
        issuing = _Authority(issuing_cert, issuing_key, "issuing")
        _init_index(directory / _INDEX)
        ca = cls(directory, root, issuing, issuing_cert, issuing_key, urls, organisation)
        ca._record(issuing_cert, CertificateKind.CA, "root")
        tsa_key = rsa.generate_private_key(65537, 2048)
        tsa_cert = ca._issue_raw(CertificateKind.TSA, _name(organisation, country=country, cn=f"{organisation} TSA"),
                                 tsa_key.public_key(), now=now, validity=timedelta(days=5 * 365))
        ca._tsa_cert, ca._tsa_key = tsa_cert, tsa_key
        for stem, cert, key in (("root", root_cert, root_key), ("issuing", issuing_cert, issuing_key),
                                ("tsa", tsa_cert, tsa_key)):
            _write_atomic(directory / f"{stem}.crt", cert.public_bytes(serialization.Encoding.PEM))
            _write_atomic(directory / f"{stem}.key", key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(passphrase.encode())), mode=0o600)
        config = {"organisation": organisation, "base_url": urls.base, "country": country, "version": 1}
        _write_atomic(directory / _CONFIG, json.dumps(config, ensure_ascii=False, indent=2).encode())
        return ca

    @classmethod
    def open(cls, directory: Path | str, passphrase: str) -> InternalCA:
        directory = Path(directory)
        if not cls.exists(directory):
            raise CertificateAuthorityError(f"no CA in {directory} (run `docsvc ca init`)")
        _require_passphrase(passphrase)
        try:
            config = json.loads((directory / _CONFIG).read_text())
            certs = {s: x509.load_pem_x509_certificate((directory / f"{s}.crt").read_bytes())
                     for s in ("root", "issuing", "tsa")}
            raw_keys = {s: (directory / f"{s}.key").read_bytes() for s in ("root", "issuing", "tsa")}
        except (OSError, ValueError, KeyError) as exc:
            raise CertificateAuthorityError(f"the CA in {directory} is damaged: {exc}") from exc
        loaded = {s: _load_key(raw, passphrase) for s, raw in raw_keys.items()}
        root = _Authority(certs["root"], _issuer_key(loaded["root"]), "root")
        issuing = _Authority(certs["issuing"], _issuer_key(loaded["issuing"]), "issuing")
        return cls(directory, root, issuing, certs["tsa"], loaded["tsa"], PkiUrls(config["base_url"]),
                   config["organisation"])

    # ================================================================== certificates
    @property
    def root_certificate(self) -> x509.Certificate:
        return self._root.certificate

    @property
    def issuing_certificate(self) -> x509.Certificate:
        return self._issuing.certificate

    @property
    def tsa_certificate(self) -> x509.Certificate:
        return self._tsa_cert

    def chain(self) -> list[x509.Certificate]:
        """The issuing CA then the root: what a PKCS#12 or a signature embeds above the leaf."""
        return [self._issuing.certificate, self._root.certificate]

    def certificate_der(self, scope: str) -> bytes:
        """DER of the ``root`` or ``issuing`` certificate (served at ``urls.certificate(scope)``)."""
        return self._authority(scope).certificate.public_bytes(serialization.Encoding.DER)

    def timestamp_authority(self) -> TimestampAuthority:
        return TimestampAuthority(self._tsa_cert, self._tsa_key, chain=self.chain())

    def issue(self, kind: CertificateKind | str, common_name: str, public_key: object, *,
              organisation: str | None = None, unit: str | None = None, title: str | None = None,
              email: str | None = None, validity_days: int = 730, not_before: datetime | None = None,
              key_usage: frozenset[str] = SIGNING_KEY_USAGE) -> IssuedCertificate:
        """Issue a signing certificate for ``public_key`` (a ``cryptography`` public key).

        ``kind`` is ``user`` (a person; CN = full name, OU = unit, title) or ``organisation``
        (the agency's seal key; CN = organisation name). ``key_usage`` is for special cases and
        tests; signing needs the default.
        """
        return self.issue_many([CertificateRequest(kind, common_name, public_key, organisation=organisation,
                                                   unit=unit, title=title, email=email)],
                               validity_days=validity_days, not_before=not_before, key_usage=key_usage)[0]

    def issue_many(self, requests: Sequence[CertificateRequest], *, validity_days: int = 730,
                   not_before: datetime | None = None,
                   key_usage: frozenset[str] = SIGNING_KEY_USAGE) -> list[IssuedCertificate]:
        """Issue one certificate per request, recorded in the CA's index in one transaction (all or none):
        the bulk path (a merged agency's people), where one commit per certificate cost more than signing it.
        Every request is checked before anything is signed."""
        if validity_days <= 0:
            raise CertificateAuthorityError("validity_days must be positive")
        unknown = set(key_usage) - set(_KEY_USAGE_FLAGS)
        if unknown:
            raise CertificateAuthorityError(f"unknown key usage: {sorted(unknown)}")
        subjects = [(CertificateKind(r.kind), self._subject(r)) for r in requests]
        start = not_before or utcnow()
        validity = timedelta(days=validity_days)
        certs = [(kind, self._build(kind, subject, r.public_key, now=start, validity=validity, key_usage=key_usage))
                 for (kind, subject), r in zip(subjects, requests, strict=True)]
        self._record_all(certs, "issuing")
        return [IssuedCertificate(serial=cert.serial_number, kind=kind, subject=cert.subject.rfc4514_string(),
                                  not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
                                  revoked_at=None, revocation_reason=None, certificate=cert) for kind, cert in certs]

    def _subject(self, r: CertificateRequest) -> x509.Name:
        kind = CertificateKind(r.kind)
        if kind not in (CertificateKind.USER, CertificateKind.ORGANISATION):
            raise CertificateAuthorityError("only user and organisation certificates are issued on request")
        if not r.common_name.strip():
            raise CertificateAuthorityError("the certificate's common name is required")
        attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                 x509.NameAttribute(NameOID.ORGANIZATION_NAME, r.organisation or self.organisation)]
        if r.unit:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, r.unit))
        if r.title:
            attrs.append(x509.NameAttribute(NameOID.TITLE, r.title))
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, r.common_name))
        if r.email:
            attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, r.email))
        return x509.Name(attrs)

    def issue_pkcs12(self, kind: CertificateKind | str, common_name: str, pin: str, *, key_size: int = 2048,
                     **options: object) -> tuple[bytes, IssuedCertificate]:
        """A new RSA key and its certificate, packed as PKCS#12 protected by ``pin``."""
        if not pin:
            raise CertificateAuthorityError("a PIN is required to protect the PKCS#12 file")
        key = rsa.generate_private_key(65537, key_size)
        issued = self.issue(kind, common_name, key.public_key(), **options)  # type: ignore[arg-type]
        return self.pack_pkcs12(key, issued.certificate, pin), issued

    def pack_pkcs12(self, key: PrivateKeyTypes, certificate: x509.Certificate, pin: str) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            name=certificate.subject.rfc4514_string().encode(), key=key,  # type: ignore[arg-type]
            cert=certificate, cas=self.chain(),
            encryption_algorithm=serialization.BestAvailableEncryption(pin.encode()))

    def renew(self, serial: int, *, validity_days: int = 730) -> IssuedCertificate:
        """A new certificate (new serial) for the same subject, key and usage as ``serial``.

        The old certificate stays valid until it expires; revoke it with reason ``superseded``
        if it must stop working at once.
        """
        old = self.get(serial)
        if old.kind not in (CertificateKind.USER, CertificateKind.ORGANISATION):
            raise CertificateAuthorityError("only user and organisation certificates are renewed")
        usage = _key_usage_names(old.certificate)
        cert = self._issue_raw(old.kind, old.certificate.subject, old.certificate.public_key(), now=utcnow(),
                               validity=timedelta(days=validity_days), key_usage=usage)
        return self.get(cert.serial_number)

    def renew_pkcs12(self, p12: bytes, pin: str, *, validity_days: int = 730) -> tuple[bytes, IssuedCertificate]:
        """Renew the certificate inside a PKCS#12 file; the key is kept, the file re-packed."""
        from signing.keys import read_pkcs12  # keys imports ca's neighbours, not ca: no cycle
        key, cert, _ = read_pkcs12(p12, pin, source="PKCS#12 to renew")
        renewed = self.renew(cert.serial_number, validity_days=validity_days)
        return self.pack_pkcs12(key, renewed.certificate, pin), renewed

    def revoke(self, serial: int, *, reason: str = "unspecified", at: datetime | None = None) -> IssuedCertificate:
        """Mark ``serial`` revoked (idempotent: a second call keeps the first date and reason).

        ``reason`` is an RFC 5280 reason, by value (``keyCompromise``) or name (``key_compromise``).
        """
        reason = _reason(reason).value
        self.get(serial)
        when = (at or utcnow()).astimezone(UTC)
        with self._db() as db:
            db.execute("UPDATE certificates SET revoked_at = ?, reason = ? WHERE serial = ? AND revoked_at IS NULL",
                       (when.isoformat(), reason, _hex(serial)))
            db.execute("DELETE FROM crl_cache")
        return self.get(serial)

    def get(self, serial: int) -> IssuedCertificate:
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM certificates WHERE serial = ?", (_hex(serial),)).fetchone()
        if row is None:
            raise UnknownCertificateError(f"no certificate with serial {serial:x} was issued by this CA")
        return _row_to_issued(row)

    def issued(self, *, kind: CertificateKind | str | None = None,
               revoked: bool | None = None) -> list[IssuedCertificate]:
        sql, args = "SELECT * FROM certificates WHERE 1=1", []
        if kind is not None:
            sql += " AND kind = ?"
            args.append(CertificateKind(kind).value)
        if revoked is not None:
            sql += " AND revoked_at IS NOT NULL" if revoked else " AND revoked_at IS NULL"
        with closing(self._connect()) as db:
            return [_row_to_issued(r) for r in db.execute(sql + " ORDER BY not_before", args)]

    # ================================================================== CRL and OCSP
    def crl_der(self, scope: str = "issuing", *, now: datetime | None = None) -> bytes:
        """The current CRL of the ``issuing`` CA (user, organisation, TSA certificates) or of the
        ``root`` (the issuing CA). Regenerated after a revocation and every hour; cached in the
        index so every process serves the same CRL number."""
        authority = self._authority(scope)
        now = now or self.clock()
        with self._db() as db:
            row = db.execute("SELECT der, this_update FROM crl_cache WHERE scope = ?", (scope,)).fetchone()
            if row and now - CRL_REFRESH < datetime.fromisoformat(row["this_update"]) <= now:
                return bytes(row["der"])
            number = int(db.execute("SELECT value FROM meta WHERE key = 'crl_number'").fetchone()["value"]) + 1
            db.execute("UPDATE meta SET value = ? WHERE key = 'crl_number'", (str(number),))
            builder = (x509.CertificateRevocationListBuilder()
                       .issuer_name(authority.certificate.subject)
                       .last_update(now - _BACKDATE).next_update(now + CRL_VALIDITY)
                       .add_extension(x509.CRLNumber(number), critical=False)
                       .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                           authority.key.public_key()), critical=False))  # type: ignore[arg-type]
            for r in db.execute("SELECT serial, revoked_at, reason FROM certificates "
                                "WHERE issuer = ? AND revoked_at IS NOT NULL", (scope,)):
                entry = (x509.RevokedCertificateBuilder().serial_number(int(r["serial"], 16))
                         .revocation_date(datetime.fromisoformat(r["revoked_at"])))
                if r["reason"] and r["reason"] != "unspecified":
                    entry = entry.add_extension(x509.CRLReason(x509.ReasonFlags(r["reason"])), critical=False)
                builder = builder.add_revoked_certificate(entry.build())
            der = builder.sign(authority.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
            db.execute("INSERT OR REPLACE INTO crl_cache (scope, der, this_update) VALUES (?, ?, ?)",
                       (scope, der, now.isoformat()))
            return der

    def ocsp_response(self, request_der: bytes, *, now: datetime | None = None) -> bytes:
        """The DER OCSP response to ``request_der`` (RFC 6960), signed by the CA that issued the
        certificate asked about. Malformed or foreign requests get an unsuccessful response."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
            algo = request.hash_algorithm.name
        except (ValueError, TypeError):
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        authority = self._by_key_hash.get((algo, request.issuer_key_hash))
        if authority is None or getattr(authority.asn1.subject, algo) != request.issuer_name_hash:
            return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        now = now or self.clock()
        with closing(self._connect()) as db:
            row = db.execute("SELECT revoked_at, reason FROM certificates WHERE serial = ? AND issuer = ?",
                             (_hex(request.serial_number), authority.scope)).fetchone()
        revoked_at = reason = None
        if row is None:
            status = ocsp.OCSPCertStatus.UNKNOWN
        elif row["revoked_at"]:
            status = ocsp.OCSPCertStatus.REVOKED
            revoked_at = datetime.fromisoformat(row["revoked_at"])
            reason = x509.ReasonFlags(row["reason"]) if row["reason"] not in (None, "unspecified") else None
        else:
            status = ocsp.OCSPCertStatus.GOOD
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash, issuer_key_hash=request.issuer_key_hash,
            serial_number=request.serial_number, algorithm=request.hash_algorithm, cert_status=status,
            this_update=now - _BACKDATE, next_update=now + OCSP_VALIDITY,
            revocation_time=revoked_at, revocation_reason=reason,
        ).responder_id(ocsp.OCSPResponderEncoding.HASH, authority.certificate)
        for ext in request.extensions:
            if isinstance(ext.value, x509.OCSPNonce):
                builder = builder.add_extension(ext.value, critical=False)
        return builder.sign(authority.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    # ================================================================== internals
    def _authority(self, scope: str) -> _Authority:
        if scope == "root":
            return self._root
        if scope == "issuing":
            return self._issuing
        raise CertificateAuthorityError(f"unknown CA scope {scope!r} (root or issuing)")

    def _issue_raw(self, kind: CertificateKind, subject: x509.Name, public_key: object, *, now: datetime,
                   validity: timedelta, key_usage: frozenset[str] = SIGNING_KEY_USAGE) -> x509.Certificate:
        cert = self._build(kind, subject, public_key, now=now, validity=validity, key_usage=key_usage)
        self._record(cert, kind, "issuing")
        return cert

    def _build(self, kind: CertificateKind, subject: x509.Name, public_key: object, *, now: datetime,
               validity: timedelta, key_usage: frozenset[str] = SIGNING_KEY_USAGE) -> x509.Certificate:
        """A certificate signed by the issuing CA, not recorded yet."""
        issuer = self._issuing
        flags = {name: name in key_usage for name in _KEY_USAGE_FLAGS}
        builder = (x509.CertificateBuilder()
                   .subject_name(subject).issuer_name(issuer.certificate.subject)
                   .public_key(public_key)  # type: ignore[arg-type]
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - _BACKDATE).not_valid_after(now + validity)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(**flags), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       issuer.key.public_key()), critical=False)  # type: ignore[arg-type]
                   .add_extension(_aia(self.urls, "issuing"), critical=False)
                   .add_extension(_crl_dp(self.urls, "issuing"), critical=False))
        if kind is CertificateKind.TSA:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        return builder.sign(issuer.key, hashes.SHA256())

    def _record(self, cert: x509.Certificate, kind: CertificateKind, issuer_scope: str) -> None:
        self._record_all([(kind, cert)], issuer_scope)

    def _record_all(self, certs: Sequence[tuple[CertificateKind, x509.Certificate]], issuer_scope: str) -> None:
        with self._db() as db:
            db.executemany("INSERT INTO certificates (serial, issuer, kind, subject, not_before, not_after, der) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(_hex(cert.serial_number), issuer_scope, kind.value, cert.subject.rfc4514_string(),
                             cert.not_valid_before_utc.isoformat(), cert.not_valid_after_utc.isoformat(),
                             cert.public_bytes(serialization.Encoding.DER)) for kind, cert in certs])

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.directory / _INDEX, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout = 30000")
        return db

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken at once (BEGIN IMMEDIATE): serialised across processes."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")


# ====================================================================== helpers
def _hex(serial: int) -> str:
    return format(serial, "040x")


def _row_to_issued(row: sqlite3.Row) -> IssuedCertificate:
    return IssuedCertificate(
        serial=int(row["serial"], 16), kind=CertificateKind(row["kind"]), subject=row["subject"],
        not_before=datetime.fromisoformat(row["not_before"]), not_after=datetime.fromisoformat(row["not_after"]),
        revoked_at=datetime.fromisoformat(row["revoked_at"]) if row["revoked_at"] else None,
        revocation_reason=row["reason"], certificate=x509.load_der_x509_certificate(bytes(row["der"])))


def _init_index(path: Path) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript("""
            CREATE TABLE IF NOT EXISTS certificates (
                serial TEXT PRIMARY KEY, issuer TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL,
                not_before TEXT NOT NULL, not_after TEXT NOT NULL, revoked_at TEXT, reason TEXT, der BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS crl_cache (scope TEXT PRIMARY KEY, der BLOB NOT NULL, this_update TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT OR IGNORE INTO meta (key, value) VALUES ('crl_number', '0');
        """)
        db.commit()


def _name(organisation: str, *, country: str, cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, country),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _aia(urls: PkiUrls, issuer_scope: str) -> x509.AuthorityInformationAccess:
    return x509.AuthorityInformationAccess([
        x509.AccessDescription(x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(urls.ocsp)),
        x509.AccessDescription(x509.AuthorityInformationAccessOID.CA_ISSUERS,
                               x509.UniformResourceIdentifier(urls.certificate(issuer_scope))),
    ])


def _crl_dp(urls: PkiUrls, issuer_scope: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints([x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(urls.crl(issuer_scope))], relative_name=None, reasons=None,
        crl_issuer=None)])


def _ca_certificate(subject: x509.Name, issuer: x509.Name, public_key: rsa.RSAPublicKey,
                    signing_key: rsa.RSAPrivateKey, now: datetime, days: int, urls: PkiUrls,
                    parent: x509.Certificate | None) -> x509.Certificate:
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - _BACKDATE).not_valid_after(now + timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None if parent is None else 0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
    if parent is not None:
        builder = (builder
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
                                  critical=False)
                   .add_extension(_aia(urls, "root"), critical=False)
                   .add_extension(_crl_dp(urls, "root"), critical=False))
    return builder.sign(signing_key, hashes.SHA256())


def _key_usage_names(cert: x509.Certificate) -> frozenset[str]:
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    names = set()
    for name in _KEY_USAGE_FLAGS:
        try:
            if getattr(ku, name):
                names.add(name)
        except ValueError:  # encipher_only/decipher_only are undefined without key_agreement
            pass
    return frozenset(names)


def _reason(reason: str) -> x509.ReasonFlags:
    try:
        return x509.ReasonFlags(reason)
    except ValueError:
        pass
    try:
        return x509.ReasonFlags[reason]
    except KeyError:
        raise CertificateAuthorityError(f"unknown revocation reason {reason!r}; one of "
                                        f"{[r.name for r in x509.ReasonFlags]}") from None


def _require_passphrase(passphrase: str) -> None:
    if not passphrase:
        raise CertificateAuthorityError("a passphrase is required to protect the CA's private keys")


def _load_key(pem: bytes, passphrase: str) -> PrivateKeyTypes:
    try:
        return serialization.load_pem_private_key(pem, passphrase.encode())
    except (ValueError, TypeError) as exc:
        if b"ENCRYPTED" in pem:
            raise CaPassphraseError("wrong passphrase for the CA's private keys") from exc
        raise CertificateAuthorityError(f"a CA private key is damaged: {exc}") from exc


def _issuer_key(key: PrivateKeyTypes) -> CertificateIssuerPrivateKeyTypes:
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise CertificateAuthorityError("CA keys must be RSA or EC")
    return key


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)


def _remove_ca_files(directory: Path) -> None:
    for name in (_CONFIG, _INDEX, f"{_INDEX}-wal", f"{_INDEX}-shm", *(f"{s}.{e}" for s in ("root", "issuing", "tsa")
                                                                     for e in ("crt", "key"))):
        (directory / name).unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _exclusive_lock(directory: Path) -> Iterator[None]:
    with open(directory / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
