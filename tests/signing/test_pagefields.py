"""The number and date on the page (Decree 30 boxes 3 and 4): where they go, how they are printed,
and that the fields filled at issue keep every signature valid for stock validators."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from signing.appearance import SealAppearance, SignerAppearance
from signing.errors import IssueFieldsMissingError
from signing.pades import FillIssueFields, IssueFieldsRequest, sign_pdf
from signing.pagefields import ManualPosition, date_parts, fill_issue_fields, find_slots
from signing.placement import open_reader
from tests.fixtures.pdfs import official_pdf
from tests.signing.pki import (
    SIGNER,
    TestPki,
    assert_stock_pyhanko_accepts_every_signature,
    page_text,
)


def _certify(pki: TestPki, pdf: bytes, **request: object) -> bytes:
    return sign_pdf(pdf, pki.user_key, level="B-T", timestamper=pki.tsa_url, validation_context=pki.trust,
                    certify=True, appearance=SignerAppearance(pki.signature_image, name=SIGNER),
                    issue_fields=IssueFieldsRequest(**request))  # type: ignore[arg-type]


def _seal(pki: TestPki, pdf: bytes, label: str, day: date, place: str | None = None) -> bytes:
    return sign_pdf(pdf, pki.org_key, level="B-T", timestamper=pki.tsa_url, validation_context=pki.trust,
                    appearance=SealAppearance(pki.seal_image), fill=FillIssueFields(label, day, place))


def test_decree_30_leading_zeros() -> None:
    assert date_parts(date(2026, 12, 7)) == ("07", "12", "2026")
    assert date_parts(date(2026, 2, 5)) == ("05", "02", "2026")  # months 1 and 2 take a zero
    assert date_parts(date(2026, 3, 15)) == ("15", "3", "2026")


def test_the_blanks_are_found_and_a_citation_in_the_body_is_not_box_4() -> None:
    number, when = find_slots(open_reader(official_pdf()))
    assert number is not None and number.suffix == "/QĐ-UBND" and not number.number.mask
    assert when is not None and when.printed_year == "2026"
    cited = official_pdf(notation="Số: ....../QĐ-UBND", date_line=None,
                         body="Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015.")
    number, when = find_slots(open_reader(cited))
    assert number is not None and number.number.mask  # dots are masked before the number is printed
    assert when is None
    typed = official_pdf(notation="Số: 15/QĐ-UBND")  # a number already typed is not a blank
    assert find_slots(open_reader(typed))[0] is None


def test_no_place_for_the_number_and_date_refuses_to_certify(pki: TestPki) -> None:
    bare = official_pdf(notation=None, date_line=None)
    with pytest.raises(IssueFieldsMissingError, match="number .* and date"):
        _certify(pki, bare)
    certified = _certify(pki, bare, number=ManualPosition(0, 80, 745, 12), date=ManualPosition(0, 330, 742, 12))
    issued = _seal(pki, certified, "05/QĐ-UBND", date(2026, 12, 7), place="Đồng Đăng")
    text = page_text(issued)
    assert "Số: 05/QĐ-UBND" in text and "Đồng Đăng, ngày 07 tháng 12 năm 2026" in text, text
    assert assert_stock_pyhanko_accepts_every_signature(issued) == 2


def test_another_notation_and_a_new_year_are_printed_over_the_drafts(pki: TestPki) -> None:
    """The draft's "/QĐ-UBND" and "2026" are masked in white and the registry's values printed;
    the masked text stays in the page's text layer (the certified content is not rewritten)."""
    issued = _seal(pki, _certify(pki, official_pdf()), "05/QĐ-VP", date(2027, 1, 4))
    text = page_text(issued)
    assert "Số: 05/QĐ-VP" in text and "ngày 04 tháng 01" in text and "2027" in text, text
    assert assert_stock_pyhanko_accepts_every_signature(issued) == 2
    # A number too long for the blank is printed with the notation, over the draft's.
    long = _seal(pki, _certify(pki, official_pdf(notation="Số:  /QĐ-UBND")), "1234/QĐ-UBND", date(2027, 1, 4))
    assert "Số: 1234/QĐ-UBND" in page_text(long)


def test_the_seal_locks_the_number_and_date(pki: TestPki) -> None:
    """Form filling stays allowed by the certification, but the seal's field lock (FieldMDP)
    covers the number and date: printing another number afterwards breaks the seal."""
    issued = _seal(pki, _certify(pki, official_pdf()), "05/QĐ-UBND", date(2026, 12, 7))
    writer = IncrementalPdfFileWriter(io.BytesIO(issued))
    fill_issue_fields(writer, number_notation="99/QĐ-UBND", issued=date(2026, 12, 8))
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(AssertionError, match="docsvc_con_dau"):
        assert_stock_pyhanko_accepts_every_signature(out.getvalue())


def test_ltv_refresh_and_a_copy_of_a_copy_keep_stock_validators_happy(pki: TestPki) -> None:
    """A DSS update with a document time-stamp after the certification (the LTV refresh) is an
    allowed modification, and a copy made from the refreshed file still fills the prepared field.
    A copy of that copy finds the field taken and gets a new one (printed, but a new visible field
    after certification: see the README's limits)."""
    from signing.appearance import TextAppearance
    from signing.ltv import add_ltv
    issued = _seal(pki, _certify(pki, official_pdf()), "05/QĐ-UBND", date(2026, 12, 7))
    refreshed = add_ltv(issued, pki.trust, pki.tsa_url)
    assert assert_stock_pyhanko_accepts_every_signature(refreshed) == 3
    copy = sign_pdf(refreshed, pki.org_key, level="B-T", timestamper=pki.tsa_url, validation_context=pki.trust,
                    appearance=TextAppearance.copy("SAO Y", "Ủy ban nhân dân xã Đồng Đăng", "01/SY-UBND"))
    assert assert_stock_pyhanko_accepts_every_signature(copy) == 4
    again = sign_pdf(copy, pki.org_key, level="B-T", timestamper=pki.tsa_url, validation_context=pki.trust,
                     appearance=TextAppearance.copy("SAO LỤC", "Ủy ban nhân dân xã Đồng Đăng", "02/SL-UBND"))
    assert "02/SL-UBND" in page_text(again)


def test_blanks_too_narrow_for_the_day_get_the_whole_date_printed_over(pki: TestPki) -> None:
    cramped = official_pdf(date_line="Đồng Đăng, ngày  tháng  năm 2026")
    when = find_slots(open_reader(cramped))[1]
    assert when is not None and when.whole is not None and when.day is None
    issued = _seal(pki, _certify(pki, cramped), "05/QĐ-UBND", date(2026, 12, 7))
    assert "ngày 07 tháng 12 năm 2026" in page_text(issued)
    assert assert_stock_pyhanko_accepts_every_signature(issued) == 2
