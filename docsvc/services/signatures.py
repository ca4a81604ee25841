"""The application's use of the ``signing`` library: the internal CA, users' and agencies' keys,
signing with the Decree 30 appearances, and validation of any signed PDF.

Keys: a user's key is a PKCS#12 file under ``<data_dir>/keys/users`` protected by the user's own
PIN (never stored); an agency's key is either a PKCS#12 file whose PIN the service keeps in its
secrets (the registry applies it, never a person's PIN), or a key on a PKCS#11 token/HSM when
``DOCSVC_PKCS11_MODULE`` is set. Loaded keys stay open in a :class:`signing.keys.KeyRing`, because
reloading a key per signature costs a measured 3x.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc import secrets_store
from docsvc.db.models import Organisation, SigningKey, User
from docsvc.errors import BackendUnavailable, Conflict, DomainError, InvalidInput, PermissionDenied
from docsvc.settings import Settings

log = logging.getLogger("docsvc.signatures")
T = TypeVar("T")

MIN_PIN_LENGTH = 6
#: Common name of the certificate that signs audit checkpoints (verification requires it).
AUDIT_CHECKPOINT_SIGNER = "docsvc audit checkpoints"


class SigningFailed(DomainError):
    """A signing-library error shown to the user (wrong PIN, revoked certificate...)."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message, {"reason": code})
        self.code, self.status = code, status


# signing error code → HTTP status (see signing/README.md "Errors")
_STATUS = {"wrong_pin": 403, "token_unavailable": 503, "key_unavailable": 409, "certificate_expired": 422,
           "certificate_revoked": 422, "certificate_key_usage": 422, "certificate_untrusted": 422,
           "invalid_document": 400, "appearance": 400, "modification_not_allowed": 409,
           "timestamp_unavailable": 503, "validation_data": 503, "issue_fields_missing": 422,
           "signature_mismatch": 422, "certificate_invalid": 422, "remote_signing": 502}


def as_domain_error(exc: Exception) -> DomainError:
    code = getattr(exc, "code", "signing_error")
    return SigningFailed(str(exc), code, _STATUS.get(code, 422))


@dataclass(frozen=True)
class Signer:
    """A loaded key with what its appearance shows."""

    key: Any  # signing.keys.KeySource
    name: str
    image: bytes


