"""Text extraction: pypdf for born-digital PDFs, Tesseract (vie) for scans and images — all real."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from search.extract import ExtractionError, OcrUnavailable, extract_document, extract_text, ocr_image, ocr_pdf
from search.vietnamese import fold
from tests.unit.search.documents import LINES, image_bytes, scanned_pdf, text_image, text_pdf

needs_ocr = pytest.mark.skipif(shutil.which("tesseract") is None or shutil.which("pdftoppm") is None,
                               reason="tesseract/pdftoppm not installed (make sysdeps)")


def test_born_digital_vietnamese_pdf() -> None:
    data = text_pdf([["Quyết định số 15/QĐ-UBND", "Về việc phê duyệt kế hoạch"], ["Trang hai: Đồng Đăng"]])
    result = extract_text(io.BytesIO(data))
    assert result.method == "pypdf" and result.pages == 2 and not result.needs_ocr
    assert result.text.split("\f") == ["Quyết định số 15/QĐ-UBND\nVề việc phê duyệt kế hoạch",
                                       "Trang hai: Đồng Đăng"]
    assert extract_document(data, "application/pdf; charset=binary") == result


def test_scanned_pdf_is_flagged() -> None:
    result = extract_text(scanned_pdf())
    assert result.needs_ocr and result.text.strip() == "" and result.pages == 1 and result.ocr_pages == (1,)


def _mixed_pdf() -> bytes:
    writer = PdfWriter()
    for part in (text_pdf([["Tờ trình số 12/TTr-SNV về việc đề nghị khen thưởng tập thể"]]), scanned_pdf()):
        writer.append(PdfReader(io.BytesIO(part)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@needs_ocr
def test_only_scanned_pages_of_a_mixed_pdf_are_read_by_ocr() -> None:
    data = _mixed_pdf()
    assert extract_text(data).ocr_pages == (2,)
    result = extract_document(data, "application/pdf")
    assert result.method == "pypdf+ocr" and result.ocr_pages == (2,) and result.pages == 2
    first, second = result.text.split("\f")
    assert first == "Tờ trình số 12/TTr-SNV về việc đề nghị khen thưởng tập thể"
    assert {"quyet", "dinh", "dong", "dang"} <= _recognised(second)


def _recognised(text: str) -> set[str]:
    return set(fold(text).split())


@needs_ocr
def test_scanned_pdf_is_read_by_ocr_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_pdf(pages=2))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with path.open("rb") as fh:
        result = extract_document(fh, "application/pdf")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert result.method == "ocr" and result.needs_ocr and result.pages == 2 and result.ocr_pages == (1, 2)
    pages = result.text.split("\f")
    assert len(pages) == 2
    expected = _recognised(" ".join(LINES))
    for page in pages:
        assert len(_recognised(page) & expected) >= len(expected) - 2
    assert "Quyết định".upper() in result.text  # diacritics recognised, not only letters


@needs_ocr
@pytest.mark.parametrize(("fmt", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("TIFF", "image/tiff")])
def test_images_are_read_by_ocr(fmt: str, media_type: str) -> None:
    data = image_bytes(text_image(["Phê duyệt kế hoạch", "tại Đồng Đăng"]), fmt)
    result = extract_document(data, media_type)
    assert result.method == "ocr"
    assert {"phe", "duyet", "ke", "hoach", "dong", "dang"} <= _recognised(result.text)
    assert "Đồng Đăng" in result.text


@needs_ocr
def test_missing_tesseract_language_is_reported() -> None:
    with pytest.raises(OcrUnavailable):
        ocr_image(image_bytes(text_image(["x"]), "PNG"), lang="zzz")


def test_ocr_can_be_skipped() -> None:
    assert extract_document(scanned_pdf(), "application/pdf", ocr=False).method == "pypdf"


def _encrypted() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf([["mật"]]))))
    writer.encrypt("secret-password")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("data", [b"", b"hello", b"%PDF-1.7\n garbage garbage", _encrypted(),
                                  text_pdf([["x"]])[:300]],
                         ids=["empty", "not-a-pdf", "garbage", "encrypted", "truncated"])
def test_unreadable_pdfs(data: bytes) -> None:
    with pytest.raises(ExtractionError):
        extract_text(data)


def test_bad_inputs_for_ocr_and_unsupported_types() -> None:
    with pytest.raises(ExtractionError):
        ocr_image(b"GIF89a....")
    with pytest.raises(ExtractionError):
        ocr_pdf(b"not a pdf")
    with pytest.raises(ExtractionError):
        extract_document(b"PK\x03\x04", "application/zip")


def test_plain_text() -> None:
    result = extract_document("Quyết định".encode(), "text/plain; charset=utf-8")
    assert (result.text, result.method) == ("Quyết định", "plain")
