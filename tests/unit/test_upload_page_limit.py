"""The upload inspection bounds its work by a page limit (issue 14 §6 follow-up): the pages are
counted on the page tree before any page is opened, and a PDF above ``DOCSVC_MAX_PAGES`` is a 413
with its reason, whatever its /Count declares."""

from __future__ import annotations

import io
import time

import pytest

from docsvc.errors import PayloadTooLarge
from docsvc.services.uploads import inspect_upload
from tests.fuzz.corpus import _page, _pdf

LIMIT = 100 * 1024 * 1024


def many_pages(n: int, *, declared: int | None = None, same_page: bool = False) -> bytes:
    """A PDF of ``n`` A4 pages under one /Pages node, written directly (100,000 pages in a fraction
    of a second); ``declared``: the /Count it claims; ``same_page``: every kid is the same page."""
    kids = b" ".join(b"3 0 R" if same_page else b"%d 0 R" % (i + 3) for i in range(n))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % (n if declared is None else declared)]
    objects += [_page()] * (1 if same_page else n)
    return _pdf(objects)


def _refused(data: bytes, max_pages: int) -> PayloadTooLarge:
    with pytest.raises(PayloadTooLarge) as caught:
        inspect_upload(io.BytesIO(data), "nhieu-trang.pdf", max_bytes=LIMIT, max_pages=max_pages)
    assert caught.value.details["reason"] == "too_many_pages" and caught.value.details["limit_pages"] == max_pages
    assert f"more than {max_pages} pages" in caught.value.message
    return caught.value


def test_a_hundred_thousand_pages_are_refused_without_opening_them() -> None:
    data = many_pages(100_000)
    started = time.monotonic()
    _refused(data, 5000)
    # Opening every page took ~15 s here; counting is reading the tree (generous bound for a loaded CI machine).
    assert time.monotonic() - started < 8


def test_the_limit_is_counted_on_the_tree_not_taken_from_count() -> None:
    assert inspect_upload(io.BytesIO(many_pages(40)), "a.pdf", max_bytes=LIMIT, max_pages=40).page_count == 40
    _refused(many_pages(41), 40)
    _refused(many_pages(41, declared=1), 40)  # a /Count that lies low
    _refused(many_pages(5000, declared=1, same_page=True), 40)  # one page listed 5000 times is 5000 pages
    _refused(many_pages(1, declared=2_147_483_647), 40)  # a /Count that lies high is refused at once
