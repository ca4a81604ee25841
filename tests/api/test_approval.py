"""Approval chains: templates, submit, approve/reject/return, content binding, delegation."""

from __future__ import annotations

import io
from datetime import timedelta

from docsvc.timeutil import vn_today
from tests.fixtures.pdfs import official_pdf
from tests.helpers import assert_error, created, upload


def _me(api, username: str) -> dict:  # type: ignore[no-untyped-def]
    return api.as_user(username).get("/api/v1/me").get_json()


def _draft(api, username: str = "chuyenvien", **fields) -> dict:  # type: ignore[no-untyped-def]
    values = dict(direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                  issuing_organ_id=None, issued_date=None, received_via=None,
                  subject="Quyết định phê duyệt danh sách hộ nghèo năm 2026")
    values.update(fields)
    return created(upload(api.as_user(username), **values))


def test_default_chain_review_then_sign_then_issue(api) -> None:  # type: ignore[no-untyped-def]
    officer, head, leader = api.as_user("chuyenvien"), api.as_user("truongphong"), api.as_user("chutich")
    draft = _draft(api)
    assert_error(head.post(f"/api/v1/documents/{draft['id']}/submit", json={}), 404)  # not his draft (not visible)
    r = officer.post(f"/api/v1/documents/{draft['id']}/submit", json={"signer_id": _me(api, "chutich")["id"]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "in_review"
    chain = officer.get(f"/api/v1/documents/{draft['id']}/chain").get_json()["chains"][0]
    assert [s["kind"] for s in chain["steps"]] == ["review", "sign", "issue"]
    assert [s["status"] for s in chain["steps"]] == ["active", "waiting", "waiting"]
    assert [d["user"] for d in chain["steps"][1]["decisions"]] == ["Hoàng Văn Nam"]

    # The unit head reviews: the draft is in his inbox; approving moves it to the signer.
    item = next(i for i in head.get("/api/v1/inbox").get_json()["items"] if i["document"]["id"] == draft["id"])
    assert item["reason"] == "review"
    assert_error(leader.post(f"/api/v1/documents/{draft['id']}/approve", json={}), 403)  # not his turn
    r = head.post(f"/api/v1/documents/{draft['id']}/approve", json={"comment": "Đồng ý"})
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    assert any(i["reason"] == "sign" for i in leader.get("/api/v1/inbox").get_json()["items"])
    # Signing is its own action; approving the sign step is refused with a clear message.
    assert "sign" in assert_error(leader.post(f"/api/v1/documents/{draft['id']}/approve", json={}), 409)["message"]
    chain = officer.get(f"/api/v1/documents/{draft['id']}/chain").get_json()["chains"][0]
    review = chain["steps"][0]["decisions"][0]
    assert review["decision"] == "approved" and review["decided_by"] == "Lê Thị Hoa"
    assert chain["content_sha256"]


def test_return_and_reject_need_a_reason_and_go_back_to_the_drafter(api) -> None:  # type: ignore[no-untyped-def]
    officer, head = api.as_user("chuyenvien"), api.as_user("truongphong")
    draft = _draft(api)
    officer.post(f"/api/v1/documents/{draft['id']}/submit", json={})
    assert_error(head.post(f"/api/v1/documents/{draft['id']}/return-for-revision", json={"reason": ""}), 400)
    r = head.post(f"/api/v1/documents/{draft['id']}/return-for-revision", json={"reason": "Sửa lại Điều 2"})
    assert r.get_json()["status"] == "draft" and "Sửa lại Điều 2" in r.get_json()["status_reason"]
    assert any(i["reason"] == "revise" for i in officer.get("/api/v1/inbox").get_json()["items"])
    # Resubmitted, then rejected.
    officer.post(f"/api/v1/documents/{draft['id']}/submit", json={})
    r = head.post(f"/api/v1/documents/{draft['id']}/reject", json={"reason": "Không thuộc thẩm quyền"})
    assert r.get_json()["status"] == "draft" and r.get_json()["status_reason"].startswith("Từ chối")
    chains = officer.get(f"/api/v1/documents/{draft['id']}/chain").get_json()["chains"]
    assert [c["status"] for c in chains] == ["returned", "rejected"]


def test_a_new_version_restarts_the_chain(api) -> None:  # type: ignore[no-untyped-def]
    officer, head = api.as_user("chuyenvien"), api.as_user("truongphong")
    draft = _draft(api)
    officer.post(f"/api/v1/documents/{draft['id']}/submit", json={})
    head.post(f"/api/v1/documents/{draft['id']}/approve", json={})
    v2 = official_pdf("Quyết định phê duyệt danh sách hộ nghèo năm 2026 (bổ sung)")
    r = officer.post(f"/api/v1/documents/{draft['id']}/versions", data={"file": (io.BytesIO(v2), "v2.pdf")},
                     content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "in_review"
    chains = officer.get(f"/api/v1/documents/{draft['id']}/chain").get_json()["chains"]
    assert [c["status"] for c in chains] == ["superseded", "active"]
    assert chains[0]["content_sha256"] != chains[1]["content_sha256"]
    assert chains[1]["steps"][0]["status"] == "active"  # the review starts over


def test_templates_per_type_with_parallel_steps(api) -> None:  # type: ignore[no-untyped-def]
    admin = api.as_user("quantri")
    leaders = [_me(api, "chutich")["id"], _me(api, "phochutich")["id"]]
    body = {"name": "Quyết định: hai lãnh đạo cùng duyệt", "type_code": "QĐ", "steps": [
        {"kind": "review", "mode": "any", "approvers": [{"role": "unit_head", "unit": "drafting"}]},
        {"kind": "approve", "mode": "all", "approvers": [{"user_id": u} for u in leaders]},
        {"kind": "sign", "mode": "any", "approvers": [{"user_id": leaders[0]}]},
        {"kind": "issue", "mode": "any", "approvers": [{"role": "clerk"}]}]}
    assert_error(api.as_user("chuyenvien").post("/api/v1/chain-templates", json=body), 403)
    bad = {**body, "steps": body["steps"][:-1]}
    assert "issue" in assert_error(admin.post("/api/v1/chain-templates", json=bad), 400)["message"]
    assert admin.post("/api/v1/chain-templates", json=body).status_code == 201

    draft = _draft(api)
    api.as_user("chuyenvien").post(f"/api/v1/documents/{draft['id']}/submit", json={})
    api.as_user("truongphong").post(f"/api/v1/documents/{draft['id']}/approve", json={})
    api.as_user("phochutich").post(f"/api/v1/documents/{draft['id']}/approve", json={})
    chain = api.as_user("chuyenvien").get(f"/api/v1/documents/{draft['id']}/chain").get_json()["chains"][0]
    assert chain["steps"][1]["status"] == "active"  # "all": one of two is not enough
    r = api.as_user("chutich").post(f"/api/v1/documents/{draft['id']}/approve", json={})
    assert r.get_json()["status"] == "approved"


def test_delegation_kt_lets_the_deputy_decide_and_tuq_rules(api) -> None:  # type: ignore[no-untyped-def]
    head, deputy = api.as_user("chutich"), api.as_user("phochutich")
    today = vn_today()
    tuq_without_paper = {"delegate_id": _me(api, "phochutich")["id"], "form": "TUQ",
                         "valid_from": today.isoformat(), "valid_until": (today + timedelta(days=30)).isoformat()}
    assert "written authorisation" in assert_error(head.post("/api/v1/delegations", json=tuq_without_paper),
                                                   400)["message"]
    r = head.post("/api/v1/delegations",
                  json={**tuq_without_paper, "authorisation_ref": "Giấy ủy quyền số 03/GUQ-UBND"})
    assert r.status_code == 201, r.get_json()
    tuq = r.get_json()
    again = {"delegate_id": _me(api, "truongphong")["id"], "form": "TUQ", "parent_id": tuq["id"],
             "authorisation_ref": "x", "valid_from": today.isoformat(),
             "valid_until": (today + timedelta(days=5)).isoformat()}
    assert "cannot be delegated again" in assert_error(deputy.post("/api/v1/delegations", json=again), 400)["message"]
    assert_error(api.as_user("chuyenvien").post("/api/v1/delegations", json=tuq_without_paper), 403)

    # With a KT. delegation, the deputy takes the head's review decision.
    admin = api.as_user("quantri")
    admin.post("/api/v1/chain-templates", json={"name": "Chủ tịch duyệt", "steps": [
        {"kind": "approve", "approvers": [{"user_id": _me(api, "chutich")["id"]}]},
        {"kind": "sign", "mode": "any", "approvers": [{"role": "leader"}]},
        {"kind": "issue", "approvers": [{"role": "clerk"}]}]})
    draft = _draft(api)
    api.as_user("chuyenvien").post(f"/api/v1/documents/{draft['id']}/submit", json={})
    assert_error(head.post(f"/api/v1/delegations/{tuq['id']}", json={}), 405)  # wrong verb: a JSON 405
    assert head.delete(f"/api/v1/delegations/{tuq['id']}").status_code == 204
    assert_error(deputy.post(f"/api/v1/documents/{draft['id']}/approve", json={}), 403)  # revoked: no authority
    kt = head.post("/api/v1/delegations", json={"delegate_id": _me(api, "phochutich")["id"], "form": "KT",
                                                 "valid_from": today.isoformat(),
                                                 "valid_until": (today + timedelta(days=365)).isoformat()})
    assert kt.status_code == 201
    r = deputy.post(f"/api/v1/documents/{draft['id']}/approve", json={})
    assert r.status_code == 200, r.get_json()
    decision = api.as_user("chuyenvien").get(f"/api/v1/documents/{draft['id']}/chain").get_json()[
        "chains"][0]["steps"][0]["decisions"][0]
    assert decision["decided_by"] == "Phạm Thị Mai" and decision["authority_form"] == "KT"
    assert decision["user"] == "Hoàng Văn Nam"
