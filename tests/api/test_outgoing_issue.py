"""Outgoing end to end: draft → chain → sign (PIN) → issue (number, seal, recipients) → arrives at a
sister agency with its signatures validated → recall; electronic copies; pdfsig checks our PDFs."""

from __future__ import annotations

from typing import Any

from tests.helpers import PIN, assert_error, created, upload
from tests.helpers import me as _me
from tests.helpers import signed_draft as _signed_draft
from tests.signing.pki import assert_pdfsig_trusts_every_signature


def _org_id(api: Any, organ_id: str) -> int:
    orgs = api.as_user("quantri").get("/api/v1/organisations").get_json()["items"]
    return next(o["id"] for o in orgs if o.get("organ_id") == organ_id)


def _unit_id(api: Any, abbreviation: str, agency_id: int) -> int:
    orgs = api.as_user("quantri").get("/api/v1/organisations").get_json()["items"]
    return next(o["id"] for o in orgs if o["abbreviation"] == abbreviation and o.get("parent_id") == agency_id)


def test_sign_needs_the_right_pin_and_the_signers_turn(api) -> None:  # type: ignore[no-untyped-def]
    officer, head, leader = api.as_user("chuyenvien"), api.as_user("truongphong"), api.as_user("chutich")
    draft = created(upload(officer, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None,
                           subject="Quyết định thành lập tổ công tác"))
    officer.post(f"/api/v1/documents/{draft['id']}/submit", json={"signer_id": _me(api, "chutich")["id"]})
    # Not the signer's turn yet (the unit head reviews first).
    assert_error(leader.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN}), 403)
    head.post(f"/api/v1/documents/{draft['id']}/approve", json={})
    # No key yet → a clear message; a short PIN is refused at enrolment.
    assert "signing certificate" in assert_error(
        leader.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN}), 403)["message"]
    assert_error(leader.post("/api/v1/me/signing-key", json={"pin": "12"}), 400)
    assert leader.post("/api/v1/me/signing-key", json={"pin": PIN}).status_code == 201
    assert leader.get("/api/v1/me/signing-key").get_json()["subject"].find("Hoàng Văn Nam") >= 0
    assert_error(leader.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": "999999"}), 403, "wrong_pin")
    assert_error(leader.post(f"/api/v1/documents/{draft['id']}/sign", json={}), 400)
    # The deputy has no turn and no delegation: the draft is not even visible to him.
    api.as_user("phochutich").post("/api/v1/me/signing-key", json={"pin": PIN})
    assert_error(api.as_user("phochutich").post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN}), 404)
    r = leader.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN})
    assert r.status_code == 200 and r.get_json()["status"] == "signed"
    # Signed once: the signer cannot sign again; the registry sees it waiting to be issued.
    assert_error(leader.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN}), 403)
    inbox = api.as_user("vanthu").get("/api/v1/inbox").get_json()["items"]
    assert any(i["document"]["id"] == draft["id"] for i in inbox)


