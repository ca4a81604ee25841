"""Units of work on both databases: a read inside ``shared_read()`` uses its transaction, a write
never does, the connections are reused from a pool, and the document page reads its boxes in
one transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select, text, update

from docsvc.db.models import Organisation
from tests.helpers import created, upload


def test_reads_inside_shared_read_share_one_session_and_writes_have_their_own(container: Any) -> None:
    db = container.db
    with db.read() as a, db.read() as b:
        assert a is not b  # outside a shared read each read is its own unit of work
    with db.shared_read():
        with db.read() as first:
            pass
        with db.read() as second, db.write() as w:
            assert second is first
            assert w is not first
        with db.shared_read(), db.read() as nested:  # nesting keeps the outer transaction
            assert nested is first
    with db.read() as after:
        assert after is not first


def test_a_write_inside_a_shared_read_commits_and_a_later_read_in_it_still_works(container: Any, demo: Any) -> None:
    db = container.db
    with db.read() as r:
        org_id, name = r.execute(select(Organisation.id, Organisation.name).order_by(Organisation.id).limit(1)).one()
    renamed = name + " (đổi tên)"
    with db.shared_read():
        with db.write() as w:
            w.execute(update(Organisation).where(Organisation.id == org_id).values(name=renamed))
        with db.read() as r:  # the shared read still works after the write, and sees it committed
            assert r.execute(select(Organisation.name).where(Organisation.id == org_id)).scalar_one() == renamed
    with db.read() as r:  # committed on its own: not undone when the shared read's transaction ends
        assert r.execute(select(Organisation.name).where(Organisation.id == org_id)).scalar_one() == renamed


def test_an_error_inside_a_shared_read_ends_it(container: Any) -> None:
    db = container.db
    with pytest.raises(RuntimeError), db.shared_read(), db.read() as inside:
        raise RuntimeError("boom")
    with db.read() as after:
        assert after is not inside


def test_units_of_work_reuse_pooled_connections(container: Any) -> None:
    opened: list[object] = []
    event.listen(container.db.engine, "connect", lambda *a: opened.append(a))
    for _ in range(5):
        with container.db.read() as s:
            s.execute(select(Organisation.id).limit(1))
        with container.db.write() as s:
            s.execute(text("UPDATE organisations SET name = name"))
    assert len(opened) <= 1, f"{len(opened)} connections opened for 10 units of work"


def test_the_document_page_reads_its_boxes_in_one_transaction(container: Any, api: Any, pages: Any) -> None:
    doc = created(upload(api.as_user("vanthu"), subject="Quyết định về lịch tiếp công dân"))
    page = pages("vanthu")
    begins: list[str] = []

    def on_begin(conn: Any) -> None:
        begins.append("read" if conn.get_execution_options().get("readonly") else "write")

    event.listen(container.db.engine, "begin", on_begin)
    try:
        r = page.get(f"/documents/{doc['id']}")
    finally:
        event.remove(container.db.engine, "begin", on_begin)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "Quyết định về lịch tiếp công dân" in r.get_data(as_text=True)
    # the session's identity (1 read); the audited read of the document: its view shaped in a read
    # transaction, its audit event in a short write of its own (SQLite's one write lock is not held while
    # the view is built); then the page's boxes, all in one read
    assert begins.count("read") <= 3, begins
    assert begins.count("write") == 1, begins
