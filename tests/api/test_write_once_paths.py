"""No code path — any API route, any periodic task, the CLI, the ORM itself — deletes or alters an
archived or held record, on either storage adapter (local folder, S3)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from docsvc.db.models import DisposalItem, Document, DocumentFile
from docsvc.domain.archives import add_years
from docsvc.errors import Locked
from docsvc.timeutil import vn_today
from tests.api.archive_support import closed_dossier, issued_outgoing, registered_incoming, transfer
from tests.api.test_dossier_export import cli_env
from tests.helpers import created, me, run_cli


def _protected(api: Any, retention_code: str = "TC-20") -> tuple[list[int], int]:
    """An archived dossier (an issued and an incoming document) and a held incoming document."""
    issued = issued_outgoing(api)
    incoming = registered_incoming(api, 1)
    d = closed_dossier(api, "01.VP", [issued["id"], incoming["id"]], retention_code=retention_code)
    transfer(api, d["id"])
    held = registered_incoming(api, 2)
    created(api.as_user("chutich").post("/api/v1/legal-holds", json={"document_id": held["id"],
                                                                     "reason": "Phục vụ điều tra"}))
    return [issued["id"], incoming["id"], held["id"]], d["id"]


def _snapshot(container: Any, doc_ids: list[int]) -> dict[int, Any]:
    """Each document's record (every column but the index refresh time) and its files."""
    with container.db.read() as s:
        out = {}
        for doc in s.execute(select(Document).where(Document.id.in_(doc_ids))).scalars():
            columns = {c.key: getattr(doc, c.key) for c in Document.__table__.columns if c.key != "updated_at"}
            files = sorted((f.id, f.role, f.object_key, f.sha256) for f in doc.files)
            out[doc.id] = (columns, files)
        return out


def _assert_intact(container: Any, before: dict[int, Any]) -> None:
    after = _snapshot(container, list(before))
    for doc_id, (columns, files) in before.items():
        assert after[doc_id][0] == columns, doc_id
        kept = [f for f in after[doc_id][1] if f in files]
        assert kept == files, doc_id  # nothing removed or changed (a preservation rendition may be added)
        for _, _, key, sha in files:
            assert container.store.stat(key).sha256 == sha
            container.store.get_bytes(key)  # verified read


def _routes(app: Any) -> list[tuple[str, str, Any]]:
    """Every state-changing API route about one document: (method, path with {doc_id}, body model)."""
    from docsvc.web.api.spec import OPERATIONS
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/documents/<int:doc_id>"):
            continue
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
            out.append((method, rule.rule.replace("<int:doc_id>", "{doc_id}"), OPERATIONS[rule.endpoint].body))
    return out


def test_no_api_route_alters_an_archived_or_held_document(api, app, container) -> None:  # type: ignore[no-untyped-def]
    """Each route is called by each of the people who could act on these documents, with a body
    valid for the route, so requests reach the services; the records must come out unchanged."""
    import io

    from tests.fixtures.pdfs import official_pdf
    from tests.helpers import PIN
    doc_ids, _ = _protected(api)
    other = registered_incoming(api, 3)["id"]
    values: dict[str, Any] = {
        "years": 5, "reason": "thử sửa", "decision_ref": "1/QĐ", "user_id": me(api, "chuyenvien")["id"],
        "confirm_duplicate": True, "lead": {"user_id": me(api, "chuyenvien")["id"]}, "deadline_days": 3,
        "instruction": "x", "text": "x", "percent": 50, "reply_document_id": other, "note": "x",
        "signer_id": me(api, "chutich")["id"], "comment": "x", "pin": PIN, "recipients": [{"name": "Các thôn"}],
        "form": "SY"}
    before = _snapshot(container, doc_ids)
    routes = _routes(app)
    assert len(routes) >= 15, routes  # the registry's, the leaders' and the handlers' actions
    statuses: dict[int, int] = {}
    for method, path, model in routes:
        for doc_id in doc_ids:
            for username in ("vanthu", "chutich", "chuyenvien", "luutru"):
                url = path.format(doc_id=doc_id)
                if path.endswith("/versions"):
                    r = api.as_user(username).open(url, method=method, content_type="multipart/form-data",
                                                   data={"file": (io.BytesIO(official_pdf("Sửa")), "sua.pdf")})
                elif model is None:
                    r = api.as_user(username).open(url, method=method)
                else:
                    body = {k: v for k, v in values.items() if k in model.model_fields}
                    r = api.as_user(username).open(url, method=method, json=body)
                assert r.status_code < 500, (method, path, username, r.get_data(as_text=True)[:300])
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    assert statuses.get(423, 0) > 0, statuses  # the write-once guard itself was reached, not only input checks
    _assert_intact(container, before)


def test_periodic_tasks_and_the_cli_leave_protected_records_intact(api, container) -> None:  # type: ignore[no-untyped-def]
    from docsvc.tasks import jobs
    doc_ids, dossier_id = _protected(api, "VV-01")
    before = _snapshot(container, doc_ids)
    for task in (jobs.drain_outbox, jobs.deliver_pending, jobs.deadline_sweep, jobs.ltv_refresh, jobs.archive_locks,
                 jobs.archive_daily):
        task.apply().get()
    orphan = container.store.put(io.BytesIO(b"an object no row references")).key
    assert container.sweep_orphans(grace=timedelta(0)) >= 1  # the sweep ran for real: it removed the orphan...
    assert not container.store.exists(orphan)  # ...and only unreferenced objects (_assert_intact below)
    container.disposal.propose(today=add_years(vn_today(), 200))  # permanent and held: never listed
    with container.db.read() as s:
        assert s.execute(select(DisposalItem)).first() is None
    env = cli_env(container.settings)
    for args in (["reindex"], ["archive", "daily"], ["archive", "locks"], ["export", str(dossier_id), "--out",
                                                                          str(container.settings.data_dir / "e.zip")]):
        r = run_cli(args, env)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    _assert_intact(container, before)


def test_the_orm_refuses_changes_to_protected_rows_and_storage_refuses_deletes(api, container) -> None:  # type: ignore[no-untyped-def]
    from storage.errors import LegalHoldError, RetentionError, RetentionShorteningError
    from storage.port import RetentionMode
    doc_ids, _ = _protected(api)
    archived, _, held = doc_ids
    before = _snapshot(container, doc_ids)
    for doc_id in (archived, held):
        for change in (lambda s, d: setattr(s.get(Document, d), "subject", "sửa trái phép"),
                       lambda s, d: s.delete(s.get(Document, d)),
                       lambda s, d: s.delete(s.get(Document, d).files[0]),
                       lambda s, d: s.execute(update(Document).where(Document.id == d).values(status="draft")),
                       lambda s, d: s.execute(delete(DocumentFile).where(DocumentFile.document_id == d))):
            with pytest.raises(Locked), container.db.write() as s:
                change(s, doc_id)
                s.flush()
    with container.db.read() as s:
        archived_keys = [f.object_key for f in s.get(Document, archived).files]
        held_keys = [f.object_key for f in s.get(Document, held).files]
    for key in archived_keys:
        info = container.store.stat(key)
        with pytest.raises(RetentionError):
            container.store.delete(key)
        with pytest.raises(RetentionShorteningError):
            container.store.set_retention(key, info.retain_until - timedelta(days=1), RetentionMode.COMPLIANCE)
    for key in held_keys:
        with pytest.raises(LegalHoldError):
            container.store.delete(key)
    _assert_intact(container, before)
