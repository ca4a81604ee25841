"""The archive scenario in a real browser: the registry files registered documents into a dossier
and closes it; the archivist transfers it (handover record with the SHA-256 of each document),
places a legal hold on it and releases it, and exports the dossier as a ZIP."""

from __future__ import annotations

import re
import zipfile
from typing import Any

from playwright.sync_api import expect

from docsvc.timeutil import vn_today
from tests.api.archive_support import registered_incoming
from tests.helpers import ApiClient


def _flash(page: Any, text: str) -> None:
    expect(page.locator(".flash.success")).to_contain_text(text)


def test_file_close_transfer_hold_release_export(login, app, demo, container) -> None:  # type: ignore[no-untyped-def]
    from docsvc.services.demo import seed_demo_dossiers
    seed_demo_dossiers(container.identity, container.dossiers)  # as `docsvc demo` does
    api = ApiClient(app.test_client(), demo.password)
    first = registered_incoming(api, 1, subject="Quyết định giao chỉ tiêu kế hoạch năm")
    second = registered_incoming(api, 2, subject="Báo cáo kết quả thực hiện kế hoạch năm")
    container.indexing.drain_all()
    year = vn_today().year

    # The registry opens its dossier from the year's plan and files both documents.
    clerk = login("vanthu")
    clerk.click("nav >> text=Hồ sơ")
    expect(clerk.locator("h1")).to_have_text(f"Danh mục hồ sơ năm {year}")
    clerk.click("table.dossiers >> text=02.VP")
    filing = clerk.locator("[data-action=file]")
    filing.locator("input[name=find]").fill("01/QĐ-UBND")
    filing.locator("form.finder button").click()
    filing = clerk.locator("[data-action=file]")
    filing.locator(f"li[data-found='{first['id']}'] button").click()
    _flash(clerk, "Đã đưa văn bản vào hồ sơ.")
    by_id = clerk.locator("[data-action=file] form.by-id")
    by_id.locator("input[name=document_id]").fill(str(second["id"]))
    by_id.locator("button").click()
    _flash(clerk, "Đã đưa văn bản vào hồ sơ.")
    expect(clerk.locator("section.filed tbody tr")).to_have_count(2)
    clerk.click("form[data-action=close] button[type=submit]")
    _flash(clerk, "Đã kết thúc hồ sơ: 2 văn bản, 2 trang.")
    expect(clerk.locator(".doc-head .status")).to_have_text("Đã kết thúc")
    dossier_url = clerk.url

    # The archivist receives it into the agency archive: the handover record is shown.
    archivist = login("luutru")
    archivist.click("nav >> text=Lưu trữ")
    archivist.click("nav.tabs >> text=Nộp lưu")
    form = archivist.locator("form[data-form=transfer]")
    form.get_by_label(f"000.00.31.H41.{year}.02.VP").check()
    form.locator("select[name=delivered_by_id]").select_option(label="Nguyễn Thị Lan — Văn thư")
    form.locator("textarea[name=note]").fill("Giao nộp hồ sơ năm")
    form.locator("button[type=submit]").click()
    _flash(archivist, f"Đã lập biên bản giao nhận 01/BBGN-{year}")
    expect(archivist.locator("[data-number]")).to_have_text(f"01/BBGN-{year}")
    shas = archivist.locator("code.sha")
    expect(shas).to_have_count(2)
    assert all(re.fullmatch(r"[0-9a-f]{64}", s) for s in shas.all_inner_texts())

    # A legal hold on the archived dossier, then its release, each with a reason.
    archivist.goto(dossier_url)
    expect(archivist.locator(".doc-head .status")).to_have_text("Đã nộp lưu")
    archivist.fill("form[data-action=hold] textarea[name=reason]", "Phục vụ thanh tra")
    archivist.click("form[data-action=hold] button[type=submit]")
    _flash(archivist, "Đã phong tỏa.")
    expect(archivist.locator(".doc-head .badge.hold")).to_be_visible()
    archivist.fill("form[data-action=release] textarea[name=reason]", "Thanh tra đã kết thúc")
    archivist.click("form[data-action=release] button[type=submit]")
    _flash(archivist, "Đã gỡ phong tỏa.")
    expect(archivist.locator(".doc-head .badge.hold")).to_have_count(0)
    expect(archivist.locator("section.holds")).to_contain_text("Thanh tra đã kết thúc")

    # The export: a ZIP with the originals, the Appendix VI XML and the SHA-256 manifest.
    with archivist.expect_download() as download:
        archivist.click("form[data-action=export] button[type=submit]")
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert z.testzip() is None
        assert any(n.endswith("manifest-sha256.txt") for n in names) and any(n.endswith("metadata.xml") for n in names)
        assert len([n for n in names if n.endswith(".pdf")]) >= 2