def test_issue_delivers_to_the_sister_agency_validated_then_recall(api, container) -> None:  # type: ignore[no-untyped-def]
    doc = _signed_draft(api)
    clerk = api.as_user("vanthu")
    snv = _org_id(api, "000.00.02.H41")
    commune = _org_id(api, "000.00.31.H41")
    pkt = _unit_id(api, "PKT", commune)
    # Only the registry issues; recipients are required and checked.
    assert_error(api.as_user("chutich").post(f"/api/v1/documents/{doc['id']}/issue",
                                             json={"recipients": [{"agency_id": snv}]}), 403)
    assert_error(clerk.post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": []}), 400)
    assert_error(clerk.post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [{"agency_id": 99999}]}), 400)
    assert_error(clerk.post(f"/api/v1/documents/{doc['id']}/issue",
                            json={"recipients": [{"agency_id": snv}, {"agency_id": snv}]}), 400)
    # Failed attempts took no number.
    assert clerk.get("/api/v1/registers/outgoing").get_json()["rows"] == []

    # An agency on this system is chosen by its id, not sent to as an outside body (issue 17).
    assert "choose it by agency_id" in assert_error(clerk.post(f"/api/v1/documents/{doc['id']}/issue", json={
        "recipients": [{"agency_id": snv}, {"name": "Ủy ban nhân dân tỉnh Lạng Sơn", "organ_id": "000.00.00.H41"}]}),
        400)["message"]
    r = clerk.post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [
        {"agency_id": snv}, {"unit_id": pkt}, {"name": "Văn phòng Chính phủ", "organ_id": "000.00.00.G22"}]})
    assert r.status_code == 200, r.get_json()
    issued = r.get_json()
    assert issued["status"] == "issued" and issued["number_notation"] == "01/QĐ-UBND"
    assert issued["issued_date"]
    entries = clerk.get("/api/v1/registers/outgoing").get_json()["rows"]
    assert [e["number"] for e in entries] == [1]

    # The issued PDF: the chairman's signature (certifying) then the commune's seal — both valid
    # for pyHanko-based validation and for poppler's pdfsig with NSS trusting our root.
    pdf = clerk.get(f"/api/v1/documents/{doc['id']}/content").data
    assert_pdfsig_trusts_every_signature(pdf, 2, container.signatures.ca)
    report = container.signatures.validate(pdf)
    assert report["verdict"] in ("valid", "valid_with_warnings"), report
    assert len(report["signatures"]) >= 2

    # The unit recipient may read it; the external one is listed.
    assert api.as_user("truongphong").get(f"/api/v1/documents/{doc['id']}").status_code == 200
    container.exchange.send_pending()  # what the background send does (the tests run background work explicitly)
    recipients = clerk.get(f"/api/v1/documents/{doc['id']}/recipients").get_json()["items"]
    assert {r["name"] for r in recipients} >= {"Sở Nội vụ tỉnh Lạng Sơn", "Văn phòng Chính phủ"}
    to_snv = next(r for r in recipients if r["agency_id"] == snv)
    assert to_snv["status_code"] == "01"  # arrived
    # No exchange transport is configured here: the outside recipient is never shown as sent.
    outside = next(r for r in recipients if r["name"] == "Văn phòng Chính phủ")
    assert outside["status_code"] is None and outside["sent_at"] is None
    assert outside["exchange"]["message"]["state"] == "failed"
    assert "no exchange transport" in outside["exchange"]["message"]["last_error"]

    # At the Sở Nội vụ: an incoming document, its signatures validated on receipt.
    snv_clerk = api.as_user("snv.vanthu")
    incoming = [d for d in snv_clerk.get("/api/v1/documents", query_string={"direction": "incoming"})
                .get_json()["items"] if d["subject"] == doc["subject"]]
    assert len(incoming) == 1
    copy = snv_clerk.get(f"/api/v1/documents/{incoming[0]['id']}").get_json()
    assert copy["status"] == "received" and copy["number_notation"] == "01/QĐ-UBND"
    assert copy["issuing_organ_id"] == "000.00.31.H41"
    main = next(f for f in copy["files"] if f["role"] == "main")
    assert main["signatures"]["verdict"] in ("valid", "valid_with_warnings")
    assert snv_clerk.get(f"/api/v1/documents/{copy['id']}/content").data == pdf
    # Nobody at the commune reads the Sở's copy; the Sở does not read the commune's original.
    assert_error(clerk.get(f"/api/v1/documents/{copy['id']}"), 404)
    assert_error(snv_clerk.get(f"/api/v1/documents/{doc['id']}"), 404)
    assert snv_clerk.post(f"/api/v1/documents/{copy['id']}/register", json={}).status_code == 200
    to_snv = next(r for r in clerk.get(f"/api/v1/documents/{doc['id']}/recipients").get_json()["items"]
                  if r["agency_id"] == snv)
    assert to_snv["status_code"] == "03"  # accepted and registered

    # Recall: frozen here, withdrawn there; the Sở's registry confirms.
    assert_error(api.as_user("chuyenvien").post(f"/api/v1/documents/{doc['id']}/recall", json={"reason": "x"}), 403)
    r = api.as_user("chutich").post(f"/api/v1/documents/{doc['id']}/recall", json={"reason": "Sai sót số liệu"})
    assert r.status_code == 200 and r.get_json()["status"] == "recalled"
    assert snv_clerk.get(f"/api/v1/documents/{copy['id']}").get_json()["status"] == "withdrawn"
    assert_error(clerk.post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [{"agency_id": snv}]}), 409)
    assert snv_clerk.post(f"/api/v1/documents/{copy['id']}/confirm-recall", json={}).status_code == 200
    statuses = {r["name"]: r["status_code"] for r in clerk.get(f"/api/v1/documents/{doc['id']}/recipients")
                .get_json()["items"]}
    assert statuses["Sở Nội vụ tỉnh Lạng Sơn"] == "15"
    actions = [e["action"] for e in clerk.get(f"/api/v1/documents/{doc['id']}/history").get_json()["items"]]
    assert {"document.sign", "document.issue", "document.recall"} <= set(actions)


