"""Export of a dossier: one ZIP with the documents in their dossier order, the signed originals
byte for byte, PDF/A renditions beside them when a converter is available, ``metadata.xml`` with
the Appendix VI metadata, and ``manifest-sha256.txt`` (``sha256sum -c`` checks it).

Only what the caller may read goes in. Secret content never leaves in an export (metadata only,
with a note): it goes to an archive after declassification. Destroyed content is noted as such.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.base import utcnow
from docsvc.db.models import Assignment, Document, DossierDocument, Organisation, Recipient, User
from docsvc.db.rows import must_get
from docsvc.db.uow import Database
from docsvc.domain.archives import DossierStatus, Rights
from docsvc.domain.documents import Urgency
from docsvc.domain.identity import Actor, RequestOrigin, Secrecy
from docsvc.domain.policies import is_system
from docsvc.errors import InvalidState, Msg, PermissionDenied
from docsvc.services import audit
from docsvc.services.access import readable_filter
from docsvc.services.archives.appendix6 import DocumentRecord, DossierRecord, ExportedFile, dossier_xml
from docsvc.services.archives.common import load_dossier, may_manage, retention_of
from docsvc.services.archives.dossiers import content_file, document_date
from docsvc.services.archives.pdfa import ConversionFailed
from docsvc.services.files import FileStore
from docsvc.timeutil import to_vn, to_vn_iso

log = logging.getLogger("docsvc.archives.export")

EXPORTABLE = (DossierStatus.CLOSED.value, DossierStatus.ARCHIVED.value, DossierStatus.DESTROYED.value)
MANIFEST = "manifest-sha256.txt"


@dataclass
class DossierExport:
    """A finished export on disk; the caller streams or moves it, then calls :meth:`discard`."""

    path: Path
    filename: str
    size: int
    sha256: str
    documents: int
    renditions: int

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class _Planned:
    record: DocumentRecord
    stem: str
    files: list[tuple[str, str, str, str]]  # (object key, role, extension, sha256 recorded)


class ExportService:
    def __init__(self, db: Database, files: FileStore, *, work_dir: Path, converter: Any | None) -> None:
        self.db = db
        self.files = files
        self.work_dir = work_dir
        self.converter = converter  # docsvc.services.archives.pdfa.GhostscriptPdfA, or None

    def export(self, actor: Actor, dossier_id: int, *, origin: RequestOrigin | None = None,
               renditions: bool = True) -> DossierExport:
        """Build the ZIP of a closed, archived or destroyed dossier (the archive, or its manager)."""
        with self.db.write() as s:
            d = load_dossier(s, actor, dossier_id)
            if not may_manage(actor, d):
                raise PermissionDenied(Msg("archives.archive_registry_dossier_owner_export_dossier",
                                           "the archive, the registry or the dossier's owner export a dossier"))
            if d.status not in EXPORTABLE:
                raise InvalidState(Msg("archives.close_dossier_before_exporting",
                                       "close the dossier before exporting it"), {"status": d.status})
            agency = must_get(s, Organisation, d.agency_id)
            retention = retention_of(s, d)
            dossier = DossierRecord(
                file_code=d.file_code, organ_id=agency.organ_id or "", organ_name=agency.name, year=d.year,
                notation=d.notation, title=d.title, maintenance=retention.label_vi if retention else "",
                rights=Rights(d.rights).label_vi, language=d.language, start_date=d.start_date,
                end_date=d.end_date, doc_total=d.doc_total or 0, page_total=d.page_total or 0,
                description=d.description, exported_at=to_vn_iso(utcnow()) or "")
            planned = self._plan(s, actor, d.id)
            audit.record(s, actor=actor, action="dossier.export", object_type="dossier", object_id=d.id,
                         origin=origin, agency_id=d.agency_id,
                         details={"file_code": d.file_code, "documents": len(planned)})
        return self._write(dossier, planned, renditions=renditions and self.converter is not None)

    # ------------------------------------------------------------ plan (inside the transaction)
    def _plan(self, s: Session, actor: Actor, dossier_id: int) -> list[_Planned]:
        q = select(Document, DossierDocument.ordinal).join(
            DossierDocument, DossierDocument.document_id == Document.id).where(DossierDocument.dossier_id == dossier_id)
        if not is_system(actor):
            q = readable_filter(q, actor)
        rows = list(s.execute(q).all())
        rows.sort(key=lambda r: (r[1] is None, r[1] or 0, document_date(r[0]) or date.max, r[0].id))
        out = []
        for position, (doc, ordinal) in enumerate(rows, start=1):
            number = ordinal or position
            stem = f"{number:03d}-{_slug(doc.code_number, doc.code_notation, doc.id)}"
            note, files = None, []
            if doc.content_destroyed_at is not None:
                note = f"content destroyed on {to_vn(doc.content_destroyed_at):%d/%m/%Y} after appraisal"
            elif doc.content_offline:
                note = "secret content kept offline (metadata only)"
            elif doc.secrecy:
                note = f"{Secrecy(doc.secrecy).label_vi}: content is exported after declassification"
            else:
                main = content_file(doc)
                if main is not None:
                    files.append((main.object_key, "original", _extension(main.filename), main.sha256))
                atts = [f for f in doc.files if f.role in ("issued_att",) and f.version == doc.current_version] \
                    or [f for f in doc.files if f.role == "attachment" and f.version == doc.current_version]
                for i, f in enumerate(atts, start=1):
                    files.append((f.object_key, f"attachment-{i}", _extension(f.filename), f.sha256))
            out.append(_Planned(self._record(s, doc, number, note), stem, files))
        return out

    @staticmethod
    def _record(s: Session, doc: Document, ordinal: int, note: str | None) -> DocumentRecord:
        recipients = [r.name for r in s.execute(select(Recipient).where(Recipient.document_id == doc.id)
                                                .order_by(Recipient.id)).scalars()]
        trace, places = [], []
        for a in s.execute(select(Assignment).where(Assignment.document_id == doc.id)
                           .order_by(Assignment.id)).scalars():
            who = must_get(s, User, a.user_id).full_name if a.user_id else must_get(s, Organisation, a.unit_id).name
            by = s.get(User, a.assigned_by)
            places.append(who)
            trace.append({"Time": to_vn_iso(a.assigned_at), "Actor": by.full_name if by else "",
                          "Action": f"{a.role}: {who}" + (f" (hạn {a.deadline:%d/%m/%Y})" if a.deadline else ""),
                          "Note": a.instruction})
            if a.completed_at:
                trace.append({"Time": to_vn_iso(a.completed_at), "Actor": who, "Action": "completed",
                              "Note": a.completion_note or ""})
        return DocumentRecord(
            ordinal=ordinal, document_id=doc.id, direction=doc.direction, type_name=doc.doc_type.name,
            code_number=doc.code_number, code_notation=doc.code_notation, issued_date=doc.issued_date,
            organ_name=doc.issuing_body, organ_id=doc.issuing_organ_id, subject=doc.subject,
            language=doc.language, page_amount=doc.page_amount, description=doc.description,
            signer_position=doc.signer_position, signer_name=doc.signer_name,
            secrecy=Secrecy(doc.secrecy).label_vi, urgency=Urgency(doc.urgency).label_vi, to=recipients,
            issued_amount=len(recipients) or None, due_date=doc.due_date,
            arrival_date=to_vn(doc.arrival_at).date() if doc.arrival_at else None,
            arrival_number=doc.arrival_number, to_places=places, trace=trace, content_note=note)

    # ------------------------------------------------------------ write (outside the transaction)
    def _write(self, dossier: DossierRecord, planned: list[_Planned], *, renditions: bool) -> DossierExport:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        root = _safe(dossier.file_code)
        with tempfile.NamedTemporaryFile(dir=self.work_dir, prefix="export-", suffix=".zip", delete=False) as handle:
            path = Path(handle.name)
        manifest: list[tuple[str, str]] = []
        records: list[DocumentRecord] = []
        made = 0
        try:
            with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf, \
                    tempfile.TemporaryDirectory(dir=self.work_dir, prefix="export-") as tmp:
                for p in planned:
                    exported: list[ExportedFile] = []
                    for key, role, ext, recorded in p.files:
                        name = f"documents/{p.stem}{'' if role == 'original' else '.' + role}{ext}"
                        local = Path(tmp) / f"{len(manifest)}{ext}"
                        digest, size = self._copy_verified(key, local)
                        if digest != recorded:  # the store verified the object; the row must agree too
                            raise InvalidState(f"stored content of document {p.record.document_id} does not match "
                                               "its recorded digest: export refused", {"object_key": key})
                        zf.write(local, f"{root}/{name}", compress_type=zipfile.ZIP_STORED)
                        manifest.append((digest, name))
                        exported.append(ExportedFile(name, role, digest, size))
                        if renditions and ext == ".pdf":
                            rendition = self._rendition(local, Path(tmp) / f"a{len(manifest)}.pdf", p.record.subject)
                            if rendition is not None:
                                rname = f"pdfa/{p.stem}{'' if role == 'original' else '.' + role}.pdf"
                                zf.write(rendition, f"{root}/{rname}", compress_type=zipfile.ZIP_STORED)
                                rdigest, rsize = _digest(rendition)
                                manifest.append((rdigest, rname))
                                exported.append(ExportedFile(rname, f"pdfa:{role}", rdigest, rsize))
                                made += 1
                        local.unlink(missing_ok=True)
                    records.append(_with_files(p.record, exported))
                xml = dossier_xml(dossier, records)
                zf.writestr(f"{root}/metadata.xml", xml)
                manifest.append((hashlib.sha256(xml).hexdigest(), "metadata.xml"))
                zf.writestr(f"{root}/{MANIFEST}", "".join(f"{h}  {n}\n" for h, n in manifest))
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        digest, size = _digest(path)
        return DossierExport(path=path, filename=f"{root}.zip", size=size, sha256=digest,
                             documents=len(records), renditions=made)

    def _copy_verified(self, key: str, target: Path) -> tuple[str, int]:
        h, size = hashlib.sha256(), 0
        with target.open("wb") as out:
            for chunk in self.files.iter_chunks(key):
                h.update(chunk)
                size += len(chunk)
                out.write(chunk)
        return h.hexdigest(), size

    def _rendition(self, source: Path, target: Path, title: str) -> Path | None:
        if self.converter is None:
            return None
        try:
            self.converter.convert(source, target, title)
        except ConversionFailed as exc:  # the original is the record; a missing rendition is noted in logs
            log.warning("no PDF/A rendition of %s: %s", source.name, exc)
            return None
        return target


def _with_files(record: DocumentRecord, files: list[ExportedFile]) -> DocumentRecord:
    return replace(record, files=files)


def _digest(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _safe(text: str) -> str:
    """ASCII file-name part: Vietnamese letters lose their marks (Đ → D), other characters become '-'."""
    folded = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    ascii_ = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9.]+", "-", ascii_).strip("-.")[:80] or "dossier"


def _slug(number: str | None, notation: str | None, doc_id: int) -> str:
    return _safe(f"{number}-{notation}") if number and notation else f"doc-{doc_id}"


def _extension(filename: str) -> str:
    suffix = Path(filename or "").suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".bin"

