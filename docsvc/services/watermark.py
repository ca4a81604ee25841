"""Watermark for downloads of secret content: the reader's name, the time and the secrecy mark on
every page, so a leaked printout names who took it.

The mark is added as an *incremental update*: the original bytes stay a prefix of the file, so
the signed revision can still be extracted and verified; validators report the later change."""

from __future__ import annotations

import io
from datetime import datetime

from docsvc.domain.identity import Secrecy
from docsvc.services.pdf_fonts import vietnamese_font
from docsvc.timeutil import to_vn


def watermark_text(reader_name: str, at: datetime, secrecy: int) -> str:
    mark = Secrecy(secrecy).label_vi.upper() if secrecy else ""
    stamp = to_vn(at).strftime("%d/%m/%Y %H:%M:%S +07:00")
    return " — ".join(p for p in (mark, f"Bản của: {reader_name}", stamp) if p)


def watermark_pdf(pdf: bytes, text: str) -> bytes:
    """Every page gets ``text`` diagonally across it (light red) and along its bottom edge."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    if PdfReader(io.BytesIO(pdf)).is_encrypted:
        raise ValueError("an encrypted PDF cannot be watermarked")
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    stamps: dict[tuple[float, float], object] = {}
    for page in writer.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        if (width, height) not in stamps:
            buf = io.BytesIO()
            c = canvas.Canvas(buf, pagesize=(width, height))
            font = vietnamese_font()
            c.setFillColorRGB(0.85, 0.1, 0.1, alpha=0.18)
            c.setFont(font, 22)
            c.saveState()
            c.translate(width / 2, height / 2)
            c.rotate(35)
            c.drawCentredString(0, 0, text)
            c.restoreState()
            c.setFillColorRGB(0.7, 0.0, 0.0, alpha=0.8)
            c.setFont(font, 8)
            c.drawCentredString(width / 2, 12, text)
            c.save()
            stamps[(width, height)] = PdfReader(io.BytesIO(buf.getvalue())).pages[0]
        page.merge_page(stamps[(width, height)], over=True)  # type: ignore[arg-type]
    out = io.BytesIO()
    writer.write(out)
    return pdf + out.getvalue() if not out.getvalue().startswith(b"%PDF") else out.getvalue()
