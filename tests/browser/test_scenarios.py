"""The two main scenarios in a real browser, as the different users, with what each may not see.

Incoming: the clerk registers → the leader assigns with a deadline → the officer reports and completes.
Outgoing: the officer drafts → the unit head approves → the leader signs with the PIN → the clerk issues.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from docsvc.timeutil import vn_today
from tests.fixtures.pdfs import official_pdf

SUBJECT_IN = "Quyết định về việc phê duyệt kế hoạch cải cách hành chính năm 2026"
SUBJECT_OUT = "Quyết định phê duyệt danh sách hộ nghèo năm 2026"


def _doc_id(page: Any) -> int:
    return int(re.search(r"/documents/(\d+)", page.url).group(1))


def _actions(page: Any) -> set[str]:
    """The actions offered on the document page, read once the page has loaded (a click on a link returns
    before the next page is there)."""
    expect(page.locator("header.doc-head")).to_be_visible()
    return set(page.locator("form.action").evaluate_all("forms => forms.map(f => f.dataset.action)"))


def _flash(page: Any, text: str) -> None:
    expect(page.locator(".flash.success")).to_contain_text(text)


def _pdf_file(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": data}


def test_incoming_register_assign_complete(login, container, live_server) -> None:  # type: ignore[no-untyped-def]
    # The clerk receives the document and registers it at once: the incoming number is shown.
    clerk = login("vanthu")
    clerk.click("nav >> text=Vào sổ văn bản đến")
    clerk.fill("input[name=number_notation]", "15/QĐ-UBND")
    clerk.fill("input[name=issued_date]", "2026-11-20")
    clerk.fill("input[name=issuing_body]", "Ủy ban nhân dân tỉnh Lạng Sơn")
    clerk.select_option("select[name=type]", value="QĐ")
    clerk.fill("textarea[name=subject]", SUBJECT_IN)
    clerk.select_option("select[name=urgency]", value="khan")
    clerk.set_input_files("input[name=file]", _pdf_file("qd-15.pdf", official_pdf(SUBJECT_IN)))
    clerk.click("form[data-form=incoming] button[type=submit]")
    _flash(clerk, "Đã vào sổ với số đến 1.")
    doc_id = _doc_id(clerk)
    year = vn_today().year
    expect(clerk.locator(".badge.arrival")).to_have_text(f"Số đến 1/{year}")
    expect(clerk.locator(".badge.urgency-khan")).to_have_text("Khẩn")
    # The preview shows the PDF through the session (audited), and the clerk cannot instruct.
    src = clerk.locator("section.preview iframe").get_attribute("src")
    preview = clerk.request.get(src)
    assert preview.status == 200 and preview.headers["content-type"] == "application/pdf"
    expect(clerk.locator("#signatures")).to_contain_text("Tệp không có chữ ký số")
    assert _actions(clerk) == {"copy"}

    # The officer cannot see it yet; the sister agency never.
    officer = login("chuyenvien")
    officer.goto(f"/documents/{doc_id}")
    expect(officer.locator("h1")).to_have_text("Không tìm thấy")
    assert SUBJECT_IN not in officer.content()

    # The leader finds it first in his work (urgent), instructs and sets a deadline.
    leader = login("chutich")
    row = leader.locator(f"table.inbox tr[data-document='{doc_id}']")
    expect(row).to_contain_text("Cho ý kiến chỉ đạo, phân công")
    expect(row.locator(".badge")).to_contain_text("Khẩn")
    row.locator("a").click()
    assert _actions(leader) == {"assign", "complete"}
    form = leader.locator("form[data-action=assign]")
    form.locator("select[name=lead]").select_option(label="Trần Văn Minh — Chuyên viên")
    form.locator("input[name=deadline_days]").fill("5")
    form.locator("textarea[name=instruction]").fill("Đồng chí Minh tham mưu, báo cáo trước hạn.")
    form.locator("button[type=submit]").click()
    _flash(leader, "Đã ghi ý kiến chỉ đạo")
    expect(leader.locator("section.handling")).to_contain_text("Trần Văn Minh")
    assert re.search(r"\d\d/\d\d/\d{4}", leader.locator("section.handling td").nth(2).inner_text())

    # The officer sees it in his work with its deadline; once overdue it is marked.
    from sqlalchemy import update

    from docsvc.db.models import Assignment
    with container.db.write() as s:
        s.execute(update(Assignment).where(Assignment.document_id == doc_id, Assignment.status == "open")
                  .values(deadline=vn_today() - timedelta(days=1)))
    officer.goto("/work")
    row = officer.locator(f"table.inbox tr[data-document='{doc_id}']")
    expect(row).to_contain_text("Xử lý (chủ trì)")
    expect(row.locator(".overdue-mark")).to_have_text("Quá hạn")
    row.locator("a").click()
    assert _actions(officer) == {"progress", "complete"}
    officer.fill("form[data-action=progress] textarea[name=text]", "Đã dự thảo công văn trả lời")
    officer.fill("form[data-action=progress] input[name=percent]", "60")
    officer.click("form[data-action=progress] button[type=submit]")
    _flash(officer, "Đã ghi tiến độ.")
    expect(officer.locator("ul.progress")).to_contain_text("Đã dự thảo công văn trả lời (60%)")
    officer.fill("form[data-action=complete] textarea[name=note]", "Đã trả lời bằng công văn")
    officer.click("form[data-action=complete] button[type=submit]")
    _flash(officer, "Đã hoàn thành xử lý.")
    expect(officer.locator(".doc-head .status")).to_have_text("Hoàn thành")
    expect(officer.locator("section.history")).to_contain_text("Hoàn thành xử lý")
    assert _actions(officer) == set()

    # Search finds it without diacritics for the officer; the sister agency finds nothing.
    container.indexing.drain_all()
    officer.goto("/search?q=quyet+dinh+cai+cach")
    expect(officer.locator("[data-total]")).to_have_attribute("data-total", "1")
    expect(officer.locator("ol.hits mark").first).to_have_text("Quyết")
    outsider = login("snv.chuyenvien")
    outsider.goto("/search?q=quyet+dinh+cai+cach")
    expect(outsider.locator("[data-total]")).to_have_attribute("data-total", "0")
    outsider.goto(f"/documents/{doc_id}")
    expect(outsider.locator("h1")).to_have_text("Không tìm thấy")

    # English on request: the switch is kept in a cookie.
    officer.goto(f"/documents/{doc_id}")
    officer.click("header .lang >> text=EN")
    expect(officer.locator(".doc-head .status")).to_have_text("Completed")
    officer.goto("/work")
    expect(officer.locator("h1")).to_have_text("My work")


def test_outgoing_draft_approve_sign_issue(login, container) -> None:  # type: ignore[no-untyped-def]
    # The officer drafts and submits to the chairman.
    officer = login("chuyenvien")
    officer.click("nav >> text=Soạn dự thảo")
    officer.select_option("select[name=type]", value="QĐ")
    officer.fill("textarea[name=subject]", SUBJECT_OUT)
    officer.set_input_files("input[name=file]", _pdf_file("du-thao.pdf", official_pdf(SUBJECT_OUT)))
    officer.click("form[data-form=outgoing] button[type=submit]")
    _flash(officer, "Đã lưu dự thảo.")
    doc_id = _doc_id(officer)
    assert _actions(officer) == {"submit", "new_version"}
    officer.select_option("form[data-action=submit] select[name=signer_id]", label="Hoàng Văn Nam — Chủ tịch")
    officer.click("form[data-action=submit] button[type=submit]")
    _flash(officer, "Đã trình duyệt.")
    expect(officer.locator(".doc-head .status")).to_have_text("Đang trình duyệt")
    assert _actions(officer) == {"new_version"}

    # The unit head reviews and approves; she may not sign it.
    head = login("truongphong")
    row = head.locator(f"table.inbox tr[data-document='{doc_id}']")
    expect(row).to_contain_text("Xem xét, cho ý kiến")
    row.locator("a").click()
    assert _actions(head) == {"approve", "reject", "return_for_revision"}
    head.fill("form[data-action=approve] textarea[name=comment]", "Đồng ý trình ký")
    head.click("form[data-action=approve] button[type=submit]")
    _flash(head, "Đã phê duyệt.")
    assert _actions(head) == set()

    # The deputy chairman is not in the chain: he does not even see the draft.
    deputy = login("phochutich")
    deputy.goto(f"/documents/{doc_id}")
    expect(deputy.locator("h1")).to_have_text("Không tìm thấy")

    # The chairman finds it in his signing queue; a wrong PIN is refused with a clear message.
    leader = login("chutich")
    leader.click("nav >> text=Chờ ký")
    leader.locator(f"table.queue tr[data-document='{doc_id}'] a").click()
    assert _actions(leader) == {"sign", "reject", "return_for_revision"}
    leader.fill("form[data-action=sign] input[name=pin]", "999999")
    with leader.expect_response(lambda r: r.request.method == "POST" and "/sign" in r.url) as answer:
        leader.click("form[data-action=sign] button[type=submit]")
    assert answer.value.status == 403
    expect(leader.locator(".flash.error")).to_contain_text("Sai mã PIN")
    leader.fill("form[data-action=sign] input[name=pin]", "123456")
    leader.click("form[data-action=sign] button[type=submit]")
    _flash(leader, "Đã ký số.")
    expect(leader.locator(".doc-head .status")).to_have_text("Đã ký")
    expect(leader.locator("#signatures [data-verdict]")).to_have_attribute("data-verdict", re.compile("^valid"))
    expect(leader.locator("#signatures")).to_contain_text("Hoàng Văn Nam")
    assert _actions(leader) == set()

    # The clerk issues it: number, seal, recipients on and off the system.
    clerk = login("vanthu")
    clerk.click("nav >> text=Chờ phát hành")
    clerk.locator(f"table.queue tr[data-document='{doc_id}'] a").click()
    assert _actions(clerk) == {"issue"}
    form = clerk.locator("form[data-action=issue]")
    form.get_by_label("Sở Nội vụ tỉnh Lạng Sơn").check()
    form.get_by_label("Phòng Kinh tế").check()
    form.locator("textarea[name=outside]").fill("Các thôn trên địa bàn xã")
    form.locator("button[type=submit]").click()
    _flash(clerk, "Đã phát hành với số 01/QĐ-UBND.")
    expect(clerk.locator(".doc-head .notation")).to_have_text("01/QĐ-UBND")
    expect(clerk.locator("#signatures [data-verdict]")).to_have_attribute("data-verdict", re.compile("^valid"))
    expect(clerk.locator("#signatures ul.signatures li")).to_have_count(2)
    expect(clerk.locator("section.recipients")).to_contain_text("Sở Nội vụ tỉnh Lạng Sơn")
    assert "issue" not in _actions(clerk) and {"recall", "copy"} <= _actions(clerk)

    # The outgoing register lists it, and prints.
    clerk.goto("/registers/outgoing")
    expect(clerk.locator("table.register")).to_contain_text("01/QĐ-UBND")
    pdf = clerk.request.get(clerk.locator("a[data-print]").get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # The unit recipient reads it now; the officer who drafted it still does; the Sở's registry
    # received its own copy to register.
    head.goto(f"/documents/{doc_id}")
    expect(head.locator(".doc-head .status")).to_have_text("Đã ban hành")
    snv = login("snv.vanthu")
    row = snv.locator("table.inbox tr[data-reason=register]")
    expect(row).to_contain_text(SUBJECT_OUT)
    snv.goto(f"/documents/{doc_id}")
    expect(snv.locator("h1")).to_have_text("Không tìm thấy")  # the commune's original stays the commune's
