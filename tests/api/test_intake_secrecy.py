"""Batch receiving follows the secrecy rule of single uploads (issue 16, review of the intake path).

A received file's secrecy mark (MẬT, TỐI MẬT...) is known only once the file is read in the
background. Until then it is staged encrypted; once read as secret, a connected deployment deletes
it at once (object, text, nothing indexed) and the row says why; an isolated deployment keeps it
encrypted as a single secret upload is kept. The secrecy the clerk sets in the review grid is
judged by the same rule at registration."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import func, select

from docsvc.db.models import Document, DocumentFile
from storage.keys import parse_key
from tests.api.test_batches import _finish
from tests.api.test_batches import _intake as post_intake
from tests.fixtures.intake_docs import born_digital
from tests.helpers import assert_error, page_text

ISOLATED = {"secrecy_policy": "isolated"}


def _docs() -> tuple[tuple[bytes, dict[str, Any]], tuple[bytes, dict[str, Any]]]:
    """A document marked MẬT on its first page, and a plain one (real PDFs of Decree 30's layout)."""
    rng = random.Random(7)
    secret = plain = None
    while secret is None or plain is None:
        data, truth = born_digital(rng, 0)
        if truth["secrecy"] == 1 and secret is None:
            secret = (data, truth)
        elif truth["secrecy"] == 0 and plain is None:
            plain = (data, truth)
    return secret, plain


def _intake(clerk: Any, container: Any, files: list[tuple[bytes, str]]) -> dict[str, Any]:
    """The files received in one batch, read: the batch's review."""
    return _finish(container, clerk, post_intake(clerk, files)["id"])


def _row(item: dict[str, Any], **changes: Any) -> dict[str, Any]:
    f = item["fields"]
    row = {"item_id": item["id"], "type": f["type"], "subject": f["subject"], "number_notation": f["number_notation"],
           "issuing_body": f["issuing_body"], "issued_date": f["issued_date"],
           "secrecy": ["none", "mat", "toi_mat", "tuyet_mat"][f["secrecy"]]}
    row.update(changes)
    return row


def _stored(container: Any) -> dict[str, Any]:
    """Every content object in the store: key → (plaintext digest, encrypted, decrypted text if text)."""
    out = {}
    for key in container.store.list():
        info = container.store.stat(key)
        text = container.store.get_bytes(key).decode("utf-8", "replace") if info.content_type.startswith(
            "text/") else None
        out[key] = (parse_key(key).digest, info.encrypted, text)
    return out


def _no_trace(container: Any, sha256: str, truth: dict[str, Any]) -> None:
    """Nothing of the file is kept: no object of its bytes (clear or encrypted), no text read from it."""
    stored = _stored(container)
    assert [k for k, (digest, _, _) in stored.items() if digest == sha256] == []
    assert [k for k, (_, _, text) in stored.items() if text and truth["number_notation"] in text] == []


def test_a_secret_file_received_on_a_connected_deployment_is_deleted_and_its_row_says_why(
        api, container, pages) -> None:  # type: ignore[no-untyped-def]
    (secret, truth), (plain, plain_truth) = _docs()
    clerk = api.as_user("vanthu")
    batch = _intake(clerk, container, [(secret, "mat.pdf"), (plain, "thuong.pdf"), (secret, "mat-ban-sao.pdf")])
    rows = {i["input"]["filename"]: i for i in batch["items"]}
    for name in ("mat.pdf", "mat-ban-sao.pdf"):  # the copy of the same bytes too
        row = rows[name]
        assert row["state"] == "done" and row["fields"]["secrecy"] == 1, row
        removed = row["result"]["content_removed"]
        assert removed["code"] == "invalid_input" and removed["key"] == "intake.secret_file_removed"
        assert removed["details"]["reason"] == "secret_file_removed" and removed["details"]["secrecy"] == "mat"
        assert "deleted" in removed["message"] and "text_key" not in row["result"]
        assert "secret_file_removed" in [p["code"] for p in row["problems"]]
    sha = rows["mat.pdf"]["input"]["sha256"]
    _no_trace(container, sha, truth)
    # the plain file is kept, encrypted while staged, with the text read from it
    assert rows["thuong.pdf"]["result"].get("text_key") and "content_removed" not in rows["thuong.pdf"]["result"]
    assert container.store.stat(rows["thuong.pdf"]["input"]["object_key"]).encrypted

    # The page tells the clerk why, in Vietnamese.
    page = page_text(pages("vanthu").get(f"/batches/{batch['id']}"))
    assert "tệp đã nhận đã bị xóa" in page and "the received file was deleted" not in page

    # Registered as not secret: refused (the file is gone); as secret: metadata only, as a single
    # secret upload on this deployment.
    bad = clerk.post(f"/api/v1/batches/{batch['id']}/register",
                     json={"rows": [_row(rows["mat.pdf"], secrecy="none")]})
    assert assert_error(bad, 400)["details"]["reason"] == "secret_file_removed"
    reg = clerk.post(f"/api/v1/batches/{batch['id']}/register", json={"rows": [_row(rows["mat.pdf"])]})
    assert reg.status_code == 202, reg.get_json()
    done = _finish(container, clerk, reg.get_json()["id"])
    assert done["done"] == 1, done["items"]
    doc = clerk.get(f"/api/v1/documents/{done['items'][0]['document_id']}").get_json()
    assert doc["content_offline"] is True and doc["secrecy"] in (1, "mat") and doc["status"] == "registered"
    with container.db.read() as s:
        assert s.execute(select(func.count()).select_from(DocumentFile)
                         .where(DocumentFile.document_id == doc["id"])).scalar_one() == 0
    container.indexing.drain_all()
    _no_trace(container, sha, truth)
    body_words = "Căn cứ Luật Tổ chức chính quyền địa phương"
    hits = clerk.get("/api/v1/search", query_string={"q": body_words}).get_json()["hits"]
    assert doc["id"] not in [h["id"] for h in hits]  # its content was never indexed


@pytest.mark.parametrize("settings_overrides", [ISOLATED])
def test_a_secret_file_received_on_an_isolated_deployment_is_kept_encrypted_as_a_single_upload(
        api, container) -> None:  # type: ignore[no-untyped-def]
    (secret, truth), _ = _docs()
    clerk = api.as_user("vanthu")
    batch = _intake(clerk, container, [(secret, "mat.pdf")])
    [row] = batch["items"]
    assert row["state"] == "done" and row["fields"]["secrecy"] == 1
    assert "content_removed" not in row["result"] and "text_key" not in row["result"]  # no text of a secret one
    staged = container.store.stat(row["input"]["object_key"])
    assert staged.encrypted and staged.sha256 == row["input"]["sha256"]
    reg = clerk.post(f"/api/v1/batches/{batch['id']}/register", json={"rows": [_row(row)]})
    done = _finish(container, clerk, reg.get_json()["id"])
    assert done["done"] == 1, done["items"]
    doc_id = done["items"][0]["document_id"]
    with container.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.secrecy == 1 and not doc.content_offline
        files = [(f.role, f.encrypted, f.object_key) for f in
                 s.execute(select(DocumentFile).where(DocumentFile.document_id == doc_id)).scalars()]
    # as a single secret upload here: the main file encrypted at rest, no text kept beside it
    assert [(role, enc) for role, enc, _ in files] == [("main", True)]
    assert parse_key(files[0][2]).encrypted and container.store.stat(files[0][2]).encrypted
    assert [k for k, (_, _, text) in _stored(container).items() if text and truth["number_notation"] in text] == []
    content = clerk.get(f"/api/v1/documents/{doc_id}/content")
    assert content.status_code == 200 and content.data.startswith(b"%PDF-")


def test_a_row_set_secret_in_the_review_grid_is_judged_by_the_same_rule(api, container) -> None:  # type: ignore[no-untyped-def]
    _, (plain, truth) = _docs()
    clerk = api.as_user("vanthu")
    batch = _intake(clerk, container, [(plain, "thuong.pdf")])
    [row] = batch["items"]
    assert row["fields"]["secrecy"] == 0 and row["result"].get("text_key")
    reg = clerk.post(f"/api/v1/batches/{batch['id']}/register", json={"rows": [_row(row, secrecy="mat")]})
    done = _finish(container, clerk, reg.get_json()["id"])
    assert done["done"] == 1, done["items"]
    doc = clerk.get(f"/api/v1/documents/{done['items'][0]['document_id']}").get_json()
    assert doc["content_offline"] is True
    _no_trace(container, row["input"]["sha256"], truth)  # the staged bytes and the text read are gone
    again = clerk.get(f"/api/v1/batches/{batch['id']}").get_json()["items"][0]
    assert again["result"]["content_removed"]["key"] == "intake.secret_file_removed"


def test_a_registered_row_releases_its_staged_copy(api, container) -> None:  # type: ignore[no-untyped-def]
    _, (plain, _) = _docs()
    clerk = api.as_user("vanthu")
    batch = _intake(clerk, container, [(plain, "thuong.pdf")])
    [row] = batch["items"]
    staged = row["input"]["object_key"]
    reg = clerk.post(f"/api/v1/batches/{batch['id']}/register", json={"rows": [_row(row)]})
    done = _finish(container, clerk, reg.get_json()["id"])
    assert done["done"] == 1, done["items"]
    with container.db.read() as s:
        keys = dict(s.execute(select(DocumentFile.role, DocumentFile.object_key)
                              .where(DocumentFile.document_id == done["items"][0]["document_id"])).all())
    assert set(keys) == {"main", "text"} and not parse_key(keys["main"]).encrypted
    assert not container.store.exists(staged) and not container.store.exists(row["result"]["text_key"])
