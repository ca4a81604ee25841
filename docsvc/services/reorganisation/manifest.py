"""What a reorganisation must not lose: every document of the sources with the SHA-256 of its files,
and the counts of register lines, dossiers, filings and users, taken before the job and after it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from docsvc.db.models import (
    Document,
    DocumentFile,
    Dossier,
    DossierDocument,
    RegisterEntry,
    User,
)
from docsvc.domain.reorganisation import manifest_digest, record_digest


def take(s: Session, document_ids: Iterable[int], agency_ids: list[int], user_ids: list[int]) -> dict[str, Any]:
    ids = sorted(set(document_ids))
    files: dict[int, list[str]] = {i: [] for i in ids}
    states: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for doc_id, sha in s.execute(select(DocumentFile.document_id, DocumentFile.sha256)
                                     .where(DocumentFile.document_id.in_(chunk))):
            files[doc_id].append(sha)
        for direction, status, n in s.execute(select(Document.direction, Document.status, func.count())
                                              .where(Document.id.in_(chunk)).group_by(Document.direction,
                                                                                      Document.status)):
            states[f"{direction}:{status}"] = states.get(f"{direction}:{status}", 0) + n
    records = {str(i): record_digest(i, files[i]) for i in ids}
    dossier_ids = list(s.execute(select(Dossier.id).where(Dossier.agency_id.in_(agency_ids))).scalars())
    counts = {
        "documents": len(ids),
        "files": sum(len(v) for v in files.values()),
        "register_entries": s.execute(select(func.count()).select_from(RegisterEntry)
                                      .where(RegisterEntry.agency_id.in_(agency_ids))).scalar_one(),
        "dossiers": len(dossier_ids),
        "dossier_documents": s.execute(select(func.count()).select_from(DossierDocument)
                                       .where(DossierDocument.dossier_id.in_(dossier_ids))).scalar_one()
        if dossier_ids else 0,
        "users": s.execute(select(func.count()).select_from(User).where(User.id.in_(user_ids))).scalar_one()
        if user_ids else 0,
    }
    return {"records": records, "counts": counts, "states": states, "sha256": manifest_digest(records)}
