"""Secret scans on an isolated-LAN deployment are watermarked like PDFs (issue 14 §8): they were served
byte-identical, without the reader's name. Format, size and resolution are kept; every TIFF page is marked."""

from __future__ import annotations

import io
import subprocess
from typing import Any

import pytest
from PIL import Image, ImageSequence

from docsvc.errors import InvalidState
from docsvc.services.watermark import watermark
from tests.fixtures.pdfs import scanned_png
from tests.helpers import created, upload


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"secrecy_policy": "isolated"}


def _scan(fmt: str, pages: int = 1) -> bytes:
    frames = [Image.open(io.BytesIO(scanned_png(f"Trang {i + 1}: báo cáo mật về công tác quốc phòng")))
              for i in range(pages)]
    if fmt == "JPEG":
        frames = [f.convert("RGB") for f in frames]
    if fmt == "TIFF":
        frames = [f.convert("1") for f in frames]
    out = io.BytesIO()
    options: dict[str, Any] = {"dpi": (200, 200)}
    if fmt == "TIFF":
        options.update(compression="group4", save_all=True, append_images=frames[1:])
    frames[0].save(out, format=fmt, **options)
    return out.getvalue()


def _bottom_text(frame: Image.Image) -> str:
    """OCR of the bottom strip of a page, where the solid line of the watermark runs."""
    strip = frame.convert("L").crop((0, int(frame.height * 0.85), frame.width, frame.height))
    strip = strip.resize((strip.width * 2, strip.height * 2))
    buf = io.BytesIO()
    strip.point(lambda v: 255 if v > 200 else 0).save(buf, format="PNG")
    return subprocess.run(["tesseract", "-", "-", "-l", "vie", "--psm", "6"], input=buf.getvalue(),
                          capture_output=True, check=True).stdout.decode("utf-8")


@pytest.mark.parametrize("fmt, content_type, pages", [
    ("PNG", "image/png", 1), ("JPEG", "image/jpeg", 1), ("TIFF", "image/tiff", 3)])
def test_secret_scans_are_served_watermarked(api: Any, fmt: str, content_type: str, pages: int) -> None:
    original = _scan(fmt, pages)
    doc = created(upload(api.as_user("vanthu"), subject="Báo cáo mật về công tác quốc phòng", secrecy="mat",
                         number_notation=None, file=original, filename=f"bao-cao.{fmt.lower()}"))
    r = api.as_user("vanthu").get(f"/api/v1/documents/{doc['id']}/content")
    assert r.status_code == 200 and r.mimetype == content_type
    assert r.data != original
    before, after = Image.open(io.BytesIO(original)), Image.open(io.BytesIO(r.data))
    assert after.format == fmt and after.size == before.size
    assert tuple(round(v) for v in after.info["dpi"]) == (200, 200)
    old_pages, new_pages = list(ImageSequence.Iterator(before)), list(ImageSequence.Iterator(after))
    assert len(new_pages) == pages
    for old, new in zip([p.copy() for p in old_pages], [p.copy() for p in new_pages], strict=True):
        text = _bottom_text(new)
        assert "Nguyễn Thị Lan" in text and "07:00" in text and "MẬT" in text, text
        assert "Nguyễn Thị Lan" not in _bottom_text(old)


def test_a_format_that_cannot_be_marked_is_not_served() -> None:
    with pytest.raises(InvalidState):
        watermark(b"GIF89a...", "image/gif", "MẬT — Bản của: X")
