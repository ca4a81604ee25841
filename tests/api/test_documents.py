"""Documents through the API: upload validation (nothing stored on failure), reading, downloads,
versions, history, and that nothing unreadable is shown."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from docsvc.db.models import Document, DocumentFile
from tests.fixtures.pdfs import encrypted_pdf, malformed_pdf, official_pdf, scanned_png
from tests.helpers import assert_error, created, upload


def _stored_objects(container) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for _ in container.store.list())


def _counts(container) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with container.db.read() as s:
        return (s.execute(select(func.count(Document.id))).scalar_one(),
                s.execute(select(func.count(DocumentFile.id))).scalar_one())


def test_receive_read_download_history(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    pdf = official_pdf()
    doc = created(upload(clerk, file=pdf, attachments=[(official_pdf("Phụ lục kèm theo"), "phu-luc.pdf")]))
    assert doc["status"] == "received" and doc["direction"] == "incoming"
    assert doc["number_notation"] == "15/QĐ-UBND" and doc["type"]["code"] == "QĐ"
    assert doc["issuing_organ_id"] == "000.00.00.H41" and doc["arrival_at"].endswith("+07:00")
    roles = sorted(f["role"] for f in doc["files"])
    assert roles == ["attachment", "main"]
    main = next(f for f in doc["files"] if f["role"] == "main")
    assert main["sha256"] == hashlib.sha256(pdf).hexdigest() and main["page_count"] == 1
    assert "object_key" not in main

    r = clerk.get(f"/api/v1/documents/{doc['id']}/content")
    assert r.status_code == 200 and r.data == pdf
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["X-Content-SHA256"] == main["sha256"]
    attachment = next(f for f in doc["files"] if f["role"] == "attachment")
    r = clerk.get(f"/api/v1/documents/{doc['id']}/content", query_string={"file_id": attachment["id"]})
    assert r.status_code == 200 and r.data.startswith(b"%PDF")

    got = clerk.get(f"/api/v1/documents/{doc['id']}").get_json()
    assert got["subject"] == doc["subject"]
    actions = [e["action"] for e in clerk.get(f"/api/v1/documents/{doc['id']}/history").get_json()["items"]]
    assert actions[0] == "document.create"
    assert actions.count("document.download") == 2 and "document.read" in actions


@pytest.mark.parametrize("payload, status, fragment", [
    (b"just some text, not a document", 415, "neither a PDF"),
    ("encrypted", 400, "encrypted"),
    ("malformed", 415, "not a readable PDF"),  # issue 14: no parsable PDF structure is not a PDF
    (b"<html><script>alert(1)</script></html>%PDF-1.4", 415, "does not start with the PDF header"),
    (b"", 400, "empty"),
])
def test_bad_files_are_refused_and_nothing_is_stored(api, container, payload, status, fragment) -> None:  # type: ignore[no-untyped-def]
    data = {"encrypted": encrypted_pdf, "malformed": malformed_pdf}.get(payload, lambda: payload)()  # type: ignore[arg-type]
    before_objects = _stored_objects(container)
    err = assert_error(upload(api.as_user("vanthu"), file=data), status)
    assert fragment in err["message"]
    assert _counts(container) == (0, 0)
    assert _stored_objects(container) == before_objects


def test_a_bad_attachment_stops_the_whole_upload(api, container) -> None:  # type: ignore[no-untyped-def]
    err = assert_error(upload(api.as_user("vanthu"), attachments=[(encrypted_pdf(), "bad.pdf")]), 400)
    assert "attachments" in err["message"]
    assert _counts(container) == (0, 0) and _stored_objects(container) == 0


@pytest.mark.parametrize("missing, field", [("subject", "subject"), ("type", "type"), ("direction", "direction")])
def test_missing_fields(api, container, missing, field) -> None:  # type: ignore[no-untyped-def]
    err = assert_error(upload(api.as_user("vanthu"), **{missing: None}), 400, "invalid_input")
    assert err["details"][0]["field"] == field
    assert _counts(container) == (0, 0)


def test_missing_file_unknown_type_and_extra_fields(api, container) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    assert "file" in assert_error(upload(clerk, file=False), 400)["message"]  # type: ignore[arg-type]
    assert "unknown document type" in assert_error(upload(clerk, type="XYZ"), 400)["message"]
    assert_error(upload(clerk, colour="blue"), 400)
    assert_error(upload(clerk, urgency="very"), 400)
    assert _counts(container) == (0, 0)


@pytest.mark.parametrize("settings_overrides", [{"max_upload_mb": 1}])
def test_oversize_upload_is_413(api, container, settings_overrides) -> None:  # type: ignore[no-untyped-def]
    big = official_pdf() + b"%" + b"x" * (2 * 1024 * 1024)
    assert_error(upload(api.as_user("vanthu"), file=big), 413, "payload_too_large")
    assert _counts(container) == (0, 0)


def test_only_the_registry_receives_incoming(api) -> None:  # type: ignore[no-untyped-def]
    assert_error(upload(api.as_user("chuyenvien")), 403)


def test_scans_are_accepted(api) -> None:  # type: ignore[no-untyped-def]
    doc = created(upload(api.as_user("vanthu"), file=scanned_png(), filename="scan.png"))
    assert doc["files"][0]["content_type"] == "image/png"


def test_secret_content_stays_offline_on_a_connected_deployment(api) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    err = assert_error(upload(clerk, secrecy="mat"), 400)
    assert err["details"]["reason"] == "secret_content_offline"
    doc = created(upload(clerk, secrecy="mat", file=False))  # type: ignore[arg-type]
    assert doc["content_offline"] is True and doc["secrecy"] == "mat" and doc["files"] == []
    assert "offline" in assert_error(clerk.get(f"/api/v1/documents/{doc['id']}/content"), 404)["message"]
    # The clerk is cleared to Mật only: Tối mật is refused outright.
    assert_error(upload(clerk, secrecy="toi_mat", file=False), 403)  # type: ignore[arg-type]


def test_lists_show_only_readable_documents(api) -> None:  # type: ignore[no-untyped-def]
    doc = created(upload(api.as_user("vanthu")))
    assert [d["id"] for d in api.as_user("vanthu").get("/api/v1/documents").get_json()["items"]] == [doc["id"]]
    for outsider in ("chuyenvien", "snv.vanthu", "chutich"):  # leaders see it only once registered
        page = api.as_user(outsider).get("/api/v1/documents").get_json()
        assert page["items"] == [] and page["total"] == 0, outsider
        assert_error(api.as_user(outsider).get(f"/api/v1/documents/{doc['id']}"), 404)
        assert_error(api.as_user(outsider).get(f"/api/v1/documents/{doc['id']}/content"), 404)
        assert_error(api.as_user(outsider).get(f"/api/v1/documents/{doc['id']}/history"), 404)


def test_drafts_and_new_versions(api) -> None:  # type: ignore[no-untyped-def]
    officer = api.as_user("chuyenvien")
    draft = created(upload(officer, direction="outgoing", type="cong_van", number_notation=None,
                           issuing_body=None, issuing_organ_id=None, issued_date=None, received_via=None,
                           subject="Công văn về việc báo cáo tình hình kinh tế quý IV"))
    assert draft["status"] == "draft" and draft["issuing_body"] == "Ủy ban nhân dân xã Đồng Đăng"
    import io
    v2 = official_pdf("Công văn về việc báo cáo tình hình kinh tế quý IV (sửa)")
    r = officer.post(f"/api/v1/documents/{draft['id']}/versions", data={"file": (io.BytesIO(v2), "v2.pdf")},
                     content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["current_version"] == 2
    versions = officer.get(f"/api/v1/documents/{draft['id']}/versions").get_json()["items"]
    assert [v["version"] for v in versions] == [1, 2]
    assert officer.get(f"/api/v1/documents/{draft['id']}/content").data == v2
    assert officer.get(f"/api/v1/documents/{draft['id']}/content", query_string={"version": 1}).data != v2
    # Someone else may not add versions to this draft (and does not even see it).
    assert_error(api.as_user("truongphong").post(
        f"/api/v1/documents/{draft['id']}/versions", data={"file": (io.BytesIO(v2), "v2.pdf")},
        content_type="multipart/form-data"), 404)


def test_download_links_work_expire_and_cannot_be_forged(api, client, backend) -> None:  # type: ignore[no-untyped-def]
    import urllib.request
    from urllib.parse import urlsplit
    clerk = api.as_user("vanthu")
    doc = created(upload(clerk))
    content = clerk.get(f"/api/v1/documents/{doc['id']}/content").data
    link = clerk.get(f"/api/v1/documents/{doc['id']}/link", query_string={"seconds": 60}).get_json()
    assert link["sha256"] and link["expires_at"].endswith("+07:00")
    assert_error(api.as_user("snv.vanthu").get(f"/api/v1/documents/{doc['id']}/link"), 404)
    parts = urlsplit(link["url"])
    if parts.path.startswith("/api/v1/objects/"):  # local store: served by this app
        r = client.get(f"{parts.path}?{parts.query}")
        assert r.status_code == 200 and r.data == content
        assert "attachment" in r.headers["Content-Disposition"]
        forged = parts.query.replace("signature=", "signature=00")
        assert_error(client.get(f"{parts.path}?{forged}"), 403)
        assert_error(client.get(parts.path), 400)  # no signature at all
    else:  # S3: a presigned URL of the object store itself
        with urllib.request.urlopen(link["url"], timeout=30) as fh:
            assert fh.read() == content
    actions = [e["action"] for e in clerk.get(f"/api/v1/documents/{doc['id']}/history").get_json()["items"]]
    assert "document.link" in actions
