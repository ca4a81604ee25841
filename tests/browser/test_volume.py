"""Volume work in Chromium: receive many files and register them from the review grid; sign a
selection with the PIN once and watch the progress; the reports dashboard; the leaders' and
officers' pages on a 390 px phone (mobile emulation): menu collapsed, tables as cards, no
horizontal scroll."""

from __future__ import annotations

import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from playwright.sync_api import expect

from docsvc.services.demo import DEMO_PIN
from tests.fixtures.intake_docs import born_digital
from tests.fixtures.pdfs import official_pdf
from tests.helpers import created, me, upload


def _no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url}: {width[0]} px wide on a {width[1]} px screen"


def _wait_batch(page: Any, container: Any) -> None:
    """Run the background batches (no worker thread in tests) until the page shows the batch done. They run
    off this thread: Playwright's sync API keeps an event loop here, and signing (pyHanko) starts its own."""
    for _ in range(120):
        with ThreadPoolExecutor(1) as pool:
            pool.submit(container.run_batches).result()
        if page.locator("#batch[data-state=done]").count():
            return
        time.sleep(0.25)
    raise AssertionError(f"the batch page never showed the batch done: {page.url}")


def test_batch_receive_review_register(login, container) -> None:  # type: ignore[no-untyped-def]
    rng, docs = random.Random(5), []
    while len(docs) < 2:
        data, truth = born_digital(rng, len(docs))
        if truth["secrecy"] == 0:
            docs.append((data, truth))
    clerk = login("vanthu")
    clerk.goto("/incoming/batch")
    clerk.set_input_files("form[data-form=batch-intake] input[name=files]:not([webkitdirectory])",
                          [{"name": f"vb-{i}.pdf", "mimeType": "application/pdf", "buffer": d} for i, (d, _) in
                           enumerate(docs)])
    clerk.click("form[data-form=batch-intake] button[type=submit]")
    expect(clerk).to_have_url(re.compile(r"/batches/\d+$"))
    _wait_batch(clerk, container)  # the page polls (htmx) and swaps in the review grid
    rows = clerk.locator("table.review tbody tr")
    expect(rows).to_have_count(2)
    for i, (_, truth) in enumerate(docs):
        row = rows.nth(i)
        expect(row.locator("input[name^=number_notation]")).to_have_value(truth["number_notation"])
        expect(row.locator("textarea[name^=subject]")).to_have_value(truth["subject"])
    rows.nth(1).locator("textarea[name^=subject]").fill("Trích yếu do văn thư sửa")
    clerk.click("form[data-form=review] button[type=submit]")
    expect(clerk).to_have_url(re.compile(r"/batches/\d+$"))
    _wait_batch(clerk, container)
    expect(clerk.locator("table.results tr[data-state=done]")).to_have_count(2)
    clerk.locator("table.results a").nth(1).click()
    expect(clerk.locator("h1")).to_contain_text("Trích yếu do văn thư sửa")


def test_batch_sign_with_the_pin_once_then_issue_in_the_order_shown(login, api, container) -> None:  # type: ignore[no-untyped-def]
    officer, head = api.as_user("chuyenvien"), api.as_user("truongphong")
    chairman = me(api, "chutich")["id"]
    ids = []
    for i in range(3):
        subject = f"Quyết định ký hàng loạt số {i}"
        d = created(upload(officer, direction="outgoing", type="QĐ", number_notation=None, issuing_body=None,
                           issuing_organ_id=None, issued_date=None, received_via=None, subject=subject,
                           file=official_pdf(subject)))
        officer.post(f"/api/v1/documents/{d['id']}/submit", json={"signer_id": chairman})
        head.post(f"/api/v1/documents/{d['id']}/approve", json={})
        ids.append(d["id"])
    leader = login("chutich")
    leader.goto("/outgoing/queue/sign")
    for doc_id in ids:
        leader.check(f"form[data-form=sign-many] input[name=documents][value='{doc_id}']")
    leader.fill("form[data-form=sign-many] input[name=pin]", DEMO_PIN)
    leader.click("form[data-form=sign-many] button[type=submit]")
    expect(leader).to_have_url(re.compile(r"/batches/\d+$"))
    expect(leader.locator("#batch[data-state=done]")).to_have_count(1, timeout=90_000)
    expect(leader.locator("table.results tr[data-state=done]")).to_have_count(3)
    for doc_id in ids:
        assert api.as_user("chutich").get(f"/api/v1/documents/{doc_id}").get_json()["status"] == "signed"

    # The registry issues the three in one action: numbers follow the order the queue shows.
    clerk = login("vanthu")
    clerk.goto("/outgoing/queue/issue")
    shown = [int(v) for v in clerk.locator("form[data-form=issue-many] tr[data-document]").evaluate_all(
        "rows => rows.map(r => r.dataset.document)") if int(v) in ids]
    assert sorted(shown) == sorted(ids)
    for doc_id in shown:
        clerk.check(f"form[data-form=issue-many] input[name=documents][value='{doc_id}']")
    clerk.fill("form[data-form=issue-many] input[name=recipients]", "Sở Nội vụ; Phòng Kinh tế")
    clerk.click("form[data-form=issue-many] button[type=submit]")
    expect(clerk).to_have_url(re.compile(r"/batches/\d+$"))
    _wait_batch(clerk, container)
    expect(clerk.locator("table.results tr[data-state=done]")).to_have_count(3)
    issued = [api.as_user("vanthu").get(f"/api/v1/documents/{doc_id}").get_json() for doc_id in shown]
    assert [d["status"] for d in issued] == ["issued"] * 3
    numbers = [d["code_number"] for d in issued]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3, numbers
    assert all(d["issued_date"] for d in issued)


def test_dashboard_and_phones(login, api, container) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    doc = created(upload(clerk, number_notation="61/QĐ-UBND"))
    clerk.post(f"/api/v1/documents/{doc['id']}/register", json={})
    leader = login("chutich")
    leader.goto("/reports")
    expect(leader.locator("[data-chart] svg")).to_have_count(3)
    expect(leader.locator("[data-chart=received] h2 .count")).to_have_text("1")
    with leader.expect_download() as download:
        leader.click("a[data-export=xlsx]")
    assert download.value.suggested_filename.endswith(".xlsx")

    phone = login("chutich", phone=True)
    for path in ("/work", f"/documents/{doc['id']}", "/outgoing/queue/sign", "/reports"):
        phone.goto(path)
        _no_horizontal_scroll(phone)
    phone.goto("/work")
    expect(phone.locator("header.top nav")).to_be_hidden()
    phone.click("[data-menu-toggle]")
    expect(phone.locator("header.top nav")).to_be_visible()
    card = phone.locator(f"table.inbox tr[data-document='{doc['id']}']")
    assert card.bounding_box()["width"] <= 390
    officer = login("chuyenvien", phone=True)
    officer.goto("/work")
    _no_horizontal_scroll(officer)
    clerk_phone = login("vanthu", phone=True)
    clerk_phone.goto(f"/documents/{doc['id']}")  # the incoming document page overflowed before
    _no_horizontal_scroll(clerk_phone)
