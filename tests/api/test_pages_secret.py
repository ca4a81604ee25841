"""Secret documents on the pages of an isolated-LAN deployment: the preview goes through the
watermarked download path, and nothing of the document shows to someone not cleared for it."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

import pytest

from tests.fixtures.pdfs import official_pdf
from tests.helpers import PageClient, page_text

SUBJECT = "Kế hoạch bảo vệ bí mật nhà nước năm 2026"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"secrecy_policy": "isolated"}


def test_secret_preview_is_watermarked_and_hidden_from_the_uncleared(app, demo, container) -> None:  # type: ignore[no-untyped-def]
    clerk = PageClient(app.test_client())
    assert clerk.login("vanthu", demo.password).status_code == 303
    original = official_pdf(SUBJECT)
    r = clerk.post("/incoming/new", {"type": "KH", "subject": SUBJECT, "issuing_body": "Công an tỉnh Lạng Sơn",
                                     "secrecy": "mat", "urgency": "normal", "register_now": "1",
                                     "file": (io.BytesIO(original), "kh-mat.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 303, page_text(r)[:500]
    doc_id = int(re.search(r"/documents/(\d+)$", r.headers["Location"]).group(1))
    page = clerk.get(f"/documents/{doc_id}")
    assert "Mật" in page_text(page) and f'src="/documents/{doc_id}/content"' in page.get_data(as_text=True)
    preview = clerk.get(f"/documents/{doc_id}/content")
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    assert preview.headers["Cache-Control"] == "private, no-store"
    assert hashlib.sha256(preview.data).hexdigest() != hashlib.sha256(original).hexdigest()  # watermarked copy
    from pypdf import PdfReader
    assert "Nguyễn Thị Lan" in PdfReader(io.BytesIO(preview.data)).pages[0].extract_text()

    # The officer (no clearance) sees nothing of it: no page, no content, not in lists or search.
    officer = PageClient(app.test_client())
    assert officer.login("chuyenvien", demo.password).status_code == 303
    assert officer.get(f"/documents/{doc_id}").status_code == 404
    assert officer.get(f"/documents/{doc_id}/content").status_code == 404
    assert officer.get(f"/documents/{doc_id}/signatures").status_code == 404
    assert SUBJECT not in page_text(officer.get("/incoming"))
    container.indexing.drain_all()
    assert 'data-total="0"' in officer.get("/search?q=bao+ve+bi+mat").get_data(as_text=True)
    assert 'data-total="1"' in clerk.get("/search?q=bao+ve+bi+mat").get_data(as_text=True)
