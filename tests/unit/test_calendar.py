"""The working-day calendar and the lunar holidays behind it."""

from __future__ import annotations

from datetime import date

import pytest

from docsvc.domain.calendar import WorkCalendar, lunar_to_solar, public_holidays


@pytest.mark.parametrize("year, tet, hung_kings", [
    (2024, date(2024, 2, 10), date(2024, 4, 18)),
    (2025, date(2025, 1, 29), date(2025, 4, 7)),
    (2026, date(2026, 2, 17), date(2026, 4, 26)),
    (2027, date(2027, 2, 6), date(2027, 4, 16)),
])
def test_lunar_dates_of_known_years(year: int, tet: date, hung_kings: date) -> None:
    assert lunar_to_solar(1, 1, year) == tet
    assert lunar_to_solar(10, 3, year) == hung_kings


def test_holidays_of_2026_include_tet_and_compensation() -> None:
    h = public_holidays(2026)
    assert all(date(2026, 2, d) in h for d in (16, 17, 18, 19, 20))  # 30 Tết .. mùng 4
    # Hùng Kings' day 2026 is a Sunday: Monday 27 April is off instead.
    assert date(2026, 4, 26) in h and h[date(2026, 4, 27)].startswith("Nghỉ bù")
    assert {date(2026, 1, 1), date(2026, 4, 30), date(2026, 5, 1), date(2026, 9, 2)} <= set(h)


def test_add_working_days_skips_weekends_and_holidays() -> None:
    cal = WorkCalendar()
    # Tue 28 Apr 2026 + 3 working days: Wed 29, (Thu 30 and Fri 1 May are holidays), Mon 4, Tue 5.
    assert cal.add_working_days(date(2026, 4, 28), 3) == date(2026, 5, 5)
    assert cal.add_working_days(date(2026, 11, 20), 0) == date(2026, 11, 20)
    assert cal.working_days_between(date(2026, 11, 20), date(2026, 11, 27)) == 5  # Mon-Fri
    assert cal.working_days_between(date(2026, 11, 27), date(2026, 11, 20)) == -5


def test_overrides_add_holidays_and_compensating_workdays() -> None:
    saturday = date(2026, 11, 21)
    extra = date(2026, 11, 23)
    cal = WorkCalendar(overrides={saturday: True}, extra_holidays=[extra])
    assert cal.is_workday(saturday) and not cal.is_workday(extra)
    assert cal.add_working_days(date(2026, 11, 20), 2) == date(2026, 11, 24)
    assert cal.next_workday(date(2026, 11, 22)) == date(2026, 11, 24)
