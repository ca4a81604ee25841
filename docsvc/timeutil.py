"""Vietnam time (+07:00) for display, UTC for storage; working-day arithmetic lives in domain.calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")


def to_vn(dt: datetime) -> datetime:
    return dt.astimezone(VN_TZ)


def to_vn_iso(dt: datetime | None) -> str | None:
    """ISO 8601 in Vietnam time, e.g. ``2026-11-20T14:03:22+07:00``."""
    return None if dt is None else to_vn(dt).isoformat(timespec="seconds")


def vn_today() -> date:
    return datetime.now(VN_TZ).date()
