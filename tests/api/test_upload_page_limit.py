"""Uploads above DOCSVC_MAX_PAGES: a clear 413 with the JSON error, nothing stored, in the single
upload and in batch receiving (a failed row with the reason)."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from docsvc.db.models import Document
from tests.helpers import assert_error, upload
from tests.unit.test_upload_page_limit import many_pages


def test_a_pdf_above_the_page_limit_is_refused_with_413(api, container) -> None:  # type: ignore[no-untyped-def]
    assert container.settings.max_pages == 5000
    clerk = api.as_user("vanthu")
    data = many_pages(5001)
    objects_before = set(container.store.list())
    err = assert_error(upload(clerk, file=data, filename="nhieu-trang.pdf"), 413, "payload_too_large")
    assert err["details"]["reason"] == "too_many_pages" and err["details"]["limit_pages"] == 5000
    with container.db.read() as s:
        assert s.execute(select(func.count()).select_from(Document)).scalar_one() == 0
    assert set(container.store.list()) == objects_before

    r = clerk.post("/api/v1/batches/intake", data={"files": [(io.BytesIO(data), "nhieu-trang.pdf")]},
                   content_type="multipart/form-data")
    assert r.status_code == 202, r.get_json()
    [item] = r.get_json()["items"]
    assert item["state"] == "failed" and item["error"]["details"]["reason"] == "too_many_pages"
    assert set(container.store.list()) == objects_before
