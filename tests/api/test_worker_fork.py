"""A prefork pool child must not share its parent's pooled connections (database, index, S3):
found by the load test (garbled index writes, "database unavailable" in the worker)."""

from __future__ import annotations

from typing import Any


def test_a_pool_child_gets_its_own_container_and_connections(container: Any) -> None:
    from docsvc.tasks import app as tasks
    parent = tasks.task_container()
    assert parent is container
    with parent.db.read():  # the parent has pooled a connection
        pass
    tasks._fresh_connections_after_fork()
    child = tasks.task_container()
    try:
        assert child is not parent and child.settings == parent.settings
        assert child.db.engine is not parent.db.engine
        with child.db.read():
            pass
        assert child.store is not parent.store and child.search_index is not parent.search_index
    finally:
        child.close()
        tasks.use_container(parent)
