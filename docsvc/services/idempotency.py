"""``Idempotency-Key``: a retried request gets the first answer instead of running twice.

A client that gives up waiting and sends the same upload again (same key) must not create a second
document. The first request reserves (user, operation, key) under a unique constraint (one winner
across processes and databases), runs, and stores its answer; a retry with the same key and the
same request gets that answer; the same key with a different request is refused (422); a retry
while the first still runs is told so (409). Keys expire after ``DOCSVC_IDEMPOTENCY_HOURS``.
Only successful answers are kept: a refused request (4xx) releases its key, so it can be retried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from docsvc.db.base import utcnow
from docsvc.db.models import IdempotencyRecord
from docsvc.db.rows import rows_affected
from docsvc.db.uow import Database
from docsvc.errors import Conflict, DomainError, InvalidInput

KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, as the IETF draft's examples


class IdempotencyKeyReused(DomainError):
    """The key was first used for a different request."""

    code, status = "idempotency_key_reused", 422


class IdempotencyKeyInProgress(Conflict):
    """The first request with this key has not finished yet."""

    code = "idempotency_key_in_progress"


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: Any


class IdempotencyService:
    def __init__(self, db: Database, ttl: timedelta) -> None:
        self.db = db
        self.ttl = ttl

    @staticmethod
    def check_key(key: str) -> str:
        if not KEY_PATTERN.fullmatch(key):
            raise InvalidInput("Idempotency-Key must be 1 to 200 printable ASCII characters",
                               {"header": "Idempotency-Key"})
        return key

    def begin(self, user_id: int, scope: str, key: str, request_hash: str) -> StoredAnswer | None:
        """The stored answer of an earlier request with this key, or None after reserving the key
        for this request (then :meth:`finish` or :meth:`release` must follow)."""
        self.check_key(key)
        for _ in range(3):
            try:
                with self.db.write() as s:
                    now = utcnow()
                    s.execute(delete(IdempotencyRecord).where(
                        IdempotencyRecord.user_id == user_id, IdempotencyRecord.scope == scope,
                        IdempotencyRecord.key == key, IdempotencyRecord.expires_at <= now))
                    record = s.execute(select(IdempotencyRecord).where(
                        IdempotencyRecord.user_id == user_id, IdempotencyRecord.scope == scope,
                        IdempotencyRecord.key == key)).scalar_one_or_none()
                    if record is None:
                        s.add(IdempotencyRecord(user_id=user_id, scope=scope, key=key, request_hash=request_hash,
                                                created_at=now, expires_at=now + self.ttl))
                        return None
                    if record.request_hash != request_hash:
                        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request; "
                                                   "use a new key for a new request", {"header": "Idempotency-Key"})
                    if record.status is None:
                        raise IdempotencyKeyInProgress("the first request with this Idempotency-Key is still "
                                                       "running; retry later", {"header": "Idempotency-Key"})
                    return StoredAnswer(record.status, record.response)
            except IntegrityError:
                continue  # another request reserved the key between our read and our insert: read it
        raise IdempotencyKeyInProgress("the first request with this Idempotency-Key is still running; retry later",
                                       {"header": "Idempotency-Key"})

    def finish(self, user_id: int, scope: str, key: str, status: int, body: Any) -> None:
        with self.db.write() as s:
            record = s.execute(select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.scope == scope,
                IdempotencyRecord.key == key)).scalar_one_or_none()
            if record is not None:
                record.status, record.response = status, body

    def release(self, user_id: int, scope: str, key: str) -> None:
        with self.db.write() as s:
            s.execute(delete(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.scope == scope,
                IdempotencyRecord.key == key, IdempotencyRecord.status.is_(None)))

    def sweep(self) -> int:
        """Forget expired keys (periodic)."""
        with self.db.write() as s:
            return rows_affected(s, delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow()))
