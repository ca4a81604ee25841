"""Exchange between two deployments through the folder transport (issue 17): a decision issued in A
arrives in B as incoming, signatures valid and bytes identical; B's registry and handlers act and A
sees 01, 03, 04, 05, 06 in order; A recalls and B accepts (15) or refuses (16). Tampered and
unsigned packages are rejected and kept in quarantine; nothing is shown as sent before a transport
took it."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.api.exchange_support import B_SNV, Deployment, two_deployments
from tests.helpers import PageClient, assert_error, me, page_actions, page_text
from tests.helpers import signed_draft as _signed_draft

COMMUNE = "Ủy ban nhân dân xã Đồng Đăng"  # the demo commune: the name its organisation certificate carries


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "shared-exchange"


@pytest.fixture
def pair(backend: str, tmp_path: Path, pki: Any, request: pytest.FixtureRequest, folder: Path) -> Any:
    with two_deployments(backend, tmp_path, pki, request, exchange_folder=str(folder),
                         exchange_default_transport="folder") as (a, b):
        yield a, b


def _issue_to_b(a: Deployment) -> dict[str, Any]:
    doc = _signed_draft(a.api)
    r = a.api.as_user("vanthu").post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [
        {"name": "Sở Nội vụ tỉnh B", "organ_id": B_SNV}]})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _recipient(a: Deployment, doc_id: int) -> dict[str, Any]:
    items = a.api.as_user("vanthu").get(f"/api/v1/documents/{doc_id}/recipients").get_json()["items"]
    assert len(items) == 1
    return items[0]


def _b_copy(b: Deployment) -> dict[str, Any]:
    items = b.api.as_user("snv.vanthu").get("/api/v1/documents?direction=incoming").get_json()["items"]
    assert len(items) == 1, items
    return items[0]


def _round(a: Deployment, b: Deployment) -> None:
    """B sends what it queued, A takes it in."""
    b.exchange.send_pending()
    a.exchange.receive()


def _issued_sha(a: Deployment, doc_id: int) -> str:
    versions = a.api.as_user("vanthu").get(f"/api/v1/documents/{doc_id}/versions").get_json()
    items = versions["items"] if isinstance(versions, dict) else versions
    return [v for v in items if v["role"] == "issued"][-1]["sha256"]


@pytest.mark.parametrize("accept", [True, False], ids=["recall-accepted", "recall-refused"])
def test_decision_travels_a_to_b_with_statuses_and_recall(pair: Any, accept: bool) -> None:
    a, b = pair
    doc = _issue_to_b(a)
    # Not sent before a transport took it: queued, no "00", no sent_at.
    r = _recipient(a, doc["id"])
    assert r["status_code"] is None and r["sent_at"] is None and r["exchange"]["message"]["state"] == "queued"
    assert a.exchange.send_pending().sent == 1
    r = _recipient(a, doc["id"])
    assert r["status_code"] == "00" and r["exchange"]["message"]["state"] == "sent"
    assert r["exchange"]["message"]["sent_at"].endswith("+07:00")

    assert b.exchange.receive() == 1
    copy = _b_copy(b)
    clerk_b = b.api.as_user("snv.vanthu")
    detail = clerk_b.get(f"/api/v1/documents/{copy['id']}").get_json()
    assert detail["code_notation"] == doc["code_notation"] and detail["issuing_organ_id"] == "000.00.31.H41"
    content = clerk_b.get(f"/api/v1/documents/{copy['id']}/content")
    assert hashlib.sha256(content.data).hexdigest() == _issued_sha(a, doc["id"])  # byte-identical
    versions = clerk_b.get(f"/api/v1/documents/{copy['id']}/versions").get_json()
    main = [v for v in (versions["items"] if isinstance(versions, dict) else versions) if v["role"] == "main"][0]
    assert main["signatures"]["verdict"] in ("valid", "valid_with_warnings"), main["signatures"]
    assert len(main["signatures"]["signatures"]) == 2  # the signer's and the organisation's

    _round(a, b)
    assert _recipient(a, doc["id"])["status_code"] == "01"
    assert clerk_b.post(f"/api/v1/documents/{copy['id']}/register", json={}).status_code == 200
    _round(a, b)
    leader_b = b.api.as_user("snv.giamdoc")
    officer_id = me(b.api, "snv.chuyenvien")["id"]
    r = leader_b.post(f"/api/v1/documents/{copy['id']}/assignments",
                      json={"lead": {"user_id": officer_id}, "deadline_days": 5, "instruction": "Xử lý"})
    assert r.status_code in (200, 201), r.get_json()
    _round(a, b)
    officer_b = b.api.as_user("snv.chuyenvien")
    r = officer_b.post(f"/api/v1/documents/{copy['id']}/progress", json={"text": "Đang xử lý"})
    assert r.status_code in (200, 201)
    _round(a, b)
    assert officer_b.post(f"/api/v1/documents/{copy['id']}/complete", json={"note": "Xong"}).status_code == 200
    _round(a, b)
    r = _recipient(a, doc["id"])
    assert [st["code"] for st in r["exchange"]["statuses"]] == ["01", "03", "04", "05", "06"]
    assert r["status_code"] == "06" and all(st["at"].endswith("+07:00") for st in r["exchange"]["statuses"])

    # Recall: a revoke package; B answers 15 (copy withdrawn) or 16 (with its reason).
    assert_error(clerk_b.post(f"/api/v1/documents/{copy['id']}/recall-answer", json={"accept": True}), 409)
    assert a.api.as_user("vanthu").post(f"/api/v1/documents/{doc['id']}/recall",
                                        json={"reason": "Sai thể thức"}).status_code == 200
    a.exchange.send_pending()
    assert _recipient(a, doc["id"])["status_code"] == "13"
    assert b.exchange.receive() == 1
    exchange_b = clerk_b.get(f"/api/v1/documents/{copy['id']}/exchange").get_json()
    assert exchange_b["recall_pending"] is True
    if accept:
        r = clerk_b.post(f"/api/v1/documents/{copy['id']}/recall-answer", json={"accept": True})
        assert r.status_code == 200 and r.get_json()["status"] == "withdrawn"
    else:
        assert_error(clerk_b.post(f"/api/v1/documents/{copy['id']}/recall-answer", json={"accept": False}), 400)
        r = clerk_b.post(f"/api/v1/documents/{copy['id']}/recall-answer",
                         json={"accept": False, "reason": "Đã thi hành xong"})
        assert r.status_code == 200 and r.get_json()["status"] == "completed"
    _round(a, b)
    r = _recipient(a, doc["id"])
    assert r["status_code"] == ("15" if accept else "16")
    if not accept:
        assert r["note"] == "Đã thi hành xong"
    assert not list(Path(a.container.settings.exchange_folder).glob("*/*.xml"))  # everything was taken


def test_returned_to_the_sender_answers_02_with_the_reason(pair: Any) -> None:
    a, b = pair
    doc = _issue_to_b(a)
    a.exchange.send_pending()
    b.exchange.receive()
    copy = _b_copy(b)
    r = b.api.as_user("snv.vanthu").post(f"/api/v1/documents/{copy['id']}/return",
                                         json={"reason": "Gửi nhầm cơ quan"})
    assert r.status_code == 200, r.get_json()
    _round(a, b)
    rec = _recipient(a, doc["id"])
    assert [st["code"] for st in rec["exchange"]["statuses"]] == ["01", "02"]
    assert rec["status_code"] == "02" and rec["note"] == "Gửi nhầm cơ quan"
    kinds = [n["kind"] for n in a.api.as_user("vanthu").get("/api/v1/notifications").get_json()["items"]]
    assert "exchange.status_02" in kinds


def test_tampered_and_unsigned_packages_are_quarantined_not_imported(pair: Any, folder: Path) -> None:
    a, b = pair
    doc = _issue_to_b(a)
    a.exchange.send_pending()
    [package] = list((folder / B_SNV).glob("*.xml"))
    original = package.read_bytes()
    package.write_bytes(original.replace("Quyết định".encode(), "Quyết đinh".encode(), 1))  # one byte changed
    assert b.exchange.receive() == 1
    assert b.api.as_user("snv.vanthu").get("/api/v1/documents?direction=incoming").get_json()["items"] == []
    rejected = b.api.as_user("snv.vanthu").get("/api/v1/exchange/rejected").get_json()["items"]
    assert len(rejected) == 1 and "changed after it was signed" in rejected[0]["reason"]
    kept = list((b.container.settings.data_dir / "exchange" / "quarantine").glob("*.xml"))
    assert len(kept) == 1 and kept[0].read_bytes() != original
    # The same package without its signature file: rejected too, and a second copy of it once more.
    (folder / B_SNV).mkdir(exist_ok=True)
    (folder / B_SNV / f"{'0' * 20}_unsigned-1.xml").write_bytes(original)
    assert b.exchange.receive() == 1
    rejected = b.api.as_user("snv.vanthu").get("/api/v1/exchange/rejected").get_json()["items"]
    assert any("not signed" in x["reason"] for x in rejected)
    assert b.api.as_user("snv.vanthu").get("/api/v1/documents?direction=incoming").get_json()["items"] == []
    # A's recipient stays "sent" (00): nothing came back.
    assert _recipient(a, doc["id"])["status_code"] == "00"


def test_redelivered_package_is_imported_once(pair: Any, folder: Path) -> None:
    a, b = pair
    _issue_to_b(a)
    a.exchange.send_pending()
    [package] = list((folder / B_SNV).glob("*.xml"))
    body, sig = package.read_bytes(), package.with_suffix(".p7s").read_bytes()
    assert b.exchange.receive() == 1
    # At-least-once: the same message arrives again (a transport that redelivers).
    (folder / B_SNV / package.name).write_bytes(body)
    (folder / B_SNV / package.with_suffix(".p7s").name).write_bytes(sig)
    assert b.exchange.receive() == 1
    assert len(b.api.as_user("snv.vanthu").get("/api/v1/documents?direction=incoming").get_json()["items"]) == 1
    b.exchange.send_pending()
    assert a.exchange.receive() == 1  # one 01, not two


def test_removable_media_export_and_import(pair: Any, tmp_path: Path) -> None:
    from docsvc.services.exchange.folder import FolderTransport
    a, b = pair
    doc = _issue_to_b(a)
    medium = tmp_path / "usb"
    assert a.exchange.send_pending(via=FolderTransport(medium)).sent == 1  # `docsvc exchange export DIR`
    assert _recipient(a, doc["id"])["status_code"] == "00"
    assert b.exchange.receive_folder(medium) == 1  # `docsvc exchange import DIR`
    assert len(b.api.as_user("snv.vanthu").get("/api/v1/documents?direction=incoming").get_json()["items"]) == 1


def test_directory_csv_import_and_recipient_picker(api: Any) -> None:
    admin = api.as_user("quantri")
    bad = "organ_id,name,email,transport\n000.00.00.G22,Văn phòng Chính phủ,,\n000.00.00.X,Sai mã,,\n"
    assert "line 3" in assert_error(admin.post("/api/v1/exchange/agencies/import", data=bad,
                                               content_type="text/csv"), 400)["message"]
    assert admin.get("/api/v1/exchange/agencies?q=Chính phủ").get_json()["items"] == []  # all rows or none
    good = ("\ufefforgan_id,name,email,transport\n000.00.00.G22,Văn phòng Chính phủ,,broker\n"
            "000.00.00.C99,Công ty CP Xây dựng A,vanthu@congty-a.vn,email\n")
    r = admin.post("/api/v1/exchange/agencies/import", data=good, content_type="text/csv")
    assert r.status_code == 200 and r.get_json() == {"created": 2, "updated": 0}
    r = admin.post("/api/v1/exchange/agencies/import", data=good, content_type="text/csv")
    assert r.get_json() == {"created": 0, "updated": 2}
    assert_error(admin.post("/api/v1/exchange/agencies/import", data="organ_id,name\n000.00.31.H41,Xã\n",
                            content_type="text/csv"), 400)  # an agency on this system
    assert_error(api.as_user("chuyenvien").post("/api/v1/exchange/agencies/import", data=good,
                                                content_type="text/csv"), 403)
    picker = api.as_user("vanthu").get("/api/v1/exchange/agencies?q=Công ty").get_json()["items"]
    assert picker == [{"kind": "outside", "organ_id": "000.00.00.C99", "name": "Công ty CP Xây dựng A",
                       "email": "vanthu@congty-a.vn", "transport": "email"}]
    internal = api.as_user("vanthu").get("/api/v1/exchange/agencies?q=000.00.02").get_json()["items"]
    assert internal[0]["kind"] == "internal" and internal[0]["agency_id"]


def test_signed_but_hostile_packages_are_rejected_whole(pair: Any) -> None:
    """Packages with a valid organisation signature but bad content: entity declarations, a wrong
    namespace, a missing field, an attachment whose SHA-256 differs, another agency named as the
    sender: each rejected with its reason, kept in quarantine, and nothing imported."""
    from docsvc.db.models import Organisation
    from docsvc.services.exchange import edxml
    from docsvc.services.exchange.transport import Envelope
    from signing.cms import sign_detached
    from tests.fixtures.pdfs import official_pdf
    a, b = pair
    good = edxml.build_package(edxml.Package(
        message_id="hostile-1", sender=edxml.Organ("000.00.31.H41", COMMUNE), to=(edxml.Organ(B_SNV),),
        code_number="09", code_notation="QĐ-UBND", promulgation_place="Đồng Đăng",
        promulgation_date=date(2026, 12, 7), type_code="QĐ", type_name="Quyết định",
        subject="Quyết định thử", attachments=(edxml.Attachment("qd.pdf", official_pdf()),)))
    sha = edxml.parse_package(good).attachments[0].sha256.encode()
    bodies = {
        "entity": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + good.split(b"?>", 1)[1],
        "namespace": good.replace(edxml.NS.encode(), b"http://example.org/edxml"),
        "missing": good.replace(b"<edXML:Subject>Quy", b"<edXML:Subjekt>Quy").replace(b"</edXML:Subject>",
                                                                                     b"</edXML:Subjekt>"),
        "sha256": good.replace(sha, b"f" * 64),
        "impostor": good.replace(COMMUNE.encode(), "Ủy ban nhân dân tỉnh Lạng Sơn".encode()),
    }
    with a.container.db.write() as s:
        signer = a.container.signatures.agency_signer(
            s, s.query(Organisation).filter_by(organ_id="000.00.31.H41").one())
    # The untouched package is accepted: each refusal below is for what was changed.
    assert b.exchange.handle(Envelope(message_id="good", to_organ_id=B_SNV, body=good,
                                      signature=sign_detached(good, signer.key)), "folder") == "imported"
    for name, body in bodies.items():
        state = b.exchange.handle(Envelope(message_id=f"hostile-{name}", to_organ_id=B_SNV, body=body,
                                           signature=sign_detached(body, signer.key)), "folder")
        assert state == "rejected", name
    reasons = [x["reason"] for x in b.api.as_user("snv.vanthu").get("/api/v1/exchange/rejected").get_json()["items"]]
    assert len(reasons) == 5 and any("not by the sender" in r for r in reasons)
    assert any("DOCTYPE" in r for r in reasons) and any("root element" in r for r in reasons)
    assert any("Subject is missing" in r for r in reasons) and any("SHA-256" in r for r in reasons)
    assert len(b.api.as_user("snv.vanthu").get("/api/v1/documents?direction=incoming").get_json()["items"]) == 1
    assert len(list((b.container.settings.data_dir / "exchange" / "quarantine").glob("*.reason.txt"))) == 5


def _delivered(a: Deployment, b: Deployment) -> tuple[dict[str, Any], dict[str, Any]]:
    """A decision issued in A, sent, received in B, B's 01 back in A: (A's document, B's copy)."""
    doc = _issue_to_b(a)
    assert a.exchange.send_pending().sent == 1
    assert b.exchange.receive() == 1
    _round(a, b)
    return doc, _b_copy(b)


