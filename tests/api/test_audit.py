"""The audit log: append-only at the database level, hash-chained, and `docsvc audit verify`
names every edited or deleted row (the real command, in this process, against the real database)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from docsvc.services import audit
from tests.helpers import CliResult, run_cli


def _events(container, n: int) -> None:  # type: ignore[no-untyped-def]
    with container.db.write() as s:
        for i in range(n):
            audit.record(s, actor=None, action="test.event", object_type="thing", object_id=i,
                         details={"i": i, "note": "Quyết định số 15"})


def _cli_verify(settings) -> CliResult:  # type: ignore[no-untyped-def]
    return run_cli(["audit", "verify"], {"DOCSVC_DATABASE_URL": settings.database_url,
                                         "DOCSVC_DATA_DIR": str(settings.data_dir)})


def _drop_guards(container) -> None:  # type: ignore[no-untyped-def]
    """What an attacker with database-owner rights would do first."""
    with container.db.engine.begin() as conn:
        if container.db.dialect == "postgresql":
            conn.execute(text("DROP TRIGGER audit_events_no_update ON audit_events"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))


def test_intact_chain_verifies(container, settings) -> None:  # type: ignore[no-untyped-def]
    _events(container, 5)
    with container.db.read() as s:
        report = audit.verify(s, container.audit_keys)
    assert report.ok and report.checked == 5
    result = _cli_verify(settings)
    assert result.returncode == 0, result.stderr
    assert "5 events verified" in result.stdout


def test_database_refuses_update_and_delete(container) -> None:  # type: ignore[no-untyped-def]
    _events(container, 2)
    for stmt in ("UPDATE audit_events SET action = 'x' WHERE seq = 1", "DELETE FROM audit_events WHERE seq = 2"):
        with pytest.raises(DBAPIError, match="append-only"), container.db.engine.begin() as conn:
            conn.execute(text(stmt))


def test_edited_row_is_named(container, settings) -> None:  # type: ignore[no-untyped-def]
    _events(container, 6)
    _drop_guards(container)
    with container.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor_name = 'someone-else' WHERE seq = 3"))
    result = _cli_verify(settings)
    assert result.returncode == 1
    assert "row 3: content does not match its hash" in result.stdout
    assert "TAMPERED" in result.stderr


def test_edit_with_recomputed_hash_breaks_the_next_link(container) -> None:  # type: ignore[no-untyped-def]
    _events(container, 4)
    _drop_guards(container)
    with container.db.write() as s:
        ev = s.get(audit.AuditEvent, 2)
        ev.outcome = "denied"
        ev.hash = audit.event_hash(ev, container.audit_keys)  # a careful forger recomputes the row's own hash...
    with container.db.read() as s:
        report = audit.verify(s, container.audit_keys)
    assert any("row 3: previous-hash link broken" in p.message for p in report.problems), report.problems


def test_deleted_rows_are_named(container, settings) -> None:  # type: ignore[no-untyped-def]
    _events(container, 8)
    _drop_guards(container)
    with container.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq IN (4, 5)"))
        conn.execute(text("DELETE FROM audit_events WHERE seq = 8"))
    result = _cli_verify(settings)
    assert result.returncode == 1
    assert "rows 4-5 deleted" in result.stdout
    assert "row 8 deleted from the end" in result.stdout


def test_failed_use_case_leaves_no_success_event(container) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), container.db.write() as s:
        audit.record(s, actor=None, action="doomed", object_type="thing")
        raise RuntimeError("use case failed after auditing")
    with container.db.read() as s:
        assert audit.verify(s, container.audit_keys).checked == 0
