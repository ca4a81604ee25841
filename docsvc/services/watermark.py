"""Watermark for downloads of secret content: the reader's name, the time and the secrecy mark on
every page, so a leaked printout names who took it. Every format docsvc stores is marked
(:func:`watermark`); one it cannot mark is not served at all.

On a PDF the mark is added as an *incremental update*: the original bytes stay a prefix of the file,
so the signed revision can still be extracted and verified; validators report the later change.
A scan (PNG, JPEG, TIFF) keeps its format, size and resolution, and every page of a multi-page TIFF
is marked."""

from __future__ import annotations

import io
import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from docsvc.domain.identity import Secrecy
from docsvc.errors import InvalidState
from docsvc.services.pdf_fonts import vietnamese_font
from docsvc.timeutil import to_vn

if TYPE_CHECKING:
    from PIL import Image, ImageFont


def watermark_text(reader_name: str, at: datetime, secrecy: int) -> str:
    mark = Secrecy(secrecy).label_vi.upper() if secrecy else ""
    stamp = to_vn(at).strftime("%d/%m/%Y %H:%M:%S +07:00")
    return " — ".join(p for p in (mark, f"Bản của: {reader_name}", stamp) if p)


IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/tiff": "TIFF"}


def watermark(data: bytes, content_type: str, text: str) -> bytes:
    """``data`` of ``content_type`` marked with ``text``; InvalidState for a format that cannot be."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/pdf":
        return watermark_pdf(data, text)
    if kind in IMAGE_FORMATS:
        return watermark_image(data, text)
    if kind == "text/plain":
        line = f"[{text}]\n".encode()
        return line + data + (b"" if data.endswith(b"\n") else b"\n") + line
    raise InvalidState(f"secret content of type {kind} cannot be watermarked, so it is not served",
                       {"content_type": kind})


def watermark_image(data: bytes, text: str) -> bytes:
    """A scan with ``text`` across it (translucent) and along its bottom edge, on every page/frame,
    saved in its own format with its resolution."""
    from PIL import Image, ImageSequence

    with Image.open(io.BytesIO(data)) as img:
        fmt = img.format
        if fmt not in IMAGE_FORMATS.values():
            raise InvalidState(f"a {fmt} image cannot be watermarked, so it is not served")
        info: dict[str, Any] = {k: img.info[k] for k in ("dpi", "icc_profile") if k in img.info}
        compression = img.info.get("compression")
        frames = [_mark_frame(frame.copy(), text) for frame in ImageSequence.Iterator(img)]
    out = io.BytesIO()
    options: dict[str, object] = dict(info)
    if fmt == "JPEG":
        options["quality"] = 90
    if fmt == "TIFF":
        options["compression"] = compression if compression in ("group4", "tiff_lzw", "tiff_deflate", "jpeg") \
            and (compression != "group4" or frames[0].mode == "1") else "tiff_lzw"
        if len(frames) > 1:
            options.update(save_all=True, append_images=frames[1:])
    frames[0].save(out, format=fmt, **options)
    return out.getvalue()


def _mark_frame(frame: Image.Image, text: str) -> Image.Image:
    from PIL import Image, ImageDraw

    original_mode = frame.mode
    grey = original_mode in ("1", "L", "I", "I;16", "F")
    work_mode, clear = ("LA", (0, 0)) if grey else ("RGBA", (0, 0, 0, 0))
    base = frame.convert(work_mode)
    width, height = base.size
    # Along the diagonal (translucent), about 80% of its length, drawn on its own layer and turned.
    big = _font_for(text, int(0.8 * (width ** 2 + height ** 2) ** 0.5))
    box = big.getbbox(text)
    layer = Image.new(work_mode, (int(box[2] - box[0]) + 8, int(box[3] - box[1]) + 8), clear)
    ImageDraw.Draw(layer).text((4 - box[0], 4 - box[1]), text, font=big, fill=(90, 110) if grey else (217, 26, 26, 90))
    layer = layer.rotate(math.degrees(math.atan2(height, width)), expand=True, resample=Image.Resampling.BICUBIC)
    overlay = Image.new(work_mode, (width, height), clear)
    overlay.paste(layer, ((width - layer.width) // 2, (height - layer.height) // 2))  # clipped at the edges
    base.alpha_composite(overlay)
    # The bottom line, solid, so that it survives a photocopy.
    small = _font_for(text, int(0.9 * width), largest=max(9, height // 40))
    sbox = small.getbbox(text)
    ImageDraw.Draw(base).text(((width - (sbox[2] - sbox[0])) // 2 - sbox[0], height - sbox[3] - max(2, height // 100)),
                              text, font=small, fill=(0, 255) if grey else (178, 0, 0, 255))
    if grey:
        return base.convert("L").convert(original_mode)
    return base.convert(original_mode if original_mode in ("RGB", "RGBA", "CMYK") else "RGB")


def _font_for(text: str, width: int, largest: int = 400) -> ImageFont.FreeTypeFont:
    """The Vietnamese font at the size that draws ``text`` about ``width`` pixels wide (at least 8)."""
    from PIL import ImageFont

    from signing.fonts import font_path
    probe = ImageFont.truetype(font_path(), 100)
    box = probe.getbbox(text)
    size = int(100 * width / max(1, box[2] - box[0]))
    return ImageFont.truetype(font_path(), max(8, min(size, largest)))


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
