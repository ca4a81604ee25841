"""Search as officials type it, through the API: folded type codes, natural-language queries."""

from __future__ import annotations

from tests.api.archive_support import registered_incoming


def test_type_filter_folds_codes_and_rejects_unknown_ones(api, container) -> None:  # type: ignore[no-untyped-def]
    decision = registered_incoming(api, 1, subject="Quyết định phê duyệt kế hoạch phòng chống thiên tai")
    registered_incoming(api, 2, type="TB", subject="Thông báo lịch tiếp công dân")
    container.indexing.drain_all()
    clerk = api.as_user("vanthu")
    for typed in ("QĐ", "QD", "qđ"):
        r = clerk.get("/api/v1/search", query_string={"type": typed})
        assert r.status_code == 200, r.get_json()
        assert [h["id"] for h in r.get_json()["hits"]] == [decision["id"]]
    r = clerk.get("/api/v1/search", query_string={"type": "XYZ"})
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "invalid_input" and "QĐ" in error["message"] and "TB" in error["message"]


def test_natural_language_query_with_stop_words_finds_the_document(api, container) -> None:  # type: ignore[no-untyped-def]
    decision = registered_incoming(api, 1, subject="Quyết định phê duyệt kế hoạch phòng chống thiên tai")
    container.indexing.drain_all()
    clerk = api.as_user("vanthu")
    for q in ("quyết định của ủy ban về việc phòng chống thiên tai", "V/v phòng chống thiên tai",
              "phongchong thientai", "thien tia phong chong", "phòng chống thiê*"):
        hits = clerk.get("/api/v1/search", query_string={"q": q}).get_json()["hits"]
        assert hits and hits[0]["id"] == decision["id"], q


def test_did_you_mean_in_the_api_and_on_the_search_page(pages, api, container) -> None:  # type: ignore[no-untyped-def]
    registered_incoming(api, 1, subject="Kế hoạch phòng chống thiên tai năm 2026")
    container.indexing.drain_all()
    body = api.as_user("vanthu").get("/api/v1/search", query_string={"q": "thiên tia"}).get_json()
    assert body["total"] == 1 and body["did_you_mean"] == "thiên tai"
    html = pages("vanthu").get("/search?q=thi%C3%AAn+tia").get_data(as_text=True)
    assert "Có phải bạn muốn tìm" in html and "thiên tai" in html
