"""Object keys: content addresses derived from the SHA-256 of the (plaintext) content.

``sha256/ab/ab12...`` holds cleartext content; ``enc/sha256/ab/ab12...`` holds envelope-encrypted
content whose *plaintext* has that digest. The two namespaces never share an object, so secret
content is never deduplicated onto a cleartext copy of the same bytes, and whether a key is
encrypted is known from the key alone. Keys are validated strictly: they become file paths in the
local store, so nothing else (no ``..``, no other characters) is ever accepted.

Internal records live beside the objects under ``keys/`` (wrapped data keys) and ``touch/``
(last re-put time): see ``record_name``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.errors import InvalidKey

PLAIN_PREFIX = "sha256/"
ENCRYPTED_PREFIX = "enc/sha256/"
CONTENT_PREFIXES = (PLAIN_PREFIX, ENCRYPTED_PREFIX)
DATA_KEYS_NAMESPACE = "keys/"
NAMED_NAMESPACE = "named/"  # write-once objects under a chosen name (see ``check_name``)
TOUCH_NAMESPACE = "touch/"

_KEY = re.compile(r"(enc/)?sha256/([0-9a-f]{2})/([0-9a-f]{64})")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_DEK_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class ParsedKey:
    digest: str
    encrypted: bool


def make_key(digest: str, *, encrypted: bool) -> str:
    if not _DIGEST.fullmatch(digest):
        raise InvalidKey(f"{digest!r} is not a lowercase hex SHA-256 digest")
    return f"{ENCRYPTED_PREFIX if encrypted else PLAIN_PREFIX}{digest[:2]}/{digest}"


def parse_key(key: object) -> ParsedKey:
    """Digest and encryption flag of ``key``; ``InvalidKey`` for anything that is not a key."""
    m = _KEY.fullmatch(key) if isinstance(key, str) else None
    if m is None or m.group(2) != m.group(3)[:2]:
        raise InvalidKey(f"{key!r} is not an object key (expected sha256/<2 hex>/<64 hex> "
                         "or enc/sha256/<2 hex>/<64 hex>)")
    return ParsedKey(digest=m.group(3), encrypted=m.group(1) is not None)


def is_key(key: object) -> bool:
    try:
        parse_key(key)
    except InvalidKey:
        return False
    return True


_PREFIX = re.compile(r"(?:[a-z0-9]+/)*[a-z0-9]*")


def check_prefix(prefix: str) -> str:
    """``prefix`` if it can start a key or record name (lowercase letters, digits, '/')."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise InvalidKey(f"{prefix!r} is not a key prefix (lowercase letters, digits and '/')")
    return prefix


def data_key_record(key: str, dek_id: str) -> str:
    """Name of the record holding the wrapped data key ``dek_id`` of encrypted object ``key``."""
    if not _DEK_ID.fullmatch(dek_id):
        raise InvalidKey(f"{dek_id!r} is not a data key id")
    return f"{DATA_KEYS_NAMESPACE}{key}/{dek_id}"


def touch_record(key: str) -> str:
    return f"{TOUCH_NAMESPACE}{key}"


def record_owner(name: str) -> str | None:
    """The object key a record belongs to (``keys/<key>/<dek>`` or ``touch/<key>``), else None."""
    if name.startswith(DATA_KEYS_NAMESPACE):
        owner, _, dek = name[len(DATA_KEYS_NAMESPACE):].rpartition("/")
        return owner if is_key(owner) and _DEK_ID.fullmatch(dek) else None
    if name.startswith(TOUCH_NAMESPACE):
        owner = name[len(TOUCH_NAMESPACE):]
        return owner if is_key(owner) else None
    return None


def check_record_name(name: str) -> str:
    """``name`` if it is a record name this library writes (they also become file paths)."""
    if record_owner(name) is None:
        raise InvalidKey(f"{name!r} is not a record name")
    return name


_NAME = re.compile(r"[a-z0-9]+(?:/[a-z0-9][a-z0-9._-]*)+")


def check_name(name: object) -> str:
    """``name`` if it can name a write-once named object: at least two '/'-separated parts of
    lowercase letters, digits, '.', '_' and '-' (no part starts with '.'), at most 200 characters,
    e.g. ``audit/checkpoints/00000000000000000042.json``."""
    if not isinstance(name, str) or len(name) > 200 or not _NAME.fullmatch(name):
        raise InvalidKey(f"{name!r} is not an object name (e.g. audit/checkpoints/42.json)")
    return name
