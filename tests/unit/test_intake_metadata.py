"""The metadata reader on a reduced evaluation set (the full one: bench/intake_accuracy.py):
born-digital documents through the text layer with positions, and one scan through OCR."""

from __future__ import annotations

import shutil

import pytest

from search.metadata import FIELDS, Line, pdf_lines, read_metadata, text_lines
from tests.fixtures.intake_docs import corpus

TYPES = {"Quyết định": "QĐ", "Thông báo": "TB", "Kế hoạch": "KH", "Báo cáo": "BC", "Tờ trình": "TTr",
         "Hướng dẫn": "HD", "Giấy mời": "GM", "Công văn": "cong_van"}


def test_born_digital_fields_are_read() -> None:
    samples = corpus(born=12, scans=0, seed=99)
    right = total = 0
    for s in samples:
        got = read_metadata(pdf_lines(s.data), TYPES).to_dict()
        for name in FIELDS:
            total += 1
            right += got["fields"].get(name) == s.truth[name]
        assert not set(got["low_confidence"]) & {"number_notation", "issued_date", "type"}, s.name
    assert right / total >= 0.95, f"{right}/{total}"


def test_ocr_text_with_joined_columns() -> None:
    """OCR joins the two columns of one height; the reader splits them again."""
    text = ("UBND TỈNH LẠNG SƠN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
            "SỞ Y TẾ Độc lập - Tự do - Hạnh phúc\n"
            "Số: 07/KH-SYT Lạng Sơn, ngày 05 tháng 03 năm 2026\n"
            "KHẨN\n\nKẾ HOẠCH\nTriển khai tiêm chủng mở rộng năm 2026\n\nCăn cứ Luật Khám bệnh\n"
            "Nơi nhận: KT. GIÁM ĐỐC\n- Như trên; PHÓ GIÁM ĐỐC\n- Lưu: VT.\nLê Quang Huy\n")
    got = read_metadata(text_lines(text), TYPES).to_dict()["fields"]
    assert got == {"number_notation": "07/KH-SYT", "issued_date": "2026-03-05", "issuing_body": "SỞ Y TẾ",
                   "type": "KH", "subject": "Triển khai tiêm chủng mở rộng năm 2026", "urgency": 1, "secrecy": 0,
                   "signer_name": "Lê Quang Huy", "signer_position": "PHÓ GIÁM ĐỐC"}


def test_a_document_without_marks_reads_low_confidence_where_unsure() -> None:
    got = read_metadata([Line("Ghi chú viết tay không theo mẫu")], TYPES).to_dict()
    assert "number_notation" in got["low_confidence"] and "subject" in got["low_confidence"]


@pytest.mark.skipif(not shutil.which("tesseract") or not shutil.which("pdftoppm"), reason="needs Tesseract")
def test_a_scan_is_read_through_ocr() -> None:
    from docsvc.services.intake.metadata import read_file_metadata
    from search.sandbox import ExtractionLimits
    scan = corpus(born=0, scans=1, seed=16)[0]  # the first scan of the bench's evaluation set
    got = read_file_metadata(scan.data, scan.content_type, TYPES, limits=ExtractionLimits())
    assert "ocr" in got["method"]
    right = sum(got["fields"].get(name) == scan.truth[name] for name in FIELDS)
    assert right >= 8, (got["fields"], scan.truth)
