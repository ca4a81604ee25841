"""How the archive plugs into the rest of the application (installed once per process):

- read access: a document filed in a closed, archived or destroyed dossier is readable by the
  agency's archivists (within their clearance, like every read);
- the search index: the dossiers holding a document, its longest retention and its archive status
  (filters and facets of the archivist's search);
- the write-once guard on every ORM session.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.models import Document, Dossier, DossierDocument, RetentionPeriod
from docsvc.domain.access import Relationships
from docsvc.domain.archives import DossierStatus, Retention

#: Dossier states whose documents the archive holds (and its archivists read).
ARCHIVE_READABLE = frozenset({DossierStatus.CLOSED.value, DossierStatus.ARCHIVED.value,
                              DossierStatus.DESTROYED.value})
#: ``archive_status`` of a document: the furthest state of the dossiers holding it.
_PROGRESS = [DossierStatus.PLANNED.value, DossierStatus.OPEN.value, DossierStatus.CLOSED.value,
             DossierStatus.ARCHIVED.value, DossierStatus.DESTROYED.value]
UNFILED = "unfiled"


def _dossiers_of(s: Session, doc_id: int) -> list[tuple[int, str, str, int | None, bool]]:
    """(id, file code, status, retention years, has a retention) of the dossiers holding a document."""
    rows = s.execute(select(Dossier.id, Dossier.file_code, Dossier.status, RetentionPeriod.years,
                            RetentionPeriod.id).join(DossierDocument, DossierDocument.dossier_id == Dossier.id)
                     .outerjoin(RetentionPeriod, RetentionPeriod.id == Dossier.retention_id)
                     .where(DossierDocument.document_id == doc_id).order_by(Dossier.id)).all()
    return [(r[0], r[1], r[2], r[3], r[4] is not None) for r in rows]


def archive_relationships(s: Session, doc: Document, rel: Relationships) -> None:
    if doc.id is None:
        return
    rel.in_archive = rel.in_archive or any(status in ARCHIVE_READABLE for _, _, status, _, _ in _dossiers_of(s, doc.id))


def archive_index_fields(s: Session, doc: Document) -> dict[str, Any]:
    dossiers = _dossiers_of(s, doc.id)
    if not dossiers:
        return {"archive_status": UNFILED}
    retentions = [Retention(years) for _, _, _, years, has in dossiers if has]
    longest = None
    for r in retentions:
        if longest is None or r.longer_than(longest):
            longest = r
    if doc.content_destroyed_at is not None:
        status = DossierStatus.DESTROYED.value
    else:  # a dossier destroyed while another keeps the content does not make the document destroyed
        kept = [st for _, _, st, _, _ in dossiers if st != DossierStatus.DESTROYED.value] or [UNFILED]
        status = max(kept, key=lambda st: _PROGRESS.index(st) if st in _PROGRESS else -1)
    return {"dossier_ids": [str(i) for i, _, _, _, _ in dossiers], "dossier_codes": [c for _, c, _, _, _ in dossiers],
            "retention": longest.key if longest else None, "archive_status": status}


def install() -> None:
    """Register the hooks (idempotent)."""
    from docsvc.services import access, indexing
    from docsvc.services.archives import guard
    if archive_relationships not in access.RELATIONSHIP_SOURCES:
        access.RELATIONSHIP_SOURCES.append(archive_relationships)
    if archive_index_fields not in indexing.INDEX_FIELD_SOURCES:
        indexing.INDEX_FIELD_SOURCES.append(archive_index_fields)
    guard.install()
