"""How the archive plugs into the rest of the application (wired by ``docsvc.bootstrap`` into the
container's ``Database``; importing this module registers nothing):

- read access: a document filed in a closed, archived or destroyed dossier is readable by the
  agency's archivists (within their clearance, like every read);
- the search index: the dossiers holding a document, its longest retention and its archive status
  (filters and facets of the archivist's search);
- the write-once guard on every ORM session of that database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.models import Document, Dossier, DossierDocument, RetentionPeriod
from docsvc.db.uow import Database
from docsvc.domain.access import Relationships
from docsvc.domain.archives import DossierStatus, Retention
from docsvc.domain.identity import Secrecy

#: Dossier states whose documents the archive holds (and its archivists read).
ARCHIVE_READABLE = frozenset({DossierStatus.CLOSED.value, DossierStatus.ARCHIVED.value,
                              DossierStatus.DESTROYED.value})
#: ``archive_status`` of a document: the furthest state of the dossiers holding it.
_PROGRESS = [DossierStatus.PLANNED.value, DossierStatus.OPEN.value, DossierStatus.CLOSED.value,
             DossierStatus.ARCHIVED.value, DossierStatus.DESTROYED.value]
UNFILED = "unfiled"


@dataclass(frozen=True)
class _Filed:
    """A dossier holding a document, as the archive hooks need it."""

    id: int
    file_code: str
    status: str
    secrecy: int
    years: int | None
    has_retention: bool


def _dossiers_of(s: Session, doc_id: int) -> list[_Filed]:
    rows = s.execute(select(Dossier.id, Dossier.file_code, Dossier.status, Dossier.secrecy, RetentionPeriod.years,
                            RetentionPeriod.id).join(DossierDocument, DossierDocument.dossier_id == Dossier.id)
                     .outerjoin(RetentionPeriod, RetentionPeriod.id == Dossier.retention_id)
                     .where(DossierDocument.document_id == doc_id).order_by(Dossier.id)).all()
    return [_Filed(r[0], r[1], r[2], r[3], r[4], r[5] is not None) for r in rows]


def archive_relationships(s: Session, doc: Document, rel: Relationships) -> None:
    if doc.id is None:
        return
    rel.in_archive = rel.in_archive or any(d.status in ARCHIVE_READABLE for d in _dossiers_of(s, doc.id))


def _archive_facts(doc: Document, dossiers: list[_Filed]) -> tuple[str, str | None]:
    """(archive status, longest retention) of a document from the dossiers holding it."""
    if not dossiers:
        return UNFILED, None
    longest = None
    for r in (Retention(d.years) for d in dossiers if d.has_retention):
        if longest is None or r.longer_than(longest):
            longest = r
    if doc.content_destroyed_at is not None:
        status = DossierStatus.DESTROYED.value
    else:  # a dossier destroyed while another keeps the content does not make the document destroyed
        kept = [d.status for d in dossiers if d.status != DossierStatus.DESTROYED.value] or [UNFILED]
        status = max(kept, key=lambda st: _PROGRESS.index(st) if st in _PROGRESS else -1)
    return status, longest.key if longest else None


def archive_index_fields(s: Session, doc: Document) -> dict[str, Any]:
    """The dossiers with the clearance needed to know of them (``may_see_dossier``: a reader of the
    document is of its agency), and the archive status and retention each clearance may learn:
    computed from the dossiers within that clearance only, so a Tuyệt mật dossier holding a plain
    document shows nowhere to those below it."""
    from search.model import ArchiveFacts, DossierRef
    dossiers = _dossiers_of(s, doc.id)
    levels = [ArchiveFacts(*_archive_facts(doc, [d for d in dossiers if d.secrecy <= level])) for level in Secrecy]
    return {"dossiers": [DossierRef(str(d.id), d.file_code, d.secrecy) for d in dossiers],
            "archive_by_clearance": levels}


def session_info() -> dict[str, Any]:
    """What the archive adds to every session's ``info``: its read relationships and index fields."""
    from docsvc.services.access import RELATIONSHIP_SOURCES_INFO
    from docsvc.services.indexing import INDEX_FIELD_SOURCES_INFO
    return {RELATIONSHIP_SOURCES_INFO: (archive_relationships,), INDEX_FIELD_SOURCES_INFO: (archive_index_fields,)}


def install(db: Database) -> None:
    """The write-once guard on the sessions of ``db`` (idempotent)."""
    from docsvc.services.archives import guard
    guard.install(db)
