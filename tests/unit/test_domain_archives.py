"""Pure archive rules: retention, transfer due dates and alerts, closing checks, disposal, protection
periods, the Appendix VI XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime

import pytest

from docsvc.domain.archives import (
    DisposalStatus,
    DossierStatus,
    FiledDocument,
    Retention,
    add_months,
    check_disposal_transition,
    check_dossier_transition,
    check_extension_years,
    check_notation,
    chronological,
    closing_problems,
    disposable,
    file_code,
    lock_until,
    must_transfer,
    protection_ends_on,
    transfer_alert_on,
    transfer_due_on,
)
from docsvc.errors import InvalidInput, InvalidState
from docsvc.services.archives.appendix6 import DocumentRecord, DossierRecord, ExportedFile, dossier_xml
from docsvc.timeutil import VN_TZ


def test_retention_counts_whole_years_from_the_year_the_work_ended() -> None:
    ten = Retention(10)
    assert ten.expires_on(date(2026, 3, 5)) == date(2037, 1, 1)  # kept through 31 December 2036
    assert Retention(None).expires_on(date(2026, 3, 5)) is None and Retention(None).permanent
    assert Retention(None).longer_than(Retention(70)) and not Retention(5).longer_than(Retention(5))
    assert not Retention(5).longer_than(Retention(None))
    assert (Retention(None).key, Retention(20).key, Retention(20).label_vi) == ("permanent", "20y", "20 năm")
    with pytest.raises(InvalidInput):
        Retention(0)
    assert lock_until(ten, date(2026, 3, 5)) == datetime(2037, 1, 1, tzinfo=VN_TZ)
    assert lock_until(Retention(None), date(2026, 3, 5)).year == 2126


def test_transfer_rules() -> None:
    assert must_transfer(Retention(5)) and must_transfer(Retention(None)) and not must_transfer(Retention(2))
    assert transfer_due_on(work_ended_on=date(2026, 2, 28), construction=False,
                           settlement_date=None) == date(2027, 2, 28)
    assert transfer_due_on(work_ended_on=date(2024, 2, 29), construction=False,
                           settlement_date=None) == date(2025, 2, 28)
    assert transfer_due_on(work_ended_on=date(2026, 1, 1), construction=True, settlement_date=None) is None
    assert transfer_due_on(work_ended_on=None, construction=True,
                           settlement_date=date(2026, 11, 30)) == date(2027, 2, 28)
    assert transfer_alert_on(date(2027, 2, 28)) == date(2027, 1, 29)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def test_states_and_identity() -> None:
    check_dossier_transition(DossierStatus.CLOSED, DossierStatus.ARCHIVED)
    with pytest.raises(InvalidState):
        check_dossier_transition(DossierStatus.ARCHIVED, DossierStatus.OPEN)  # write-once
    with pytest.raises(InvalidState):
        check_disposal_transition(DisposalStatus.PROPOSED, DisposalStatus.APPROVED)  # the council first
    assert check_notation(" 01.TCCB ") == "01.TCCB"
    for bad in ("", "01 TCCB", "x" * 21, ".01"):
        with pytest.raises(InvalidInput):
            check_notation(bad)
    assert file_code("000.00.31.H41", 2026, "01.TCCB") == "000.00.31.H41.2026.01.TCCB"


def _doc(i: int, status: str = "issued", dup: str | None = None, sha: str | None = None,
         when: date | None = None) -> FiledDocument:
    return FiledDocument(document_id=i, status=status, dup_key=dup, content_sha256=sha or f"sha{i}", sort_date=when,
                         page_amount=1)


def test_closing_problems_and_order() -> None:
    assert [p["code"] for p in closing_problems([], False)] == ["retention_missing", "empty"]
    docs = [_doc(1, dup="k"), _doc(2, status="draft"), _doc(3, status="received"), _doc(4, dup="k"),
            _doc(5, sha="sha1")]
    problems = closing_problems(docs, True)
    assert [(p["code"], p.get("document_id")) for p in problems] == [
        ("draft", 2), ("unregistered", 3), ("duplicate", 4), ("duplicate", 5)]
    ordered = chronological([_doc(1, when=date(2026, 5, 1)), _doc(2), _doc(3, when=date(2026, 1, 2))])
    assert [d.document_id for d in ordered] == [3, 1, 2]


def test_disposal_and_protection_periods() -> None:
    assert disposable(Retention(5), date(2020, 6, 1), date(2026, 1, 1))
    assert not disposable(Retention(5), date(2020, 6, 1), date(2025, 12, 31))
    assert not disposable(Retention(None), date(1990, 1, 1), date(2100, 1, 1))
    assert protection_ends_on(date(2016, 12, 15), 1) == date(2026, 12, 15)
    assert protection_ends_on(date(2016, 12, 15), 3) == date(2046, 12, 15)
    assert check_extension_years(10, 1) == 10
    with pytest.raises(InvalidInput):
        check_extension_years(11, 1)


def test_appendix_vi_xml_uses_the_decree_names_and_limits() -> None:
    dossier = DossierRecord(file_code="000.00.31.H41.2026.01.VT", organ_id="000.00.31.H41", organ_name="UBND xã",
                            year=2026, notation="01.VT", title="Hồ sơ văn thư", maintenance="Vĩnh viễn",
                            rights="Công khai", language="vi", start_date=date(2026, 1, 2), end_date=None,
                            doc_total=1, page_total=3, description="", exported_at="2026-12-01T08:00:00+07:00")
    doc = DocumentRecord(ordinal=1, document_id=9, direction="incoming", type_name="Quyết định", code_number="15",
                         code_notation="QĐ-UBND", issued_date=date(2026, 11, 20), organ_name="UBND tỉnh",
                         organ_id="000.00.00.H41", subject="S" * 600, language="vi", page_amount=3, description="",
                         signer_position="Chủ tịch", signer_name="Hoàng Văn Nam", secrecy="Thường", urgency="Khẩn",
                         arrival_number=12, trace=[{"Time": "t", "Actor": "a", "Action": "lead: b", "Note": ""}],
                         files=[ExportedFile("documents/001.pdf", "original", "ab" * 32, 10)])
    root = ET.fromstring(dossier_xml(dossier, [doc]))
    ns = {"a": "urn:docsvc:decree-30-2020:appendix-vi"}
    assert root.findtext("a:FileCode", namespaces=ns) == dossier.file_code
    el = root.find("a:Documents/a:Document", ns)
    assert len(el.findtext("a:Subject", namespaces=ns)) == 500  # the decree's limit
    assert el.findtext("a:ArrivalNumber", namespaces=ns) == "12"
    assert el.find("a:TraceHeaderList/a:TraceHeader/a:Action", ns).text == "lead: b"
    assert el.find("a:Files/a:File", ns).get("SHA256") == "ab" * 32
