"""The dashboard as tables, and those tables as CSV, XLSX (openpyxl) and a printable PDF (reportlab)."""

from __future__ import annotations

import csv
import io
from typing import Any

from docsvc.services.reports.dashboard import Dashboard

Table = tuple[str, list[str], list[list[Any]]]  # title, header, rows


def tables(d: Dashboard) -> list[Table]:
    months = [f"T{m}" for m in range(1, 13)]
    data = d.to_dict()
    out: list[Table] = []
    for key, title in (("received", "Văn bản đến theo tháng và loại"), ("issued", "Văn bản đi theo tháng và loại")):
        rows = [[name, *counts, sum(counts)] for name, counts in data[key].items()]
        rows.append(["Tổng", *data[f"{key}_total"], sum(data[f"{key}_total"])])
        out.append((f"{title} — {d.year}", ["Loại", *months, "Cộng"], rows))
    header = ["Đúng hạn", "Trễ hạn", "Quá hạn", "Đang xử lý", "Tổng"]
    out.append(("Xử lý theo đơn vị", ["Đơn vị", *header],
                [[u["name"], u["on_time"], u["late"], u["overdue"], u["open"], u["total"]] for u in d.handling_units]))
    out.append(("Xử lý theo cán bộ", ["Cán bộ", *header],
                [[u["name"], u["on_time"], u["late"], u["overdue"], u["open"], u["total"]]
                 for u in d.handling_officers]))
    out.append(("Thời gian xử lý trung bình", ["Văn bản đã hoàn thành", "Số ngày trung bình"],
                [[d.completed, d.average_days if d.average_days is not None else ""]]))
    out.append(("Văn bản quá hạn", ["Số đến", "Số, ký hiệu", "Trích yếu", "Người/đơn vị xử lý", "Hạn", "Quá (ngày)"],
                [[o["arrival_number"] or "", o["number_notation"], o["subject"], o["handler"] or "", o["deadline"],
                  o["days_overdue"]] for o in d.overdue]))
    return out


def to_csv(d: Dashboard) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    for title, header, rows in tables(d):
        w.writerow([title])
        w.writerow(header)
        w.writerows(rows)
        w.writerow([])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # a BOM: spreadsheet programs read it as UTF-8


def to_xlsx(d: Dashboard) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.worksheets[0])  # the empty sheet a new workbook starts with
    for i, (title, header, rows) in enumerate(tables(d), start=1):
        ws = wb.create_sheet(f"{i}. {title}"[:31].replace("/", "-"))
        ws.append([title])
        ws["A1"].font = Font(bold=True)
        ws.append(header)
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_pdf(d: Dashboard, agency: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    from docsvc.services.pdf_fonts import vietnamese_font
    font = vietnamese_font()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=30, rightMargin=30, topMargin=30,
                            bottomMargin=30, title=f"Báo cáo {agency} {d.year}")
    h = ParagraphStyle("h", fontName=font, fontSize=13, leading=16, spaceAfter=6)
    cell = ParagraphStyle("c", fontName=font, fontSize=8, leading=10)
    story: list[Any] = [Paragraph(f"BÁO CÁO CÔNG TÁC VĂN THƯ NĂM {d.year} — {agency}", h)]
    for title, header, rows in tables(d):
        story.append(Paragraph(title, h))
        data = [[Paragraph(str(c), cell) for c in header]] + [[Paragraph(str(c), cell) for c in r] for r in rows]
        table = PdfTable(data, repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)]))
        story += [table, Spacer(1, 10)]
    doc.build(story)
    return buf.getvalue()
