"""Typed errors of the storage library.

The application maps them to HTTP answers: ``ObjectNotFound`` 404, ``ObjectLockedError`` 409/423,
``ExpiredLinkError``/``InvalidLinkError`` 403, ``StorageUnavailable`` 503 (it is also a
``ConnectionError`` so generic "backend down" handlers recognise it), ``IntegrityError`` and
``MissingKeyError`` 500 (the stored bytes or the key configuration are wrong: an operator must act).
"""

from __future__ import annotations

from datetime import datetime


class StorageError(Exception):
    """Base class of every error raised by the storage library."""


class ConfigurationError(StorageError, ValueError):
    """The store URL, an option, a key ring or a bucket is not usable as configured."""


class InvalidArgument(StorageError, ValueError):
    """A call got a bad value: naive or past retention date, link lifetime out of range, bad content type."""


class InvalidKey(InvalidArgument):
    """The string is not an object key of this library (``sha256/ab/<64 hex>`` or ``enc/sha256/...``)."""


class ObjectNotFound(StorageError, LookupError):
    """No object is stored under this key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object {key}")
        self.key = key


class IntegrityError(StorageError):
    """The stored bytes do not match their content address or fail authentication (corrupt or
    tampered). Raised before the last chunk of a read is handed out, never after a complete body."""


class ObjectLockedError(StorageError, PermissionError):
    """Deleting or replacing the object is refused: it is retained or under legal hold."""

    def __init__(self, message: str, key: str, *, retain_until: datetime | None = None,
                 legal_hold: bool = False) -> None:
        super().__init__(message)
        self.key = key
        self.retain_until = retain_until
        self.legal_hold = legal_hold


class ObjectExists(ObjectLockedError):
    """A write-once named object already exists under this name: it is never replaced."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} already exists (named objects are write-once)", name)


class RetentionError(ObjectLockedError):
    """The object's retention period has not expired yet."""


class LegalHoldError(ObjectLockedError):
    """The object is under legal hold (whatever its retention)."""


class RetentionShorteningError(StorageError, ValueError):
    """A retention may only be extended: an earlier date, or compliance -> governance, is refused."""


class MissingKeyError(StorageError, KeyError):
    """The key-encryption key (or the wrapped data key record) needed to read or write encrypted
    content is not available: unknown key id, no key ring configured, or the record is gone."""

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0]) if self.args else ""


class WrongKeyError(MissingKeyError):
    """A key-encryption key with the right id does not open the wrapped data key: the configured
    key material differs from the one used to wrap it, or the key record was tampered with."""


class LinkError(StorageError):
    """A download link cannot be made or used."""


class ExpiredLinkError(LinkError):
    """The signed link was genuine but its lifetime is over."""


class InvalidLinkError(LinkError):
    """The signed link was forged, altered, or is malformed."""


class LinkNotAllowed(LinkError):
    """No direct link for this object: encrypted content must be streamed (decrypted) by the app."""


class StorageUnavailable(StorageError, ConnectionError):
    """The backend cannot be reached or is failing right now (connection refused, timeout, 5xx,
    disk full); retrying later may succeed."""
