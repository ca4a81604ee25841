"""The deployment's working-day calendar: built-in holidays, DOCSVC_HOLIDAYS and admin overrides."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.models import CalendarDay
from docsvc.db.uow import Database
from docsvc.domain.calendar import WorkCalendar, public_holidays
from docsvc.domain.identity import Actor, RequestOrigin, Role
from docsvc.errors import InvalidInput, PermissionDenied
from docsvc.services import audit


class CalendarService:
    def __init__(self, db: Database, extra_holidays: str = "") -> None:
        self.db = db
        self._extra = [date.fromisoformat(d.strip()) for d in extra_holidays.split(",") if d.strip()]

    def calendar(self, s: Session | None = None) -> WorkCalendar:
        if s is None:
            with self.db.read() as s2:
                return self.calendar(s2)
        overrides = {row.day: row.is_workday for row in s.execute(select(CalendarDay)).scalars()}
        return WorkCalendar(overrides, self._extra)

    def year(self, year: int) -> list[dict[str, object]]:
        """Non-working days (holidays) and compensating working days of a year."""
        with self.db.read() as s:
            rows = {r.day: r for r in s.execute(select(CalendarDay).where(
                CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))).scalars()}
        days: dict[date, dict[str, object]] = {
            d: {"day": d.isoformat(), "name": n, "workday": False, "source": "built-in"}
            for d, n in public_holidays(year).items()}
        for d in self._extra:
            if d.year == year:
                days[d] = {"day": d.isoformat(), "name": "DOCSVC_HOLIDAYS", "workday": False, "source": "setting"}
        for d, r in rows.items():
            days[d] = {"day": d.isoformat(), "name": r.name, "workday": r.is_workday, "source": "admin"}
        return [days[d] for d in sorted(days)]

    def set_day(self, actor: Actor, day: date, *, workday: bool, name: str,
                origin: RequestOrigin | None = None) -> None:
        if not actor.has(Role.ADMIN):
            raise PermissionDenied("only an administrator edits the calendar")
        if not name.strip():
            raise InvalidInput("name the day (e.g. 'Nghỉ Tết bổ sung' or 'Làm bù thứ Bảy')", {"field": "name"})
        with self.db.write() as s:
            row = s.get(CalendarDay, day) or CalendarDay(day=day)
            row.is_workday, row.name = workday, name.strip()
            s.add(row)
            audit.record(s, actor=actor, action="calendar.set", object_type="calendar", object_id=day.isoformat(),
                         origin=origin, details={"workday": workday, "name": row.name})
