"""The XML of a dossier export with the metadata names of Decree 30/2020, Appendix VI.

Pure: takes plain values (no database), returns bytes. Element names are the decree's (FileCode,
Title, Maintenance, ..., CodeNumber, CodeNotation, IssuedDate, OrganName, Subject, ...); lengths are
cut to the decree's limits (CodeNumber 11, CodeNotation 30, OrganName 200, Subject 500).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date

NAMESPACE = "urn:docsvc:decree-30-2020:appendix-vi"
LIMITS = {"CodeNumber": 11, "CodeNotation": 30, "OrganName": 200, "Subject": 500, "OrganId": 13, "Title": 1000}


@dataclass(frozen=True)
class ExportedFile:
    path: str  # inside the archive
    role: str  # original, attachment, pdfa
    sha256: str
    size: int


@dataclass(frozen=True)
class DocumentRecord:
    ordinal: int  # DocOrdinal
    document_id: int
    direction: str
    type_name: str
    code_number: str | None
    code_notation: str | None
    issued_date: date | None
    organ_name: str
    organ_id: str | None
    subject: str
    language: str
    page_amount: int | None
    description: str
    signer_position: str | None
    signer_name: str | None
    secrecy: str  # Priority: secrecy label
    urgency: str  # Priority: urgency label
    to: list[str] = field(default_factory=list)
    issued_amount: int | None = None
    due_date: date | None = None
    arrival_date: date | None = None
    arrival_number: int | None = None
    to_places: list[str] = field(default_factory=list)
    trace: list[dict[str, str | None]] = field(default_factory=list)  # TraceHeaderList: when, who, what
    files: list[ExportedFile] = field(default_factory=list)
    content_note: str | None = None  # why no content is exported (secret, offline, destroyed)


@dataclass(frozen=True)
class DossierRecord:
    file_code: str
    organ_id: str
    organ_name: str
    year: int
    notation: str
    title: str
    maintenance: str  # "Vĩnh viễn" / "10 năm"
    rights: str  # "Công khai" / "Hạn chế"
    language: str
    start_date: date | None
    end_date: date | None
    doc_total: int
    page_total: int
    description: str
    exported_at: str  # ISO 8601, +07:00


def _put(parent: ET.Element, name: str, value: object) -> ET.Element:
    el = ET.SubElement(parent, name)
    if value is None:
        return el
    text = value.isoformat() if isinstance(value, date) else str(value)
    limit = LIMITS.get(name)
    el.text = text[:limit] if limit else text
    return el


def dossier_xml(dossier: DossierRecord, documents: list[DocumentRecord]) -> bytes:
    root = ET.Element("Dossier", {"xmlns": NAMESPACE, "ExportedAt": dossier.exported_at})
    for name, value in (("FileCode", dossier.file_code), ("OrganId", dossier.organ_id),
                        ("OrganName", dossier.organ_name), ("FileCatalog", dossier.year),
                        ("FileNotation", dossier.notation), ("Title", dossier.title),
                        ("Maintenance", dossier.maintenance), ("Rights", dossier.rights),
                        ("Language", dossier.language), ("StartDate", dossier.start_date),
                        ("EndDate", dossier.end_date), ("DocTotal", dossier.doc_total),
                        ("PageTotal", dossier.page_total), ("Description", dossier.description)):
        _put(root, name, value)
    docs_el = ET.SubElement(root, "Documents")
    for d in documents:
        el = ET.SubElement(docs_el, "Document", {"Direction": d.direction})
        for name, value in (("FileCode", dossier.file_code), ("DocOrdinal", d.ordinal),
                            ("TypeName", d.type_name), ("CodeNumber", d.code_number),
                            ("CodeNotation", d.code_notation), ("IssuedDate", d.issued_date),
                            ("OrganName", d.organ_name), ("OrganId", d.organ_id), ("Subject", d.subject),
                            ("Language", d.language), ("PageAmount", d.page_amount),
                            ("Description", d.description)):
            _put(el, name, value)
        signer = ET.SubElement(el, "SignerInfo")
        _put(signer, "Position", d.signer_position)
        _put(signer, "FullName", d.signer_name)
        to = ET.SubElement(el, "To")
        for name in d.to:
            _put(to, "Organ", name)
        priority = ET.SubElement(el, "Priority")
        _put(priority, "Urgency", d.urgency)
        _put(priority, "Secrecy", d.secrecy)
        _put(el, "IssuedAmount", d.issued_amount)
        _put(el, "DueDate", d.due_date)
        if d.direction == "incoming":
            _put(el, "ArrivalDate", d.arrival_date)
            _put(el, "ArrivalNumber", d.arrival_number)
            places = ET.SubElement(el, "ToPlaces")
            for name in d.to_places:
                _put(places, "Place", name)
            trace = ET.SubElement(el, "TraceHeaderList")
            for t in d.trace:
                th = ET.SubElement(trace, "TraceHeader")
                for key in ("Time", "Actor", "Action", "Note"):
                    _put(th, key, t.get(key))
        files = ET.SubElement(el, "Files")
        for f in d.files:
            ET.SubElement(files, "File", {"Path": f.path, "Role": f.role, "SHA256": f.sha256, "Size": str(f.size)})
        if d.content_note:
            _put(el, "ContentNote", d.content_note)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data
