"""The reports dashboard: figures per month/type, handling on time/late/overdue per officer,
average time, overdue list without secret subjects, only what the caller may read; exports."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import update

from docsvc.db.models import Assignment
from docsvc.timeutil import vn_today
from tests.helpers import assert_error, created, me, upload


def _registered(clerk, n: int, **fields):  # type: ignore[no-untyped-def]
    d = created(upload(clerk, number_notation=f"{n}/QĐ-UBND", **fields))
    assert clerk.post(f"/api/v1/documents/{d['id']}/register", json={}).status_code == 200
    return d


def test_dashboard_figures_access_and_exports(api, container, pages) -> None:  # type: ignore[no-untyped-def]
    clerk, leader = api.as_user("vanthu"), api.as_user("chutich")
    late = _registered(clerk, 51)
    done = _registered(clerk, 52, type="TB", subject="Thông báo lịch họp")
    secret = _registered(clerk, 53, secrecy="mat", subject="Kế hoạch mật về quốc phòng", file=False)
    head = me(api, "truongphong")["id"]
    officer = me(api, "chuyenvien")["id"]
    for d, who in ((late, officer), (done, officer), (secret, head)):
        r = leader.post(f"/api/v1/documents/{d['id']}/assignments",
                        json={"lead": {"user_id": who}, "deadline_days": 5})
        assert r.status_code == 201, r.get_json()
    r = api.as_user("chuyenvien").post(f"/api/v1/documents/{done['id']}/complete", json={"note": "Xong"})
    assert r.status_code == 200, r.get_json()
    with container.db.write() as s:  # two deadlines already past
        s.execute(update(Assignment).where(Assignment.document_id.in_([late["id"], secret["id"]]))
                  .values(deadline=vn_today() - timedelta(days=2)))

    d = leader.get("/api/v1/reports/dashboard").get_json()
    month = vn_today().month - 1
    assert sum(d["received_total"]) == 3 and d["received_total"][month] == 3
    assert d["received"]["Quyết định"][month] == 2 and d["received"]["Thông báo"][month] == 1
    officers = {o["user_id"]: o for o in d["handling"]["officers"]}
    assert officers[officer]["on_time"] == 1 and officers[officer]["overdue"] == 1
    assert officers[head]["overdue"] == 1
    assert d["completed"] == 1 and d["average_handling_days"] is not None
    overdue = {o["document_id"]: o for o in d["overdue"]}
    assert set(overdue) == {late["id"], secret["id"]}
    assert overdue[secret["id"]]["subject"] == "(văn bản mật)"
    assert "quốc phòng" not in str(d)

    # Only what the caller may read; officers get no dashboard; a sister agency sees nothing of ours.
    assert_error(api.as_user("chuyenvien").get("/api/v1/reports/dashboard"), 403)
    assert sum(api.as_user("snv.giamdoc").get("/api/v1/reports/dashboard").get_json()["received_total"]) == 0
    assert_error(leader.get("/api/v1/reports/dashboard", query_string={"unit_id": 999999}), 400)

    csv = leader.get("/api/v1/reports/dashboard/export", query_string={"format": "csv"})
    assert csv.status_code == 200 and "Văn bản đến theo tháng" in csv.data.decode("utf-8-sig")
    assert "quốc phòng" not in csv.data.decode("utf-8-sig")
    xlsx = leader.get("/api/v1/reports/dashboard/export", query_string={"format": "xlsx"})
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(xlsx.data))
    assert len(book.sheetnames) == 6 and book.worksheets[0]["A1"].value.startswith("Văn bản đến")
    pdf = leader.get("/api/v1/reports/dashboard/export", query_string={"format": "pdf"})
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")

    page = pages("chutich").get("/reports")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("<svg") == 3 and 'data-export="xlsx"' in html
    assert "(văn bản mật)" in html and "quốc phòng" not in html
    assert pages("chuyenvien").get("/reports").status_code == 403
