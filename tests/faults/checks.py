"""What every fault test checks once the backends are back: nothing accepted was lost, nothing
half-written is visible, register numbers have no gap or duplicate."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from sqlalchemy import select


def assert_clean_state(container: Any) -> dict[str, int]:
    """Every file row's object is stored with its digest; every issued or registered document has
    its number; each register series is numbered 1..n without gap or duplicate."""
    from docsvc.db.models import Document, DocumentFile
    with container.db.read() as s:
        files = s.execute(select(DocumentFile.document_id, DocumentFile.object_key, DocumentFile.sha256,
                                 DocumentFile.encrypted)).all()
        docs = s.execute(select(Document.id, Document.status, Document.direction, Document.code_number,
                                Document.arrival_number, Document.register_year, Document.register_series,
                                Document.agency_id)).all()
    for f in files:
        data = container.store.get_bytes(f.object_key)  # verified read: raises on a corrupt object
        if not f.encrypted:
            assert hashlib.sha256(data).hexdigest() == f.sha256, f"document {f.document_id}: digest mismatch"
    series: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for d in docs:
        if d.status == "issued":
            assert d.code_number and d.register_year, f"document {d.id} is issued without a number"
            assert any(f.document_id == d.id for f in files), f"issued document {d.id} has no file"
        if d.direction != "incoming" and d.register_year is not None:
            series[("outgoing", d.agency_id, d.register_series, d.register_year)].append(int(d.code_number))
        if d.direction == "incoming" and d.arrival_number is not None:
            series[("incoming", d.agency_id, d.register_series, d.register_year)].append(int(d.arrival_number))
    for key, numbers in series.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"register {key}: {sorted(numbers)}"
    return {"files": len(files), "documents": len(docs), "numbered": sum(len(v) for v in series.values())}


def assert_error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:400])
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]
