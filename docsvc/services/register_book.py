"""The outgoing and incoming registers (sổ đăng ký văn bản đi / đến) with the decree's columns,
as data and as a printable PDF (A4 landscape, Vietnamese font)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.models import Assignment, Document, Organisation, Recipient, RegisterEntry, User
from docsvc.db.rows import must_get
from docsvc.db.uow import Database
from docsvc.domain.documents import number_notation
from docsvc.domain.identity import Actor, RequestOrigin, Role, Secrecy, listed_subject
from docsvc.errors import InvalidInput, Msg, PermissionDenied
from docsvc.services import audit
from docsvc.services.access import readable_filter
from docsvc.services.reorganisation.succession import keepers_of
from docsvc.timeutil import to_vn

SERIES = ("normal", "secret", "copy")

INCOMING_COLUMNS = [
    ("arrival_date", "Ngày đến"), ("arrival_number", "Số đến"), ("issuing_body", "Tác giả"),
    ("number_notation", "Số, ký hiệu"), ("document_date", "Ngày tháng"),
    ("type_and_subject", "Tên loại và trích yếu nội dung"), ("recipient", "Đơn vị hoặc người nhận"),
    ("passed_on", "Ngày chuyển"), ("receipt", "Ký nhận"), ("notes", "Ghi chú"),
]
OUTGOING_COLUMNS = [
    ("number_notation", "Số, ký hiệu văn bản"), ("document_date", "Ngày tháng văn bản"),
    ("type_and_subject", "Tên loại và trích yếu nội dung"), ("signer", "Người ký"),
    ("recipients", "Nơi nhận văn bản"), ("copy_keeper", "Đơn vị, người nhận bản lưu"),
    ("copies", "Số lượng bản"), ("date_sent", "Ngày chuyển"), ("receipt", "Ký nhận"), ("notes", "Ghi chú"),
]


@dataclass
class RegisterBook:
    agency: str
    register: str
    series: str
    year: int
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"agency": self.agency, "register": self.register, "series": self.series, "year": self.year,
                "columns": [{"key": k, "title": t} for k, t in self.columns], "rows": self.rows}


class RegisterBookService:
    def __init__(self, db: Database, *, hide_top_secret_subject: bool, font_path: str | None = None) -> None:
        self.db = db
        self.hide_top_secret_subject = hide_top_secret_subject
        self.font_path = font_path

    def book(self, actor: Actor, register: str, year: int, series: str = "normal",
             origin: RequestOrigin | None = None, agency_id: int | None = None) -> RegisterBook:
        """The register of the actor's agency, or (``agency_id``) of an agency it succeeded: the closed
        registers of a ceased agency stay printable by its successor (reorganisation)."""
        if register not in ("incoming", "outgoing"):
            raise InvalidInput("register is 'incoming' or 'outgoing'", {"field": "register"})
        if series not in SERIES:
            raise InvalidInput(f"series is one of {', '.join(SERIES)}", {"field": "series"})
        if not actor.has(Role.CLERK, Role.LEADER, Role.ARCHIVIST):
            raise PermissionDenied(Msg("register_book.registers_kept_registry_read_leaders_archivists",
                                       "registers are kept by the registry and read by leaders and archivists"))
        if series == "secret" and actor.clearance < Secrecy.MAT:
            raise PermissionDenied(Msg("register_book.secret_register_needs_clearance",
                                       "the secret register needs a clearance"))
        with self.db.write() as s:
            agency_id = agency_id or actor.agency_id
            if agency_id != actor.agency_id and actor.agency_id not in keepers_of(s, agency_id):
                raise PermissionDenied("a register is read by its agency and by the agencies that succeeded it")
            agency = must_get(s, Organisation, agency_id)
            # The reader filter of every read path: a line shows only a document the reader may read (the
            # registry and the leaders read every registered or issued one up to their clearance).
            entries = s.execute(readable_filter(
                select(RegisterEntry, Document).join(Document, Document.id == RegisterEntry.document_id)
                .where(RegisterEntry.agency_id == agency_id, RegisterEntry.register == register,
                       RegisterEntry.series == series, RegisterEntry.year == year), actor)
                .order_by(RegisterEntry.number)).all()
            rows = [self._row(s, register, entry, doc, actor) for entry, doc in entries]
            audit.record(s, actor=actor, action="register.read", object_type="register",
                         object_id=f"{register}:{series}:{year}", origin=origin, details={"rows": len(rows)})
        columns = INCOMING_COLUMNS if register == "incoming" else OUTGOING_COLUMNS
        return RegisterBook(agency.name, register, series, year, columns, rows)

    def _row(self, s: Session, register: str, entry: RegisterEntry, doc: Document, actor: Actor) -> dict[str, Any]:
        subject = listed_subject(doc.subject, doc.secrecy, self.hide_top_secret_subject)
        hidden = subject != doc.subject
        type_and_subject = f"{doc.doc_type.name}: {subject}" if doc.doc_type.kind != "cong_van" else subject
        date_text = doc.issued_date.strftime("%d/%m/%Y") if doc.issued_date else ""
        if register == "incoming":
            first = s.execute(select(Assignment).where(Assignment.document_id == doc.id, Assignment.role == "lead")
                              .order_by(Assignment.id)).scalars().first()
            recipient = ""
            if first is not None:
                target = s.get(User, first.user_id) if first.user_id else s.get(Organisation, first.unit_id)
                recipient = getattr(target, "full_name", None) or getattr(target, "name", "") or ""
            return {"number": entry.number,
                    "arrival_date": to_vn(doc.arrival_at or entry.registered_at).strftime("%d/%m/%Y"),
                    "arrival_number": entry.number, "issuing_body": "" if hidden else doc.issuing_body,
                    "number_notation": number_notation(doc.code_number, doc.code_notation),
                    "document_date": date_text, "type_and_subject": type_and_subject, "recipient": recipient,
                    "passed_on": to_vn(first.assigned_at).strftime("%d/%m/%Y") if first else "",
                    "receipt": "", "notes": entry.notes, "document_id": doc.id}
        recipients = s.execute(select(Recipient).where(Recipient.document_id == doc.id)
                               .order_by(Recipient.id)).scalars().all()
        sent = [r.sent_at for r in recipients if r.sent_at]
        keeper = s.get(Organisation, doc.drafting_unit_id) if doc.drafting_unit_id else None
        return {"number": entry.number, "number_notation": number_notation(doc.code_number, doc.code_notation),
                "document_date": date_text, "type_and_subject": type_and_subject,
                "signer": " ".join(p for p in (doc.authority_form, doc.signer_name) if p) if doc.signer_name else "",
                "recipients": "; ".join(r.name for r in recipients),
                "copy_keeper": "; ".join(n for n in ("Văn thư", keeper.name if keeper else "") if n),
                "copies": len(recipients) + 1 if recipients else "",
                "date_sent": to_vn(min(sent)).strftime("%d/%m/%Y") if sent else "",
                "receipt": "", "notes": entry.notes, "document_id": doc.id}

    def pdf(self, book: RegisterBook) -> bytes:
        """The register as a printable PDF: A4 landscape, repeated header row, page numbers."""
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4, landscape
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.lib.units import mm
        from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

        from docsvc.services.pdf_fonts import vietnamese_font
        font = vietnamese_font(self.font_path)
        title_style = ParagraphStyle("t", fontName=font, fontSize=14, leading=18, alignment=1)
        small = ParagraphStyle("s", fontName=font, fontSize=8.5, leading=10.5)
        head = ParagraphStyle("h", parent=small, alignment=1)
        title = ("SỔ ĐĂNG KÝ VĂN BẢN ĐẾN" if book.register == "incoming" else "SỔ ĐĂNG KÝ VĂN BẢN ĐI")
        if book.series == "secret":
            title += " (MẬT)"
        elif book.series == "copy":
            title += " (BẢN SAO)"
        data = [[Paragraph(t, head) for _, t in book.columns]]
        for row in book.rows:
            data.append([Paragraph(_escape(str(row.get(k, ""))), small) for k, _ in book.columns])
        widths = _widths(book.register, landscape(A4)[0] - 24 * mm)
        table = Table(data, colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))]))
        out = io.BytesIO()

        def footer(canvas: Any, doc: Any) -> None:
            canvas.setFont(font, 8)
            canvas.drawRightString(landscape(A4)[0] - 12 * mm, 8 * mm, f"Trang {doc.page}")

        pdf = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                                topMargin=12 * mm, bottomMargin=14 * mm, title=title, author=book.agency)
        pdf.build([Paragraph(_escape(book.agency.upper()), title_style), Spacer(1, 4 * mm),
                   Paragraph(f"{title} — NĂM {book.year}", title_style), Spacer(1, 6 * mm), table],
                  onFirstPage=footer, onLaterPages=footer)
        return out.getvalue()


def _widths(register: str, total: float) -> list[float]:
    parts = ([7, 5, 12, 10, 7, 26, 12, 7, 7, 7] if register == "incoming"
             else [10, 7, 26, 11, 14, 11, 5, 6, 5, 5])
    return [total * p / sum(parts) for p in parts]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
