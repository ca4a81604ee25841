"""Access matrix: every demo user (role × clearance × agency) against documents of every secrecy
level in every relationship state, through every read path (item, content, history, versions,
list, search, inbox) — the result must match an oracle written independently of the code:
readable ⇔ clearance ≥ secrecy and the user has a relationship to the document.

Runs on the isolated-LAN policy, where secret content is stored (encrypted) and downloadable."""

from __future__ import annotations

from typing import Any

import pytest

from docsvc.services.demo import USERS
from tests.fixtures.pdfs import official_pdf
from tests.helpers import created, upload

LEVEL = {"none": 0, "mat": 1, "toi_mat": 2, "tuyet_mat": 3}
CLEARANCE = {u[0]: LEVEL[u[5]] for u in USERS}
LEADERS = {"chutich", "phochutich"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"secrecy_policy": "isolated"}


def _ids(api: Any, username: str) -> int:
    return api.as_user(username).get("/api/v1/me").get_json()["id"]


def _incoming(api: Any, subject: str, secrecy: str, *, clerk: str = "vanthu", organ_id: str = "000.00.00.H41") -> dict:
    return created(upload(api.as_user(clerk), subject=subject, secrecy=secrecy, number_notation=None,
                          issuing_organ_id=organ_id, file=official_pdf(subject)))


def _scenario(api: Any) -> dict[str, tuple[dict, str, set[str]]]:
    """name → (document, secrecy, users with a relationship) — the relationship column of the oracle."""
    docs: dict[str, tuple[dict, str, set[str]]] = {}
    for secrecy in ("none", "mat"):
        # Received only: the registry alone knows it.
        d = _incoming(api, f"Công văn tiếp nhận chưa vào sổ mức {secrecy} kiemtraquyen", secrecy)
        docs[f"received-{secrecy}"] = (d, secrecy, {"vanthu"})
        # Registered: the registry and the leaders (waiting for an instruction).
        d = _incoming(api, f"Công văn đã vào sổ mức {secrecy} kiemtraquyen", secrecy)
        api.as_user("vanthu").post(f"/api/v1/documents/{d['id']}/register", json={})
        docs[f"registered-{secrecy}"] = (d, secrecy, {"vanthu"} | LEADERS)
        # Assigned: + the lead handler and the informed unit head.
        d = _incoming(api, f"Công văn đã giao xử lý mức {secrecy} kiemtraquyen", secrecy)
        api.as_user("vanthu").post(f"/api/v1/documents/{d['id']}/register", json={})
        r = api.as_user("chutich").post(f"/api/v1/documents/{d['id']}/assignments", json={
            "lead": {"user_id": _ids(api, "chuyenvien")}, "info": [{"user_id": _ids(api, "truongphong")}],
            "deadline_days": 5})
        expected = {"vanthu", "truongphong"} | LEADERS
        if r.status_code == 201 or r.status_code == 200:
            expected |= {"chuyenvien"}
        else:  # a lead without clearance is refused: the document stays out of his reach
            assert r.status_code in (400, 403), r.get_json()
            api.as_user("chutich").post(f"/api/v1/documents/{d['id']}/assignments", json={
                "lead": {"user_id": _ids(api, "truongphong")}, "deadline_days": 5})
        docs[f"assigned-{secrecy}"] = (d, secrecy, expected)
    # A Tối mật draft of the vice-chairman: only he (and nobody below his clearance).
    d = created(upload(api.as_user("phochutich"), direction="outgoing", type="QĐ", number_notation=None,
                       issuing_body=None, issuing_organ_id=None, issued_date=None, received_via=None,
                       secrecy="toi_mat", subject="Dự thảo tối mật kiemtraquyen", file=official_pdf("Dự thảo")))
    docs["draft-toi_mat"] = (d, "toi_mat", {"phochutich"})
    # An officer's ordinary draft: only him.
    d = created(upload(api.as_user("chuyenvien"), direction="outgoing", type="QĐ", number_notation=None,
                       issuing_body=None, issuing_organ_id=None, issued_date=None, received_via=None,
                       subject="Dự thảo thường kiemtraquyen", file=official_pdf("Dự thảo thường")))
    docs["draft-none"] = (d, "none", {"chuyenvien"})
    # The Sở's registered incoming document: only the Sở's registry and leader.
    d = _incoming(api, "Công văn của Sở kiemtraquyen", "none", clerk="snv.vanthu")
    api.as_user("snv.vanthu").post(f"/api/v1/documents/{d['id']}/register", json={})
    docs["other-agency"] = (d, "none", {"snv.vanthu", "snv.giamdoc"})
    return docs


def test_no_read_path_leaks(api, container) -> None:  # type: ignore[no-untyped-def]
    docs = _scenario(api)
    container.indexing.drain_all()  # indexing runs in the background, not in the upload's request
    mismatches: list[str] = []
    for username in CLEARANCE:
        user = api.as_user(username)
        listed = {d["id"] for d in user.get("/api/v1/documents", query_string={"per_page": 200}).get_json()["items"]}
        found = {h["id"] for h in user.get("/api/v1/search", query_string={"q": "kiemtraquyen", "size": 100})
                 .get_json()["hits"]}
        inbox = {i["document"]["id"] for i in user.get("/api/v1/inbox").get_json()["items"]}
        for name, (doc, secrecy, related) in docs.items():
            expected = username in related and CLEARANCE[username] >= LEVEL[secrecy]
            paths = {"item": user.get(f"/api/v1/documents/{doc['id']}").status_code,
                     "content": user.get(f"/api/v1/documents/{doc['id']}/content").status_code,
                     "history": user.get(f"/api/v1/documents/{doc['id']}/history").status_code,
                     "versions": user.get(f"/api/v1/documents/{doc['id']}/versions").status_code}
            for path, status in paths.items():
                if status != (200 if expected else 404):
                    mismatches.append(f"{username} {name} {path}: {status}")
            if (doc["id"] in listed) != expected:
                mismatches.append(f"{username} {name} list: {doc['id'] in listed}")
            if (doc["id"] in found) != expected:
                mismatches.append(f"{username} {name} search: {doc['id'] in found}")
            if doc["id"] in inbox and not expected:
                mismatches.append(f"{username} {name} inbox: leaked")
    assert mismatches == []


def test_secret_downloads_are_watermarked_and_stored_encrypted(api, container) -> None:  # type: ignore[no-untyped-def]
    import hashlib
    import subprocess
    import tempfile

    from sqlalchemy import select

    from docsvc.db.models import DocumentFile
    doc = _incoming(api, "Công văn mật về công tác bảo vệ bí mật nhà nước", "mat")
    with container.db.read() as s:
        key, sha, size = s.execute(select(DocumentFile.object_key, DocumentFile.sha256, DocumentFile.size).where(
            DocumentFile.document_id == doc["id"], DocumentFile.role == "main")).one()
    assert key.startswith("enc/")  # ciphertext is what reaches the store
    r = api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}/content")
    assert r.status_code == 200
    marked = r.data
    # An incremental update: the original (as filed, by its digest) is still the file's first revision.
    assert hashlib.sha256(marked[:size]).hexdigest() == sha and len(marked) > size
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(marked)
        fh.flush()
        text = subprocess.run(["pdftotext", fh.name, "-"], capture_output=True, text=True, check=True).stdout
    assert "Bản của: Nguyễn Thị Lan" in text and "+07:00" in text and "MẬT" in text
    history = api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}/history").get_json()["items"]
    assert any(e["action"] == "document.download" for e in history)
