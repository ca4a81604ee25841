"""Working-day calendars: the deployment's (built-in holidays, DOCSVC_HOLIDAYS and national days set by
the deployment's administrator) and, on top of it, each agency's own days set by its administrators.
Deadlines of an agency's documents count that agency's working days."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from docsvc.db.models import AgencyCalendarDay, CalendarDay, Organisation
from docsvc.db.uow import Database
from docsvc.domain.calendar import WorkCalendar, public_holidays
from docsvc.domain.identity import Actor, OrgKind, RequestOrigin
from docsvc.errors import InvalidInput, NotFound, PermissionDenied
from docsvc.services import audit
from docsvc.services.identity import is_deployment_admin, require_admin_over


class CalendarService:
    def __init__(self, db: Database, extra_holidays: str = "") -> None:
        self.db = db
        self._extra = [date.fromisoformat(d.strip()) for d in extra_holidays.split(",") if d.strip()]

    def calendar(self, s: Session | None = None, agency_id: int | None = None) -> WorkCalendar:
        """The calendar of ``agency_id`` (national days, then the agency's own); None: the national one."""
        if s is None:
            with self.db.read() as s2:
                return self.calendar(s2, agency_id)
        overrides = {row.day: row.is_workday for row in s.execute(select(CalendarDay)).scalars()}
        if agency_id is not None:
            overrides.update({row.day: row.is_workday for row in s.execute(
                select(AgencyCalendarDay).where(AgencyCalendarDay.agency_id == agency_id)).scalars()})
        return WorkCalendar(overrides, self._extra)

    def year(self, year: int, agency_id: int | None = None) -> list[dict[str, object]]:
        """Non-working days (holidays) and compensating working days of a year, for an agency or the nation."""
        span = (date(year, 1, 1), date(year, 12, 31))
        with self.db.read() as s:
            if agency_id is not None:
                _agency(s, agency_id)
            national = s.execute(select(CalendarDay).where(CalendarDay.day.between(*span))).scalars().all()
            own = s.execute(select(AgencyCalendarDay).where(
                AgencyCalendarDay.agency_id == agency_id, AgencyCalendarDay.day.between(*span))).scalars().all() \
                if agency_id is not None else []
        days: dict[date, dict[str, object]] = {
            d: {"day": d.isoformat(), "name": n, "workday": False, "source": "built-in"}
            for d, n in public_holidays(year).items()}
        for d in self._extra:
            if d.year == year:
                days[d] = {"day": d.isoformat(), "name": "DOCSVC_HOLIDAYS", "workday": False, "source": "setting"}
        for r in national:
            days[r.day] = {"day": r.day.isoformat(), "name": r.name, "workday": r.is_workday, "source": "national"}
        for a in own:
            days[a.day] = {"day": a.day.isoformat(), "name": a.name, "workday": a.is_workday, "source": "agency"}
        return [days[d] for d in sorted(days)]

    def set_day(self, actor: Actor, day: date, *, workday: bool, name: str, agency_id: int | None = None,
                national: bool = False, origin: RequestOrigin | None = None) -> None:
        """Mark a day of an agency's calendar (default: the actor's agency; its administrators or those
        above it), or with ``national`` a day of the whole deployment (its administrator only)."""
        if not name.strip():
            raise InvalidInput("name the day (e.g. 'Nghỉ Tết bổ sung' or 'Làm bù thứ Bảy')", {"field": "name"})
        with self.db.write() as s:
            if national:
                if agency_id is not None:
                    raise InvalidInput("a national day belongs to no agency: leave agency_id out",
                                       {"field": "agency_id"})
                if not is_deployment_admin(s, actor):
                    raise PermissionDenied("only the deployment's administrator sets national days; an agency's "
                                           "administrator sets the days of the agency's own calendar")
                row: CalendarDay | AgencyCalendarDay = s.get(CalendarDay, day) or CalendarDay(day=day)
                scope: int | None = None
            else:
                agency = _agency(s, actor.agency_id if agency_id is None else agency_id)
                require_admin_over(s, actor, agency.id, "calendars")
                row = s.get(AgencyCalendarDay, (agency.id, day)) or AgencyCalendarDay(agency_id=agency.id, day=day)
                scope = agency.id
            row.is_workday, row.name = workday, name.strip()
            s.add(row)
            audit.record(s, actor=actor, action="calendar.set", object_type="calendar", object_id=day.isoformat(),
                         origin=origin, agency_id=scope,
                         details={"workday": workday, "name": row.name, "calendar": scope or "national"})


def _agency(s: Session, agency_id: int) -> Organisation:
    org = s.get(Organisation, agency_id)
    if org is None or not OrgKind(org.kind).is_agency:
        raise NotFound(f"agency {agency_id} not found")
    return org
