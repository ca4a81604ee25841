"""What one document contributes to the reports summary (pure: no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from docsvc.services.reports import summary


def test_document_facts() -> None:
    row = type("Row", (), {})
    doc = row()
    doc.agency_id, doc.direction, doc.status, doc.type_id = 7, "incoming", "completed", 3
    doc.arrival_at = datetime(2026, 3, 31, 20, tzinfo=UTC)
    doc.arrival_number, doc.completed_at, doc.issued_date = 12, datetime(2026, 4, 2, 8, tzinfo=UTC), None

    def assignment(status: str, deadline: date, completed: datetime | None, **who: int) -> Any:
        a = row()
        a.role, a.status, a.deadline, a.completed_at = "lead", status, deadline, completed
        a.assigned_at = datetime(2026, 3, 31, 21, tzinfo=UTC)
        a.unit_id, a.user_id = who.get("unit_id"), who.get("user_id")
        return a

    facts = summary.document_facts(doc, 5, [
        assignment("done", date(2026, 4, 2), datetime(2026, 4, 2, 16, 59, tzinfo=UTC), user_id=4),
        assignment("done", date(2026, 4, 1), datetime(2026, 4, 2, 1, tzinfo=UTC), user_id=4),
        assignment("open", date(2026, 4, 10), None, unit_id=9),
        assignment("reassigned", date(2026, 4, 10), None, unit_id=9)])
    assert facts == {
        (7, 2026, 5, "received", 3, 3, 0, 0, 0): [1, 0],
        (7, 2026, 5, "completed", 0, 0, 0, 0, 0): [1, (36 * 3600) * 1_000_000],
        (7, 2026, 5, "on_time", 0, 0, 0, 4, 0): [1, 0],
        (7, 2026, 5, "late", 0, 0, 0, 4, 0): [1, 0],
        (7, 2026, 5, "open", 0, 0, 9, 0, date(2026, 4, 10).toordinal()): [1, 0]}
    doc.direction, doc.status, doc.issued_date = "outgoing", "recalled", date(2026, 12, 1)
    assert summary.document_facts(doc, 5, []) == {(7, 2026, 5, "issued", 12, 3, 0, 0, 0): [1, 0]}
    assert summary.class_digest(1, 0, ["b", "a", "a"]) == summary.class_digest(1, 0, ["a", "b"])
    assert summary.class_digest(1, 0, ["a"]) != summary.class_digest(1, 1, ["a"])
