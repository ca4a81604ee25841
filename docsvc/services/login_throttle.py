"""Rate limits on password logins: per account and per client address.

Counting lives in a shared store (``limits``, the library under Flask-Limiter): ``memory://`` in an
embedded process, Redis in production so that every gunicorn worker and host sees the same counts.
Every attempt counts, right or wrong, known user or not, so that the limit itself tells nothing about
the account. The service checks the limits before it looks at the password.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from docsvc.errors import TooManyRequests

_NAMESPACE = "docsvc-login"


@dataclass(frozen=True)
class ThrottleRefusal:
    """Which limit refused an attempt, and when the caller may try again."""

    scope: str  # "account" or "address"
    limit: str  # e.g. "10 per 1 minute"
    retry_after: int  # seconds
    first_in_window: bool  # the first refusal of this key in this window (audited; later ones are not)

    def error(self) -> TooManyRequests:
        return TooManyRequests(f"too many login attempts for this {self.scope}; try again in {self.retry_after} "
                               "seconds", {"scope": self.scope, "retry_after": self.retry_after})


class LoginThrottle:
    def __init__(self, storage_url: str, *, per_account: str, per_address: str, lockout_after: int = 5,
                 lockout_minutes: int = 15) -> None:
        storage = storage_from_string(storage_url)
        if not isinstance(storage, Storage):  # an async+... URL: this limiter is synchronous
            raise ValueError(f"login rate limits need a synchronous storage, not {storage_url!r}")
        self._storage: Storage = storage
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._limits: dict[str, RateLimitItem] = {"account": parse(per_account), "address": parse(per_address)}
        self._failures = parse(f"{lockout_after} per {lockout_minutes} minutes")
        self._lock = parse(f"1 per {lockout_minutes} minutes")

    def attempt(self, username: str, address: str | None) -> ThrottleRefusal | None:
        """Count one login attempt; the first limit it exceeds, or None when it may proceed."""
        keys = {"account": _name(username), "address": address or "unknown"}
        for scope, limit in self._limits.items():
            if not self._limiter.hit(limit, _NAMESPACE, scope, keys[scope]):
                stats = self._limiter.get_window_stats(limit, _NAMESPACE, scope, keys[scope])
                retry = max(1, math.ceil(stats.reset_time - time.time()))
                # One audit event per key and window: a flood of refusals does not flood the audit trail.
                first = self._limiter.hit(_once_per(limit), _NAMESPACE, "refused", scope, keys[scope])
                return ThrottleRefusal(scope, str(limit), retry, first)
        return None

    # A name that is no account locks like an account does (the database keeps real accounts' locks):
    # otherwise "locked after N failures" would tell which usernames exist.
    def unknown_locked(self, username: str) -> bool:
        return not self._limiter.test(self._lock, _NAMESPACE, "lock", _name(username))

    def unknown_failed(self, username: str) -> bool:
        """Count a failure for a name that is no account; True when it locks now."""
        name = _name(username)
        self._limiter.hit(self._failures, _NAMESPACE, "failures", name)
        if self._limiter.get_window_stats(self._failures, _NAMESPACE, "failures", name).remaining > 0:
            return False
        self._limiter.clear(self._failures, _NAMESPACE, "failures", name)
        self._limiter.hit(self._lock, _NAMESPACE, "lock", name)
        return True

    def reset(self) -> None:
        """Forget every count (tests, and an operator after an incident)."""
        self._storage.reset()


def _name(username: str) -> str:
    return username.strip().lower()[:64]


def _once_per(limit: RateLimitItem) -> RateLimitItem:
    return parse(f"1 per {limit.multiples} {limit.GRANULARITY.name}")
