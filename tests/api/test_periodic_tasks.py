"""Periodic work: deadline reminders and escalation, orphan sweep, long-term validity refresh."""

from __future__ import annotations

import io
from datetime import timedelta

from docsvc.timeutil import vn_today
from tests.helpers import created, upload


def _notes(api, username: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return api.as_user(username).get("/api/v1/notifications").get_json()["items"]


def test_reminder_then_overdue_and_escalation_once(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk, leader = api.as_user("vanthu"), api.as_user("chutich")
    doc = created(upload(clerk))
    clerk.post(f"/api/v1/documents/{doc['id']}/register", json={})
    officer_id = api.as_user("chuyenvien").get("/api/v1/me").get_json()["id"]
    r = leader.post(f"/api/v1/documents/{doc['id']}/assignments",
                    json={"lead": {"user_id": officer_id}, "deadline_days": 1})
    assert r.status_code in (200, 201), r.get_json()
    deadline = container.calendar.calendar().add_working_days(vn_today(), 1)
    first = container.deadlines.sweep(today=vn_today())
    assert first.reminders == 1 and first.overdue == 0
    assert any(n["kind"] == "deadline.reminder" for n in _notes(api, "chuyenvien"))
    late = deadline + timedelta(days=3)
    report = container.deadlines.sweep(today=late)
    assert (report.overdue, report.escalations) == (1, 1)
    # The head of the officer's unit may not read the document (not related to it): the escalation
    # goes to the leader who assigned it (issue 14: a notice names a document only to its readers).
    assert not any(n["document_id"] == doc["id"] for n in _notes(api, "truongphong"))
    assert any(n["kind"] == "deadline.escalated" for n in _notes(api, "chutich"))
    again = container.deadlines.sweep(today=late)
    assert (again.reminders, again.overdue, again.escalations) == (0, 0, 0)  # each notice once
    # Completed work is never chased.
    api.as_user("chuyenvien").post(f"/api/v1/documents/{doc['id']}/complete", json={"summary": "Đã xử lý xong"})
    assert container.deadlines.sweep(today=late + timedelta(days=7)).overdue == 0


def test_orphan_sweep_removes_only_unreferenced_objects(api, container) -> None:  # type: ignore[no-untyped-def]
    doc = created(upload(api.as_user("vanthu")))
    orphan = container.store.put(io.BytesIO(b"%PDF-1.4 left behind by a crashed upload"),
                                 content_type="application/pdf")
    assert container.sweep_orphans(grace=timedelta(0)) >= 1
    assert not container.store.exists(orphan.key)
    assert api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}/content").status_code == 200


def test_ltv_refresh_adds_a_document_timestamp_before_expiry(api, container) -> None:  # type: ignore[no-untyped-def]
    from tests.api.test_outgoing_issue import _signed_draft
    doc = _signed_draft(api)
    clerk = api.as_user("vanthu")
    assert clerk.post(f"/api/v1/documents/{doc['id']}/issue",
                      json={"recipients": [{"name": "Các thôn"}]}).status_code == 200
    before = clerk.get(f"/api/v1/documents/{doc['id']}/content").data
    assert container.outgoing.refresh_ltv(horizon_days=1) == 0  # certificates are years from expiry
    assert container.outgoing.refresh_ltv(horizon_days=365 * 30) == 1
    after = clerk.get(f"/api/v1/documents/{doc['id']}/content").data
    assert after.startswith(before) and len(after) > len(before)
    report = container.signatures.validate(after)
    assert report["verdict"] in ("valid", "valid_with_warnings")
    assert any(s["kind"] == "document_timestamp" for s in report["signatures"])
