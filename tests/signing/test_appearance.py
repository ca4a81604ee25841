"""Visible signatures per Decree 30 (Appendix I): positions checked numerically, rendering checked
on pixels of the page as poppler draws it, text checked with pdftotext."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from signing.appearance import MM, SealAppearance, SignerAppearance, TextAppearance
from signing.errors import AppearanceError
from signing.pades import sign_pdf
from signing.placement import find_text, open_reader, signed_widgets, text_width
from signing.validate import verify_report
from tests.fixtures.pdfs import official_pdf
from tests.signing.pki import SIGNER, TestPki

Box = tuple[float, float, float, float]


def _sign(pki: TestPki, pdf: bytes, appearance: object, key: object = None, **options: object) -> bytes:
    return sign_pdf(pdf, key or pki.user_key, level="B-T", timestamper=pki.tsa_url,  # type: ignore[arg-type]
                    validation_context=pki.trust, appearance=appearance, **options)  # type: ignore[arg-type]


def _render(pdf: bytes, page: int = 1) -> Image.Image:
    """The page at 72 dpi: one pixel per point (y measured from the top)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "doc.pdf"
        src.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "72", "-png", "-singlefile", "-f", str(page), "-l", str(page), str(src),
                        str(Path(tmp) / "page")], capture_output=True, check=True)
        return Image.open(Path(tmp) / "page.png").convert("RGB")


def _pixels(img: Image.Image, box: Box, kind: str) -> int:
    """Pixels of a colour family inside ``box`` (PDF coordinates of the page)."""
    h = img.height
    x0, y0, x1, y1 = (int(box[0]), int(h - box[3]), int(box[2]), int(h - box[1]))
    count = 0
    for r, g, b in img.crop((x0, y0, x1, y1)).get_flattened_data():
        if (kind == "blue" and b > 120 and b > r + 50 and b > g + 30
                or kind == "red" and r > 150 and r > g + 70 and r > b + 70):
            count += 1
    return count


def _text(pdf: bytes, page: int = 1) -> str:
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", "-", "-"], input=pdf,
                          capture_output=True, check=True).stdout.decode()


def _widget(pdf: bytes, index: int = -1):  # type: ignore[no-untyped-def]
    return signed_widgets(open_reader(pdf))[index]


def test_signer_image_sits_between_title_and_name(pki: TestPki, document: bytes) -> None:
    signed = _sign(pki, document, SignerAppearance(pki.signature_image, name=SIGNER))
    reader = open_reader(document)
    name, title = find_text(reader, SIGNER), find_text(reader, "CHỦ TỊCH")
    assert name is not None and title is not None
    w = _widget(signed)
    x0, y0, x1, y1 = w.rect
    assert w.image_rect is not None
    assert y0 >= name.top and y1 <= title.baseline, (w.rect, name, title)
    assert abs((x0 + x1) / 2 - name.center_x) < 1.0  # centred on the name
    assert 50 <= y1 - y0 <= 60 and x1 - x0 > 2 * (y1 - y0)  # the image's aspect ratio, ~2 cm high
    img = _render(signed)
    assert _pixels(img, w.rect, "blue") > 300  # blue ink where the image is...
    assert _pixels(_render(document), w.rect, "blue") == 0  # ...and nothing blue there before


def test_seal_covers_the_left_third_of_the_signature_at_real_size(pki: TestPki, document: bytes) -> None:
    signer = _sign(pki, document, SignerAppearance(pki.signature_image, name=SIGNER))
    both = _sign(pki, signer, SealAppearance(pki.seal_image, diameter_mm=38), key=pki.org_key)
    image = _widget(both, 0).image_rect
    seal = _widget(both, 1).rect
    assert image is not None
    assert seal[2] - seal[0] == pytest.approx(38 * MM, abs=0.05)  # real size: 38 mm
    assert seal[3] - seal[1] == pytest.approx(38 * MM, abs=0.05)
    assert seal[2] == pytest.approx(image[0] + (image[2] - image[0]) / 3, abs=0.05)  # a third of the image
    assert (seal[1] + seal[3]) / 2 == pytest.approx((image[1] + image[3]) / 2, abs=0.05)
    img = _render(both)
    overlap = (image[0], image[1], seal[2], image[3])
    assert _pixels(img, seal, "red") > 500
    assert _pixels(img, overlap, "red") > 20 and _pixels(img, overlap, "blue") > 5  # both inks in the overlap
    assert verify_report(both, pki.trust).valid


def test_placeholder_field_is_used(pki: TestPki, document: bytes) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(document))
    append_signature_field(writer, SigFieldSpec("ChuKyLanhDao", on_page=0, box=(380, 175, 500, 235)))
    out = io.BytesIO()
    writer.write(out)
    signed = _sign(pki, out.getvalue(), SignerAppearance(pki.signature_image, name=SIGNER),
                   field_name="ChuKyLanhDao")
    w = _widget(signed)
    assert w.field_name == "ChuKyLanhDao" and w.rect == (380, 175, 500, 235)
    assert w.image_rect is not None and w.image_rect[0] >= 380 and w.image_rect[2] <= 500
    assert [s.field_name for s in verify_report(signed, pki.trust).signatures] == ["ChuKyLanhDao"]


