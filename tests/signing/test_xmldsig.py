"""Enveloped XML-DSig (signing/xmldsig.py): made with a KeySource (RSA and ECDSA), checked by signxml;
a changed document, another certificate, a misplaced or doubled signature are refused."""

from __future__ import annotations

import copy

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from lxml import etree

from signing.keys import Pkcs12KeySource
from signing.xmldsig import DS, XmlDsigVerdict, sign_enveloped, verify_enveloped
from tests.signing.pki import TestPki

NS = "urn:example:doc"
PARENT = f"{{{NS}}}Envelope/{{{NS}}}Header"
XML = (f'<d:Doc xmlns:d="{NS}"><d:Envelope><d:Header><d:Subject>Quyết định số 15</d:Subject></d:Header>'
       f'<d:Body><d:Sha>ab12</d:Sha></d:Body></d:Envelope><d:Data>AAAA</d:Data></d:Doc>').encode()


def _signed(key: Pkcs12KeySource) -> bytes:
    root = etree.fromstring(XML)
    sign_enveloped(root, key, PARENT)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _verify(data: bytes, key: Pkcs12KeySource) -> XmlDsigVerdict:
    return verify_enveloped(etree.fromstring(data), key.certificate, PARENT)


def _ec_key(pki: TestPki) -> Pkcs12KeySource:
    private = ec.generate_private_key(ec.SECP256R1())
    issued = pki.ca.issue("organisation", "Sở thử ECDSA", private.public_key())
    p12 = pkcs12.serialize_key_and_certificates(b"ec", private, issued.certificate, None,
                                                BestAvailableEncryption(b"1234"))
    return Pkcs12KeySource(p12, "1234")


def test_round_trip_rsa_and_ecdsa(pki: TestPki) -> None:
    for key in (pki.org_key, _ec_key(pki)):
        data = _signed(key)
        root = etree.fromstring(data)
        signature = root.find(f"{PARENT}/{{{DS}}}Signature")
        assert signature is not None and signature.getparent().tag == f"{{{NS}}}Header"
        assert _verify(data, key) == XmlDsigVerdict(True, True)


def test_changed_document_is_refused_with_a_reason(pki: TestPki) -> None:
    data = _signed(pki.org_key)
    for before, after in ((b"15</d:Subject>", b"16</d:Subject>"),  # the header
                          (b"ab12", b"ab13"),  # the manifest part of the body
                          (b"AAAA", b"AAAB")):  # outside the envelope too: the reference is the whole document
        verdict = _verify(data.replace(before, after), pki.org_key)
        assert verdict.present and not verdict.valid and "changed" in (verdict.reason or ""), (before, verdict)


def test_another_certificate_missing_misplaced_or_doubled_signature(pki: TestPki) -> None:
    data = _signed(pki.org_key)
    # Checked against another certificate than the one that signed: refused (KeyInfo names the signer).
    other = _verify(data, pki.user_key)
    assert other.present and not other.valid and "another certificate" in (other.reason or "")
    # Signed with another key throughout (its own KeyInfo): the signature does not verify with ours.
    forged = _signed(pki.user_key)
    assert not _verify(forged, pki.org_key).valid
    # None at all.
    assert _verify(XML, pki.org_key) == XmlDsigVerdict(False, False, "the header carries no XML signature")
    # Moved out of the header, or a second one added: refused before any check of the value.
    root = etree.fromstring(data)
    signature = root.find(f"{PARENT}/{{{DS}}}Signature")
    assert signature is not None
    root.append(copy.deepcopy(signature))
    doubled = verify_enveloped(root, pki.org_key.certificate, PARENT)
    assert doubled.present and not doubled.valid and "more than one" in (doubled.reason or "")
    root = etree.fromstring(data)
    signature = root.find(f"{PARENT}/{{{DS}}}Signature")
    assert signature is not None
    root.append(signature)  # moved to the root
    assert not verify_enveloped(root, pki.org_key.certificate, PARENT).valid
