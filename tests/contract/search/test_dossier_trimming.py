"""A readable document in a dossier the caller may not know of: the dossier's id (hits, the ``dossier``
facet and filter), its code (text search) and what it says of the document (``archive_status`` and
``retention`` facets, filters and hit fields) stay hidden — the same on every adapter."""

from __future__ import annotations

from datetime import date

from search import IndexDocument, Principal, SearchIndex, SearchQuery
from search.errors import InvalidDocument
from search.model import ArchiveFacts, DossierRef
from tests.contract.search.corpus import T0

PLAIN = IndexDocument(
    id="p1", direction="incoming", subject="Báo cáo tổng kết công tác văn thư", readers=["unit:5"],
    issued_date=date(2024, 3, 1), secrecy=0, updated_at=T0,
    dossiers=[DossierRef("hs-open", "01.VTLT", 0), DossierRef("hs-top", "09.QPAN", 3)],
    archive_by_clearance=[ArchiveFacts("open", "10")] * 3 + [ArchiveFacts("archived", "permanent")])
OTHER = IndexDocument(id="p2", direction="incoming", subject="Báo cáo tổng kết công tác lưu trữ",
                      readers=["unit:5"], issued_date=date(2024, 3, 2), updated_at=T0)
LOW = Principal("low", 1, frozenset({"unit:5"}))
TOP = Principal("top", 3, frozenset({"unit:5"}))
FACETS = ["dossier", "archive_status", "retention"]


def _load(index: SearchIndex) -> None:
    index.upsert([PLAIN, OTHER])
    index.refresh()


def _ids(index: SearchIndex, principal: Principal, **query: object) -> set[str]:
    return {h.id for h in index.search(SearchQuery(size=50, **query), principal).hits}  # type: ignore[arg-type]


def test_hits_and_facets_show_only_dossiers_the_caller_may_know(index: SearchIndex) -> None:
    _load(index)
    low = index.search(SearchQuery(q="tổng kết văn thư", facets=FACETS), LOW)
    hit = next(h for h in low.hits if h.id == "p1")
    assert (hit.dossier_ids, hit.archive_status, hit.retention) == (("hs-open",), "open", "10")
    assert {k: [(v.value, v.count) for v in values] for k, values in low.facets.items()} == {
        "dossier": [("hs-open", 1)], "archive_status": [("open", 1)], "retention": [("10", 1)]}
    top = index.search(SearchQuery(q="tổng kết văn thư", facets=FACETS), TOP)
    hit = next(h for h in top.hits if h.id == "p1")
    assert (set(hit.dossier_ids), hit.archive_status, hit.retention) == ({"hs-open", "hs-top"}, "archived",
                                                                         "permanent")
    assert sorted(v.value for v in top.facets["dossier"]) == ["hs-open", "hs-top"]


def test_filters_and_dossier_codes_do_not_reach_a_hidden_dossier(index: SearchIndex) -> None:
    _load(index)
    assert _ids(index, LOW, dossier="hs-top") == set()
    assert _ids(index, LOW, archive_status="archived") == set()
    assert _ids(index, LOW, retention="permanent") == set()
    assert _ids(index, LOW, q="09.QPAN") == set()  # the hidden dossier's FileCode
    assert _ids(index, LOW, q="QPAN") == set()
    assert _ids(index, LOW, dossier="hs-open") == {"p1"}
    assert _ids(index, LOW, q="01.VTLT") == {"p1"}
    assert _ids(index, LOW, archive_status="open") == {"p1"}
    assert _ids(index, TOP, dossier="hs-top") == {"p1"}
    assert _ids(index, TOP, q="09.QPAN") == {"p1"}
    assert _ids(index, TOP, archive_status="archived") == {"p1"}


def test_graded_archive_facts_need_one_value_per_clearance() -> None:
    try:
        IndexDocument(id="x", direction="incoming", archive_by_clearance=[ArchiveFacts("open")])
    except InvalidDocument as exc:
        assert "one ArchiveFacts per clearance" in str(exc)
    else:
        raise AssertionError("a short archive_by_clearance was accepted")