def _actions(d: Deployment, user: str, doc_id: int) -> dict[str, Any]:
    """What the document page offers ``user`` (the list of allowed actions, services/actions.py)."""
    actor = d.container.identity.actor_for(me(d.api, user)["id"])
    return d.container.actions.allowed(actor, doc_id).to_dict()


def test_update_goes_to_the_outside_recipient_and_is_received(pair: Any) -> None:
    """The issuing registry corrects the subject of a decision already at B: an update package
    (business type 2, same DocumentId) goes out, truthful per recipient, and B receives it as a
    correcting document naming the one it corrects; B's answers come back to the same recipient."""
    a, b = pair
    clerk_a = a.api.as_user("vanthu")
    doc = _issue_to_b(a)
    # Nothing has gone out yet: nothing to update (the queued package will carry the current metadata).
    assert "exchange_update" not in _actions(a, "vanthu", doc["id"])["actions"]
    assert_error(clerk_a.post(f"/api/v1/documents/{doc['id']}/exchange-update",
                              json={"reason": "Sai trích yếu", "subject": "Khác"}), 409)
    a.exchange.send_pending()
    assert b.exchange.receive() == 1
    _round(a, b)
    first_copy = _b_copy(b)
    assert b.api.as_user("snv.vanthu").post(f"/api/v1/documents/{first_copy['id']}/register",
                                            json={}).status_code == 200
    _round(a, b)
    actions = _actions(a, "vanthu", doc["id"])["actions"]
    assert {"exchange_update", "exchange_replace"} <= set(actions)
    assert "exchange_update" not in _actions(a, "chutich", doc["id"])["actions"]  # the registry's act
    url = f"/api/v1/documents/{doc['id']}/exchange-update"
    assert_error(a.api.as_user("chutich").post(url, json={"reason": "x", "subject": "y"}), 403)
    assert_error(clerk_a.post(url, json={"subject": "Không lý do"}), 400)  # the reason is required
    assert_error(clerk_a.post(url, json={"reason": "Sai số", "code_number": "99"}), 400)  # identity stays
    assert_error(clerk_a.post(url, json={"reason": "Không đổi", "subject": doc["subject"]}), 400)  # nothing changed
    corrected = "Quyết định phê duyệt danh sách hộ nghèo, hộ cận nghèo năm 2026"
    r = clerk_a.post(url, json={"reason": "Trích yếu thiếu hộ cận nghèo", "subject": corrected,
                                "due_date": "2026-12-31"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["changed"]["subject"] == {"from": doc["subject"], "to": corrected}
    assert [m["business"] for m in body["queued"]] == ["update"] and body["queued"][0]["state"] == "queued"
    assert clerk_a.get(f"/api/v1/documents/{doc['id']}").get_json()["subject"] == corrected
    # Truthful: queued until the transport takes it, then sent; the recipient keeps its progress (03).
    rec = _recipient(a, doc["id"])
    assert rec["exchange"]["message"]["business"] == "update" and rec["exchange"]["message"]["state"] == "queued"
    assert a.exchange.send_pending().sent == 1
    rec = _recipient(a, doc["id"])
    assert rec["exchange"]["message"]["state"] == "sent" and rec["status_code"] == "03"
    history = clerk_a.get(f"/api/v1/documents/{doc['id']}/history").get_json()["items"]
    assert any(e["action"] == "document.exchange_update" for e in history)

    assert b.exchange.receive() == 1
    clerk_b = b.api.as_user("snv.vanthu")
    copies = clerk_b.get("/api/v1/documents?direction=incoming").get_json()["items"]
    assert len(copies) == 2
    update = next(c for c in copies if c["id"] != first_copy["id"])
    detail = clerk_b.get(f"/api/v1/documents/{update['id']}").get_json()
    assert detail["subject"] == corrected and detail["due_date"] == "2026-12-31"
    assert detail["code_notation"] == doc["code_notation"]
    assert "đính chính" in detail["description"] and "số đến" in detail["description"]
    inbound = clerk_b.get(f"/api/v1/documents/{update['id']}/exchange").get_json()["inbound"]
    assert inbound[0]["business"] == 2 and inbound[0]["xml_signature"] == "valid"
    _round(a, b)  # B's 01 about the update reaches the same recipient in A
    rec = _recipient(a, doc["id"])
    assert [st["code"] for st in rec["exchange"]["statuses"]] == ["01", "03", "01"]
    assert rec["status_code"] == "03"  # a later 01 never moves it back
    # The page's form (prefilled with the current values) sends only what changed.
    page = PageClient(a.api.client)
    assert page.login("vanthu", a.api.password).status_code == 303
    current = clerk_a.get(f"/api/v1/documents/{doc['id']}").get_json()
    form = {"subject": current["subject"], "due_date": current["due_date"],
            "signer_name": current["signer"]["full_name"], "signer_position": "Chủ tịch Ủy ban nhân dân",
            "page_amount": str(current["page_amount"] or 1), "reason": "Sai chức vụ người ký"}
    r = page.post(f"/documents/{doc['id']}/exchange_update", form)
    assert r.status_code in (302, 303), page_text(r)[:300]
    updates = [e["details"]["changed"] for e in clerk_a.get(f"/api/v1/documents/{doc['id']}/history").get_json()[
        "items"] if e["action"] == "document.exchange_update"]
    assert len(updates) == 2 and {"subject", "due_date"} in [set(u) for u in updates]
    second = next(u for u in updates if "signer_position" in u)
    assert set(second) <= {"signer_position", "page_amount"}
    assert second["signer_position"]["to"] == "Chủ tịch Ủy ban nhân dân"
    assert a.exchange.send_pending().sent == 1


def test_replacement_goes_to_the_outside_recipients_and_can_be_recalled(pair: Any) -> None:
    """Another issued decision replaces the first at B: a replace package (business type 3) naming
    the replaced DocumentId; B becomes a recipient of the replacement with its own statuses; the
    replacement can itself be recalled at B."""
    a, b = pair
    clerk_a = a.api.as_user("vanthu")
    doc, first_copy = _delivered(a, b)
    draft = _signed_draft(a.api, subject="Quyết định thay thế Quyết định phê duyệt danh sách hộ nghèo")
    url = f"/api/v1/documents/{doc['id']}/exchange-replace"
    assert_error(clerk_a.post(url, json={"replacement_id": draft["id"], "reason": "Chưa ban hành"}), 409)
    r = clerk_a.post(f"/api/v1/documents/{draft['id']}/issue", json={"recipients": [{"name": "Lưu: VT"}]})
    assert r.status_code == 200, r.get_json()
    new = r.get_json()
    assert_error(clerk_a.post(url, json={"replacement_id": doc["id"], "reason": "Chính nó"}), 409)
    assert_error(clerk_a.post(url, json={"replacement_id": 999999, "reason": "Không có"}), 400)
    assert_error(clerk_a.post(url, json={"replacement_id": new["id"]}), 400)  # the reason is required
    assert_error(a.api.as_user("chuyenvien").post(url, json={"replacement_id": new["id"], "reason": "x"}), 403)
    assert new["id"] in [o["id"] for o in _actions(a, "vanthu", doc["id"])["replacements"]]
    # Through the document page: its two forms, then the replacement chosen in the list.
    page = PageClient(a.api.client)
    assert page.login("vanthu", a.api.password).status_code == 303
    shown = page.get(f"/documents/{doc['id']}")
    assert {"exchange_update", "exchange_replace"} <= page_actions(shown)
    assert f'<option value="{new["id"]}"' in shown.get_data(as_text=True)
    r = page.post(f"/documents/{doc['id']}/exchange_replace", {"replacement_id": str(new["id"]),
                                                              "reason": "Sai số liệu hộ nghèo"})
    assert r.status_code in (302, 303), page_text(r)[:300]
    replaced_ref = f"000.00.31.H41,{doc['issued_date'].replace('-', '/')},{doc['code_number']}/{doc['code_notation']}"
    history = clerk_a.get(f"/api/v1/documents/{doc['id']}/history").get_json()["items"]
    replace_event = next(e for e in history if e["action"] == "document.exchange_replace")
    assert replace_event["details"]["replacement"] == new["id"]
    assert page_actions(page.get(f"/documents/{doc['id']}")) >= {"exchange_replace"}  # others may still follow
    assert_error(clerk_a.post(url, json={"replacement_id": new["id"], "reason": "Lần nữa"}), 409)  # once
    items = clerk_a.get(f"/api/v1/documents/{new['id']}/recipients").get_json()["items"]
    outside = [i for i in items if i.get("organ_id") == B_SNV]
    assert len(outside) == 1 and outside[0]["status_code"] is None and outside[0]["sent_at"] is None
    assert outside[0]["exchange"]["message"]["business"] == "replace"
    assert a.exchange.send_pending().sent == 1
    items = clerk_a.get(f"/api/v1/documents/{new['id']}/recipients").get_json()["items"]
    assert [i["status_code"] for i in items if i.get("organ_id") == B_SNV] == ["00"]

    assert b.exchange.receive() == 1
    clerk_b = b.api.as_user("snv.vanthu")
    copies = clerk_b.get("/api/v1/documents?direction=incoming").get_json()["items"]
    replacement = next(c for c in copies if c["id"] != first_copy["id"])
    detail = clerk_b.get(f"/api/v1/documents/{replacement['id']}").get_json()
    assert detail["code_number"] == new["code_number"] and "thay thế" in detail["description"]
    assert replaced_ref in detail["description"]
    inbound = clerk_b.get(f"/api/v1/documents/{replacement['id']}/exchange").get_json()["inbound"]
    assert inbound[0]["business"] == 3 and inbound[0]["replaces"] == replaced_ref
    _round(a, b)
    items = clerk_a.get(f"/api/v1/documents/{new['id']}/recipients").get_json()["items"]
    assert [i["status_code"] for i in items if i.get("organ_id") == B_SNV] == ["01"]
    assert _recipient(a, doc["id"])["status_code"] == "01"  # the replaced document's recipient is its own
    # The replacement is recalled like any document that went out: B is asked (13) and answers.
    assert clerk_a.post(f"/api/v1/documents/{new['id']}/recall", json={"reason": "Nhầm"}).status_code == 200
    assert a.exchange.send_pending().sent == 1
    assert b.exchange.receive() == 1
    assert clerk_b.get(f"/api/v1/documents/{replacement['id']}/exchange").get_json()["recall_pending"] is True


def test_header_changed_under_a_valid_cms_signature_is_rejected_and_kept(pair: Any, folder: Path) -> None:
    """The XML signature covers the header on its own: a package whose header was changed and then
    re-wrapped with a valid CMS signature (a relay that re-signs) is refused with the reason, kept
    in quarantine, nothing imported. One without any XML signature is accepted with a warning
    (systems that do not sign their headers), unless DOCSVC_EXCHANGE_REQUIRE_XML_SIGNATURE."""
    from docsvc.db.models import Organisation
    from docsvc.services.exchange.transport import Envelope
    from signing.cms import sign_detached
    from signing.xmldsig import DS
    a, b = pair
    _issue_to_b(a)
    a.exchange.send_pending()
    [package] = list((folder / B_SNV).glob("*.xml"))
    body = package.read_bytes()
    assert f'xmlns:ds="{DS}"'.encode() in body and b"<ds:SignatureValue>" in body
    with a.container.db.write() as s:
        key = a.container.signatures.agency_signer(
            s, s.query(Organisation).filter_by(organ_id="000.00.31.H41").one()).key
    altered = body.replace("Quyết định phê duyệt".encode(), "Quyết định hủy bỏ".encode(), 1)
    assert altered != body
    state = b.exchange.handle(Envelope(message_id="m1", to_organ_id=B_SNV, body=altered,
                                       signature=sign_detached(altered, key)), "folder")
    assert state == "rejected"
    rejected = b.api.as_user("snv.vanthu").get("/api/v1/exchange/rejected").get_json()["items"]
    assert len(rejected) == 1 and "changed after the XML signature was made" in rejected[0]["reason"]
    kept = list((b.container.settings.data_dir / "exchange" / "quarantine").glob("*.xml"))
    assert [k.read_bytes() for k in kept] == [altered]
    assert b.api.as_user("snv.vanthu").get("/api/v1/documents?direction=incoming").get_json()["items"] == []
    # The signature removed: accepted with a warning (recorded), or refused when the deployment requires it.
    from lxml import etree
    root = etree.fromstring(body)
    for sig in root.iter(f"{{{DS}}}Signature"):
        sig.getparent().remove(sig)
    bare = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    b.exchange.require_xml_signature = True
    assert b.exchange.handle(Envelope(message_id="m2", to_organ_id=B_SNV, body=bare,
                                      signature=sign_detached(bare, key)), "folder") == "rejected"
    rejected = b.api.as_user("snv.vanthu").get("/api/v1/exchange/rejected").get_json()["items"]
    assert "carries no XML signature" in rejected[0]["reason"]
    b.exchange.require_xml_signature = False
    assert b.exchange.handle(Envelope(message_id="m3", to_organ_id=B_SNV, body=bare,
                                      signature=sign_detached(bare, key)), "folder") == "imported"
    copy = _b_copy(b)
    inbound = b.api.as_user("snv.vanthu").get(f"/api/v1/documents/{copy['id']}/exchange").get_json()["inbound"]
    assert inbound[0]["xml_signature"] == "absent"
