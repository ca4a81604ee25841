"""Fixtures of the signing library's tests (see tests/signing/pki.py for the trust services)."""

from __future__ import annotations

import pytest

from tests.fixtures.pdfs import official_pdf
from tests.signing.pki import TestPki, test_pki


@pytest.fixture(scope="session")
def pki() -> TestPki:
    return test_pki()


@pytest.fixture(scope="session")
def document() -> bytes:
    """A one-page Decree 30 style document with a signature block (title, then name)."""
    return official_pdf()


@pytest.fixture(scope="session")
def blank_document() -> bytes:
    """A document without signature block (appearance falls back to printing one)."""
    return official_pdf(body="Văn bản không có khối chữ ký.", signer_title="", signer_name="")