class SignatureService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ca_dir = Path(settings.data_dir) / "ca"
        self.keys_dir = Path(settings.data_dir) / "keys"
        self._lock = threading.Lock()
        self._ca: Any = None
        self._trust: Any = None
        from signing.keys import KeyRing
        self.keyring = KeyRing()

    # ------------------------------------------------------------ CA and trust
    def ca_exists(self) -> bool:
        from signing.ca import InternalCA
        return InternalCA.exists(self.ca_dir)

    def init_ca(self, organisation: str) -> Any:
        """`docsvc ca init`: root, issuing CA and TSA, with URLs under <public_url>/pki."""
        from signing.ca import InternalCA
        from signing.errors import SigningError
        try:
            ca = InternalCA.init(self.ca_dir, self.passphrase, organisation=organisation,
                                 base_url=f"{self.settings.public_url.rstrip('/')}/pki")
        except SigningError as exc:
            raise Conflict(str(exc)) from None
        with self._lock:
            self._ca, self._trust = ca, None
        return ca

    @property
    def passphrase(self) -> str:
        return secrets_store.ca_passphrase(self.settings)

    @property
    def ca(self) -> Any:
        with self._lock:
            if self._ca is None:
                from signing.ca import InternalCA
                if not InternalCA.exists(self.ca_dir):
                    raise BackendUnavailable("the internal certificate authority is not set up: run `docsvc ca init`")
                self._ca = InternalCA.open(self.ca_dir, self.passphrase)
            return self._ca

    @property
    def trust(self) -> Any:
        from signing.trust import TrustStore
        with self._lock:
            if self._trust is None:
                internal = self._ca
            else:
                return self._trust
        internal = internal or (self.ca if self.ca_exists() else None)
        roots = list(self.settings.trust_roots)
        if internal is None and not roots:
            raise BackendUnavailable("no trusted roots: run `docsvc ca init` or set DOCSVC_TRUST_ROOTS")
        trust = TrustStore.build(internal_ca=internal, root_files=roots, local_pki=self._local_pki(internal),
                                 intermediate_files=list(self.settings.trust_intermediates),
                                 fetch_policy=self._fetch_policy())
        with self._lock:
            self._trust = trust
        return trust

    def _fetch_policy(self) -> Any:
        """Where validation may fetch OCSP/CRL from (URLs the internal CA does not answer in-process):
        public addresses and DOCSVC_FETCH_ALLOW, with short time-outs (SSRF, issue 14)."""
        from signing.netguard import FetchPolicy
        st = self.settings
        return FetchPolicy(allow=tuple(st.fetch_allow.split(",")), timeout=float(st.fetch_timeout_seconds),
                           total_timeout=2.0 * st.fetch_timeout_seconds, max_bytes=st.fetch_max_kb * 1024)
    def trust_for_checking(self, extra_roots: Sequence[Path] = ()) -> Any:
        """Trust for checking a PDF from the command line, without side effects: ``extra_roots``
        (``--trust``), DOCSVC_TRUST_ROOTS and the internal CA of the data folder if there is one (its
        OCSP/CRL answered in-process when its passphrase is at hand, else its root certificate file
        alone). Possibly no root at all: the report then gives every fact but trust (INDETERMINATE)."""
        from signing.ca import InternalCA
        from signing.trust import TrustStore
        roots: list[Path] = [*extra_roots, *self.settings.trust_roots]
        internal = None
        if InternalCA.exists(self.ca_dir):
            passphrase_known = bool(self.settings.ca_passphrase) or (self.keys_dir / "ca_passphrase").is_file()
            if passphrase_known:
                try:
                    internal = self.ca
                except Exception as exc:  # noqa: BLE001 - e.g. a wrong passphrase: its public root still serves
                    log.info("internal CA not opened for checking (%s): trusting its root certificate file",
                             type(exc).__name__)
            if internal is None:
                roots.append(self.ca_dir / "root.crt")
        intermediates = [self.ca_dir / "issuing.crt"] if internal is None and (self.ca_dir / "issuing.crt").is_file() \
            else []
        try:
            return TrustStore.build(internal_ca=internal, root_files=roots, intermediate_files=intermediates,
                                    local_pki=self._local_pki(internal), fetch_policy=self._fetch_policy())
        except ValueError as exc:  # an unreadable certificate file
            raise InvalidInput(str(exc), {"field": "trust"}) from None

    def _local_pki(self, internal: Any) -> Any:
        """The internal CA answered in this process: signing, LTV refresh and validation must not
        wait for a free thread of this service to answer its own /pki URLs (issue #9). Its
        <public_url>/pki is this service too, even when the CA was created under another base."""
        if internal is None:
            return None
        from signing.local_pki import LocalPki
        return LocalPki(internal, also_serves=[f"{self.settings.public_url.rstrip('/')}/pki"])

    # ------------------------------------------------------------ enrolment
    def enrol_user(self, s: Session, user: User, pin: str) -> SigningKey:
        """Issue the user a certificate and a PIN-protected PKCS#12 (replacing an older one)."""
        if len(pin) < MIN_PIN_LENGTH or not pin.isprintable():
            raise InvalidInput(f"choose a PIN of at least {MIN_PIN_LENGTH} characters", {"field": "pin"})
        agency = s.get(Organisation, user.agency_id)
        bulk = self._take_pending_key(user, pin)  # a key issued in bulk for him (reorganisation): re-protected
        p12, issued = bulk or self.ca.issue_pkcs12("user", user.full_name, pin, title=user.position or None,
                                                   organisation=agency.name if agency else None)
        path = self._write_key_file("users", f"user-{user.id}-{issued.serial_hex}.p12", p12)
        if bulk is not None:
            self.pending_key_path(user.id).unlink(missing_ok=True)
            secrets_store.forget_pending_key_pin(self.settings, user.id)
        for old in s.execute(select(SigningKey).where(SigningKey.user_id == user.id,
                                                      SigningKey.revoked_at.is_(None))).scalars():
            old.revoked_at = datetime.now(UTC)
        row = SigningKey(user_id=user.id, kind="pkcs12", location=str(path), cert_serial=issued.serial_hex,
                         subject=issued.subject, not_after=issued.not_after)
        s.add(row)
        s.flush()
        return row

    def pending_key_path(self, user_id: int) -> Path:
        """Where a key issued in bulk for ``user_id`` waits for his enrolment."""
        return self.keys_dir / "pending" / f"user-{user_id}.p12"

    def put_pending_key(self, user_id: int, p12_for: Any) -> None:
        """Keep a bulk-issued key for ``user_id`` (``p12_for(pin)`` packs it under the service-held PIN)."""
        self._write_key_file("pending", f"user-{user_id}.p12", p12_for(secrets_store.pending_key_pin(self.settings,
                                                                                                      user_id)))

    def _take_pending_key(self, user: User, pin: str) -> tuple[bytes, Any] | None:
        """The bulk-issued key of ``user`` re-packed under his own ``pin`` (None: there is none, or its
        certificate was revoked meanwhile)."""
        path = self.pending_key_path(user.id)
        if not path.is_file():
            return None
        from signing.keys import read_pkcs12
        key, cert, _ = self._load(lambda: read_pkcs12(path.read_bytes(), secrets_store.pending_key_pin(
            self.settings, user.id), source="bulk-issued key"))
        issued = self.ca.get(cert.serial_number)
        if issued.revoked:
            return None
        return self.ca.pack_pkcs12(key, cert, pin), issued

    def user_signer(self, s: Session, user: User, pin: str) -> Signer:
        row = s.execute(select(SigningKey).where(SigningKey.user_id == user.id, SigningKey.revoked_at.is_(None))
                        .order_by(SigningKey.id.desc())).scalars().first()
        if row is None:
            raise PermissionDenied("you have no signing certificate yet: enrol one (POST /api/v1/me/signing-key)",
                                   {"reason": "no_signing_key"})
        key = self._load(lambda: self.keyring.pkcs12(row.location, pin))
        return Signer(key, user.full_name, self._image(row, lambda: _signature_image(user.full_name)))

    def enrol_agency_token(self, s: Session, agency: Organisation, *, module: str, token: str, pin: str,
                           label: str) -> SigningKey:
        """Put the organisation's seal key on a PKCS#11 token/HSM: a sign-only key pair generated
        on the token (the private key never leaves it), its public key certified by the internal
        CA, the certificate stored beside the key (same label and CKA_ID). Nothing is left on the
        token when a step fails. Signing uses it once DOCSVC_PKCS11_* name the same token and label."""
        from signing.errors import SigningError
        from signing.tokens import generate_token_key, remove_token_objects, store_certificate_on_token
        for name, value in (("module", module), ("token", token), ("pin", pin), ("label", label)):
            if not value:
                raise InvalidInput(f"name the token's {name} (option --{name} or DOCSVC_PKCS11_{name.upper()})",
                                   {"field": name})
        if not Path(module).is_file():
            raise InvalidInput(f"no such PKCS#11 module: {module}", {"field": "module"})
        public = self._load(lambda: generate_token_key(module, token, pin, label))
        try:
            issued = self.ca.issue("organisation", agency.name, public, organisation=agency.name)
            self._load(lambda: store_certificate_on_token(module, token, pin, label, issued.certificate))
        except BaseException:
            try:
                remove_token_objects(module, token, pin, label)
            except SigningError:
                log.warning("could not remove the half-enrolled key %r from token %r", label, token)
            raise
        row = SigningKey(agency_id=agency.id, kind="pkcs11", location=f"{token}/{label}"[:300],
                         cert_serial=issued.serial_hex, subject=issued.subject, not_after=issued.not_after)
        s.add(row)
        s.flush()
        return row

    def agency_signer(self, s: Session, agency: Organisation) -> Signer:
        """The organisation's key (held by the registry); created on first use when it is a file."""
        st = self.settings
        seal = self._image(None, lambda: _seal_image(agency.name))
        if st.pkcs11_module:
            label = st.pkcs11_key_label.replace("{organ_id}", agency.organ_id or str(agency.id))
            key = self._load(lambda: self.keyring.pkcs11(st.pkcs11_module, st.pkcs11_token, st.pkcs11_pin, label,
                                                         chain=self.ca.chain()))
            return Signer(key, agency.name, seal)
        row = s.execute(select(SigningKey).where(SigningKey.agency_id == agency.id, SigningKey.kind == "pkcs12",
                                                 SigningKey.revoked_at.is_(None))
                        .order_by(SigningKey.id.desc())).scalars().first()
        pin = secrets_store.agency_key_pin(st, agency.id)
        if row is None:
            p12, issued = self.ca.issue_pkcs12("organisation", agency.name, pin, organisation=agency.name)
            path = self._write_key_file("agencies", f"agency-{agency.id}-{issued.serial_hex}.p12", p12)
            row = SigningKey(agency_id=agency.id, kind="pkcs12", location=str(path), cert_serial=issued.serial_hex,
                             subject=issued.subject, not_after=issued.not_after)
            s.add(row)
            s.flush()
        try:
            key = self._load(lambda: self.keyring.pkcs12(row.location, pin))
        except SigningFailed as exc:  # not the clerk's fault: the deployment's key or its PIN is wrong
            raise SigningFailed(f"the organisation's signing key cannot be used: {exc.message}",
                                "organisation_key_unavailable", 503) from None
        return Signer(key, agency.name, seal)

    # ------------------------------------------------------------ audit checkpoints
    def audit_checkpoint_key(self) -> Any:
        """The service's own key that signs audit checkpoints: a PKCS#12 under keys/audit-checkpoints issued by
        the internal CA (common name :data:`AUDIT_CHECKPOINT_SIGNER`), whose PIN the service
        keeps; a new one is issued when none is usable (first use, expiry)."""
        from signing.errors import SigningError
        pin = secrets_store.audit_checkpoint_pin(self.settings)
        folder = self.keys_dir / "audit-checkpoints"
        for path in sorted(folder.glob("checkpoints-*.p12"), key=lambda p: p.stat().st_mtime, reverse=True):
            try:
                return self.keyring.pkcs12(path, pin)
            except SigningError as exc:
                log.info("audit checkpoint key %s not usable (%s): issuing a new one", path.name, exc)
                break
        p12, issued = self.ca.issue_pkcs12("organisation", AUDIT_CHECKPOINT_SIGNER, pin)
        path = self._write_key_file("audit-checkpoints", f"checkpoints-{issued.serial_hex}.p12", p12)
        return self._load(lambda: self.keyring.pkcs12(path, pin))

    def sign_detached(self, data: bytes) -> bytes:
        """A detached CMS signature of ``data`` by the checkpoint key, time-stamped by the
        configured TSA (``DOCSVC_TSA_URL``; the internal one in-process)."""
        from signing.detached import sign_detached
        from signing.errors import SigningError
        try:
            return sign_detached(data, self.audit_checkpoint_key(), timestamper=self.settings.effective_tsa_url,
                                 trust=self.trust)
        except SigningError as exc:
            raise as_domain_error(exc) from None

    def verify_detached(self, data: bytes, signature: bytes, moment: datetime | None = None) -> Any:
        """The :class:`signing.detached.DetachedVerdict` of a signature made by ``sign_detached``."""
        from signing.detached import verify_detached
        return verify_detached(data, signature, self.trust, moment=moment)

    # ------------------------------------------------------------ sign / validate
    def sign(self, pdf: bytes, signer: Signer, appearance: Any, *, certify: bool = False,
             reason: str | None = None, location: str | None = None, issue_fields: Any = None,
             fill: Any = None) -> bytes:
        """``issue_fields`` / ``fill``: see :func:`signing.pades.sign_pdf` (the certifying signature
        creates the number, date, seal and copy fields; the registry's seal fills them)."""
        from signing.errors import SigningError
        from signing.pades import sign_pdf
        try:
            return sign_pdf(pdf, signer.key, level=self.settings.signature_level, appearance=appearance,
                            certify=certify, reason=reason, location=location,
                            timestamper=self.settings.effective_tsa_url, validation_context=self.trust,
                            issue_fields=issue_fields, fill=fill)
        except SigningError as exc:
            raise as_domain_error(exc) from None
        except (TimeoutError, ConnectionError) as exc:  # OCSP/CRL fetch for B-LT: no answer in time
            raise BackendUnavailable("the certificate status service (OCSP/CRL) did not answer in time; try "
                                     "signing again shortly", {"backend": "pki", "reason": type(exc).__name__}) from exc

    # ------------------------------------------------------------ split signing (key with the signer)
    def check_certificate(self, cert: Any, chain: list[Any]) -> None:
        """A certificate a signer's own key goes with: valid now, may sign, chains to a trusted
        root (internal CA or DOCSVC_TRUST_ROOTS), not revoked."""
        from signing.split import check_signer_certificate
        self._guard(lambda: check_signer_certificate(cert, chain, self.trust))

    def signer_chain(self, cert: Any, given: list[Any]) -> list[Any]:
        """The CA certificates a signature by ``cert`` embeds: those the signer sent, completed
        from the trust store's intermediates (validators need them; nothing chases AIA)."""
        from signing.split import complete_chain
        return complete_chain(cert, given, self.trust)

    def prepare_split(self, pdf: bytes, cert: Any, chain: list[Any], appearance: Any, *, reason: str | None,
                      issue_fields: Any) -> Any:
        """The certifying signature prepared for a key held elsewhere (``signing.split.prepare``)."""
        from signing.split import prepare
        return self._guard(lambda: prepare(pdf, cert, chain, appearance=appearance, certify=True, reason=reason,
                                           issue_fields=issue_fields))

    def finish_split(self, prepared: Any, signature: bytes, cert: Any, chain: list[Any]) -> bytes:
        """The signature value into the prepared document, then time-stamp and validation data."""
        from signing.split import finish
        return self._guard(lambda: finish(prepared, signature, cert, chain, level=self.settings.signature_level,
                                          timestamper=self.settings.effective_tsa_url, validation_context=self.trust))

    def signature_image(self, user: User) -> bytes:
        """The blue signature shown for ``user`` (a generated one until they upload their own)."""
        return _signature_image(user.full_name)

    def _guard(self, operation: Callable[[], T]) -> T:
        from signing.errors import SigningError
        try:
            return operation()
        except SigningError as exc:
            raise as_domain_error(exc) from None
        except (TimeoutError, ConnectionError) as exc:
            raise BackendUnavailable("the certificate status service (OCSP/CRL) or the time-stamping authority did "
                                     "not answer in time; try again shortly",
                                     {"backend": "pki", "reason": type(exc).__name__}) from exc

    def validate(self, pdf: bytes | BinaryIO, trust: Any = None) -> dict[str, Any]:
        """The validation report (JSON-able) of any signed PDF; never raises for a bad signature.
        ``trust`` replaces the service's own (see :meth:`trust_for_checking`)."""
        from signing.validate import verify_report
        data = pdf if isinstance(pdf, bytes) else pdf.read()
        try:
            return verify_report(data, trust if trust is not None else self.trust).to_json()
        except DomainError as exc:  # no trust configured: say so in the report instead of failing receipt
            return {"verdict": "indeterminate", "signatures": [], "error": exc.message}
        except Exception as exc:  # noqa: BLE001 - signature data the validator cannot even read (a
            # damaged or forged /Sig dictionary) makes the document's signatures invalid, not the receipt fail
            log.info("unreadable signature data: %s: %s", type(exc).__name__, exc)
            return {"verdict": "invalid", "signatures": [],
                    "error": f"the signature data cannot be read: {str(exc)[:200]}"}

    def validate_stream(self, stream: BinaryIO) -> dict[str, Any]:
        return self.validate(stream)

    def report_text(self, pdf: bytes, trust: Any = None) -> str:
        from signing.validate import verify_report
        return verify_report(pdf, trust if trust is not None else self.trust).to_text()

    # ------------------------------------------------------------ internals
    def _load(self, open_key: Any) -> Any:
        from signing.errors import SigningError
        try:
            return open_key()
        except SigningError as exc:
            raise as_domain_error(exc) from None

    def _image(self, row: SigningKey | None, default: Callable[[], bytes]) -> bytes:
        if row is not None and row.signature_image and Path(row.signature_image).is_file():
            return Path(row.signature_image).read_bytes()
        return default()

    def _write_key_file(self, kind: str, name: str, data: bytes) -> Path:
        folder = self.keys_dir / kind
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
        tmp.chmod(0o600)
        tmp.replace(path)
        return path


_IMAGES: dict[tuple[str, str], bytes] = {}
_IMAGES_LOCK = threading.Lock()


def _cached_image(kind: str, name: str, make: Any) -> bytes:
    with _IMAGES_LOCK:
        if (kind, name) not in _IMAGES:
            _IMAGES[(kind, name)] = make(name)
        return _IMAGES[(kind, name)]


def _signature_image(name: str) -> bytes:
    """A generated blue signature until the user uploads a scan of their own."""
    from signing.images import signature_png
    return _cached_image("signature", name, signature_png)


def _seal_image(name: str) -> bytes:
    from signing.images import seal_png
    return _cached_image("seal", name, seal_png)

