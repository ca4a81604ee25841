"""A delegation makes its delegate a reader and signer of the drafts waiting for the delegator:
within its scope (document types) and its validity, never after it ends or is revoked."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from docsvc.db.models import Delegation
from docsvc.timeutil import vn_today
from tests.fixtures.pdfs import official_pdf
from tests.helpers import PIN, assert_error, created, me, upload


def _reviewed_draft(api: Any, type_code: str = "QĐ", subject: str = "Quyết định thành lập tổ công tác") -> dict:
    """A draft reviewed by the unit head and waiting for the chairman's signature (he alone signs)."""
    officer = api.as_user("chuyenvien")
    draft = created(upload(officer, direction="outgoing", type=type_code, number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, subject=subject,
                           file=official_pdf(subject)))
    r = officer.post(f"/api/v1/documents/{draft['id']}/submit", json={"signer_id": me(api, "chutich")["id"]})
    assert r.status_code == 200, r.get_json()
    assert api.as_user("truongphong").post(f"/api/v1/documents/{draft['id']}/approve", json={}).status_code == 200
    return draft


def _delegate(api: Any, form: str = "KT", days: int = 30, **extra: Any) -> dict:
    today = vn_today()
    r = api.as_user("chutich").post("/api/v1/delegations", json={
        "delegate_id": me(api, "phochutich")["id"], "form": form, "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=days)).isoformat(), **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_kt_delegate_reads_and_signs_the_chairmans_draft_without_a_grant(api, container) -> None:  # type: ignore[no-untyped-def]
    deputy = api.as_user("phochutich")
    assert deputy.post("/api/v1/me/signing-key", json={"pin": PIN}).status_code == 201
    draft = _reviewed_draft(api)
    # No delegation: the vice-chair is not related to the draft.
    assert_error(deputy.get(f"/api/v1/documents/{draft['id']}"), 404)
    assert_error(deputy.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN}), 404)

    _delegate(api, "KT")
    r = deputy.get(f"/api/v1/documents/{draft['id']}")
    assert r.status_code == 200, r.get_json()
    assert deputy.get(f"/api/v1/documents/{draft['id']}/content").status_code == 200
    assert any(i["document"]["id"] == draft["id"] and i["reason"] == "sign"
               for i in deputy.get("/api/v1/inbox").get_json()["items"])
    assert draft["id"] in [h["id"] for h in deputy.get("/api/v1/documents?direction=outgoing").get_json()["items"]]
    assert deputy.get(f"/api/v1/documents/{draft['id']}/chain").get_json()["my_turn"]["authority_form"] == "KT."

    r = deputy.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN})
    assert r.status_code == 200, r.get_json()
    signed = r.get_json()
    assert signed["status"] == "signed" and signed["signer"]["authority_form"] == "KT."
    pdf = deputy.get(f"/api/v1/documents/{draft['id']}/content").data
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    assert "KT. CHỦ TỊCH" in text and "Phạm Thị Mai" in text
    report = container.signatures.validate(pdf)
    assert report["verdict"] in ("valid", "valid_with_warnings"), report
    # Audited as any read and signature, the sign event naming whom he signed for.
    history = api.as_user("chuyenvien").get(f"/api/v1/documents/{draft['id']}/history").get_json()["items"]
    sign = next(e for e in history if e["action"] == "document.sign")
    assert sign["details"]["authority_form"] == "KT." and sign["details"]["on_behalf_of"] == me(api, "chutich")["id"]
    assert any(e["action"] == "document.read" and e["actor"] == "phochutich" for e in history)


def test_revoked_or_expired_delegation_stops_reading_out_of_scope_never_reads(api, container) -> None:  # type: ignore[no-untyped-def]
    deputy = api.as_user("phochutich")
    draft = _reviewed_draft(api)
    kt = _delegate(api, "KT")
    assert deputy.get(f"/api/v1/documents/{draft['id']}").status_code == 200
    assert api.as_user("chutich").delete(f"/api/v1/delegations/{kt['id']}").status_code == 204
    assert_error(deputy.get(f"/api/v1/documents/{draft['id']}"), 404)
    assert_error(deputy.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN}), 404)

    # Expiry: the periodic sweep notices the end of the validity period (no request needed).
    tuq = _delegate(api, "TUQ", authorisation_ref="Giấy ủy quyền số 03/GUQ-UBND")
    assert deputy.get(f"/api/v1/documents/{draft['id']}").status_code == 200
    assert container.approval.sync_delegation_readers() == 0  # nothing changed since it was created
    with container.db.write() as s:  # time passes: the authorisation ended yesterday
        s.execute(update(Delegation).where(Delegation.id == tuq["id"]).values(
            valid_from=vn_today() - timedelta(days=10), valid_until=vn_today() - timedelta(days=1)))
    assert container.approval.sync_delegation_readers() == 1
    assert_error(deputy.get(f"/api/v1/documents/{draft['id']}"), 404)
    assert container.approval.sync_delegation_readers() == 0  # applied once
    # A delegation starting in the future grants nothing until the sweep sees its first day.
    later = api.as_user("chutich").post("/api/v1/delegations", json={
        "delegate_id": me(api, "phochutich")["id"], "form": "KT",
        "valid_from": (vn_today() + timedelta(days=1)).isoformat(),
        "valid_until": (vn_today() + timedelta(days=9)).isoformat()}).get_json()
    assert_error(deputy.get(f"/api/v1/documents/{draft['id']}"), 404)
    with container.db.write() as s:
        s.execute(update(Delegation).where(Delegation.id == later["id"]).values(valid_from=vn_today()))
    assert container.approval.sync_delegation_readers() == 1
    assert deputy.get(f"/api/v1/documents/{draft['id']}").status_code == 200
    api.as_user("chutich").delete(f"/api/v1/delegations/{later['id']}")

    # Scope: a delegation for Công văn only does not open a Quyết định.
    _delegate(api, "KT", type_codes=["cong_van"])
    assert_error(deputy.get(f"/api/v1/documents/{draft['id']}"), 404)
    assert_error(deputy.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN}), 404)
    assert not any(i["document"]["id"] == draft["id"] for i in deputy.get("/api/v1/inbox").get_json()["items"])


def test_the_delegate_reads_only_what_waits_for_the_delegator(api) -> None:  # type: ignore[no-untyped-def]
    deputy = api.as_user("phochutich")
    _delegate(api, "KT")
    draft = _reviewed_draft(api)
    assert deputy.get(f"/api/v1/documents/{draft['id']}").status_code == 200
    # The chairman signs it himself: nothing waits for him any more, the deputy no longer reads it.
    leader = api.as_user("chutich")
    if leader.get("/api/v1/me/signing-key").status_code != 200:
        assert leader.post("/api/v1/me/signing-key", json={"pin": PIN}).status_code == 201
    assert leader.post(f"/api/v1/documents/{draft['id']}/sign", json={"pin": PIN}).status_code == 200
    assert_error(deputy.get(f"/api/v1/documents/{draft['id']}"), 404)
