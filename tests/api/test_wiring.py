"""Explicit wiring: nothing registers itself by being imported, the write-once guard listens on
the container's database only, the app factory touches nothing outside the app it builds, and
services reach the task runner through the dispatch they were given."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session


def test_the_write_once_guard_listens_on_the_containers_database_only(container) -> None:  # type: ignore[no-untyped-def]
    from docsvc.services.archives import guard
    assert not event.contains(Session, "before_flush", guard._before_flush)
    assert not event.contains(Session, "do_orm_execute", guard._before_bulk)
    for factory in (container.db._writer, container.db._reader):
        assert event.contains(factory, "before_flush", guard._before_flush)
        assert event.contains(factory, "do_orm_execute", guard._before_bulk)


def test_the_archive_hooks_come_with_the_containers_sessions(container) -> None:  # type: ignore[no-untyped-def]
    from docsvc.services.access import RELATIONSHIP_SOURCES_INFO
    from docsvc.services.archives.hooks import archive_index_fields, archive_relationships
    from docsvc.services.indexing import INDEX_FIELD_SOURCES_INFO
    from docsvc.services.reorganisation.succession import provenance_index_fields, successor_relationships
    with container.db.read() as s:
        assert s.info[RELATIONSHIP_SOURCES_INFO] == (archive_relationships, successor_relationships)
        assert s.info[INDEX_FIELD_SOURCES_INFO] == (archive_index_fields, provenance_index_fields)
    assert container.documents.new_version_hooks  # the approval chain restarts on a new version


def test_the_app_factory_leaves_the_task_runner_alone(container, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import docsvc.tasks.app as tasks_app
    from docsvc.web.app import create_app
    sentinel: Any = object()
    monkeypatch.setattr(tasks_app, "_container", sentinel)
    create_app(container=container)
    assert tasks_app._container is sentinel


def test_services_reach_the_task_runner_through_their_dispatch(container) -> None:  # type: ignore[no-untyped-def]
    from docsvc.services.dispatch import NoTaskRunner, TaskDispatch
    assert container.dispatch.bound  # bound by use_container (the test process runs tasks in-process)
    assert container.outgoing.enqueue == container.dispatch.enqueue
    idle = TaskDispatch()
    with pytest.raises(NoTaskRunner):
        idle.kick("docsvc.drain_outbox")
    with pytest.raises(NoTaskRunner):
        idle.enqueue("docsvc.deliver_document", 1)
