"""Key sources: where a signature's private key lives (the ``Signer`` port of DESIGN.md).

- :class:`Pkcs12KeySource` — a PKCS#12 file (or its bytes) protected by the user's PIN;
- :class:`Pkcs11KeySource` — a key on a PKCS#11 token or HSM (SoftHSM2 in tests).

Both open the key once, check the certificate (validity period, key usage) and keep a ready
pyHanko signer: the PKCS#12 key stays decrypted in memory, the token session stays logged in.
Reloading per signature costs a PKCS#12 decryption (or a token login) each time; the
:class:`KeyRing` caches key sources so an application that builds one per request still signs
with loaded keys.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.errors import (
    CertificateExpiredError,
    KeyUnavailableError,
    KeyUsageError,
    TokenUnavailableError,
    WrongPinError,
)
from signing.pkcs11lib import load_module as _load_module
from signing.x509util import common_name, to_asn1_cert, to_asn1_key, utcnow


class KeySource(ABC):
    """A signing key with its certificate, ready to sign many times."""

    #: Human-readable origin for messages and logs (never contains a PIN).
    description: str

    @abstractmethod
    def signer(self) -> Signer:
        """The pyHanko signer (the same object every call: keys stay loaded)."""

    @property
    @abstractmethod
    def certificate(self) -> x509.Certificate:
        """The signer's certificate."""

    @property
    def chain(self) -> list[x509.Certificate]:
        """Certificates above the signer's that the signature embeds (may be empty)."""
        return []

    @property
    def subject_name(self) -> str:
        return common_name(self.certificate.subject)

    def check_certificate(self, at: datetime | None = None) -> None:
        """Raise :class:`CertificateExpiredError` / :class:`KeyUsageError` if the certificate
        cannot sign at ``at`` (default now). Revocation is checked by the signing itself, through
        the trust store's OCSP/CRL fetching."""
        check_signing_certificate(self.certificate, at)

    def close(self) -> None:  # noqa: B027 - a no-op by default, not abstract
        """Release the key (token session, in-memory key)."""


class _LoadedKey(KeySource):
    """A key source whose signer, certificate and chain were loaded once, at construction."""

    _signer: Signer
    _cert: x509.Certificate
    _chain: list[x509.Certificate]

    def signer(self) -> Signer:
        return self._signer

    @property
    def certificate(self) -> x509.Certificate:
        return self._cert

    @property
    def chain(self) -> list[x509.Certificate]:
        return list(self._chain)


