"""Issue 14 §8 through the API and the pages: a PDF with active content is stored unchanged and
flagged (document and file), served only as a sandboxed attachment, and its page warns instead
of previewing it; an ordinary PDF keeps its inline preview. A polyglot is a 415 leaving nothing."""

from __future__ import annotations

from typing import Any

from tests.api.test_documents import _counts, _stored_objects
from tests.fixtures.pdfs import official_pdf
from tests.helpers import assert_error, created, page_text, signed_draft, upload
from tests.unit.test_active_content import embedded_exe, open_action_javascript


def test_active_content_is_flagged_and_never_served_inline(api: Any, pages: Any) -> None:
    clerk = api.as_user("vanthu")
    pdf = open_action_javascript()
    doc = created(upload(clerk, file=pdf, attachments=[(embedded_exe(), "phu-luc.pdf")]))
    assert doc["active_content"] == ["javascript", "automatic_actions", "embedded_executable"]
    files = {f["role"]: f for f in doc["files"]}
    assert files["main"]["active_content"] == ["javascript", "automatic_actions"]
    assert files["attachment"]["active_content"] == ["embedded_executable"]
    assert clerk.get(f"/api/v1/documents/{doc['id']}").get_json()["active_content"] == doc["active_content"]

    content = clerk.get(f"/api/v1/documents/{doc['id']}/content")
    assert content.status_code == 200 and content.data == pdf  # kept byte for byte
    assert content.headers["Content-Disposition"].startswith("attachment;")
    assert content.headers["Content-Security-Policy"] == "sandbox"

    page = pages("vanthu").get(f"/documents/{doc['id']}")
    html = page.get_data(as_text=True)
    assert 'data-active-content="javascript automatic_actions embedded_executable"' in html
    assert "<iframe" not in html
    assert "JavaScript" in page_text(page)
    preview = pages("vanthu").get(f"/documents/{doc['id']}/content")
    assert preview.headers["Content-Disposition"].startswith("attachment;")


def test_an_ordinary_pdf_keeps_its_inline_preview(api: Any, pages: Any) -> None:
    doc = created(upload(api.as_user("vanthu"), file=official_pdf()))
    assert doc["active_content"] == [] and doc["files"][0]["active_content"] == []
    html = pages("vanthu").get(f"/documents/{doc['id']}").get_data(as_text=True)
    assert "<iframe" in html and "data-active-content" not in html
    content = api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}/content")
    assert content.headers["Content-Disposition"].startswith("inline;")


def test_an_html_pdf_polyglot_is_a_415_and_nothing_is_stored(api: Any, container: Any) -> None:
    polyglot = b"<!doctype html><html><body><script>fetch('/api/v1/me')</script>\n" + official_pdf()
    before = _stored_objects(container)
    err = assert_error(upload(api.as_user("vanthu"), file=polyglot), 415, "unsupported_media_type")
    assert "does not start with the PDF header" in err["message"]
    assert _counts(container) == (0, 0) and _stored_objects(container) == before


def test_a_signed_rendition_carries_the_flags_of_its_upload(api: Any) -> None:
    """Signing adds an incremental update: the script is still in the signed file, and so is the flag."""
    doc = signed_draft(api, file=open_action_javascript())
    files = {f["role"]: f for f in doc["files"]}
    assert files["signed"]["active_content"] == files["main"]["active_content"] == ["javascript", "automatic_actions"]
    served = api.as_user("chuyenvien").get(f"/api/v1/documents/{doc['id']}/content")  # the signed rendition
    assert served.headers["Content-Disposition"].startswith("attachment;")