def test_marker_text_places_the_signature_and_is_hidden(pki: TestPki) -> None:
    doc = official_pdf(body="Nơi ký: [[ky_so]] (ô dành cho chữ ký số).", signer_name="", signer_title="")
    marker = find_text(open_reader(doc), "[[ky_so]]")
    assert marker is not None
    signed = _sign(pki, doc, SignerAppearance(pki.signature_image, name="Người Không Có Trong Văn Bản"))
    x0, y0, x1, y1 = _widget(signed).rect
    assert abs((x0 + x1) / 2 - marker.center_x) < 1.0
    assert y0 < marker.baseline < y1
    img = _render(signed)
    dark = sum(1 for p in img.crop((int(marker.x0), int(img.height - marker.top), int(marker.x1),
                                    int(img.height - marker.baseline))).get_flattened_data() if max(p) < 80)
    assert dark == 0  # the white mask hides the marker's black text


def test_fallback_prints_the_whole_signature_block(pki: TestPki, blank_document: bytes) -> None:
    appearance = SignerAppearance(pki.signature_image, name="Nguyễn Thị Lan", title="Phó Chủ tịch",
                                  authority="KT.", on_behalf_of="Chủ tịch")
    signed = _sign(pki, blank_document, appearance)
    text = _text(signed)
    assert "KT. CHỦ TỊCH" in text and "PHÓ CHỦ TỊCH" in text and "Nguyễn Thị Lan" in text
    w = _widget(signed)
    page_width = 595.2756
    assert w.rect[2] == pytest.approx(page_width - 20 * MM, abs=1)  # right margin 2 cm
    lowest = min(find_text(open_reader(blank_document), "Văn bản không có khối chữ ký").baseline, 10_000)
    assert w.rect[3] < lowest  # under the last line of text, not over it
    assert _pixels(_render(signed), w.image_rect, "blue") > 300  # type: ignore[arg-type]
    for kind in ("TL.", "TUQ.", "Q.", "TM."):
        SignerAppearance(pki.signature_image, authority=kind)
    with pytest.raises(AppearanceError, match="authority"):
        SignerAppearance(pki.signature_image, authority="KT")


def test_signature_goes_on_the_last_page_of_a_long_document(pki: TestPki) -> None:
    doc = official_pdf(pages=3)
    signed = _sign(pki, doc, SignerAppearance(pki.signature_image, name=SIGNER))
    assert _widget(signed).page == 2


def _signing_time(pdf: bytes, pki: TestPki, index: int = 0) -> datetime:
    report = verify_report(pdf, pki.trust)
    # the appearance prints the time of the signature dictionary (the signer's claimed time)
    from pyhanko.pdf_utils.reader import PdfFileReader
    sig = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[index]
    assert report.signatures[index].intact
    return sig.self_reported_timestamp


def test_attachment_text_top_right_10pt_times_metrics(pki: TestPki, document: bytes) -> None:
    signed = _sign(pki, document, TextAppearance.attachment("15/QĐ-UBND"), key=pki.org_key)
    first_line = _text(signed).splitlines()[0].strip()
    m = re.fullmatch(r"15/QĐ-UBND; (\d\d/\d\d/\d{4}); (\d\d:\d\d:\d\d) \+07:00", first_line)
    assert m, first_line
    when = _signing_time(signed, pki).astimezone(__import__("signing.x509util").x509util.VIETNAM_TZ)
    assert (m.group(1), m.group(2)) == (when.strftime("%d/%m/%Y"), when.strftime("%H:%M:%S"))
    w = _widget(signed)
    assert w.page == 0
    assert w.rect[2] == pytest.approx(595.2756 - 15 * MM, abs=0.5)
    assert w.rect[3] == pytest.approx(841.8898 - 8 * MM, abs=0.5)
    appearance = _appearance_stream(signed)
    assert b"/FR 10 Tf" in appearance and b"0 0 0 rg" in appearance  # 10 pt, black
    fonts = subprocess.run(["pdffonts", "-"], input=signed, capture_output=True).stdout.decode()
    assert "LiberationSerif" in fonts


def test_copy_text(pki: TestPki, document: bytes) -> None:
    signed = _sign(pki, document, TextAppearance.copy("sao lục", "Ủy ban nhân dân xã Đồng Đăng"), key=pki.org_key)
    head = " ".join(_text(signed).splitlines()[:2])
    assert re.search(r"SAO LỤC; Ủy ban nhân dân xã Đồng Đăng; \d\d/\d\d/\d{4}; \d\d:\d\d:\d\d \+07:00", head), head
    with pytest.raises(AppearanceError):
        TextAppearance.copy("BẢN CHỤP", "X")
    with pytest.raises(AppearanceError):
        TextAppearance.attachment(" ")
    long = TextAppearance.copy("TRÍCH SAO", "Ủy ban nhân dân tỉnh Lạng Sơn, Sở Nội vụ, Văn phòng Sở, Phòng Hành chính")
    lines = long.lines()
    assert len(lines) > 1 and all(line.endswith(";") for line in lines[:-1])
    assert all(text_width(line, 10) <= long.max_width for line in lines)


def _appearance_stream(pdf: bytes) -> bytes:
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(pdf))
    field = reader.trailer["/Root"]["/AcroForm"]["/Fields"][-1].get_object()
    return field["/AP"]["/N"].get_object().get_data()


def test_bad_images_are_refused(pki: TestPki) -> None:
    with pytest.raises(AppearanceError, match="PNG"):
        SignerAppearance(b"not an image")
    with pytest.raises(AppearanceError, match="diameter"):
        SealAppearance(pki.seal_image, diameter_mm=90)
