"""Writes: idempotent, versioned upserts, deletes, clear, and what is (not) stored."""

from __future__ import annotations

from dataclasses import replace

from search import Principal, SearchIndex, SearchQuery, compare_index, rebuild_index
from tests.contract.search.backends import IndexFactory
from tests.contract.search.corpus import LIBRARY, READ_ALL, T0, bump, by_id, doc, ids
from tests.contract.search.storage_peek import stored_bytes

D01 = by_id(LIBRARY)["d01"]


def found(index: SearchIndex, q: str, principal: Principal = READ_ALL) -> list[str]:
    return ids(index.search(SearchQuery(q=q, size=100), principal))


def test_upsert_twice_changes_nothing(index: SearchIndex) -> None:
    index.upsert(LIBRARY[:5])
    index.upsert(LIBRARY[:5])
    index.refresh()
    assert index.count() == 5
    assert set(found(index, "quyet dinh")) == {"d01", "d02"}
    assert index.indexed_versions() == {d.id: d.version for d in LIBRARY[:5]}


def test_newer_version_replaces_every_field(index: SearchIndex) -> None:
    index.upsert([D01])
    index.upsert([bump(D01, 60, subject="Chỉ thị về phòng cháy chữa cháy", full_text="Nội dung mới.",
                       readers=["unit:9"], type_code="CT")])
    index.refresh()
    assert found(index, "quyet dinh") == []
    assert found(index, "phòng cháy") == []  # readers changed: org:1 no longer reads it
    unit9 = Principal(9, 0, frozenset({"unit:9"}))
    assert found(index, "phòng cháy", unit9) == ["d01"]
    assert found(index, "nội dung mới", unit9) == ["d01"]
    hit = index.search(SearchQuery(q="chỉ thị", facets=["type"]), unit9)
    assert hit.hits[0].type_code == "CT" and [(v.value, v.count) for v in hit.facets["type"]] == [("CT", 1)]


def test_older_version_never_overwrites_a_newer_one(index: SearchIndex) -> None:
    newer = bump(D01, 60, subject="Chỉ thị về phòng cháy chữa cháy", full_text="Nội dung mới.")
    index.upsert([newer])
    index.upsert([D01])  # a late retry of an older change
    index.refresh()
    assert found(index, "phòng cháy") == ["d01"]
    assert found(index, "phe duyet ke hoach") == []
    assert index.indexed_versions() == {"d01": newer.version}


def test_same_id_twice_in_one_batch_keeps_the_newest(index: SearchIndex) -> None:
    index.upsert([bump(D01, 60, subject="Phiên bản mới"), D01])
    index.refresh()
    assert found(index, "phiên bản mới") == ["d01"]
    assert index.count() == 1


def test_delete(index: SearchIndex) -> None:
    index.upsert(LIBRARY[:3])
    index.delete(["d01", "no-such-id"])
    index.refresh()
    assert index.count() == 2
    assert found(index, "quyet dinh") == ["d02"]
    index.delete([])
    assert index.count() == 2


def test_clear_keeps_the_index_usable(index: SearchIndex) -> None:
    index.upsert(LIBRARY[:3])
    index.clear()
    index.refresh()
    assert index.count() == 0 and found(index, "") == []
    index.upsert([D01])
    index.refresh()
    assert found(index, "quyet dinh") == ["d01"]


def test_recreate_leaves_an_empty_usable_index(index: SearchIndex) -> None:
    index.upsert(LIBRARY[:3])
    index.recreate()
    index.ensure_schema()
    index.refresh()
    assert index.count() == 0 and found(index, "") == []
    index.upsert([D01])
    index.refresh()
    assert found(index, "quyet dinh") == ["d01"]


def test_ensure_schema_is_idempotent_and_health(index: SearchIndex) -> None:
    index.ensure_schema()
    index.upsert([D01])
    index.ensure_schema()
    index.refresh()
    assert index.count() == 1 and index.health()


def test_many_documents_in_one_call(index: SearchIndex) -> None:
    docs = [doc(f"n{i:04d}", f"Văn bản thứ {i}", updated_at=T0) for i in range(1203)]
    index.upsert(docs)
    index.refresh()
    assert index.count() == 1203
    assert index.search(SearchQuery(q="văn bản"), READ_ALL).total == 1203
    assert len(index.indexed_versions()) == 1203


def test_offline_secret_content_is_never_stored(adapter: str, index: SearchIndex) -> None:
    secret = doc("x1", "Kế hoạch bảo vệ", secrecy=2, content_indexed=False,
                 full_text="Tọa độ kho vũ khí zyxwvbimat")
    plain = doc("x2", "Kế hoạch thường", full_text="Nội dung công khai qwertcongkhai")
    index.upsert([secret, plain])
    index.refresh()
    assert found(index, "zyxwvbimat") == []
    assert found(index, "kế hoạch bảo vệ") == ["x1"]
    dump = stored_bytes(adapter, index)
    assert "Nội dung công khai qwertcongkhai".encode() in dump  # the peek sees the original texts
    assert b"zyxwvbimat" not in dump


def test_masked_subject_is_neither_searchable_nor_returned(adapter: str, index: SearchIndex) -> None:
    masked = doc("m1", "Phương án tác chiến qazwsxchedo", secrecy=3, subject_indexed=False,
                 notation="01/PA-BQP")
    index.upsert([masked])
    index.refresh()
    assert found(index, "qazwsxchedo") == []
    hits = index.search(SearchQuery(q="01/PA-BQP"), READ_ALL).hits
    assert [h.id for h in hits] == ["m1"] and hits[0].subject is None
    assert index.suggest("01/PA", READ_ALL)[0].subject is None
    assert b"qazwsxchedo" not in stored_bytes(adapter, index)


def test_readers_and_clearance_follow_updates(index: SearchIndex) -> None:
    index.upsert([replace(D01, readers=("user:1",))])
    index.refresh()
    user1 = Principal(1, 0, frozenset({"user:1"}))
    assert found(index, "quyet dinh", user1) == ["d01"]
    index.upsert([bump(D01, 1, readers=["user:1"], secrecy=1)])
    index.refresh()
    assert found(index, "quyet dinh", user1) == []
    assert found(index, "quyet dinh", Principal(1, 1, frozenset({"user:1"}))) == ["d01"]


def test_two_indices_do_not_mix(make_index: IndexFactory) -> None:
    a, b = make_index("a"), make_index("b")
    a.upsert([D01])
    a.refresh()
    b.refresh()
    assert found(a, "quyet dinh") == ["d01"] and found(b, "quyet dinh") == []


def test_rebuild_from_the_source_of_truth(index: SearchIndex) -> None:
    index.upsert([doc("gone", "Văn bản đã hủy", updated_at=T0)])
    progress: list[int] = []
    assert rebuild_index(index, iter(LIBRARY), batch_size=10, on_progress=progress.append) == len(LIBRARY)
    assert progress == [10, 10, 10, 2] and sum(progress) == len(LIBRARY)
    assert index.count() == len(LIBRARY)
    assert set(found(index, "quyet dinh")) == {"d01", "d02"}
    expected = {d.id: d.version for d in LIBRARY}
    assert compare_index(index, expected).in_sync
    newer = bump(D01, 5)
    drift = compare_index(index, {**expected, "d01": newer.version, "new": 1})
    assert (drift.missing, drift.stale, drift.extra) == ({"new"}, {"d01"}, set())
    index.delete(["d02"])
    index.refresh()
    assert compare_index(index, expected).missing == {"d02"}
    assert compare_index(index, {k: v for k, v in expected.items() if k != "d03"}).extra == {"d03"}
