"""Storage locks of archived and held records: compliance retention and the legal-hold flag.

The database says what each object should carry (the longest retention of the archived dossiers
holding it, a legal hold while any active hold covers a document using it); ``object_locks``
remembers what was applied. Changes mark objects pending in the same transaction; :meth:`sync`
applies the difference after commit, and the periodic task retries what failed (storage down), so a
lock is delayed at worst, never lost. Retention only ever grows (the store refuses to shorten it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import DocumentFile, Dossier, DossierDocument, ObjectLock, RetentionPeriod
from docsvc.db.uow import Database
from docsvc.domain.archives import DossierStatus, Retention, lock_until
from docsvc.services.archives.common import held_document_ids
from docsvc.services.archives.guard import mark_lock_pending
from storage.port import ObjectStore

log = logging.getLogger("docsvc.archives.locks")


@dataclass
class LockSyncReport:
    applied: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"applied": self.applied, "failed": self.failed, "errors": self.errors[:20]}


@dataclass(frozen=True)
class WantedLock:
    retain_until: datetime | None
    legal_hold: bool


def keys_of_documents(s: Session, doc_ids: Iterable[int]) -> set[str]:
    ids = list(doc_ids)
    if not ids:
        return set()
    return set(s.execute(select(DocumentFile.object_key).where(DocumentFile.document_id.in_(ids))).scalars())


def mark_documents(s: Session, doc_ids: Iterable[int]) -> int:
    """Mark every object of these documents for a lock sync (same transaction as the change)."""
    keys = keys_of_documents(s, doc_ids)
    mark_lock_pending(s, keys)
    return len(keys)


def wanted_locks(s: Session, keys: Iterable[str]) -> dict[str, WantedLock]:
    keys = sorted(set(keys))
    until: dict[str, datetime] = {}
    for key, years, ended in s.execute(
            select(DocumentFile.object_key, RetentionPeriod.years, Dossier.work_ended_on)
            .join(DossierDocument, DossierDocument.document_id == DocumentFile.document_id)
            .join(Dossier, Dossier.id == DossierDocument.dossier_id)
            .join(RetentionPeriod, RetentionPeriod.id == Dossier.retention_id)
            .where(DocumentFile.object_key.in_(keys), Dossier.status == DossierStatus.ARCHIVED.value,
                   Dossier.work_ended_on.is_not(None))):
        if ended is None:  # excluded by the query already
            continue
        instant = lock_until(Retention(years), ended)
        if key not in until or instant > until[key]:
            until[key] = instant
    users = s.execute(select(DocumentFile.object_key, DocumentFile.document_id)
                      .where(DocumentFile.object_key.in_(keys))).all()
    held_docs = held_document_ids(s, {doc_id for _, doc_id in users})
    held = {key for key, doc_id in users if doc_id in held_docs}
    return {k: WantedLock(until.get(k), k in held) for k in keys}


class ObjectLocks:
    """Applies the wanted locks to the object store (``storage.ObjectStore``)."""

    def __init__(self, db: Database, store: ObjectStore) -> None:
        self.db = db
        self.store = store

    def pending(self) -> int:
        with self.db.read() as s:
            return len(s.execute(select(ObjectLock.object_key).where(ObjectLock.pending.is_(True))).all())

    def sync(self, limit: int = 1000) -> LockSyncReport:
        """Apply pending lock changes; failures stay pending (retried by the periodic task)."""
        from storage.errors import ObjectNotFound, StorageError
        from storage.port import RetentionMode
        report = LockSyncReport()
        with self.db.read() as s:
            rows = s.execute(select(ObjectLock.object_key, ObjectLock.generation, ObjectLock.applied_retain_until,
                                    ObjectLock.applied_legal_hold).where(ObjectLock.pending.is_(True))
                             .order_by(ObjectLock.object_key).limit(limit)).all()
            wanted = wanted_locks(s, [r.object_key for r in rows])
        now = utcnow()
        for key, generation, applied_until, applied_hold in rows:
            want = wanted[key]
            new_until, new_hold, error = applied_until, applied_hold, None
            try:
                if want.retain_until and want.retain_until > now and (
                        applied_until is None or want.retain_until > applied_until):
                    info = self.store.set_retention(key, want.retain_until, RetentionMode.COMPLIANCE)
                    new_until = info.retain_until
                if want.legal_hold != applied_hold:
                    self.store.set_legal_hold(key, want.legal_hold)
                    new_hold = want.legal_hold
            except ObjectNotFound:
                error = "object not in the store (destroyed or never written)"
            except StorageError as exc:
                report.failed += 1
                report.errors.append(f"{key}: {type(exc).__name__}: {exc}"[:300])
                log.warning("lock of %s not applied: %s", key, exc)
                self._record(key, generation, new_until, new_hold, f"{type(exc).__name__}: {exc}", done=False)
                continue
            report.applied += 1
            self._record(key, generation, new_until, new_hold, error, done=True)
        return report

    def _record(self, key: str, generation: int, until: datetime | None, hold: bool, error: str | None,
                *, done: bool) -> None:
        with self.db.write() as s:
            values: dict[str, object] = {"applied_retain_until": until, "applied_legal_hold": hold,
                                         "last_error": error}
            s.execute(update(ObjectLock).where(ObjectLock.object_key == key).values(**values))
            if done:  # a mark made meanwhile bumped the generation: leave it pending
                s.execute(update(ObjectLock).where(ObjectLock.object_key == key,
                                                   ObjectLock.generation == generation).values(pending=False))

    def reconcile(self) -> int:
        """Mark objects of archived or held documents that have no lock record yet (safety net,
        e.g. a file added by raw SQL); returns how many were marked."""
        from docsvc.db.models import LegalHold
        with self.db.write() as s:
            archived = select(DossierDocument.document_id).join(Dossier, Dossier.id == DossierDocument.dossier_id) \
                .where(Dossier.status == DossierStatus.ARCHIVED.value)
            held_direct = select(LegalHold.document_id).where(LegalHold.released_at.is_(None),
                                                              LegalHold.document_id.is_not(None))
            held_dossier = select(DossierDocument.document_id).join(
                LegalHold, LegalHold.dossier_id == DossierDocument.dossier_id).where(LegalHold.released_at.is_(None))
            known = select(ObjectLock.object_key)
            keys = set(s.execute(select(DocumentFile.object_key).where(
                DocumentFile.document_id.in_(archived.union(held_direct, held_dossier).scalar_subquery()),
                DocumentFile.object_key.not_in(known))).scalars())
            mark_lock_pending(s, keys)
            return len(keys)
