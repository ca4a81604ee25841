"""The font docsvc draws Vietnamese text with in PDFs it makes (register books, watermarks)."""

from __future__ import annotations

import threading

_LOCK = threading.Lock()
FONT_NAME = "DocsvcSerif"


def vietnamese_font(path: str | None = None) -> str:
    """Register (once) and return the reportlab name of a font with every Vietnamese letter:
    ``path`` if given, else the Liberation Serif the signing library vendors."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from signing.fonts import font_path
    with _LOCK:
        if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT_NAME, path or font_path()))
    return FONT_NAME
