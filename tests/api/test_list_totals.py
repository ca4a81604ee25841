"""A list's total is the same whether the database counts it or the first page does (a first page
that is not full holds every row: no COUNT statement is run for it)."""

from __future__ import annotations

from typing import Any

from tests.helpers import created, upload


def test_totals_of_full_partial_and_later_pages(api: Any) -> None:
    clerk = api.as_user("vanthu")
    ids = [created(upload(clerk, number_notation=None))["id"] for _ in range(3)]

    def page(**query: int) -> dict[str, Any]:
        r = clerk.get("/api/v1/documents", query_string={"direction": "incoming", **query})
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    whole = page(per_page=50)  # first page, not full: counted from the page
    assert (whole["total"], whole["next_page"]) == (3, None)
    assert {d["id"] for d in whole["items"]} == set(ids)
    exact = page(per_page=3)  # first page, full: counted by the database
    assert (exact["total"], len(exact["items"]), exact["next_page"]) == (3, 3, None)
    first, second = page(per_page=2), page(per_page=2, page=2)
    assert (first["total"], len(first["items"]), first["next_page"]) == (3, 2, 2)
    assert (second["total"], len(second["items"]), second["next_page"]) == (3, 1, None)
    assert page(per_page=2, page=3) == {"items": [], "page": 3, "per_page": 2, "total": 3, "next_page": None}
