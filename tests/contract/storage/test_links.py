"""Time-limited download links: presigned S3 URLs fetched for real; app-served signed URLs for the
local store, checked the way the application's route will check them."""

from __future__ import annotations

import io
import os
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from typing import Any

import pytest

from storage import ExpiredLinkError, InvalidArgument, InvalidLinkError, ObjectNotFound, ObjectStore
from storage.locks import utcnow
from tests.contract.storage.backends import Backend

FILENAME = "Quyết định 15-QĐ-UBND.pdf"


def _follow(backend: Backend, store: Any, url: str) -> tuple[bytes, Any]:
    """Fetch a link as a browser would: over HTTP for S3; for the local store, through the checks
    the application's route performs (verify the signature, then stream the verified content)."""
    if backend.name == "s3":
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read(), response.headers  # case-insensitive
    parts = urllib.parse.urlsplit(url)
    key = parts.path.split("/api/v1/objects/", 1)[1]
    query = dict(urllib.parse.parse_qsl(parts.query))
    store.verify_signed_url(key, query["expires"], query["signature"], query.get("filename"))
    return store.get_bytes(key), {"filename": query.get("filename", "")}


def test_a_link_downloads_the_content(store: ObjectStore, backend: Backend) -> None:
    data = b"%PDF-1.7 " + os.urandom(200_000)
    key = store.put(io.BytesIO(data), content_type="application/pdf").key
    url = store.presigned_url(key, timedelta(minutes=5), FILENAME)
    body, headers = _follow(backend, store, url)
    assert body == data
    if backend.name == "s3":
        assert headers.get("Content-Type") == "application/pdf"
        disposition = headers.get("Content-Disposition")
        assert "attachment" in disposition and urllib.parse.quote(FILENAME, safe="") in disposition
    else:
        assert url.startswith("https://docsvc.example/api/v1/objects/sha256/") and headers["filename"] == FILENAME


def test_an_expired_link_is_refused(store: ObjectStore, backend: Backend) -> None:
    key = store.put(io.BytesIO(b"expired link")).key
    url = store.presigned_url(key, timedelta(minutes=10), now=utcnow() - timedelta(hours=1))
    if backend.name == "local":
        with pytest.raises(ExpiredLinkError):
            _follow(backend, store, url)
        return
    try:
        _follow(backend, store, url)
    except urllib.error.HTTPError as exc:
        assert exc.code == 403
    else:
        pytest.skip("this S3 server served an expired presigned URL (moto checks neither signatures nor expiry)")


def test_a_forged_link_is_refused(store: ObjectStore, backend: Backend) -> None:
    key = store.put(io.BytesIO(b"guarded")).key
    other = store.put(io.BytesIO(b"other")).key
    url = store.presigned_url(key, timedelta(minutes=10), "a.pdf")
    forgeries = [url.replace(key, other), url.replace("a.pdf", "b.pdf"),
                 url.replace("signature=", "signature=x").replace("Signature=", "Signature=0")]
    if backend.name == "local":
        for forged in forgeries:
            with pytest.raises(InvalidLinkError):
                _follow(backend, store, forged)
        longer = url.replace("expires=", "expires=9")
        with pytest.raises(InvalidLinkError):
            _follow(backend, store, longer)
        return
    refused = 0
    for forged in forgeries:
        try:
            _follow(backend, store, forged)
        except urllib.error.HTTPError as exc:
            assert exc.code == 403
            refused += 1
    if refused == 0:
        pytest.skip("this S3 server does not check presigned signatures (moto)")
    assert refused == len(forgeries)


@pytest.mark.parametrize("expires", [timedelta(0), timedelta(seconds=-5), timedelta(days=8), 300])
def test_link_lifetime_limits(store: ObjectStore, expires: Any) -> None:
    key = store.put(io.BytesIO(b"x")).key
    with pytest.raises(InvalidArgument):
        store.presigned_url(key, expires)


def test_no_link_to_a_missing_object(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.presigned_url("sha256/00/" + "0" * 64, timedelta(minutes=5))


def test_links_name_the_address_browsers_use(backend: Backend, keyring: Any) -> None:
    """The app may reach its store at an internal address; links must carry the public one."""
    public = "https://files.docsvc.example"
    option = {"public_endpoint": public} if backend.name == "s3" else {"base_url": public}
    store = backend.open(keyring, **option)
    key = store.put(io.BytesIO(b"public")).key
    url = store.presigned_url(key, timedelta(minutes=1), "x.pdf")
    assert url.startswith(public + "/") and key in url
