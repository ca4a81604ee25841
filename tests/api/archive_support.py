"""Building blocks of the archive tests: registered and issued documents, dossiers filed and closed."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.fixtures.pdfs import official_pdf
from tests.helpers import created, signed_draft, upload


def registered_incoming(api: Any, n: int, *, content: bool = True, **fields: Any) -> dict[str, Any]:
    """Incoming document number ``n`` of a test, received and registered by the registry
    (``content=False``: metadata only, as secret documents on a connected deployment)."""
    clerk = api.as_user("vanthu")
    subject = fields.pop("subject", f"Công văn số {n} về việc báo cáo tình hình thực hiện nhiệm vụ")
    doc = created(upload(clerk, type=fields.pop("type", "QĐ"), number_notation=fields.pop(
        "number_notation", f"{n:02d}/QĐ-UBND"), subject=subject,
        file=official_pdf(subject) if content else False, **fields))
    r = clerk.post(f"/api/v1/documents/{doc['id']}/register", json={"confirm_duplicate": True})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def issued_outgoing(api: Any, subject: str = "Quyết định phê duyệt kế hoạch lưu trữ năm 2026") -> dict[str, Any]:
    doc = signed_draft(api, subject=subject)
    r = api.as_user("vanthu").post(f"/api/v1/documents/{doc['id']}/issue", json={"recipients": [{"name": "Các thôn"}]})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def plan_id(api: Any, year: int) -> int:
    archivist = api.as_user("luutru")
    for plan in archivist.get("/api/v1/dossier-plans").get_json()["items"]:
        if plan["year"] == year:
            return plan["id"]
    return created(archivist.post("/api/v1/dossier-plans", json={"year": year}))["id"]


def open_dossier(api: Any, notation: str, *, retention_code: str | None = "KH-10", year: int | None = None,
                 user: str = "luutru", **fields: Any) -> dict[str, Any]:
    year = year or date.today().year
    body = {"notation": notation, "title": fields.pop("title", f"Hồ sơ {notation}"), "open": True, **fields}
    if retention_code:
        body["retention_code"] = retention_code
    return created(api.as_user(user).post(f"/api/v1/dossier-plans/{plan_id(api, year)}/dossiers", json=body))


def file_into(api: Any, dossier_id: int, *doc_ids: int, user: str = "vanthu") -> None:
    for doc_id in doc_ids:
        created(api.as_user(user).post(f"/api/v1/dossiers/{dossier_id}/documents", json={"document_id": doc_id}))


def close(api: Any, dossier_id: int, work_ended_on: date | None = None, user: str = "luutru") -> dict[str, Any]:
    body = {"work_ended_on": work_ended_on.isoformat()} if work_ended_on else {}
    r = api.as_user(user).post(f"/api/v1/dossiers/{dossier_id}/close", json=body)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def closed_dossier(api: Any, notation: str, doc_ids: list[int], *, retention_code: str = "KH-10",
                   work_ended_on: date | None = None, **fields: Any) -> dict[str, Any]:
    d = open_dossier(api, notation, retention_code=retention_code, **fields)
    file_into(api, d["id"], *doc_ids)
    return close(api, d["id"], work_ended_on)


def transfer(api: Any, *dossier_ids: int) -> dict[str, Any]:
    return created(api.as_user("luutru").post("/api/v1/archive/transfers", json={"dossier_ids": list(dossier_ids)}))


def files_of(container: Any, doc_id: int) -> list[Any]:
    from docsvc.db.models import Document
    with container.db.read() as s:
        return [(f.role, f.object_key, f.sha256) for f in s.get(Document, doc_id).files]


def raise_clearance(api: Any, username: str, level: str) -> None:
    """The admin raises a user's clearance (which revokes the user's tokens: the next call logs in again)."""
    user_id = api.as_user(username).get("/api/v1/me").get_json()["id"]
    r = api.as_user("quantri").patch(f"/api/v1/users/{user_id}", json={"clearance": level})
    assert r.status_code == 200, r.get_json()
    api._tokens.pop(username, None)
