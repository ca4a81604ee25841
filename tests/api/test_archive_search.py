"""The archivist's search: dossier, retention and archive-status filters and facets, trimmed to what
the caller may read (the archive reads what it holds, within clearance)."""

from __future__ import annotations

from tests.api.archive_support import closed_dossier, file_into, open_dossier, registered_incoming, transfer


def _search(api, username: str, **params):  # type: ignore[no-untyped-def]
    r = api.as_user(username).get("/api/v1/search", query_string={"facets": ["archive_status", "retention", "dossier"],
                                                                  "size": 50, **params})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_archive_filters_and_facets_respect_what_each_user_may_read(api, container) -> None:  # type: ignore[no-untyped-def]
    archived = registered_incoming(api, 1, subject="Quyết định phê duyệt quy hoạch sử dụng đất")
    filed = registered_incoming(api, 2, subject="Quyết định phân bổ kinh phí sự nghiệp")
    loose = registered_incoming(api, 3, subject="Quyết định thành lập đoàn kiểm tra")
    secret = registered_incoming(api, 4, content=False, secrecy="mat", subject="Quyết định mật về quốc phòng")
    d = closed_dossier(api, "01.QH", [archived["id"], secret["id"]], retention_code="TC-20")
    transfer(api, d["id"])
    keep = open_dossier(api, "02.TC", retention_code="KH-10")
    file_into(api, keep["id"], filed["id"])
    container.indexing.drain_all()

    # The registry reads every incoming document: it sees each archive state.
    clerk = _search(api, "vanthu", q="quyet dinh")
    facets = {f["value"]: f["count"] for f in clerk["facets"]["archive_status"]}
    assert facets == {"archived": 2, "open": 1, "unfiled": 1}
    assert {f["value"]: f["count"] for f in clerk["facets"]["retention"]} == {"20y": 2, "10y": 1}
    only = _search(api, "vanthu", q="quyet dinh", archive_status="archived")
    assert {h["id"] for h in only["hits"]} == {archived["id"], secret["id"]}
    assert all(h["archive_status"] == "archived" and h["dossiers"] == [str(d["id"])] for h in only["hits"])
    assert {h["id"] for h in _search(api, "vanthu", dossier=str(keep["id"]))["hits"]} == {filed["id"]}
    assert {h["id"] for h in _search(api, "vanthu", retention="10y")["hits"]} == {filed["id"]}
    assert {h["id"] for h in _search(api, "vanthu", archive_status="unfiled", q="quyet dinh")["hits"]} == {loose["id"]}

    # The archivist (cleared to Mật) reads only what the archive holds: counts cover nothing else.
    archive = _search(api, "luutru", q="quyet dinh")
    assert {h["id"] for h in archive["hits"]} == {archived["id"], secret["id"]} and archive["total"] == 2
    assert {f["value"]: f["count"] for f in archive["facets"]["archive_status"]} == {"archived": 2}
    # An officer with no relationship and no clearance sees none of it.
    assert _search(api, "chuyenvien", q="quyet dinh", archive_status="archived")["total"] == 0
    # Searching by the dossier's FileCode words finds the archived documents.
    by_code = _search(api, "luutru", q=d["file_code"])
    assert {h["id"] for h in by_code["hits"]} >= {archived["id"]}