def test_electronic_copy_has_its_own_series_and_text_signature(api, container) -> None:  # type: ignore[no-untyped-def]
    doc = _signed_draft(api)
    clerk = api.as_user("vanthu")
    r = clerk.post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [{"name": "Các thôn"}]})
    assert r.status_code == 200, r.get_json()
    assert_error(api.as_user("chuyenvien").post(f"/api/v1/documents/{doc['id']}/copies", json={}), 403)
    assert_error(clerk.post(f"/api/v1/documents/{doc['id']}/copies", json={"form": "XX"}), 400)
    r = clerk.post(f"/api/v1/documents/{doc['id']}/copies", json={"form": "SY"})
    assert r.status_code == 201, r.get_json()
    copy = r.get_json()
    assert copy["number_notation"] == "01/SY-UBND" and copy["status"] == "issued"
    copies = clerk.get("/api/v1/registers/outgoing", query_string={"series": "copy"}).get_json()["rows"]
    assert [e["number"] for e in copies] == [1]
    normal = clerk.get("/api/v1/registers/outgoing").get_json()["rows"]
    assert [e["number"] for e in normal] == [1]  # the copy did not take a number of the normal series
    pdf = clerk.get(f"/api/v1/documents/{copy['id']}/content").data
    assert_pdfsig_trusts_every_signature(pdf, 3, container.signatures.ca)
    report = container.signatures.validate(pdf)
    signers = [x["signer"]["common_name"] for x in report["signatures"] if x["kind"] != "document_timestamp"]
    # chairman, commune seal at issue, then the commune's text signature of the copy
    assert signers == ["Hoàng Văn Nam", "Ủy ban nhân dân xã Đồng Đăng", "Ủy ban nhân dân xã Đồng Đăng"], report


def test_a_failed_organisation_signature_takes_no_number(api, container) -> None:  # type: ignore[no-untyped-def]
    doc = _signed_draft(api)
    clerk = api.as_user("vanthu")
    # Make the agency's seal key unusable: its PKCS#12 PIN no longer matches.
    from docsvc import secrets_store
    commune = _org_id(api, "000.00.31.H41")
    r = clerk.post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [{"name": "Các thôn"}]})
    assert r.status_code == 200  # first issue creates the seal key
    doc2 = _signed_draft(api)
    pin_file = container.settings.data_dir / "keys" / "agencies" / f"agency-{commune}.pin"
    assert pin_file.read_text().strip() == secrets_store.agency_key_pin(container.settings, commune)
    pin_file.write_text("not-the-pin\n")
    container.signatures.keyring.clear()
    before = sorted(container.store.list())
    assert_error(clerk.post(f"/api/v1/documents/{doc2['id']}/issue", json={"recipients": [{"name": "Các thôn"}]}),
                 503, "organisation_key_unavailable")
    assert [e["number"] for e in clerk.get("/api/v1/registers/outgoing").get_json()["rows"]] == [1]
    assert clerk.get(f"/api/v1/documents/{doc2['id']}").get_json()["status"] == "signed"
    assert sorted(container.store.list()) == before  # nothing written for the failed issue


def test_signing_and_issuing_answer_the_internal_ca_in_process(api, container, pki) -> None:  # type: ignore[no-untyped-def]
    """Issue #9: the chairman's B-LT signature, the seal at issue and the validation on receipt at
    the sister agency take their time-stamps, OCSP responses and CRLs from the internal CA in this
    process: not one request reaches the CA's HTTP endpoints (served for this test's CA by the
    loopback PKI server), which still answer outside validators (pdfsig)."""
    server = pki[0]
    before = server.request_count()
    doc = _signed_draft(api)
    r = api.as_user("vanthu").post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [
        {"agency_id": _org_id(api, "000.00.02.H41")}]})
    assert r.status_code == 200, r.get_json()
    assert server.request_count() == before, dict(server.requests)
    answered = container.signatures.trust.local_pki.answered
    assert answered.get("POST /tsa", 0) >= 2 and answered.get("POST /ocsp", 0) >= 2, answered
    pdf = api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}/content").data
    assert_pdfsig_trusts_every_signature(pdf, 2, container.signatures.ca)
    assert server.request_count() > before  # NSS asked the OCSP responder over HTTP
