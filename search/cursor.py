"""Opaque pagination cursors: the sort values of the last hit, bound to the query that made them.

A cursor is base64url(JSON) of ``{"v": 1, "q": <hash of the query>, "k": [sort values...], "s": <snapshot>}``
where the optional snapshot pins what the first page saw (an Elasticsearch point in time, or the
embedded index's last row id), so that later pages neither repeat nor skip hits when documents
are written between two pages. A
cursor that does not decode, or that was issued for another query or sort, raises ``InvalidCursor``
rather than silently returning another result list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from search.errors import InvalidCursor
from search.model import SearchQuery

_VERSION = 1
_MAX_CURSOR_CHARS = 2000


def _query_hash(query: SearchQuery) -> str:
    raw = json.dumps(query.fingerprint(), sort_keys=True, ensure_ascii=False, default=list)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def encode_cursor(query: SearchQuery, sort_values: list[Any], snapshot: str | int | None = None) -> str:
    payload: dict[str, Any] = {"v": _VERSION, "q": _query_hash(query), "k": sort_values}
    if snapshot is not None:
        payload["s"] = snapshot
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _payload(query: SearchQuery) -> dict[str, Any] | None:
    cursor = query.cursor
    if cursor is None:
        return None
    if not cursor or len(cursor) > _MAX_CURSOR_CHARS:
        raise InvalidCursor("the cursor is empty or too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("the cursor is not one this service issued") from exc
    if not isinstance(payload, dict) or payload.get("v") != _VERSION:
        raise InvalidCursor("the cursor is not one this service issued")
    if payload.get("q") != _query_hash(query):
        raise InvalidCursor("the cursor belongs to another query, filter or sort")
    return payload


def cursor_snapshot(query: SearchQuery) -> str | int | None:
    """The snapshot pinned by ``query.cursor`` (None: no cursor, or a cursor without one)."""
    payload = _payload(query)
    snapshot = payload.get("s") if payload else None
    if snapshot is not None and (isinstance(snapshot, bool) or not isinstance(snapshot, (str, int))):
        raise InvalidCursor("the cursor is damaged")
    return snapshot


def decode_cursor(query: SearchQuery, arity: int | tuple[int, ...]) -> list[Any] | None:
    """Sort values carried by ``query.cursor`` (None when the query has no cursor); ``arity``: how
    many values (or the numbers allowed)."""
    payload = _payload(query)
    if payload is None:
        return None
    values = payload.get("k")
    allowed = (arity,) if isinstance(arity, int) else arity
    if not isinstance(values, list) or len(values) not in allowed \
            or not all(v is None or isinstance(v, (str, int, float)) and not isinstance(v, bool)
                       for v in values):
        raise InvalidCursor("the cursor is damaged")
    return values
