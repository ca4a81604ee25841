"""Calendars per agency (issue 14 §8): an agency's administrator changed the deployment-wide calendar and
moved another agency's deadlines. National days are the deployment administrator's; each agency's own
days are its administrators'; deadlines of an agency's documents count that agency's working days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from docsvc.domain.calendar import WorkCalendar
from docsvc.timeutil import vn_today
from tests.helpers import assert_error, created, upload


def _me(api: Any, username: str) -> dict[str, Any]:
    return api.as_user(username).get("/api/v1/me").get_json()


def _days(client: Any, year: int, **query: Any) -> dict[str, dict[str, Any]]:
    r = client.get("/api/v1/calendar", query_string={"year": year, **query})
    assert r.status_code == 200, r.get_json()
    return {d["day"]: d for d in r.get_json()["items"]}


def _assign(api: Any, clerk: str, leader: str, officer: str, days: int) -> str:
    """Register an incoming document of the clerk's agency and give it to the officer in ``days`` working days."""
    doc = created(upload(api.as_user(clerk)))
    assert api.as_user(clerk).post(f"/api/v1/documents/{doc['id']}/register", json={}).status_code == 200
    r = api.as_user(leader).post(f"/api/v1/documents/{doc['id']}/assignments",
                                 json={"lead": {"user_id": _me(api, officer)["id"]}, "deadline_days": days})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["due_date"]


def test_an_agency_admin_cannot_change_the_national_calendar(api: Any) -> None:
    commune_admin = api.as_user("quantri")
    day = (vn_today() + timedelta(days=40)).isoformat()
    year = int(day[:4])
    err = assert_error(commune_admin.put("/api/v1/calendar", json={"day": day, "workday": False, "name": "Nghỉ",
                                                                   "national": True}), 403, "forbidden")
    assert "deployment" in err["message"]
    snv = _me(api, "snv.vanthu")["agency_id"]
    assert_error(commune_admin.put("/api/v1/calendar", json={"day": day, "workday": False, "name": "Nghỉ",
                                                             "agency_id": snv}), 403)
    assert_error(api.as_user("vanthu").put("/api/v1/calendar", json={"day": day, "workday": False, "name": "Nghỉ"}),
                 403)
    # His own agency's calendar he may change: it shows there, not in the department's.
    r = commune_admin.put("/api/v1/calendar", json={"day": day, "workday": False, "name": "Lễ hội xã"})
    assert r.status_code == 200, r.get_json()
    assert _days(commune_admin, year)[day]["source"] == "agency"
    assert day not in _days(api.as_user("snv.vanthu"), year)
    assert day not in _days(commune_admin, year, national="true")
    # The deployment's administrator (the province's) sets national days, seen by every agency.
    national = (vn_today() + timedelta(days=41)).isoformat()
    r = api.as_user("tinh.quantri").put("/api/v1/calendar", json={"day": national, "workday": False,
                                                                   "name": "Nghỉ lễ bổ sung", "national": True})
    assert r.status_code == 200, r.get_json()
    for user in ("vanthu", "snv.vanthu"):
        assert _days(api.as_user(user), int(national[:4]))[national]["source"] == "national"
    # ...and, as an administrator above them, the agencies' own days.
    r = api.as_user("tinh.quantri").put("/api/v1/calendar", json={"day": day, "workday": False, "name": "Nghỉ",
                                                                   "agency_id": snv})
    assert r.status_code == 200 and _days(api.as_user("snv.vanthu"), year)[day]["source"] == "agency"
    assert_error(api.as_user("quantri").get("/api/v1/calendar", query_string={"year": year, "agency_id": 999_999}),
                 404)


def test_deadlines_count_the_working_days_of_the_documents_agency(api: Any, container: Any) -> None:
    commune_admin = api.as_user("quantri")
    # The commune closes its next 11 working days; the department's calendar is untouched.
    closed, day = 0, vn_today()
    while closed < 11:
        day += timedelta(days=1)
        if WorkCalendar().is_workday(day):
            r = commune_admin.put("/api/v1/calendar", json={"day": day.isoformat(), "workday": False,
                                                            "name": "Đóng cửa trụ sở"})
            assert r.status_code == 200, r.get_json()
            closed += 1
    national = WorkCalendar().add_working_days(vn_today(), 2)
    assert _assign(api, "snv.vanthu", "snv.giamdoc", "snv.chuyenvien", 2) == national.isoformat()
    commune_due = _assign(api, "vanthu", "chutich", "chuyenvien", 2)
    commune_agency = _me(api, "vanthu")["agency_id"]
    assert commune_due == container.calendar.calendar(agency_id=commune_agency).add_working_days(
        vn_today(), 2).isoformat()
    assert commune_due > day.isoformat()
    # The reminder sweep uses each agency's calendar too: the department's work is due soon, the commune's not.
    report = container.deadlines.sweep(today=WorkCalendar().add_working_days(vn_today(), 1))
    assert report.reminders == 1
