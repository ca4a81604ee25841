"""Enrolling a key on a PKCS#11 token or HSM: generate the key pair on the token (the private key
never leaves it), have the CA certify the public key, store the certificate next to the key.

    public_key = generate_token_key(module, "docsvc-org", pin, "org-seal")
    issued = ca.issue("organisation", "Ủy ban nhân dân xã Đồng Đăng", public_key)
    store_certificate_on_token(module, "docsvc-org", pin, "org-seal", issued.certificate)
    key = Pkcs11KeySource(module, "docsvc-org", pin, "org-seal", chain=ca.chain())
"""

from __future__ import annotations

import hashlib

from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from signing.errors import TokenUnavailableError
from signing.keys import _TokenSession


def generate_token_key(module_path: str, token_label: str, pin: str, key_label: str, *,
                       key_size: int = 2048) -> rsa.RSAPublicKey:
    """Generate an RSA signing key pair on the token, labelled ``key_label``; return its public key."""
    from pkcs11 import Attribute, KeyType
    from pkcs11 import exceptions as p11e
    from pkcs11.util.rsa import encode_rsa_public_key
    token = _TokenSession.get(module_path, token_label)
    session = token.login(pin)
    with token.lock:
        try:
            if list(session.get_objects({Attribute.LABEL: key_label})):
                raise TokenUnavailableError(f"token {token_label!r} already holds objects labelled {key_label!r}")
            public, _ = session.generate_keypair(
                KeyType.RSA, key_size, label=key_label, id=hashlib.sha1(key_label.encode()).digest()[:8], store=True,
                private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.SIGN: True})
        except p11e.PKCS11Error as exc:
            raise TokenUnavailableError(f"cannot generate a key on token {token_label!r}: "
                                        f"{type(exc).__name__}") from None
        spki = asn1_keys.PublicKeyInfo.wrap(asn1_keys.RSAPublicKey.load(encode_rsa_public_key(public)), "rsa")
    key = serialization.load_der_public_key(spki.dump())
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def store_certificate_on_token(module_path: str, token_label: str, pin: str, label: str,
                               certificate: x509.Certificate) -> None:
    """Store ``certificate`` on the token under ``label`` (the key's label: that is how
    :class:`~signing.keys.Pkcs11KeySource` finds it). A renewed certificate replaces the old one."""
    from pkcs11 import Attribute, ObjectClass
    from pkcs11 import exceptions as p11e
    from pkcs11.util.x509 import decode_x509_certificate
    token = _TokenSession.get(module_path, token_label)
    session = token.login(pin)
    template = decode_x509_certificate(certificate.public_bytes(serialization.Encoding.DER))
    template.update({Attribute.LABEL: label, Attribute.TOKEN: True,
                     Attribute.ID: hashlib.sha1(label.encode()).digest()[:8]})
    with token.lock:
        try:
            for old in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: label}):
                old.destroy()
            session.create_object(template)
        except p11e.PKCS11Error as exc:
            raise TokenUnavailableError(f"cannot store the certificate on token {token_label!r}: "
                                        f"{type(exc).__name__}") from None
