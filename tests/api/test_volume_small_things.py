"""Small things found while working at volume (issue 16): duplicate messages in Vietnamese, the
same bytes flagged, non-numeric numbers still checked, recipients' times in ISO +07:00 and the
delivered copy named."""

from __future__ import annotations

import re

from tests.api.test_outgoing_issue import _org_id
from tests.helpers import assert_error, created, signed_draft, upload

ISO_VN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")


def test_duplicate_warning_is_vietnamese_and_names_the_register(api) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    first = created(upload(clerk))
    clerk.post(f"/api/v1/documents/{first['id']}/register", json={})
    dup = created(upload(clerk, number_notation="15/QD-UBND"))
    message = dup["warnings"][0]["message"]
    assert "already" not in message and "đã vào sổ văn bản đến số 1/" in message


def test_identical_files_are_flagged(api) -> None:  # type: ignore[no-untyped-def]
    from tests.fixtures.pdfs import official_pdf
    clerk, data = api.as_user("vanthu"), official_pdf()
    first = created(upload(clerk, number_notation="31/QĐ-UBND", file=data))
    again = created(upload(clerk, number_notation="32/QĐ-UBND", file=data))  # other number, same bytes
    same = [w for w in again.get("warnings", []) if w["code"] == "same_file"]
    assert same and same[0]["document_id"] == first["id"] and "chưa vào sổ" in same[0]["message"]


def test_non_numeric_number_is_kept_and_checked_for_duplicates(api) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    first = created(upload(clerk, number_notation="W126/BC-SGDĐT", type="BC"))
    assert first["number_notation"] == "W126/BC-SGDĐT"
    clerk.post(f"/api/v1/documents/{first['id']}/register", json={})
    from tests.fixtures.pdfs import official_pdf
    second = created(upload(clerk, number_notation="w126/bc-sgddt", type="BC", file=official_pdf("Báo cáo khác")))
    assert [w["code"] for w in second["warnings"]] == ["possible_duplicate"]
    err = assert_error(clerk.post(f"/api/v1/documents/{second['id']}/register", json={}), 409)
    assert err["details"]["duplicates"][0]["document_id"] == first["id"]


def test_recipients_times_are_iso_and_the_delivered_copy_is_named(api) -> None:  # type: ignore[no-untyped-def]
    clerk = api.as_user("vanthu")
    signed = signed_draft(api)
    snv = _org_id(api, "000.00.02.H41")
    r = clerk.post(f"/api/v1/documents/{signed['id']}/issue", json={"recipients": [{"agency_id": snv},
                                                                                   {"name": "Các thôn"}]})
    assert r.status_code == 200, r.get_json()
    rows = clerk.get(f"/api/v1/documents/{signed['id']}/recipients").get_json()["items"]
    internal = next(x for x in rows if x["agency_id"] == snv)
    assert internal["sent_at"] and ISO_VN.match(internal["sent_at"]), internal
    assert internal["delivered"] is True and isinstance(internal["incoming_document_id"], int)
    snv_clerk = api.as_user("snv.vanthu")
    assert snv_clerk.get(f"/api/v1/documents/{internal['incoming_document_id']}").status_code == 200


def test_filing_is_offered_only_to_who_can_read_a_document(pages, api) -> None:  # type: ignore[no-untyped-def]
    from tests.api.archive_support import open_dossier
    d = open_dossier(api, "07.VP", title="Hồ sơ thử nộp văn bản")
    archivist = pages("luutru").get(f"/dossiers/{d['id']}").get_data(as_text=True)
    assert 'data-action="file"' not in archivist and "within a minute" not in archivist
    assert 'data-action="close"' in archivist
    clerk = api.as_user("vanthu")
    created(upload(clerk))
    assert 'data-action="file"' in pages("vanthu").get(f"/dossiers/{d['id']}").get_data(as_text=True)
