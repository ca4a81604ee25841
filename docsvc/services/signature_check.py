"""Validation verdict of the signatures on a document's file, for whoever may read it.

Received documents keep the report made on receipt; signed and issued renditions are validated
when asked (their verdict can change: revocation, expiry), so the report always carries the
time it was made. Reading the file to validate it is audited like any access to the content.
"""

from __future__ import annotations

from typing import Any

from docsvc.db.uow import Database
from docsvc.domain.identity import Actor, RequestOrigin
from docsvc.services import audit
from docsvc.services.access import load_readable
from docsvc.services.documents import _choose_file
from docsvc.services.files import FileStore
from docsvc.services.signatures import SignatureService


class SignatureCheckService:
    def __init__(self, db: Database, files: FileStore, signatures: SignatureService) -> None:
        self.db = db
        self.files = files
        self.signatures = signatures

    def check(self, actor: Actor, doc_id: int, *, file_id: int | None = None,
              origin: RequestOrigin | None = None) -> dict[str, Any] | None:
        """The report of the file (default: the best rendition of the current version), or None
        when the document has no PDF here (metadata only, destroyed content, or a scan)."""
        with self.db.write() as s:
            doc = load_readable(s, actor, doc_id)
            if doc.content_offline or doc.content_destroyed_at is not None or doc.current_version == 0:
                return None
            chosen = _choose_file(doc, file_id, None)
            if chosen.content_type != "application/pdf":
                return None
            stored, key = chosen.validation, chosen.object_key
            audit.record(s, actor=actor, action="document.verify", object_type="document", object_id=doc.id,
                         origin=origin, agency_id=doc.agency_id,
                         details={"file_id": chosen.id, "sha256": chosen.sha256, "stored": stored is not None})
            facts = {"file_id": chosen.id, "filename": chosen.filename, "role": chosen.role}
        report = stored if stored is not None else self.signatures.validate(self.files.read_bytes(key))
        return {**facts, "report": report, "on_receipt": stored is not None}
