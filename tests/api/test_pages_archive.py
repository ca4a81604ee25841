"""The archive pages through Flask's test client: transfers and handover records, legal holds,
disposal (council, decision, destruction after a confirmation), the declassification review and
secrecy decisions, the retention catalogue (admin), archive facets on search, and the menus."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from docsvc.domain.archives import add_years
from docsvc.timeutil import vn_today
from tests.api.archive_support import closed_dossier, registered_incoming
from tests.helpers import page_text

COUNCIL = "Hoàng Văn Nam - Chủ tịch Hội đồng\nĐỗ Văn Bình - Lưu trữ\nLê Thị Hoa - Trưởng phòng"


def _row(response: Any, attr: str, value: Any) -> str:
    found = re.search(rf'<tr data-{attr}="{value}".*?</tr>', response.get_data(as_text=True), re.S)
    assert found, f"no row data-{attr}={value}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0)))


def test_menus_show_the_archive_pages_to_their_roles(pages) -> None:  # type: ignore[no-untyped-def]
    menus = {u: re.findall(r'<nav aria-label="[^"]+">(.*?)</nav>', pages(u).get("/work").get_data(as_text=True),
                           re.S)[0]
             for u in ("vanthu", "chuyenvien", "truongphong", "chutich", "luutru", "quantri")}
    for user, menu in menus.items():
        assert ('href="/dossiers"' in menu) == (user != "quantri"), user
        assert ('href="/archive/"' in menu) == (user in ("chutich", "luutru")), user
        assert ('href="/admin/retention"' in menu) == (user == "quantri"), user
    assert "Hồ sơ" in menus["chuyenvien"] and "Lưu trữ" in menus["luutru"] and "Thời hạn bảo quản" in menus["quantri"]
    for path in ("/archive/", "/archive/holds", "/archive/disposal", "/archive/secrecy", "/archive/transfers"):
        assert pages("chuyenvien").get(path).status_code == 403, path
    assert pages("vanthu").get("/archive/holds").status_code == 403
    assert pages("vanthu").get("/archive/transfers").status_code == 200  # the registry follows transfers
    tabs = re.findall(r'<nav class="tabs"[^>]*>(.*?)</nav>', pages("chutich").get("/archive/").get_data(as_text=True),
                      re.S)[0]
    assert all(t in tabs for t in ("/archive/transfers", "/archive/holds", "/archive/disposal", "/archive/secrecy"))


def test_transfer_makes_a_handover_record_then_holds_and_releases(pages, api) -> None:  # type: ignore[no-untyped-def]
    archivist, clerk, leader = pages("luutru"), pages("vanthu"), pages("chutich")
    doc = registered_incoming(api, 1)
    overdue = closed_dossier(api, "01.TC", [doc["id"]], retention_code="TC-20",
                             work_ended_on=vn_today() - timedelta(days=400))
    later = closed_dossier(api, "02.TC", [registered_incoming(api, 2)["id"]], retention_code="TC-20")
    short = closed_dossier(api, "03.TK", [registered_incoming(api, 3)["id"]], retention_code="TK-02")
    # Due within 30 days (overdue marked); the archivist may also take any other closed dossier kept 5+ years.
    page = archivist.get("/archive/transfers")
    assert "Quá hạn" in _row(page, "dossier", overdue["id"])
    body = page.get_data(as_text=True)
    assert body.count(f'data-dossier="{later["id"]}"') == 1 and f'data-dossier="{short["id"]}"' not in body
    assert f'value="{later["id"]}" aria-label' in body  # selectable
    assert f'data-dossier="{later["id"]}"' in clerk.get("/archive/transfers?within=400").get_data(as_text=True)
    # The registry follows but does not receive: no form, and the service refuses.
    assert 'name="dossier_ids"' not in clerk.get("/archive/transfers").get_data(as_text=True)
    r = clerk.post("/archive/transfers", {"dossier_ids": [str(overdue["id"])]})
    assert r.status_code == 403 and "Chỉ lưu trữ cơ quan (lưu trữ viên) mới nhận hồ sơ nộp lưu" in page_text(r)
    r = archivist.post("/archive/transfers", {})
    assert r.status_code == 400 and "Hãy chọn các hồ sơ cần nộp lưu" in page_text(r)
    r = archivist.post("/archive/transfers", {"dossier_ids": [str(short["id"])]})
    assert r.status_code == 409 and "hồ sơ bảo quản dưới 5 năm do đơn vị giữ" in page_text(r)
    assert archivist.post("/archive/transfers", {"dossier_ids": [str(overdue["id"])]}, csrf=False).status_code == 400

    clerk_id = api.as_user("vanthu").get("/api/v1/me").get_json()["id"]
    r = archivist.post("/archive/transfers", {"dossier_ids": [str(overdue["id"]), str(later["id"])],
                                              "delivered_by_id": str(clerk_id), "note": "Giao nộp năm"})
    assert r.status_code == 303 and re.search(r"/archive/transfers/\d+$", r.headers["Location"])
    record = archivist.get(r.headers["Location"])
    year = vn_today().year
    text = page_text(record)
    assert f"01/BBGN-{year}" in text and "Đã lập biên bản giao nhận" in text and "Nguyễn Thị Lan" in text
    assert "2 hồ sơ, 2 văn bản, 2 trang" in text and overdue["file_code"] in text and doc["number_notation"] in text
    sha = api.as_user("luutru").get(f"/api/v1/documents/{doc['id']}").get_json()["files"][0]["sha256"]
    assert sha in record.get_data(as_text=True)
    assert f"01/BBGN-{year}" in page_text(clerk.get("/archive/transfers/records"))
    assert clerk.get(r.headers["Location"]).status_code == 200
    assert pages("snv.vanthu").get(r.headers["Location"]).status_code == 404

    # Archived: write-once; the dossier page offers export, extension and a hold only.
    url = f"/dossiers/{overdue['id']}"
    page = archivist.get(url)
    assert {a for a in re.findall(r'data-action="(\w+)"', page.get_data(as_text=True))} == \
        {"export", "extend_retention", "hold"}
    assert "Đã nộp lưu" in page_text(page) and "chỉ ghi một lần" in page_text(page)
    assert archivist.post(f"{url}/reopen", {"reason": "x"}).status_code == 409
    r = archivist.post(f"{url}/hold", {"reason": ""})
    assert r.status_code == 400 and "Hãy điền “Lý do”" in page_text(r)
    assert archivist.post(f"{url}/hold", {"reason": "Phục vụ thanh tra đất đai"}).status_code == 303
    page = archivist.get(url)
    assert "release" in re.findall(r'data-action="(\w+)"', page.get_data(as_text=True))
    hold_id = re.search(r'name="hold_id" value="(\d+)"', page.get_data(as_text=True)).group(1)
    assert "Phục vụ thanh tra đất đai" in _row(leader.get("/archive/holds"), "hold", hold_id)
    r = archivist.post(f"{url}/hold", {"reason": "lần nữa"})
    assert r.status_code == 409 and "Đang có lệnh phong tỏa" in page_text(r)
    r = archivist.post(f"{url}/release", {"hold_id": hold_id, "reason": ""})
    assert r.status_code == 400
    assert archivist.post(f"{url}/release", {"hold_id": hold_id, "reason": "Thanh tra đã kết thúc"}).status_code == 303
    assert "Không có lệnh phong tỏa" in page_text(leader.get("/archive/holds"))
    assert "Thanh tra đã kết thúc" in _row(leader.get("/archive/holds?all=1"), "hold", hold_id)


def test_holds_page_places_and_releases_a_hold_on_a_document(pages, api) -> None:  # type: ignore[no-untyped-def]
    leader, officer = pages("chutich"), pages("chuyenvien")
    doc = registered_incoming(api, 4, subject="Quyết định giao đất cho hộ gia đình")
    r = leader.post("/archive/holds", {"target": "document", "reason": "Khiếu nại"})
    assert r.status_code == 400 and "hãy chọn phong tỏa một văn bản hoặc một hồ sơ" in page_text(r).lower()
    r = leader.post("/archive/holds", {"target": "document", "document_id": "999999", "reason": "x"})
    assert r.status_code == 404
    r = leader.post("/archive/holds", {"target": "document", "document_id": str(doc["id"]), "reason": "Khiếu nại"})
    assert r.status_code == 303
    page = leader.get("/archive/holds")
    hold_id = re.search(r'<tr data-hold="(\d+)"', page.get_data(as_text=True)).group(1)
    assert "Quyết định giao đất cho hộ gia đình" in _row(page, "hold", hold_id) and "Khiếu nại" in page_text(page)
    # The held document says so and offers no change; the archivist (who may not read it yet) sees no subject.
    assert "phong tỏa" in page_text(leader.get(f"/documents/{doc['id']}")).lower()
    assert "Quyết định giao đất" not in page_text(pages("luutru").get("/archive/holds"))
    assert officer.post(f"/archive/holds/{hold_id}/release", {"reason": "x"}).status_code == 403
    r = leader.post(f"/archive/holds/{hold_id}/release", {"reason": "Đã giải quyết xong"})
    assert r.status_code == 303 and "Đã gỡ phong tỏa." in page_text(leader.get("/archive/holds"))
    r = leader.post(f"/archive/holds/{hold_id}/release", {"reason": "lần nữa"})
    assert r.status_code == 409 and f"Lệnh phong tỏa số {hold_id} đã được gỡ" in page_text(r)


def test_disposal_council_decision_and_destruction_with_its_record(pages, api, container) -> None:  # type: ignore[no-untyped-def]
    archivist, leader = pages("luutru"), pages("chutich")
    old = closed_dossier(api, "01.CV", [registered_incoming(api, 1)["id"]], retention_code="CV-05",
                         work_ended_on=date(2010, 6, 30))
    kept = closed_dossier(api, "02.CV", [registered_incoming(api, 2)["id"]], retention_code="CV-05",
                          work_ended_on=date(2011, 3, 1))
    r = archivist.post("/archive/disposal/propose", {})
    assert r.status_code == 303
    assert "Đã đưa 2 hồ sơ hết thời hạn bảo quản" in page_text(archivist.get("/archive/disposal"))
    archivist.post("/archive/disposal/propose", {})
    assert "Không có thêm hồ sơ nào hết thời hạn bảo quản." in page_text(archivist.get("/archive/disposal"))
    assert leader.post("/archive/disposal/propose", {}).status_code == 403
    lid = re.search(r'<tr data-list="(\d+)"', archivist.get("/archive/disposal").get_data(as_text=True)).group(1)
    url = f"/archive/disposal/{lid}"
    assert "Đề nghị hủy" in _row(archivist.get("/archive/disposal?status=proposed"), "list", lid)
    assert f'data-list="{lid}"' not in archivist.get("/archive/disposal?status=destroyed").get_data(as_text=True)
    assert f'data-list="{lid}"' in archivist.get("/archive/disposal?secrecy=none").get_data(as_text=True)
    assert f'data-list="{lid}"' not in archivist.get("/archive/disposal?secrecy=mat").get_data(as_text=True)

    # The council (at least 3 members) keeps one dossier; only the archivist records it, only the head decides.
    assert 'data-form="review"' in archivist.get(url).get_data(as_text=True)
    assert 'data-form="review"' not in leader.get(url).get_data(as_text=True)
    r = archivist.post(f"{url}/review", {"members": "A\nB", "opinion": "Hết giá trị"})
    assert r.status_code == 400 and "ít nhất 3 thành viên" in page_text(r)
    assert "A\nB" in r.get_data(as_text=True)  # what was typed stays
    r = leader.post(f"{url}/decide", {"decision": "approve", "decision_ref": "25/QĐ-UBND"})
    assert r.status_code == 409 and "Hội đồng xác định giá trị tài liệu phải thẩm định" in page_text(r)
    r = archivist.post(f"{url}/review", {"members": COUNCIL, "opinion": "Hết giá trị, đề nghị hủy",
                                         "keep": [str(kept["id"])], f"keep_reason_{kept['id']}": "Còn giá trị tra cứu"})
    assert r.status_code == 303
    page = leader.get(url)
    assert "Còn giá trị tra cứu" in _row(page, "dossier", kept["id"]) and "Giữ lại" in _row(page, "dossier", kept["id"])
    assert 'data-form="decide"' in page.get_data(as_text=True)
    assert 'data-form="decide"' not in archivist.get(url).get_data(as_text=True)
    r = archivist.post(f"{url}/decide", {"decision": "approve", "decision_ref": "25/QĐ-UBND"})
    assert r.status_code == 403 and "Chỉ người đứng đầu cơ quan mới quyết định hủy tài liệu" in page_text(r)
    r = leader.post(f"{url}/decide", {"decision": "approve"})
    assert r.status_code == 400 and "Hãy điền “Số quyết định”" in page_text(r)
    assert leader.post(f"{url}/decide", {}).status_code == 400
    assert leader.post(f"{url}/decide", {"decision": "approve", "decision_ref": "25/QĐ-UBND"}).status_code == 303

    # Destruction: a confirmation page first, the box must be ticked; then the record is shown.
    confirm = archivist.get(f"{url}/destroy")
    assert old["file_code"] in page_text(confirm) and kept["file_code"] not in page_text(confirm)
    assert 'data-form="destroy"' not in leader.get(f"{url}/destroy").get_data(as_text=True)
    r = archivist.post(f"{url}/destroy", {})
    assert r.status_code == 400 and "Hãy đánh dấu xác nhận" in page_text(r)
    r = archivist.post(f"{url}/destroy", {"confirm": "1"})
    assert r.status_code == 303
    page = archivist.get(url)
    record = re.search(r"data-destruction-record.*?</section>", page.get_data(as_text=True), re.S).group(0)
    assert "25/QĐ-UBND" in record and old["file_code"] in record and kept["file_code"] not in record
    assert "Biên bản hủy tài liệu" in page_text(page) and "Đã hủy" in _row(page, "dossier", old["id"])
    assert "Đã hủy" in page_text(archivist.get(f"/dossiers/{old['id']}"))
    r = archivist.post(f"{url}/destroy", {"confirm": "1"})
    assert r.status_code == 409 and "Không thực hiện được ở trạng thái hiện tại của danh mục" in page_text(r)
    assert archivist.post(f"{url}/teleport", {}).status_code == 404


def test_declassification_review_extension_and_declassification(pages, api) -> None:  # type: ignore[no-untyped-def]
    leader, archivist, clerk = pages("chutich"), pages("luutru"), pages("vanthu")

    def classified(n: int, days_left: int, subject: str) -> dict[str, Any]:
        issued = add_years(vn_today() + timedelta(days=days_left), -10)
        return registered_incoming(api, n, content=False, secrecy="mat", issued_date=issued.isoformat(),
                                   subject=subject)

    soon = classified(1, 14, "Kế hoạch bảo vệ mục tiêu quan trọng")
    later = classified(2, 45, "Báo cáo tình hình an ninh nông thôn")
    far = classified(3, 2000, "Phương án diễn tập khu vực phòng thủ")
    page = leader.get("/archive/secrecy")
    assert "còn 14 ngày" in _row(page, "document", soon["id"])
    assert f'data-document="{later["id"]}"' in page.get_data(True)
    assert f'data-document="{far["id"]}"' not in page.get_data(as_text=True)
    assert f'data-document="{far["id"]}"' in leader.get("/archive/secrecy?within=3000").get_data(as_text=True)
    # The archivist reviews only what the archive holds (nothing here); the officer not at all.
    assert "Kế hoạch bảo vệ" not in page_text(archivist.get("/archive/secrecy"))
    assert pages("chuyenvien").get("/archive/secrecy").status_code == 403

    # The head decides on the document page's secrecy box; the clerk sees the box without the forms.
    doc_url = f"/documents/{soon['id']}"
    assert 'data-box-action="secrecy_extend"' in leader.get(doc_url).get_data(as_text=True)
    clerk_page = clerk.get(doc_url).get_data(as_text=True)
    assert 'data-box="secrecy"' in clerk_page and 'data-box-action="secrecy_extend"' not in clerk_page
    r = leader.post(f"/archive/secrecy/documents/{soon['id']}/extend",
                    {"years": "11", "reason": "x", "decision_ref": "1"})
    assert r.status_code == 400 and "chỉ gia hạn từ 1 đến 10 năm" in page_text(r)
    r = leader.post(f"/archive/secrecy/documents/{soon['id']}/extend", {"years": "5", "reason": "Còn giá trị"})
    assert r.status_code == 400 and "Hãy điền “Số quyết định”" in page_text(r)
    r = clerk.post(f"/archive/secrecy/documents/{soon['id']}/extend",
                   {"years": "5", "reason": "x", "decision_ref": "1"})
    assert r.status_code == 403
    r = leader.post(f"/archive/secrecy/documents/{soon['id']}/extend",
                    {"years": "5", "reason": "Còn nguyên giá trị bảo mật", "decision_ref": "12/QĐ-UBND"})
    assert r.status_code == 303 and r.headers["Location"].endswith("#secrecy")
    page = leader.get(doc_url)
    until = add_years(vn_today() + timedelta(days=14), 5).strftime("%d/%m/%Y")
    assert f"Đã gia hạn bảo vệ đến ngày {until}" in page_text(page) and "gia hạn muộn" in page_text(page)
    assert "12/QĐ-UBND" in _row(page, "decision", "extend")
    r = leader.post(f"/archive/secrecy/documents/{later['id']}/declassify",
                    {"reason": "Không còn bí mật", "decision_ref": "13/QĐ-UBND"})
    assert r.status_code == 303
    page = clerk.get(f"/documents/{later['id']}")
    assert "13/QĐ-UBND" in _row(page, "decision", "declassify") and 'data-box-action' not in page.get_data(True)
    r = leader.post(f"/archive/secrecy/documents/{later['id']}/declassify", {"reason": "x", "decision_ref": "x"})
    assert r.status_code == 409 and "Văn bản không có độ mật" in page_text(r)
    assert leader.post(f"/archive/secrecy/documents/{later['id']}/teleport", {}).status_code == 404


def test_retention_catalogue_admin_pages(pages) -> None:  # type: ignore[no-untyped-def]
    admin = pages("quantri")
    page = admin.get("/admin/retention")
    assert "Vĩnh viễn" in _row(page, "code", "VV-01") and "10 năm" in _row(page, "code", "KH-10")
    assert pages("luutru").get("/admin/retention").status_code == 403
    r = admin.post("/admin/retention", {"code": "X Y", "description": "x", "kind": "years", "years": "15"})
    assert r.status_code == 400 and "không có dấu cách" in page_text(r) and 'value="X Y"' in r.get_data(as_text=True)
    r = admin.post("/admin/retention", {"code": "TD-15", "description": "Hồ sơ thi đua", "kind": "years", "years": "0"})
    assert r.status_code == 400 and "từ 1 đến 200 năm" in page_text(r)
    r = admin.post("/admin/retention", {"code": "TD-15", "description": "Hồ sơ thi đua, khen thưởng", "kind": "years",
                                        "years": "15", "legal_basis": "Thông tư 10/2022/TT-BNV"})
    assert r.status_code == 303 and r.headers["Location"] == "/admin/retention/TD-15"
    r = admin.post("/admin/retention", {"code": "TD-15", "description": "again", "kind": "years", "years": "15"})
    assert r.status_code == 409 and "Mục thời hạn bảo quản TD-15 đã có" in page_text(r)
    r = admin.post("/admin/retention/TD-15", {"kind": "permanent", "reason": ""})
    assert r.status_code == 400 and "Hãy điền “Lý do”" in page_text(r)
    r = admin.post("/admin/retention/TD-15", {"kind": "permanent", "reason": "Giá trị lịch sử"})
    assert r.status_code == 303
    page = admin.get("/admin/retention/TD-15")
    assert "Đã sửa mục thời hạn bảo quản TD-15: phiên bản 2." in page_text(page)
    assert "Vĩnh viễn" in _row(page, "version", 2) and "Giá trị lịch sử" in _row(page, "version", 2)
    assert "15 năm" in _row(page, "version", 1)
    assert admin.get("/admin/retention/NOPE").status_code == 404
    assert page_text(admin.get("/admin/retention?all=1")).count("TD-15") == 2


def test_search_page_offers_the_archive_facets_in_vietnamese(pages, api, container) -> None:  # type: ignore[no-untyped-def]
    clerk = pages("vanthu")
    filed = registered_incoming(api, 1, subject="Quyết định phê duyệt quy hoạch sử dụng đất")
    registered_incoming(api, 2, subject="Quyết định thành lập đoàn kiểm tra")
    d = closed_dossier(api, "01.QH", [filed["id"]], retention_code="TC-20")
    container.indexing.drain_all()
    r = clerk.get("/search?q=quyet+dinh")
    body = r.get_data(as_text=True)
    facets = {name: page_text_of(block) for name, block in
              re.findall(r'<section class="facet" data-facet="(\w+)">(.*?)</section>', body, re.S)}
    assert "Đã kết thúc" in facets["archive_status"] and "Chưa lập hồ sơ" in facets["archive_status"]
    assert "20 năm" in facets["retention"] and d["file_code"] in facets["dossier"]
    assert "Tình trạng lưu trữ" in page_text(r) and "Thời hạn bảo quản" in page_text(r)
    only = clerk.get("/search?q=quyet+dinh&archive_status=unfiled")
    assert 'data-total="1"' in only.get_data(as_text=True) and "đoàn kiểm tra" in page_text(only)
    assert 'data-total="1"' in clerk.get(f"/search?dossier={d['id']}").get_data(as_text=True)
    assert 'data-total="1"' in clerk.get("/search?retention=20y").get_data(as_text=True)
    clerk.get("/lang/en")
    english = page_text(clerk.get("/search?q=quyet+dinh"))
    assert "Archive status" in english and "Not filed" in english and "20 years" in english


def page_text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))
