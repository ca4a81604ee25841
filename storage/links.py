"""Download links: lifetime rules shared by both adapters, HMAC-signed links for the local store
(served by the application), and the Content-Disposition header both kinds of link use."""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from storage.errors import ConfigurationError, ExpiredLinkError, InvalidArgument, InvalidLinkError

MAX_LINK_LIFETIME = timedelta(days=7)  # the S3 limit for presigned URLs; the same everywhere
ROUTE = "/api/v1/objects/"


def check_lifetime(expires: timedelta) -> None:
    if not isinstance(expires, timedelta) or not timedelta(seconds=1) <= expires <= MAX_LINK_LIFETIME:
        raise InvalidArgument(f"a link lifetime must be a timedelta between 1 second and 7 days, got {expires!r}")


def content_disposition(filename: str) -> str:
    """``attachment`` header with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987), so
    Vietnamese file names survive every browser."""
    folded = unicodedata.normalize("NFKD", filename.replace("đ", "d").replace("Đ", "D"))
    ascii_name = folded.encode("ascii", "ignore").decode()
    ascii_name = "".join(c if c.isprintable() and c not in '"\\/' else "_" for c in ascii_name) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


class LinkSigner:
    """Signs ``{base_url}/api/v1/objects/{key}?expires=<unix>&filename=...&signature=...`` links with
    HMAC-SHA256; the application's route calls ``verify`` with the query values it received."""

    def __init__(self, secret: bytes | str, base_url: str = "") -> None:
        if isinstance(secret, str):
            secret = secret.encode()
        if len(secret) < 16:
            raise ConfigurationError("the link signing secret must be at least 16 bytes")
        self._secret = bytes(secret)
        self.base_url = base_url.rstrip("/")

    def _signature(self, key: str, expires: int, filename: str) -> str:
        message = f"docsvc-object-link/1\n{key}\n{expires}\n{filename}".encode()
        mac = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def sign(self, key: str, expires: timedelta, filename: str | None, now: datetime) -> str:
        check_lifetime(expires)
        deadline = int((now + expires).timestamp())
        query = {"expires": str(deadline)}
        if filename:
            query["filename"] = filename
        query["signature"] = self._signature(key, deadline, filename or "")
        return f"{self.base_url}{ROUTE}{key}?{urlencode(query)}"

    def verify(self, key: str, expires: str | int, signature: str, filename: str | None, now: datetime) -> None:
        """``InvalidLinkError`` if forged or altered, ``ExpiredLinkError`` if genuine but too old."""
        try:
            deadline = int(expires)
        except (TypeError, ValueError):
            raise InvalidLinkError("the link's expiry is not a number") from None
        expected = self._signature(key, deadline, filename or "")
        if not isinstance(signature, str) or not hmac.compare_digest(expected.encode(), signature.encode()):
            raise InvalidLinkError("the link's signature does not match")
        if now.timestamp() >= deadline:
            raise ExpiredLinkError("the link has expired")
