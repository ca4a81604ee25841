"""Demo images, the text search behind placement, and the PKI HTTP application's edges."""

from __future__ import annotations

import io
import urllib.error
import urllib.request

import pytest
from PIL import Image

from signing.errors import InvalidDocumentError
from signing.images import seal_png, signature_png
from signing.placement import find_anchor, find_text, open_reader, text_width
from tests.fixtures.pdfs import encrypted_pdf, official_pdf
from tests.signing.pki import TestPki


def _colours(png: bytes) -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    img = Image.open(io.BytesIO(png))
    return img, [p for p in img.convert("RGBA").get_flattened_data() if p[3] > 200]


def test_signature_is_blue_on_transparent_and_deterministic() -> None:
    png = signature_png("Hoàng Văn Nam")
    img, ink = _colours(png)
    assert img.mode == "RGBA" and img.getpixel((0, 0))[3] == 0
    assert len(ink) > 500 and all(b > r + 60 and b > g + 40 for r, g, b, _ in ink)
    assert signature_png("Hoàng Văn Nam") == png != signature_png("Nguyễn Thị Lan")


def test_seal_is_red_round_and_square() -> None:
    img, ink = _colours(seal_png("Ủy ban nhân dân xã Đồng Đăng", size_px=400))
    assert img.size == (400, 400) and img.getpixel((5, 5))[3] == 0 and img.getpixel((200, 200))[3] > 0  # star
    assert len(ink) > 2000 and all(r > g + 80 and r > b + 80 for r, g, b, _ in ink)


def test_text_search_and_widths() -> None:
    doc = official_pdf(pages=2, signer_name="Đặng Thị Mỹ Linh")
    reader = open_reader(doc)
    hit = find_text(reader, "đặng   thị mỹ LINH")  # case and spacing insensitive
    assert hit is not None and hit.page == 1 and hit.size == 12
    assert hit.x1 - hit.x0 == pytest.approx(text_width("Đặng Thị Mỹ Linh", 12), abs=0.01)
    assert abs(hit.center_x - (595.2756 - 160)) < 0.5  # drawCentredString(width - 160, ...)
    assert find_text(reader, "không có") is None
    assert find_anchor(reader, name="Không Ai").kind == "fallback"
    with pytest.raises(InvalidDocumentError, match="encrypted"):
        open_reader(encrypted_pdf())


def test_pki_http_edges(pki: TestPki) -> None:
    for url, data in ((pki.server.base_url + "/nothing", None), (pki.ca.urls.tsa, None)):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10)
        assert err.value.code == 404
    empty = urllib.request.Request(pki.ca.urls.tsa, data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(empty, timeout=10)
    assert err.value.code == 400
