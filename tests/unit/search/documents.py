"""Real files for the extraction tests (and bench/search.py): born-digital and scanned Vietnamese."""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINES = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "QUYẾT ĐỊNH",
         "Về việc phê duyệt kế hoạch tuyển dụng", "công chức năm 2024 tại Đồng Đăng"]


def text_pdf(pages: Sequence[Sequence[str]]) -> bytes:
    """A born-digital PDF (reportlab, embedded DejaVu Sans: every Vietnamese glyph)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", FONT))
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    for lines in pages:
        pdf.setFont("DejaVuSans", 11)
        y = 800
        for line in lines:
            pdf.drawString(56, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def text_image(lines: Sequence[str] = LINES, size: int = 44) -> Image.Image:
    """A white page with black text, as a scanner would see it."""
    font = ImageFont.truetype(FONT, size)
    image = Image.new("L", (1800, 120 + len(lines) * int(size * 2)), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((60, 60 + i * int(size * 2)), line, font=font, fill=0)
    return image


def image_bytes(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, resolution=200)
    return out.getvalue()


def scanned_pdf(pages: int = 1) -> bytes:
    """A PDF of page images only (no text layer), like a scanner produces."""
    images = [text_image() for _ in range(pages)]
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=200, save_all=True, append_images=images[1:])
    return out.getvalue()
