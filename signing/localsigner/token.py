"""The signer's token: its certificate, and signatures made by its key (PKCS#11)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Self

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa


class TokenError(Exception):
    """The token cannot be used (absent, wrong PIN, no key); the message says which."""


@dataclass(frozen=True)
class TokenConfig:
    module: str  # path of the PKCS#11 library of the token's vendor
    token_label: str | None = None  # None: the only token present
    key_label: str | None = None  # None: the only private key with a certificate


class Token:
    """A PKCS#11 token opened for one batch: log in once, sign many, close."""

    def __init__(self, config: TokenConfig) -> None:
        self.config = config
        self._session: Any = None
        self._key: Any = None

    def _token(self) -> Any:
        from pkcs11 import exceptions as p11e

        from signing.pkcs11lib import load_module
        if not os.path.isfile(self.config.module):
            raise TokenError(f"no PKCS#11 module at {self.config.module}")
        try:
            lib = load_module(self.config.module)
            if self.config.token_label:
                return lib.get_token(token_label=self.config.token_label)
            tokens = list(lib.get_tokens())
        except p11e.NoSuchToken:
            raise TokenError(f"token {self.config.token_label!r} is not plugged in") from None
        except p11e.PKCS11Error as exc:
            raise TokenError(f"the token cannot be read: {type(exc).__name__} {exc}") from None
        if len(tokens) != 1:
            raise TokenError(f"{len(tokens)} tokens present: choose one with --token-label")
        return tokens[0]

    def certificate(self) -> x509.Certificate:
        """The certificate stored with the key (public: no PIN needed)."""
        from pkcs11 import Attribute, ObjectClass
        with self._token().open() as session:
            template: dict[Any, Any] = {Attribute.CLASS: ObjectClass.CERTIFICATE}
            if self.config.key_label:
                template[Attribute.LABEL] = self.config.key_label
            certs = list(session.get_objects(template))
            if not certs:
                raise TokenError("no certificate on the token" + (f" labelled {self.config.key_label!r}"
                                                                  if self.config.key_label else ""))
            if len(certs) > 1:
                raise TokenError(f"{len(certs)} certificates on the token: choose one with --key-label")
            return x509.load_der_x509_certificate(certs[0][Attribute.VALUE])

    def login(self, pin: str) -> None:
        from pkcs11 import Attribute, ObjectClass
        from pkcs11 import exceptions as p11e
        try:
            self._session = self._token().open(user_pin=pin)
        except (p11e.PinIncorrect, p11e.PinInvalid, p11e.PinLenRange):
            raise TokenError("wrong token PIN") from None
        except p11e.PinLocked:
            raise TokenError("the token PIN is locked (too many wrong attempts)") from None
        template: dict[Any, Any] = {Attribute.CLASS: ObjectClass.PRIVATE_KEY}
        if self.config.key_label:
            template[Attribute.LABEL] = self.config.key_label
        keys = list(self._session.get_objects(template))
        if len(keys) != 1:
            self.close()
            raise TokenError(f"{len(keys)} private keys on the token: choose one with --key-label")
        self._key = keys[0]

    def sign(self, data: bytes) -> bytes:
        """A SHA-256 signature over ``data``: RSA PKCS#1 v1.5, or ECDSA (DER-encoded)."""
        from pkcs11 import KeyType, Mechanism
        from pkcs11.util.ec import encode_ecdsa_signature
        if self._key is None:
            raise TokenError("log in to the token first")
        if self._key.key_type == KeyType.RSA:
            return bytes(self._key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))
        if self._key.key_type == KeyType.EC:
            return bytes(encode_ecdsa_signature(self._key.sign(data, mechanism=Mechanism.ECDSA_SHA256)))
        raise TokenError(f"unsupported key type {self._key.key_type}")

    def close(self) -> None:
        if self._session is not None:
            try:
                self._session.close()
            finally:
                self._session, self._key = None, None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def key_kind(cert: x509.Certificate) -> str:
    key = cert.public_key()
    return "RSA" if isinstance(key, rsa.RSAPublicKey) else "ECDSA" if isinstance(key, ec.EllipticCurvePublicKey) \
        else type(key).__name__
