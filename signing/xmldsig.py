"""Enveloped XML signatures (XML-DSig 1.1) over a whole XML document.

``sign_enveloped`` signs with a :class:`~signing.keys.KeySource`, so a key held on a token (PKCS#11)
signs exactly like a PKCS#12 file: the document is canonicalised (exclusive C14N, without the
signature), its SHA-256 goes into ``SignedInfo``, and the key signs the canonical ``SignedInfo``
through pyHanko's raw signing. The ``ds:Signature`` is placed under the element the caller names,
with the signer's certificate in ``KeyInfo``.

``verify_enveloped`` checks such a signature with **signxml** (a maintained XML-DSig library on
lxml and cryptography) against a certificate the caller already trusts, and answers with a
verdict; it never raises for hostile input. Only one signature, one reference over the whole
document (``URI=""``), SHA-256 digests and RSA/ECDSA-SHA256 methods are accepted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from signing.keys import KeySource

DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
METHODS = {"rsassa_pkcs1v15": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
           "ecdsa": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"}


class XmlDsigError(ValueError):
    """The document cannot be signed (no place for the signature, a key of an unsupported kind)."""


@dataclass(frozen=True)
class XmlDsigVerdict:
    """``present`` False: the document carries no signature (``valid`` is then False too)."""

    present: bool
    valid: bool
    reason: str | None = None


def _q(tag: str) -> str:
    return f"{{{DS}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, _q(tag), attrib=attrs)
    if text is not None:
        el.text = text
    return el


def _c14n(el: etree._Element | etree._ElementTree) -> bytes:
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False)


def sign_enveloped(root: etree._Element, key: KeySource, parent_path: str) -> None:
    """Add an enveloped ``ds:Signature`` to ``root`` (in place), as the last child of the element at
    ``parent_path`` (an ElementPath from the root in Clark notation, e.g. ``{ns}Envelope/{ns}Header``).
    The document must hold no signature yet."""
    parent = root.find(parent_path)
    if parent is None:
        raise XmlDsigError(f"no element {parent_path} to hold the signature")
    if root.find(f".//{_q('Signature')}") is not None:
        raise XmlDsigError("the document is already signed")
    signer = key.signer()
    algorithm = signer.get_signature_mechanism_for_digest("sha256").signature_algo
    if algorithm not in METHODS:
        raise XmlDsigError(f"keys of kind {algorithm} are not used for XML signatures")
    digest = base64.b64encode(hashlib.sha256(_c14n(root.getroottree())).digest()).decode("ascii")
    signature = etree.SubElement(parent, _q("Signature"), nsmap={"ds": DS})
    signed_info = _sub(signature, "SignedInfo")
    _sub(signed_info, "CanonicalizationMethod", Algorithm=EXC_C14N)
    _sub(signed_info, "SignatureMethod", Algorithm=METHODS[algorithm])
    reference = _sub(signed_info, "Reference", URI="")
    transforms = _sub(reference, "Transforms")
    _sub(transforms, "Transform", Algorithm=ENVELOPED)
    _sub(transforms, "Transform", Algorithm=EXC_C14N)
    _sub(reference, "DigestMethod", Algorithm=SHA256)
    _sub(reference, "DigestValue", digest)
    raw = asyncio.run(signer.async_sign_raw(_c14n(signed_info), "sha256"))
    if algorithm == "ecdsa":  # XML-DSig wants r || s, each as long as the curve's order
        r, s = decode_dss_signature(raw)
        size = (key.certificate.public_key().key_size + 7) // 8  # type: ignore[union-attr]
        raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    _sub(signature, "SignatureValue", base64.b64encode(raw).decode("ascii"))
    x509_data = _sub(_sub(signature, "KeyInfo"), "X509Data")
    _sub(x509_data, "X509Certificate",
         base64.b64encode(key.certificate.public_bytes(Encoding.DER)).decode("ascii"))


def verify_enveloped(root: etree._Element, certificate: x509.Certificate, parent_path: str) -> XmlDsigVerdict:
    """Whether ``root`` (already parsed safely by the caller) carries, at ``parent_path``, an intact
    enveloped signature over the whole document made with ``certificate``'s key. A signature
    anywhere else, or more than one, is refused; so is one whose ``KeyInfo`` names another
    certificate."""
    from signxml import InvalidInput, SignatureConfiguration, XMLVerifier
    from signxml.algorithms import DigestAlgorithm, SignatureMethod
    from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidSignature

    found = root.findall(f".//{_q('Signature')}")
    if not found:
        return XmlDsigVerdict(False, False, "the header carries no XML signature")
    parent = root.find(parent_path)
    if len(found) > 1 or parent is None or found[0].getparent() is not parent:
        return XmlDsigVerdict(True, False, "the XML signature is not where it belongs, or there is more than one")
    given = found[0].find(f"{_q('KeyInfo')}/{_q('X509Data')}/{_q('X509Certificate')}")
    if given is not None:
        try:
            named = x509.load_der_x509_certificate(base64.b64decode("".join((given.text or "").split())))
        except ValueError:
            return XmlDsigVerdict(True, False, "the certificate in the XML signature cannot be read")
        if named != certificate:
            return XmlDsigVerdict(True, False, "the XML signature was made with another certificate than the "
                                               "package's signature")
    config = SignatureConfiguration(
        require_x509=True, location=f"./{parent_path}/", expect_references=1,
        signature_methods=frozenset({SignatureMethod.RSA_SHA256, SignatureMethod.ECDSA_SHA256}),
        digest_algorithms=frozenset({DigestAlgorithm.SHA256}))
    try:
        XMLVerifier().verify(root, x509_cert=certificate, expect_config=config)
    except InvalidDigest:
        return XmlDsigVerdict(True, False, "the edXML header or body was changed after the XML signature was made")
    except (InvalidSignature, InvalidCertificate, InvalidInput) as exc:
        return XmlDsigVerdict(True, False, f"the XML signature is not valid: {str(exc)[:200]}")
    except Exception as exc:  # noqa: BLE001 - hostile XML in many shapes
        return XmlDsigVerdict(True, False, f"the XML signature cannot be checked: {type(exc).__name__}")
    return XmlDsigVerdict(True, True)
