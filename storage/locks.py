"""Write-once rules, enforced identically by both adapters (S3 enforces most of them on the
server as well; this module is what makes the local store and lenient servers such as moto agree).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.errors import InvalidArgument, LegalHoldError, RetentionError, RetentionShorteningError
from storage.port import ObjectInfo, RetentionMode


def utcnow() -> datetime:
    return datetime.now(UTC)


def check_removable(info: ObjectInfo, now: datetime, action: str = "delete") -> None:
    """Raise ``LegalHoldError`` / ``RetentionError`` if ``info`` may not be deleted or replaced now."""
    if info.legal_hold:
        raise LegalHoldError(f"cannot {action} {info.key}: it is under legal hold", info.key,
                             retain_until=info.retain_until, legal_hold=True)
    if info.retained(now):
        assert info.retain_until is not None
        mode = info.retention_mode.value if info.retention_mode else "retention"
        raise RetentionError(f"cannot {action} {info.key}: retained ({mode}) until "
                             f"{info.retain_until.isoformat()}", info.key, retain_until=info.retain_until)


def parse_mode(mode: RetentionMode | str) -> RetentionMode:
    try:
        return RetentionMode(mode.lower() if isinstance(mode, str) else mode)
    except (ValueError, AttributeError):
        raise InvalidArgument(f"retention mode must be 'governance' or 'compliance', not {mode!r}") from None


def normalise_until(until: datetime, now: datetime) -> datetime:
    """``until`` in UTC rounded up to the whole second (what S3 keeps); must be aware and future."""
    if not isinstance(until, datetime) or until.tzinfo is None or until.utcoffset() is None:
        raise InvalidArgument("a retention date must be a timezone-aware datetime")
    until = until.astimezone(UTC)
    if until.microsecond:
        until = until.replace(microsecond=0) + timedelta(seconds=1)
    if until <= now:
        raise InvalidArgument(f"a retention date must be in the future (got {until.isoformat()})")
    return until


def retention_change_needed(info: ObjectInfo, until: datetime, mode: RetentionMode, now: datetime) -> bool:
    """False if the requested retention is already in place; True if it extends or strengthens it;
    ``RetentionShorteningError`` if it would shorten it or weaken compliance to governance."""
    if not info.retained(now):
        return True
    assert info.retain_until is not None
    if until < info.retain_until:
        raise RetentionShorteningError(
            f"{info.key} is retained until {info.retain_until.isoformat()}: a retention can only be "
            f"extended, not shortened to {until.isoformat()}")
    if info.retention_mode is RetentionMode.COMPLIANCE and mode is RetentionMode.GOVERNANCE:
        raise RetentionShorteningError(f"{info.key} is under compliance retention: it cannot be "
                                       "weakened to governance")
    return until != info.retain_until or mode is not info.retention_mode
