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

#: The private key signs and does nothing else: no decryption, unwrapping, derivation or signature
#: recovery (python-pkcs11's default RSA capabilities include encryption and wrapping), and it can
#: never leave the token in clear (sensitive, not extractable).
SIGN_ONLY_PRIVATE = {"SIGN": True, "DECRYPT": False, "UNWRAP": False, "SIGN_RECOVER": False, "DERIVE": False,
                     "SENSITIVE": True, "EXTRACTABLE": False, "PRIVATE": True}
SIGN_ONLY_PUBLIC = {"VERIFY": True, "ENCRYPT": False, "WRAP": False, "VERIFY_RECOVER": False, "DERIVE": False}


def key_id(key_label: str) -> bytes:
    """The CKA_ID shared by a key pair and its certificate (derived from the label)."""
    return hashlib.sha1(key_label.encode()).digest()[:8]


def generate_token_key(module_path: str, token_label: str, pin: str, key_label: str, *,
                       key_size: int = 2048) -> rsa.RSAPublicKey:
    """Generate a sign-only RSA key pair on the token (``SIGN_ONLY_PRIVATE``/``_PUBLIC``), labelled
    ``key_label``; return its public key."""
    from pkcs11 import Attribute, KeyType, MechanismFlag
    from pkcs11 import exceptions as p11e
    from pkcs11.util.rsa import encode_rsa_public_key
    token = _TokenSession.get(module_path, token_label)
    session = token.login(pin)
    with token.lock:
        try:
            if list(session.get_objects({Attribute.LABEL: key_label})):
                raise TokenUnavailableError(f"token {token_label!r} already holds objects labelled {key_label!r}")
            public, _ = session.generate_keypair(
                KeyType.RSA, key_size, label=key_label, id=key_id(key_label), store=True,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                private_template={Attribute[name]: value for name, value in SIGN_ONLY_PRIVATE.items()},
                public_template={Attribute[name]: value for name, value in SIGN_ONLY_PUBLIC.items()})
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
                     Attribute.ID: key_id(label)})
    with token.lock:
        try:
            for old in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: label}):
                old.destroy()
            session.create_object(template)
        except p11e.PKCS11Error as exc:
            raise TokenUnavailableError(f"cannot store the certificate on token {token_label!r}: "
                                        f"{type(exc).__name__}") from None


def remove_token_objects(module_path: str, token_label: str, pin: str, label: str) -> int:
    """Destroy every object labelled ``label`` on the token (keys and certificate): undoes an
    enrolment that failed half-way. Returns how many objects were destroyed."""
    from pkcs11 import Attribute
    from pkcs11 import exceptions as p11e
    token = _TokenSession.get(module_path, token_label)
    session = token.login(pin)
    with token.lock:
        try:
            found = list(session.get_objects({Attribute.LABEL: label}))
            for obj in found:
                obj.destroy()
        except p11e.PKCS11Error as exc:
            raise TokenUnavailableError(f"cannot remove objects from token {token_label!r}: "
                                        f"{type(exc).__name__}") from None
    return len(found)