def check_signing_certificate(cert: x509.Certificate, at: datetime | None = None) -> None:
    at = at or utcnow()
    name = common_name(cert.subject)
    if at > cert.not_valid_after_utc:
        raise CertificateExpiredError(f"the certificate of {name} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    if at < cert.not_valid_before_utc:
        raise CertificateExpiredError(f"the certificate of {name} is not valid before "
                                      f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return  # no restriction
    if not (usage.digital_signature or usage.content_commitment):
        raise KeyUsageError(f"the certificate of {name} does not allow signing "
                            "(key usage lacks digitalSignature and nonRepudiation)")


# ====================================================================== PKCS#12
def read_pkcs12(data: bytes, pin: str, *, source: str = "PKCS#12") -> tuple[
        PrivateKeyTypes, x509.Certificate, list[x509.Certificate]]:
    """Key, certificate and the other certificates of a PKCS#12 blob.

    A structurally valid file that does not open is a wrong PIN (:class:`WrongPinError`); a
    file that is not PKCS#12 at all is :class:`KeyUnavailableError`.
    """
    try:
        asn1_pkcs12.Pfx.load(data).native  # noqa: B018 - parse only to tell "not PKCS#12" from "wrong PIN"
    except (ValueError, TypeError):
        raise KeyUnavailableError(f"{source} is not a PKCS#12 file") from None
    try:
        key, cert, others = pkcs12.load_key_and_certificates(data, pin.encode() if pin else None)
    except ValueError:
        raise WrongPinError(f"wrong PIN for {source}") from None
    if key is None or cert is None:
        raise KeyUnavailableError(f"{source} holds no private key with its certificate")
    return key, cert, list(others)


class _LoadedKeySigner(SimpleSigner):
    """pyHanko's SimpleSigner re-parses the DER private key on every signature; this one keeps
    the parsed key object (RSA PKCS#1 v1.5 and ECDSA, the mechanisms our keys use)."""

    def __init__(self, key: PrivateKeyTypes, **kwargs: Any) -> None:
        super().__init__(signing_key=to_asn1_key(key), **kwargs)
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        name = mechanism["algorithm"].native
        digest = _HASHES.get(digest_algorithm.lower())
        if digest is not None and isinstance(self._key, rsa.RSAPrivateKey) and name.endswith("rsa") \
                and name != "rsassa_pss":
            return self._key.sign(data, padding.PKCS1v15(), digest())
        if digest is not None and isinstance(self._key, ec.EllipticCurvePrivateKey) and "ecdsa" in name:
            return self._key.sign(data, ec.ECDSA(digest()))
        return super().sign_raw(data, digest_algorithm)


_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"sha256": hashes.SHA256, "sha384": hashes.SHA384,
                                                          "sha512": hashes.SHA512}


class Pkcs12KeySource(_LoadedKey):
    """A PKCS#12 file (path or bytes) opened with ``pin``. Raises at construction on a wrong PIN,
    an unreadable file, or a certificate that cannot sign now."""

    def __init__(self, pkcs12_file: Path | str | bytes, pin: str, *,
                 extra_chain: list[x509.Certificate] | None = None, check: bool = True) -> None:
        if isinstance(pkcs12_file, bytes):
            data, self.description = pkcs12_file, "PKCS#12 data"
        else:
            path = Path(pkcs12_file)
            self.description = f"PKCS#12 file {path.name}"
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise KeyUnavailableError(f"cannot read {self.description}: {exc.strerror}") from None
        key, cert, others = read_pkcs12(data, pin, source=self.description)
        self._cert = cert
        self._chain = [c for c in [*others, *(extra_chain or [])] if c != cert]
        if check:
            self.check_certificate()
        self._signer = _LoadedKeySigner(
            key, signing_cert=to_asn1_cert(cert),
            cert_registry=SimpleCertificateStore.from_certs([to_asn1_cert(c) for c in self._chain]))


# ====================================================================== PKCS#11
class _TokenSession:
    """One logged-in session per (module, token) in this process, shared by its key sources.

    PKCS#11 login state belongs to the application, not the session: while logged in, a second
    C_Login is answered "already logged in" without checking its PIN. So the PIN of the first
    (verified) login is remembered as a salted digest, and any other PIN is refused as wrong.
    After a PIN change on the token, call :meth:`logout` (or :meth:`KeyRing.clear`).
    """

    _sessions: dict[tuple[str, str], _TokenSession] = {}
    _registry_lock = threading.Lock()

    def __init__(self, module_path: str, token_label: str) -> None:
        self.module_path, self.token_label = module_path, token_label
        self.lock = threading.RLock()  # PKCS#11 sessions are not safe for concurrent use
        self.session: Any = None
        self._pin_digest = b""

    @classmethod
    def get(cls, module_path: str, token_label: str) -> _TokenSession:
        with cls._registry_lock:
            key = (os.path.realpath(module_path), token_label)
            if key not in cls._sessions:
                cls._sessions[key] = cls(*key)
            return cls._sessions[key]

    def login(self, pin: str) -> Any:
        digest = _pin_digest(pin)
        with self.lock:
            if self.session is not None:
                if not hmac.compare_digest(digest, self._pin_digest):
                    raise WrongPinError(f"wrong PIN for token {self.token_label!r}")
                return self.session
            self.session = _open_session(self.module_path, self.token_label, pin)
            self._pin_digest = digest
            return self.session

    def logout(self) -> None:
        with self.lock:
            if self.session is not None:
                with contextlib.suppress(Exception):  # a dead session is closed either way
                    self.session.close()
            self.session, self._pin_digest = None, b""


def _open_session(module_path: str, token_label: str, pin: str) -> Any:
    from pkcs11 import exceptions as p11e
    if not Path(module_path).is_file():
        raise TokenUnavailableError(f"no PKCS#11 module at {module_path}")
    try:
        lib = _load_module(module_path)
        token = lib.get_token(token_label=token_label)
        return token.open(rw=True, user_pin=pin)
    except (p11e.PinIncorrect, p11e.PinLenRange, p11e.PinInvalid):
        raise WrongPinError(f"wrong PIN for token {token_label!r}") from None
    except p11e.PinLocked:
        raise WrongPinError(f"the PIN of token {token_label!r} is locked (too many wrong attempts)") from None
    except (p11e.NoSuchToken, p11e.TokenNotPresent, p11e.TokenNotRecognised, p11e.MultipleTokensReturned,
            p11e.SlotIDInvalid) as exc:
        raise TokenUnavailableError(f"token {token_label!r} not found ({type(exc).__name__})") from None
    except (p11e.PKCS11Error, OSError, RuntimeError) as exc:
        raise TokenUnavailableError(f"cannot open token {token_label!r}: {type(exc).__name__} {exc}") from None


class _LockedKey:
    """Wraps a PKCS#11 key handle so signatures on a shared session never run concurrently."""

    def __init__(self, handle: Any, lock: threading.RLock) -> None:
        self._handle, self._lock = handle, lock

    def sign(self, data: bytes, **kwargs: Any) -> bytes:
        with self._lock:
            signature: bytes = self._handle.sign(data, **kwargs)
            return signature

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def _pkcs11_signer_class() -> type:
    from pyhanko.sign.pkcs11 import PKCS11Signer

    class _SharedSessionSigner(PKCS11Signer):
        token_lock: threading.RLock

        def _load_objects(self) -> None:
            with self.token_lock:
                super()._load_objects()  # type: ignore[no-untyped-call]  # pyHanko's, unannotated
                if not isinstance(self._key_handle, _LockedKey):
                    # a proxy of the key handle: pyHanko only calls its sign() on it
                    self._key_handle = _LockedKey(self._key_handle, self.token_lock)  # type: ignore[assignment]

    return _SharedSessionSigner


class Pkcs11KeySource(_LoadedKey):
    """The key ``key_label`` on token ``token_label`` of the PKCS#11 module ``module_path``.

    The certificate is read from the token (object labelled ``cert_label``, default the key's
    label) unless ``certificate`` is given; ``chain`` adds CA certificates to embed.
    """

    def __init__(self, module_path: str, token_label: str, pin: str, key_label: str, *,
                 cert_label: str | None = None, certificate: x509.Certificate | None = None,
                 chain: list[x509.Certificate] | None = None, check: bool = True) -> None:
        from pyhanko.sign.general import SigningError as PyHankoSigningError
        self.description = f"key {key_label!r} on token {token_label!r}"
        self._token = _TokenSession.get(module_path, token_label)
        session = self._token.login(pin)
        signer_cls = _pkcs11_signer_class()
        self._chain = list(chain or [])
        signer = signer_cls(
            session, key_label=key_label, cert_label=cert_label or key_label,
            signing_cert=to_asn1_cert(certificate) if certificate is not None else None,
            ca_chain=[to_asn1_cert(c) for c in self._chain], other_certs_to_pull=())
        signer.token_lock = self._token.lock
        try:
            signer._load_objects()  # now, so a missing key or certificate fails here, not mid-signature
        except (PyHankoSigningError, RuntimeError) as exc:
            raise TokenUnavailableError(f"{self.description}: {exc}") from None
        self._signer = signer
        self._cert = x509.load_der_x509_certificate(signer.signing_cert.dump())
        if check:
            self.check_certificate()


    def close(self) -> None:
        self._token.logout()


# ====================================================================== cache
_PIN_SALT = secrets.token_bytes(32)


def _pin_digest(pin: str) -> bytes:
    """A per-process salted digest: lets the cache tell PINs apart without keeping them."""
    return hmac.new(_PIN_SALT, pin.encode(), hashlib.sha256).digest()


@dataclass
class _Entry:
    source: KeySource
    expires: float


class KeyRing:
    """Keeps opened key sources for reuse: ``ring.pkcs12(path, pin)`` returns the same loaded
    key while the file, the PIN and the entry's lifetime are unchanged; a wrong PIN is never
    served from the cache (the PIN is part of the cache key, as a salted digest)."""

    def __init__(self, *, max_entries: int = 64, ttl_seconds: float = 1800.0) -> None:
        self._entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries, self.ttl_seconds = max_entries, ttl_seconds

    def pkcs12(self, path: Path | str, pin: str, **options: Any) -> Pkcs12KeySource:
        p = Path(path)
        try:
            stat = p.stat()
        except OSError as exc:
            raise KeyUnavailableError(f"cannot read PKCS#12 file {p.name}: {exc.strerror}") from None
        key = ("p12", str(p.resolve()), stat.st_mtime_ns, stat.st_size, _pin_digest(pin))
        return self._get(key, lambda: Pkcs12KeySource(p, pin, **options))  # type: ignore[return-value]

    def pkcs11(self, module_path: str, token_label: str, pin: str, key_label: str, **options: Any) -> Pkcs11KeySource:
        key = ("p11", os.path.realpath(module_path), token_label, key_label, _pin_digest(pin))
        return self._get(key, lambda: Pkcs11KeySource(module_path, token_label, pin, key_label, **options))  # type: ignore[return-value]

    def clear(self) -> None:
        with self._lock:
            entries, self._entries = list(self._entries.values()), OrderedDict()
        for entry in entries:
            entry.source.close()

    def _get(self, key: tuple[Any, ...], factory: Callable[[], KeySource]) -> KeySource:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires > now:
                self._entries.move_to_end(key)
                return entry.source
        source = factory()  # outside the lock: opening a key may take a while
        with self._lock:
            self._entries[key] = _Entry(source, now + self.ttl_seconds)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return source
