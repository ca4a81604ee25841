"""A document's history stays whole however often it is read: the newest events come first in
pages, reads can be left out in the database, and the page shows the latest processing steps."""

from __future__ import annotations

from typing import Any

from tests.helpers import assert_error, created, upload

READS = 520  # more than one page (500) of events


def test_a_much_read_document_still_shows_its_latest_steps(api: Any, pages: Any) -> None:
    clerk = api.as_user("vanthu")
    doc = created(upload(clerk, subject="Công văn về việc tiếp nhận hồ sơ đất đai"))
    for _ in range(READS):
        assert clerk.get(f"/api/v1/documents/{doc['id']}").status_code == 200
    r = clerk.post(f"/api/v1/documents/{doc['id']}/register", json={})
    assert r.status_code == 200, r.get_json()

    first = clerk.get(f"/api/v1/documents/{doc['id']}/history").get_json()
    assert len(first["items"]) == 500
    assert first["items"][-1]["action"] == "document.register"  # the newest step is not cut off
    seqs = [e["seq"] for e in first["items"]]
    assert seqs == sorted(seqs)
    older = clerk.get(f"/api/v1/documents/{doc['id']}/history",
                      query_string={"before_seq": first["next_before_seq"]}).get_json()
    assert older["next_before_seq"] is None
    assert older["items"][0]["action"] == "document.create"
    assert [e["seq"] for e in older["items"]][-1] < seqs[0]
    assert len(older["items"]) + len(first["items"]) == READS + 2

    steps = clerk.get(f"/api/v1/documents/{doc['id']}/history", query_string={"accesses": "false"}).get_json()
    assert [e["action"] for e in steps["items"]] == ["document.create", "document.register"]
    assert steps["next_before_seq"] is None

    for bad in ({"before_seq": "0"}, {"before_seq": "x"}, {"limit": "501"}, {"before_seq": str(2**40)}):
        assert_error(clerk.get(f"/api/v1/documents/{doc['id']}/history", query_string=bad), 400)

    page = pages("vanthu").get(f"/documents/{doc['id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Earlier events" not in html and "Các sự kiện trước đó" not in html  # reads hidden: one page
    assert html.count("<tr class=") >= 2
    reads = pages("vanthu").get(f"/documents/{doc['id']}?accesses=1")
    assert "before=" in reads.get_data(as_text=True)
    bad = pages("vanthu").get(f"/documents/{doc['id']}?before=-1")
    assert bad.status_code == 400
