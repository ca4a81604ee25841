"""Write-once protection of archived and held records, for every code path that uses the ORM.

Installed once per process (like a database trigger, but portable across SQLite and PostgreSQL):
before a flush, and before a bulk UPDATE/DELETE on ``documents`` or ``document_files``, it looks at
which documents the statement would change and refuses (``Locked``, HTTP 423) when one of them is
archived (in a dossier transferred to the agency archive) or under a legal hold. The transaction
rolls back, so nothing is half-written. Whatever the service, API route, CLI command or task.

Allowed on a protected document:
- bumping ``updated_at`` (readers or index refresh, e.g. when an archivist gains access);
- adding derived text (``text``/``ocr_text``, for search) and preservation renditions (a new
  ``issued``/``issued_att``/``copy`` file based on an existing one: the long-term-validity refresh
  adds validation data beside the original, which stays untouched). Their objects are marked so the
  lock sync gives them the same storage lock.

The archive services themselves change protected rows (declassify, extend retention, destroy after
appraisal) inside :func:`archive_write`. Raw SQL text bypasses this guard; the storage locks
(compliance retention, legal hold) still protect the content.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import ORMExecuteState, Session

from docsvc.db.models import Document, DocumentFile, Dossier, DossierDocument, ObjectLock
from docsvc.db.uow import Database, bulk_targets
from docsvc.domain.archives import DossierStatus
from docsvc.errors import Locked
from docsvc.services.archives.common import protection_of

OVERRIDE = "archive_write"
ALLOWED_DOCUMENT_CHANGES = frozenset({"updated_at"})
DERIVED_ROLES = frozenset({"text", "ocr_text"})
PRESERVATION_ROLES = frozenset({"issued", "issued_att", "copy"})
_FINAL_DOSSIERS = (DossierStatus.ARCHIVED.value, DossierStatus.DESTROYED.value)


@contextmanager
def archive_write(s: Session, reason: str) -> Iterator[None]:
    """Let the archive services change protected records (each change is audited by the caller)."""
    previous = s.info.get(OVERRIDE)
    s.info[OVERRIDE] = reason
    try:
        yield
    finally:
        if previous is None:
            s.info.pop(OVERRIDE, None)
        else:
            s.info[OVERRIDE] = previous


def mark_lock_pending(s: Session, keys: set[str]) -> None:
    """Ask the lock sync to (re)compute and apply the storage lock of these objects."""
    for key in sorted(keys):
        row = s.get(ObjectLock, key)
        if row is None:
            s.add(ObjectLock(object_key=key, pending=True, generation=1, applied_legal_hold=False))
        else:
            row.pending, row.generation = True, (row.generation or 0) + 1


def _changed(obj: Any) -> set[str]:
    state = inspect(obj)
    return {attr.key for attr in state.mapper.column_attrs if state.attrs[attr.key].history.has_changes()}


def _file_document_id(f: DocumentFile) -> int | None:
    if f.document_id is not None:
        return f.document_id
    doc = f.__dict__.get("document")
    return doc.id if doc is not None else None


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    if session.info.get(OVERRIDE):
        return
    touched: dict[int, str] = {}  # document id → what would change
    preservation: dict[int, set[str]] = {}  # document id → keys of added renditions
    dossier_links: set[int] = set()
    for obj in session.dirty:
        if isinstance(obj, Document) and obj.id is not None:
            changed = _changed(obj) - ALLOWED_DOCUMENT_CHANGES
            if changed:
                touched[obj.id] = "change " + ", ".join(sorted(changed))
        elif isinstance(obj, DocumentFile) and obj.document_id is not None and _changed(obj):
            touched[obj.document_id] = "change a stored file"
    for obj in session.deleted:
        if isinstance(obj, Document):
            touched[obj.id] = "delete the document"
        elif isinstance(obj, DocumentFile):
            touched[obj.document_id] = "delete a stored file"
        elif isinstance(obj, DossierDocument):
            dossier_links.add(obj.dossier_id)
    for obj in session.new:
        if isinstance(obj, DocumentFile):
            doc_id = _file_document_id(obj)
            if doc_id is None:
                continue  # a file of a new document
            if obj.role in DERIVED_ROLES or (obj.role in PRESERVATION_ROLES and obj.base_file_id is not None):
                preservation.setdefault(doc_id, set()).add(obj.object_key)
            else:
                touched.setdefault(doc_id, f"add a '{obj.role}' file")
        elif isinstance(obj, DossierDocument):
            dossier_links.add(obj.dossier_id)
    if not (touched or preservation or dossier_links):
        return
    with session.no_autoflush:
        protected = protection_of(session, set(touched) | set(preservation))
        refused = {doc_id: what for doc_id, what in touched.items() if doc_id in protected}
        if refused:
            doc_id, what = sorted(refused.items())[0]
            where = "in the agency archive" if protected[doc_id] == "archived" else "under a legal hold"
            raise Locked(f"document {doc_id} is {protected[doc_id]} ({where}): write-once, cannot {what}",
                         {"document_id": doc_id, "protection": protected[doc_id], "refused": what})
        keys = {k for doc_id, ks in preservation.items() if doc_id in protected for k in ks}
        if keys:
            mark_lock_pending(session, keys)
        if dossier_links:
            final = session.execute(select(Dossier.id).where(Dossier.id.in_(dossier_links),
                                                             Dossier.status.in_(_FINAL_DOSSIERS))).first()
            if final is not None:
                raise Locked(f"dossier {final.id} is archived or destroyed: its documents cannot change",
                             {"dossier_id": final.id})


_ID_COLUMN = {"documents": "id", "document_files": "document_id"}


def _before_bulk(state: ORMExecuteState) -> None:
    """Bulk ``update(Document)`` / ``delete(DocumentFile)``: check the rows the WHERE clause selects."""
    if state.session.info.get(OVERRIDE):
        return
    targets = bulk_targets(state, _ID_COLUMN)
    if targets is None:
        return
    table, ids = targets
    with state.session.no_autoflush:
        protected = protection_of(state.session, ids)
    if protected:
        doc_id = min(protected)
        raise Locked(f"document {doc_id} is {protected[doc_id]}: write-once, a bulk "
                     f"{'update' if state.is_update else 'delete'} of {table} is refused",
                     {"document_id": doc_id, "protection": protected[doc_id]})


def install(db: Database) -> None:
    """Listen on the sessions ``db`` opens (idempotent); other databases of the process are untouched."""
    db.listen("before_flush", _before_flush)
    db.listen("do_orm_execute", _before_bulk)
