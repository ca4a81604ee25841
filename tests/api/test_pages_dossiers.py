"""The dossier pages through Flask's test client: the year's dossier plan, a dossier's page with its
Appendix VI metadata, documents and actions (file, close with the checks listed, reopen, edit,
extend, export), and the dossiers box of the document page; who sees what."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from typing import Any

from docsvc.timeutil import vn_today
from tests.api.archive_support import close, file_into, open_dossier, plan_id, raise_clearance, registered_incoming
from tests.helpers import created, me, page_actions, page_text, upload


def _location_id(response: Any, kind: str = "dossiers") -> int:
    assert response.status_code == 303, (response.status_code, page_text(response)[:800])
    return int(re.search(rf"/{kind}/(\d+)", response.headers["Location"]).group(1))


def test_dossier_plan_create_add_and_list(pages, api) -> None:  # type: ignore[no-untyped-def]
    year = vn_today().year
    clerk, officer, admin = pages("vanthu"), pages("chuyenvien"), pages("quantri")
    # No plan yet: the officer is told who makes it; the registry may create it.
    r = officer.get("/dossiers")
    assert r.status_code == 200 and f"Chưa có danh mục hồ sơ năm {year}" in page_text(r)
    assert 'data-form="plan"' not in r.get_data(as_text=True)
    r = officer.post("/dossiers/plans", {"year": year})
    assert r.status_code == 403 and "Chỉ lưu trữ hoặc văn thư mới lập danh mục hồ sơ" in page_text(r)
    assert clerk.post("/dossiers/plans", {"year": year}, csrf=False).status_code == 400
    assert 'data-form="plan"' in clerk.get("/dossiers").get_data(as_text=True)
    r = clerk.post("/dossiers/plans", {"year": year, "title": ""})
    assert r.status_code == 303 and r.headers["Location"] == f"/dossiers?year={year}"
    r = clerk.post("/dossiers/plans", {"year": year})
    assert r.status_code == 409 and f"Danh mục hồ sơ năm {year} đã có" in page_text(r)
    pid = plan_id(api, year)

    # Adding a dossier: a bad notation is explained and the form keeps what was typed.
    body = {"year": year, "notation": "01 TCCB!", "title": "Hồ sơ tổ chức cán bộ năm", "retention_code": "TC-20",
            "owner_id": me(api, "chuyenvien")["id"], "open": "1"}
    r = clerk.post(f"/dossiers/plans/{pid}/dossiers", body)
    assert r.status_code == 400 and "Số và ký hiệu hồ sơ có dạng 01.TCCB" in page_text(r)
    assert "Hồ sơ tổ chức cán bộ năm" in page_text(r) and "<details class=\"card\" open>" in r.get_data(as_text=True)
    r = clerk.post(f"/dossiers/plans/{pid}/dossiers", {**body, "retention_code": "NOPE", "notation": "01.TCCB"})
    assert r.status_code == 400 and "Không có mục “NOPE” trong bảng thời hạn bảo quản" in page_text(r)
    dossier_id = _location_id(clerk.post(f"/dossiers/plans/{pid}/dossiers", {**body, "notation": "01.TCCB"}))
    r = clerk.post(f"/dossiers/plans/{pid}/dossiers", {**body, "notation": "01.TCCB"})
    assert r.status_code == 409 and "Danh mục đã có hồ sơ 01.TCCB" in page_text(r)
    # An officer adds his own (no owner to choose); naming someone else is refused.
    r = officer.post(f"/dossiers/plans/{pid}/dossiers", {"notation": "02.KT", "title": "Hồ sơ kinh tế của tôi"})
    mine = _location_id(r)
    assert 'name="owner_id"' not in officer.get("/dossiers").get_data(as_text=True)
    r = officer.post(f"/dossiers/plans/{pid}/dossiers", {"notation": "03.KT", "title": "x",
                                                         "owner_id": me(api, "truongphong")["id"]})
    assert r.status_code == 403 and "bạn chỉ thêm hồ sơ do chính mình lập" in page_text(r).lower()

    # The plan lists FileCode, title, retention, owner, status (and a legal-hold mark).
    created(api.as_user("chutich").post("/api/v1/legal-holds", json={"dossier_id": dossier_id, "reason": "Thanh tra"}))
    page = clerk.get(f"/dossiers?year={year}")
    row = re.search(rf'<tr data-dossier="{dossier_id}".*?</tr>', page.get_data(as_text=True), re.S).group(0)
    text = re.sub(r"<[^>]+>", " ", row)
    assert "01.TCCB" in text and f"000.00.31.H41.{year}.01.TCCB" in text and "Hồ sơ tổ chức cán bộ năm" in text
    assert "20 năm" in text and "Trần Văn Minh" in text and "Đang lập" in text and "Phong tỏa" in text
    mine_row = re.search(rf'<tr data-dossier="{mine}".*?</tr>', page.get_data(as_text=True), re.S).group(0)
    assert "Trong danh mục" in mine_row and "Phong tỏa" not in mine_row
    assert "Hồ sơ kinh tế" not in page_text(clerk.get(f"/dossiers?year={year}&q=TCCB"))
    # The administrator keeps no dossiers; a sister agency never sees the plan.
    assert admin.get("/dossiers").status_code == 403
    assert "Hồ sơ tổ chức cán bộ năm" not in page_text(pages("snv.vanthu").get(f"/dossiers?year={year}"))
    assert pages("snv.vanthu").get(f"/dossiers/{dossier_id}").status_code == 404


def test_dossier_page_files_closes_with_the_checks_listed_and_reopens(pages, api, container) -> None:  # type: ignore[no-untyped-def]
    clerk, officer, archivist = pages("vanthu"), pages("chuyenvien"), pages("luutru")
    d = open_dossier(api, "05.VP", retention_code=None, title="Hồ sơ kế hoạch công tác quý")
    a = registered_incoming(api, 1, issued_date=(vn_today() - timedelta(days=10)).isoformat())
    b = registered_incoming(api, 2, issued_date=(vn_today() - timedelta(days=30)).isoformat())
    url = f"/dossiers/{d['id']}"
    assert page_actions(clerk.get(url)) == {"file", "close", "edit"}
    # The officer may see the dossier (same agency) but manages nothing and reads none of its documents.
    assert page_actions(officer.get(url)) == set()
    # Closing refused: the problems are listed clearly, with the status of the refusal.
    r = clerk.post(f"{url}/close", {})
    assert r.status_code == 409 and "Chưa thể kết thúc hồ sơ" in page_text(r)
    assert set(re.findall(r'data-problem="(\w+)"', r.get_data(as_text=True))) == {"retention_missing", "empty"}

    # Filing: by ID, or found by number and notation (the search index), never twice.
    r = clerk.post(f"{url}/file", {"document_id": str(a["id"])})
    assert r.status_code == 303 and "Đã đưa văn bản vào hồ sơ." in page_text(clerk.get(url))
    assert clerk.post(f"{url}/file", {}).status_code == 400
    r = clerk.post(f"{url}/file", {"document_id": str(a["id"])})
    assert r.status_code == 409 and f"Văn bản {a['id']} đã có trong hồ sơ này" in page_text(r)
    container.indexing.drain_all()
    found = clerk.get(f"{url}?find=02/QĐ-UBND")
    assert f'data-found="{b["id"]}"' in found.get_data(as_text=True) and b["subject"] in page_text(found)
    assert f'data-found="{a["id"]}"' not in found.get_data(as_text=True)
    assert clerk.post(f"{url}/file", {"document_id": str(b["id"])}).status_code == 303
    assert a["subject"] not in page_text(officer.get(url))  # documents the officer may not read stay out
    assert "unfile" in page_actions(clerk.get(url))

    # The officer's own dossier with his draft in it: the draft is named among the problems.
    own = open_dossier(api, "06.KT", retention_code="CV-05", user="chuyenvien")
    draft = created(upload(api.as_user("chuyenvien"), direction="outgoing", type="TB", number_notation=None,
                           issuing_body=None, issuing_organ_id=None, issued_date=None, received_via=None,
                           subject="Thông báo dự thảo lịch trực"))
    file_into(api, own["id"], draft["id"], user="chuyenvien")
    r = officer.post(f"/dossiers/{own['id']}/close", {})
    assert r.status_code == 409 and re.findall(r'data-problem="(\w+)"', r.get_data(as_text=True)) == ["draft"]
    assert "Thông báo dự thảo lịch trực vẫn là dự thảo" in page_text(r)
    tomorrow = (vn_today() + timedelta(days=1)).isoformat()
    r = clerk.post(f"{url}/close", {"work_ended_on": tomorrow})
    assert r.status_code == 400 and "Ngày kết thúc công việc không thể ở tương lai" in page_text(r)
    r = clerk.post(f"{url}/edit", {"title": "", "retention_code": "KH-10"})
    assert r.status_code == 400 and "Hãy điền “Tiêu đề hồ sơ”" in page_text(r)
    r = clerk.post(f"{url}/edit", {"title": d["title"], "retention_code": "KH-10", "rights": "public"})
    assert r.status_code == 303
    r = clerk.post(f"{url}/close", {})
    assert r.status_code == 303
    page = clerk.get(url)
    text = page_text(page)
    assert "Đã kết thúc hồ sơ: 2 văn bản, 2 trang." in text and "Đã kết thúc" in text
    body = page.get_data(as_text=True)
    field = {k: re.sub(r"<[^>]+>", "", v).strip() for k, v in re.findall(r'data-field="(\w+)">(.*?)</dd>', body, re.S)}
    assert field["FileCode"] == d["file_code"] and field["Maintenance"].startswith("10 năm")
    assert field["StartDate"] == (vn_today() - timedelta(days=30)).strftime("%d/%m/%Y")
    assert field["EndDate"] == (vn_today() - timedelta(days=10)).strftime("%d/%m/%Y")
    assert field["DocTotal"] == "2" and field["PageTotal"] == "2" and field["Rights"] == "Công khai"
    assert body.index(f'data-document="{b["id"]}"') < body.index(f'data-document="{a["id"]}"')  # DocOrdinal
    assert page_actions(page) == {"reopen", "export"}
    # The archive now holds it: the archivist reads its documents and may hold or extend it.
    assert a["subject"] in page_text(archivist.get(url))
    assert {"hold", "extend_retention", "transfer", "reopen", "export"} <= page_actions(archivist.get(url))
    r = clerk.post(f"{url}/reopen", {"reason": ""})
    assert r.status_code == 400 and "Hãy điền “Lý do”" in page_text(r)
    assert clerk.post(f"{url}/reopen", {"reason": "Bổ sung văn bản"}).status_code == 303
    assert "file" in page_actions(clerk.get(url)) and a["subject"] not in page_text(archivist.get(url))
    assert officer.post(f"{url}/close", {}).status_code == 403
    assert clerk.post(f"{url}/teleport", {}).status_code == 404


def test_retention_extension_export_and_english(pages, api) -> None:  # type: ignore[no-untyped-def]
    archivist = pages("luutru")
    d = open_dossier(api, "07.TC", retention_code="TC-20", title="Hồ sơ thanh tra năm")
    file_into(api, d["id"], registered_incoming(api, 3)["id"])
    close(api, d["id"])
    url = f"/dossiers/{d['id']}"
    page = archivist.get(url).get_data(as_text=True)
    form = re.search(r'data-action="extend_retention".*?</form>', page, re.S).group(0)
    offered = set(re.findall(r'<option value="([\w-]+)"', form))
    assert offered == {"VV-01", "VV-02", "VV-03", "NS-70", "XD-50"}  # only longer than 20 years
    r = archivist.post(f"{url}/extend_retention", {"retention_code": "KH-10", "reason": "x"})
    assert r.status_code == 400 and "Thời hạn bảo quản chỉ được kéo dài" in page_text(r)
    r = archivist.post(f"{url}/extend_retention", {"retention_code": "NS-70", "reason": "Giá trị lâu dài"})
    assert r.status_code == 303 and "Đã gia hạn thời hạn bảo quản thành 70 năm." in page_text(archivist.get(url))
    r = pages("vanthu").post(f"{url}/extend_retention", {"retention_code": "VV-01", "reason": "x"})
    assert r.status_code == 403

    z = archivist.get(f"{url}/export?renditions=0")
    assert z.status_code == 200 and z.mimetype == "application/zip"
    assert z.headers["Content-Disposition"].startswith("attachment;")
    names = zipfile.ZipFile(io.BytesIO(z.data)).namelist()
    assert any(n.endswith("manifest-sha256.txt") for n in names) and any(n.endswith("metadata.xml") for n in names)
    assert pages("chuyenvien").get(f"{url}/export").status_code == 403

    archivist.get(f"/lang/en?next={url}")
    text = page_text(archivist.get(url))
    assert "Retention period" in text and "70 years" in text and "Closed" in text and "Thời hạn bảo quản" not in text


def test_document_page_dossiers_box_and_filing_from_it(pages, api) -> None:  # type: ignore[no-untyped-def]
    clerk, officer = pages("vanthu"), pages("chuyenvien")
    doc = registered_incoming(api, 4)
    d = open_dossier(api, "08.VP", title="Hồ sơ công văn đến của Văn phòng")
    other = open_dossier(api, "09.KT", title="Hồ sơ của chuyên viên", user="chuyenvien")
    page = clerk.get(f"/documents/{doc['id']}")
    box = re.search(r'data-box="dossiers".*?</section>', page.get_data(as_text=True), re.S).group(0)
    assert "Chưa được đưa vào hồ sơ nào" in page_text(page)
    # the registry files for all
    assert f'<option value="{d["id"]}">' in box and f'<option value="{other["id"]}">' in box
    assert clerk.post(f"/documents/{doc['id']}/file", {}).status_code == 400
    r = clerk.post(f"/documents/{doc['id']}/file", {"dossier_id": str(d["id"])})
    assert r.status_code == 303 and r.headers["Location"] == f"/documents/{doc['id']}"
    page = clerk.get(f"/documents/{doc['id']}")
    box = re.search(r'data-box="dossiers".*?</section>', page.get_data(as_text=True), re.S).group(0)
    assert f'data-dossier="{d["id"]}"' in box and d["file_code"] in box and "Đang lập" in box
    assert f'<option value="{d["id"]}">' not in box
    # The officer may not read the document: no page, and filing it is refused without revealing it.
    assert officer.get(f"/documents/{doc['id']}").status_code == 404
    assert officer.post(f"/documents/{doc['id']}/file", {"dossier_id": str(other["id"])}).status_code == 404


def test_a_secret_dossier_stays_hidden_from_those_not_cleared(pages, api) -> None:  # type: ignore[no-untyped-def]
    """A Tối mật dossier: the Mật archivist sees it nowhere (plan, page, holds, transfers, search)."""
    title = "Hồ sơ phương án phòng thủ khu vực biên giới"
    leader = pages("phochutich")  # cleared Tối mật
    pid = plan_id(api, vn_today().year)
    r = leader.post(f"/dossiers/plans/{pid}/dossiers", {"notation": "10.QS", "title": title, "secrecy": "toi_mat",
                                                        "retention_code": "VV-03", "open": "1"})
    secret_id = _location_id(r)
    assert title in page_text(leader.get("/dossiers")) and "Tối mật" in page_text(leader.get(f"/dossiers/{secret_id}"))
    r = leader.post(f"/dossiers/{secret_id}/hold", {"reason": "Phục vụ điều tra"})
    assert r.status_code == 303
    archivist = pages("luutru")  # cleared Mật
    for path in ("/dossiers", "/dossiers?q=10.QS", "/archive/", "/archive/holds", "/archive/holds?all=1",
                 "/archive/transfers", "/archive/disposal", "/search?q=phong+thu"):
        r = archivist.get(path)
        assert r.status_code == 200 and title not in page_text(r) and "10.QS" not in page_text(r), path
    r = archivist.get(f"/dossiers/{secret_id}")
    assert r.status_code == 404 and title not in page_text(r)
    assert archivist.post(f"/dossiers/{secret_id}/hold", {"reason": "x"}).status_code == 404
    assert archivist.get(f"/dossiers/{secret_id}/export").status_code == 404
    # Nor may a Mật leader add one: the form offers what the clearance covers, the service refuses the rest.
    assert 'value="toi_mat"' not in pages("vanthu").get("/dossiers").get_data(as_text=True)
    r = pages("vanthu").post(f"/dossiers/plans/{pid}/dossiers",
                             {"notation": "11.QS", "title": "x", "secrecy": "toi_mat"})
    assert r.status_code == 403 and "Bạn không được tiếp cận hồ sơ độ Tối mật" in page_text(r)

    # A Tuyệt mật document filed in a dossier: its subject is hidden in the dossier's list, as in every list.
    raise_clearance(api, "vanthu", "tuyet_mat")
    top = registered_incoming(api, 5, content=False, secrecy="tuyet_mat", subject="Kế hoạch tác chiến khu vực")
    d = open_dossier(api, "12.QS", title="Hồ sơ quốc phòng")
    file_into(api, d["id"], top["id"])
    page = pages("vanthu").get(f"/dossiers/{d['id']}")
    assert "[Tuyệt mật]" in page_text(page) and "Kế hoạch tác chiến" not in page_text(page)
    assert "Kế hoạch tác chiến khu vực" in page_text(pages("vanthu").get(f"/documents/{top['id']}"))
