"""Issued documents are complete on the page and valid in other people's validators (issue 15).

The full outgoing scenario — a decision with an attachment in a separate file, drafted without a
signature block, signed by the deputy for the chairman (KT.), issued, then an electronic copy
(SY) — at B-LT and B-LTA. Every signature of every PDF produced is checked by stock pyHanko
(default difference policy, internal root trusted) and poppler's pdfsig; page 1's text layer
(pdftotext) and rendering (pdftoppm) show the number and date."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest

from docsvc.timeutil import vn_today
from tests.fixtures.pdfs import official_pdf
from tests.helpers import PIN, assert_error, created, upload
from tests.helpers import me as _me
from tests.signing.pki import (
    assert_pdfsig_trusts_every_signature,
    assert_stock_pyhanko_accepts_every_signature,
    assert_stock_pyhanko_accepts_offline,
    ink_in,
    page_text,
)

SUBJECT = "Quyết định ban hành quy chế làm việc của Ủy ban nhân dân xã"


def _date_line() -> str:
    today = vn_today()
    month = f"{today.month:02d}" if today.month < 3 else str(today.month)
    return f"ngày {today.day:02d} tháng {month} năm {today.year}"


def _field_rect(pdf: bytes, name: str) -> tuple[float, float, float, float]:
    from pypdf import PdfReader
    for ref in PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field.get("/T") == name:
            return tuple(float(v) for v in field["/Rect"])  # type: ignore[return-value]
    raise AssertionError(f"no field {name}")


def _kt_delegation(api: Any) -> None:
    today = vn_today()
    r = api.as_user("chutich").post("/api/v1/delegations", json={
        "delegate_id": _me(api, "phochutich")["id"], "form": "KT", "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=30)).isoformat()})
    assert r.status_code == 201, r.get_json()


def _draft(api: Any, pdf: bytes, *, attachment: bytes | None = None) -> dict[str, Any]:
    officer, head = api.as_user("chuyenvien"), api.as_user("truongphong")
    draft = created(upload(officer, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, subject=SUBJECT, file=pdf,
                           attachments=[(attachment, "phu-luc.pdf")] if attachment else None))
    r = officer.post(f"/api/v1/documents/{draft['id']}/submit", json={"signer_id": _me(api, "chutich")["id"]})
    assert r.status_code == 200, r.get_json()
    assert head.post(f"/api/v1/documents/{draft['id']}/approve", json={}).status_code == 200
    return draft


@pytest.mark.parametrize("settings_overrides", [{"signature_level": "B-LT"}, {"signature_level": "B-LTA"}],
                         ids=["B-LT", "B-LTA"])
def test_issue_prints_number_and_date_and_every_validator_accepts(api, container) -> None:  # type: ignore[no-untyped-def]
    ca = container.signatures.ca
    _kt_delegation(api)
    deputy, clerk = api.as_user("phochutich"), api.as_user("vanthu")
    assert deputy.post("/api/v1/me/signing-key", json={"pin": PIN}).status_code == 201
    draft_pdf = official_pdf(SUBJECT, signer_title="", signer_name="",
                             recipients=("Như Điều 3", "Chủ tịch, các PCT UBND xã", "Lưu: VT"))
    attachment = official_pdf("Quy chế làm việc (kèm theo Quyết định)", notation=None, date_line=None,
                              signer_title="", signer_name="")
    assert re.search(r"Số:\s+/QĐ-UBND", page_text(draft_pdf))  # the draft leaves the number blank
    draft = _draft(api, draft_pdf, attachment=attachment)
    # The deputy signs for the chairman (KT.); the chairman lets him read the draft.
    assert api.as_user("chutich").post(f"/api/v1/documents/{draft['id']}/grants", json={
        "user_id": _me(api, "phochutich")["id"], "reason": "Ký thay Chủ tịch"}).status_code == 201

    r = deputy.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN})
    assert r.status_code == 200, r.get_json()
    r = clerk.post(f"/api/v1/documents/{draft['id']}/issue", json={"recipients": [
        {"agency_id": next(o["id"] for o in api.as_user("quantri").get("/api/v1/organisations").get_json()["items"]
                           if o.get("organ_id") == "000.00.02.H41")}, {"name": "Các thôn"}]})
    assert r.status_code == 200, r.get_json()
    issued = r.get_json()
    label = issued["number_notation"]
    assert label == "01/QĐ-UBND"
    main = clerk.get(f"/api/v1/documents/{draft['id']}/content").data

    # Page 1 carries the number and the date, in its text layer and in its rendering.
    text = page_text(main)
    assert f"Số: {label}" in text, text
    assert f"Đồng Đăng, {_date_line()}" in text, text
    assert "KT. CHỦ TỊCH" in text and "Phạm Thị Mai" in text
    signed_file = next(f for f in issued["files"] if f["role"] == "signed")
    signed = clerk.get(f"/api/v1/documents/{draft['id']}/content", query_string={"file_id": signed_file["id"]}).data
    assert main.startswith(signed)  # the registry's work is an incremental update of the signed file
    for field in ("docsvc_so", "docsvc_ngay"):  # rendered: more ink where the number and date are printed
        rect = _field_rect(main, field)
        assert ink_in(main, rect) > ink_in(signed, rect) + 20, field

    # Every signature: stock pyHanko (DocMDP included) and pdfsig.
    level = container.settings.signature_level
    timestamps = 2 if level == "B-LTA" else 0  # one per signing step
    assert assert_stock_pyhanko_accepts_every_signature(main, ca) == 2 + timestamps
    # ... and from the PDF and the root alone: no fetching, revocation data of every certificate from the DSS.
    assert assert_stock_pyhanko_accepts_offline(main, ca.root_certificate, "require") == 2 + timestamps
    assert_pdfsig_trusts_every_signature(main, 2, ca)
    report = container.signatures.validate(main)
    assert report["verdict"] == "valid", report
    assert {s["pades_level"] for s in report["signatures"] if s["kind"] != "document_timestamp"} == {level}

    # The attachment in its separate file: the organisation's text signature with the number.
    att = next(f for f in issued["files"] if f["role"] == "issued_att")
    att_pdf = clerk.get(f"/api/v1/documents/{draft['id']}/content", query_string={"file_id": att["id"]}).data
    assert label in page_text(att_pdf)
    assert assert_stock_pyhanko_accepts_every_signature(att_pdf, ca) == 1 + timestamps // 2
    assert assert_stock_pyhanko_accepts_offline(att_pdf, ca.root_certificate, "require") == 1 + timestamps // 2
    assert_pdfsig_trusts_every_signature(att_pdf, 1, ca)

    # The electronic copy prints its own number; its signature fills the field the certification made.
    r = clerk.post(f"/api/v1/documents/{draft['id']}/copies", json={"form": "SY"})
    assert r.status_code == 201, r.get_json()
    copy = r.get_json()
    copy_pdf = clerk.get(f"/api/v1/documents/{copy['id']}/content").data
    copy_text = page_text(copy_pdf)
    assert f"SAO Y; Số: {copy['number_notation']}" in re.sub(r"\s+", " ", copy_text), copy_text
    assert f"Số: {label}" in copy_text
    assert assert_stock_pyhanko_accepts_every_signature(copy_pdf, ca) == 3 + 3 * timestamps // 2
    assert assert_stock_pyhanko_accepts_offline(copy_pdf, ca.root_certificate, "require") == 3 + 3 * timestamps // 2
    assert_pdfsig_trusts_every_signature(copy_pdf, 3, ca)


def test_a_draft_without_number_and_date_text_needs_positions_before_signing(api, container) -> None:  # type: ignore[no-untyped-def]
    leader, clerk = api.as_user("chutich"), api.as_user("vanthu")
    assert leader.post("/api/v1/me/signing-key", json={"pin": PIN}).status_code == 201
    draft = _draft(api, official_pdf(SUBJECT, notation=None, date_line=None))
    # Nothing on the page says where the number and date go: the signature is refused, nothing written.
    error = assert_error(leader.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN}), 422,
                         "issue_fields_missing")
    assert "number" in error["message"] and "date" in error["message"] and "page-positions" in error["message"]
    assert api.as_user("chuyenvien").get(f"/api/v1/documents/{draft['id']}").get_json()["status"] == "approved"
    # Only the registry places them, with sane values.
    positions = {"number": {"page": 1, "x": 80, "y": 745, "size": 12},
                 "date": {"page": 1, "x": 330, "y": 742, "size": 12}, "place": "Đồng Đăng"}
    assert_error(api.as_user("chuyenvien").put(f"/api/v1/documents/{draft['id']}/page-positions",
                                               json=positions), 403)
    assert_error(clerk.put(f"/api/v1/documents/{draft['id']}/page-positions",
                           json={**positions, "number": {"page": 3, "x": 80, "y": 745}}), 400)
    r = clerk.put(f"/api/v1/documents/{draft['id']}/page-positions", json=positions)
    assert r.status_code == 200, r.get_json()
    assert leader.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN}).status_code == 200
    # Signed: the positions are fixed in the certified document.
    assert_error(clerk.put(f"/api/v1/documents/{draft['id']}/page-positions", json=positions), 409)
    r = clerk.post(f"/api/v1/documents/{draft['id']}/issue", json={"recipients": [{"name": "Các thôn"}]})
    assert r.status_code == 200, r.get_json()
    pdf = clerk.get(f"/api/v1/documents/{draft['id']}/content").data
    text = page_text(pdf)
    assert "Số: 01/QĐ-UBND" in text and f"Đồng Đăng, {_date_line()}" in text, text
    assert assert_stock_pyhanko_accepts_every_signature(pdf, container.signatures.ca) >= 2


def test_a_document_signed_without_the_fields_is_not_issued() -> None:
    """Signed before the fields existed (an older signature): refused at issue, never issued
    without its number and date on the page."""
    from docsvc.errors import InvalidState
    from docsvc.services.page_positions import require_issue_fields
    from signing.appearance import SignerAppearance
    from signing.pades import sign_pdf
    from tests.signing.pki import test_pki
    pki = test_pki()
    old = sign_pdf(official_pdf(), pki.user_key, level="B-B", certify=True,
                   appearance=SignerAppearance(pki.signature_image, name="Hoàng Văn Nam"))
    with pytest.raises(InvalidState, match="number and date"):
        require_issue_fields(old)


def test_the_registry_places_the_number_and_date_on_the_document_page(api, pages) -> None:  # type: ignore[no-untyped-def]
    leader = api.as_user("chutich")
    assert leader.post("/api/v1/me/signing-key", json={"pin": PIN}).status_code == 201
    draft = _draft(api, official_pdf(SUBJECT, notation=None, date_line=None))
    clerk = pages("vanthu")
    assert 'data-action="page_positions"' in clerk.get(f"/documents/{draft['id']}").get_data(as_text=True)
    bad = clerk.post(f"/documents/{draft['id']}/page_positions", {"number_page": "1", "number_x": "80"})
    assert bad.status_code == 400  # y missing: said on the page, nothing saved
    r = clerk.post(f"/documents/{draft['id']}/page_positions", {
        "number_page": "1", "number_x": "80", "number_y": "745", "number_size": "12",
        "date_page": "1", "date_x": "330", "date_y": "742", "date_size": "12", "place": "Đồng Đăng"})
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    saved = api.as_user("vanthu").get(f"/api/v1/documents/{draft['id']}").get_json()["page_positions"]
    assert saved == {"number": {"page": 1, "x": 80.0, "y": 745.0, "size": 12.0},
                     "date": {"page": 1, "x": 330.0, "y": 742.0, "size": 12.0}, "place": "Đồng Đăng"}
    assert leader.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN}).status_code == 200
    # Signed: the form is no longer offered.
    assert 'data-action="page_positions"' not in clerk.get(f"/documents/{draft['id']}").get_data(as_text=True)
