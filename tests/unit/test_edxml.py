"""edXML packages (QCVN 102:2016): build/parse round trip and hostile packages refused with a reason."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from docsvc.services.exchange import edxml
from tests.fixtures.pdfs import official_pdf


def _package(**changes: object) -> edxml.Package:
    values: dict[str, object] = dict(
        message_id="7d0c7b6e-3c55-4f0a-9d55-0c8f3f3c2a11", sender=edxml.Organ("000.00.31.H41", "UBND xã Đồng Đăng"),
        to=(edxml.Organ("000.00.02.H42", "Sở Nội vụ"),), code_number="07", code_notation="QĐ-UBND",
        promulgation_place="Đồng Đăng", promulgation_date=date(2026, 12, 7), type_code="QĐ", type_name="Quyết định",
        subject="Quyết định phê duyệt danh sách hộ nghèo", signer_competence="KT.", signer_position="Phó Chủ tịch",
        signer_name="Trần Văn Bình", due_date=date(2026, 12, 31), to_places=("Sở Nội vụ", "Lưu: VT"), priority=1,
        page_amount=20, attachments=(edxml.Attachment("qd-07.pdf", official_pdf(pages=20)),))
    values.update(changes)
    return edxml.Package(**values)  # type: ignore[arg-type]


def test_round_trip_keeps_every_field_and_the_pdf_bytes() -> None:
    p = _package()
    data = edxml.build_package(p)
    assert edxml.kind_of(data) == "package"
    back = edxml.parse_package(data)
    assert back == p
    assert back.document_id == "000.00.31.H41,2026/12/07,07/QĐ-UBND"
    assert hashlib.sha256(back.attachments[0].data).digest() == hashlib.sha256(p.attachments[0].data).digest()
    assert b'xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"' in data


def test_status_round_trip_and_reason_rules() -> None:
    m = edxml.StatusMessage(message_id="m-1", sender=edxml.Organ("000.00.02.H42", "Sở Nội vụ"),
                            to=edxml.Organ("000.00.31.H41"), response_document_id="000.00.31.H41,2026/12/07,07/QĐ-UBND",
                            status_code="03")
    back = edxml.parse_status(edxml.build_status(m))
    assert (back.status_code, back.response_document_id, back.sender.organ_id) == ("03", m.response_document_id,
                                                                                    "000.00.02.H42")
    with pytest.raises(edxml.EdxmlError, match="needs a reason"):
        edxml.build_status(edxml.StatusMessage(**{**m.__dict__, "status_code": "02"}))
    with pytest.raises(edxml.EdxmlError, match="unknown status"):
        edxml.parse_status(edxml.build_status(m).replace(b">03<", b">99<"))


def _refused(data: bytes, match: str, **kw: int) -> None:
    with pytest.raises(edxml.EdxmlError, match=match):
        edxml.parse_package(data, **kw)


def test_entity_expansion_is_refused_not_expanded() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY a "aaaaaaaaaa">'
            + b"".join(b'<!ENTITY %s "%s">' % (f"e{i}".encode(), (f"&e{i - 1};" if i else "&a;").encode() * 10)
                       for i in range(8))
            + b']><edXML:edXML xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">&e7;</edXML:edXML>')
    _refused(bomb, "DOCTYPE")
    external = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY f SYSTEM "file:///etc/passwd">]>'
                b'<edXML:edXML xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">&f;</edXML:edXML>')
    _refused(external, "DOCTYPE")


def test_huge_packages_and_attachments_are_refused() -> None:
    data = edxml.build_package(_package())
    _refused(data, "larger than", max_bytes=1000)
    _refused(data, "attachment 'qd-07.pdf' is larger", max_attachment_bytes=1000)
    big = edxml.build_package(_package(attachments=(edxml.Attachment("big.pdf", b"%PDF-" + b"0" * 9_000_000),)))
    _refused(big, "not well-formed|larger")  # one text node beyond libxml2's limit without huge_tree


def test_wrong_namespace_missing_fields_and_mismatched_sha256() -> None:
    p = _package()
    data = edxml.build_package(p)
    _refused(data.replace(b"http://www.mic.gov.vn/TBT/QCVN_102_2016", b"http://example.org/other"), "root element")
    _refused(data.replace(b"<edXML:Subject>", b"<edXML:Subject_>").replace(b"</edXML:Subject>", b"</edXML:Subject_>"),
             "Subject is missing")
    _refused(data.replace(b"<edXML:OrganId>000.00.31.H41</edXML:OrganId>", b"<edXML:OrganId>31</edXML:OrganId>", 1),
             "13-character")
    _refused(data.replace("QĐ-UBND</edXML:DocumentId>".encode(), "QĐ-UBNX</edXML:DocumentId>".encode()),
             "DocumentId")
    sha = p.attachments[0].sha256.encode()
    _refused(data.replace(sha, b"0" * 64), "does not match its SHA-256")
    content = base64.b64encode(p.attachments[0].data)
    _refused(data.replace(content[:40], b"!" * 40, 1), "not valid base64")
    _refused(b"<edXML:edXML", "not well-formed")
    _refused(edxml.build_package(_package(attachments=())), "carries its file")


def test_replace_names_the_replaced_document_and_update_keeps_its_id() -> None:
    replaced = "000.00.31.H41,2026/12/01,03/QĐ-UBND"
    p = _package(business=edxml.Business.REPLACE, business_reason="Sai số liệu", replaces=replaced)
    data = edxml.build_package(p)
    assert edxml.parse_package(data) == p
    assert b"<edXML:BussinessReplacementInfoList><edXML:ReplacementInfo><edXML:DocumentId>" in data
    with pytest.raises(edxml.EdxmlError, match="names the DocumentId it replaces"):
        edxml.build_package(_package(business=edxml.Business.REPLACE))
    opening, closing = b"<edXML:BussinessReplacementInfoList>", b"</edXML:BussinessReplacementInfoList>"
    start, end = data.index(opening), data.index(closing) + len(closing)
    with pytest.raises(edxml.EdxmlError, match="ReplacementInfo/DocumentId is missing"):
        edxml.parse_package(data[:start] + data[end:])
    update = edxml.parse_package(edxml.build_package(_package(business=edxml.Business.UPDATE, subject="Đã sửa")))
    assert update.replaces == "" and update.document_id == _package().document_id


def _self_signed_key() -> tuple[Any, bytes]:
    """An organisation key with a self-signed certificate (the trust in it is the CMS check's job)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, pkcs12
    from cryptography.x509.oid import NameOID

    from signing.keys import Pkcs12KeySource
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "UBND xã Đồng Đăng")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .sign(key, hashes.SHA256()))
    p12 = pkcs12.serialize_key_and_certificates(b"org", key, cert, None, BestAvailableEncryption(b"123456"))
    return Pkcs12KeySource(p12, "123456"), cert.public_bytes(Encoding.DER)


def test_header_signature_round_trip_and_a_changed_header() -> None:
    """The XML-DSig that sign_header adds is found and checked by verify_header (with the signing
    certificate), and any change to the header or the manifest breaks it."""
    key, der = _self_signed_key()
    package = _package()
    plain = edxml.build_package(package)
    signed = edxml.sign_header(plain, key)
    assert edxml.parse_package(signed) == package  # the signature sits beside the fields, not among them
    assert edxml.verify_header(signed, der).valid
    assert not edxml.verify_header(plain, der).present
    for before, after in ((">07<", ">08<"), ("Phó Chủ tịch", "Chủ tịch"), (">qd-07.pdf<", ">qd-08.pdf<")):
        verdict = edxml.verify_header(signed.replace(before.encode(), after.encode(), 1), der)
        assert verdict.present and not verdict.valid and "changed" in (verdict.reason or ""), before
