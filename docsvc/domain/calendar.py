"""The working-day calendar: deadlines of handling count working days (DOMAIN.md).

Built-in public holidays follow the Labour Code 2019 (Art. 112): 1 January; Tết (the last day of the
lunar year and the first four days of the new one); Hùng Kings' day (10th of the 3rd lunar month);
30 April; 1 May; National Day 2 September and the day before it. A holiday falling on a weekend gives
the next working day off. Each year the government fixes the exact Tết and National Day spans, so
deployments add their own days (``DOCSVC_HOLIDAYS`` or the admin calendar), and can mark a Saturday as
a compensating working day.

Lunar dates use the Vietnamese lunar calendar (UTC+7) computed with Hồ Ngọc Đức's algorithm.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from functools import lru_cache

VN_TZ_HOURS = 7.0


# ---------------------------------------------------------------- astronomy (Hồ Ngọc Đức)
def _jd_from_date(d: date) -> int:
    a = (14 - d.month) // 12
    y = d.year + 4800 - a
    m = d.month + 12 * a - 3
    return d.day + (153 * m + 2) // 5 + 365 * y + y // 4 - y // 100 + y // 400 - 32045


def _jd_to_date(jd: int) -> date:
    a = jd + 32044
    b = (4 * a + 3) // 146097
    c = a - (b * 146097) // 4
    d = (4 * c + 3) // 1461
    e = c - (1461 * d) // 4
    m = (5 * e + 2) // 153
    day = e - (153 * m + 2) // 5 + 1
    month = m + 3 - 12 * (m // 10)
    year = b * 100 + d - 4800 + m // 10
    return date(year, month, day)


def _new_moon(k: int) -> float:
    """Julian day of the k-th new moon after 1900-01-01."""
    t = k / 1236.85
    t2, t3 = t * t, t * t * t
    dr = math.pi / 180
    jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd1 += 0.00033 * math.sin((166.56 + 132.87 * t - 0.009173 * t2) * dr)
    m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3
    mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3
    f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3
    c1 = (0.1734 - 0.000393 * t) * math.sin(m * dr) + 0.0021 * math.sin(2 * dr * m)
    c1 -= 0.4068 * math.sin(mpr * dr) + 0.0161 * math.sin(dr * 2 * mpr)
    c1 -= 0.0004 * math.sin(dr * 3 * mpr)
    c1 += 0.0104 * math.sin(dr * 2 * f) - 0.0051 * math.sin(dr * (m + mpr))
    c1 -= 0.0074 * math.sin(dr * (m - mpr)) + 0.0004 * math.sin(dr * (2 * f + m))
    c1 -= 0.0004 * math.sin(dr * (2 * f - m)) - 0.0006 * math.sin(dr * (2 * f + mpr))
    c1 += 0.0010 * math.sin(dr * (2 * f - mpr)) + 0.0005 * math.sin(dr * (2 * mpr + m))
    if t < -11:
        delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    else:
        delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd1 + c1 - delta_t


def _new_moon_day(k: int) -> int:
    return math.floor(_new_moon(k) + 0.5 + VN_TZ_HOURS / 24)


def _sun_longitude_sector(day_number: int) -> int:
    """Which of the 12 sectors (30° each) the sun is in at local midnight of ``day_number``."""
    t = (day_number - 0.5 - VN_TZ_HOURS / 24 - 2451545.0) / 36525
    t2 = t * t
    dr = math.pi / 180
    m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2
    l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * math.sin(dr * m)
    dl += (0.019993 - 0.000101 * t) * math.sin(dr * 2 * m) + 0.000290 * math.sin(dr * 3 * m)
    lon = (l0 + dl) * dr
    lon -= math.pi * 2 * math.floor(lon / (math.pi * 2))
    return math.floor(lon / math.pi * 6)


def _lunar_month_11(year: int) -> int:
    """Day number of the start of the 11th lunar month (the one containing the winter solstice)."""
    off = _jd_from_date(date(year, 12, 31)) - 2415021
    k = math.floor(off / 29.530588853)
    nm = _new_moon_day(k)
    if _sun_longitude_sector(nm) >= 9:
        nm = _new_moon_day(k - 1)
    return nm


def _leap_month_offset(a11: int) -> int:
    k = math.floor((a11 - 2415021.076998695) / 29.530588853 + 0.5)
    i = 1
    arc = _sun_longitude_sector(_new_moon_day(k + i))
    while True:
        last = arc
        i += 1
        arc = _sun_longitude_sector(_new_moon_day(k + i))
        if not (arc != last and i < 14):
            break
    return i - 1


@lru_cache(maxsize=512)
def lunar_to_solar(day: int, month: int, year: int, leap: bool = False) -> date:
    """The solar date of a Vietnamese lunar date."""
    if month < 11:
        a11, b11 = _lunar_month_11(year - 1), _lunar_month_11(year)
    else:
        a11, b11 = _lunar_month_11(year), _lunar_month_11(year + 1)
    k = math.floor(0.5 + (a11 - 2415021.076998695) / 29.530588853)
    off = month - 11
    if off < 0:
        off += 12
    if b11 - a11 > 365:
        leap_off = _leap_month_offset(a11)
        leap_month = leap_off - 2
        if leap_month < 0:
            leap_month += 12
        if leap and month != leap_month:
            raise ValueError(f"lunar year {year} has no leap month {month}")
        if leap or off >= leap_off:
            off += 1
    elif leap:
        raise ValueError(f"lunar year {year} has no leap month")
    return _jd_to_date(_new_moon_day(k + off) + day - 1)


# ---------------------------------------------------------------- holidays and working days
@lru_cache(maxsize=64)
def public_holidays(year: int) -> dict[date, str]:
    """Built-in public holidays of a solar year, including days off compensating weekend holidays."""
    days: dict[date, str] = {date(year, 1, 1): "Tết Dương lịch"}
    tet = lunar_to_solar(1, 1, year)
    for offset, name in ((-1, "Tết Nguyên đán (30 Tết)"), (0, "Tết Nguyên đán (mùng 1)"),
                         (1, "Tết Nguyên đán (mùng 2)"), (2, "Tết Nguyên đán (mùng 3)"),
                         (3, "Tết Nguyên đán (mùng 4)")):
        days[tet + timedelta(days=offset)] = name
    days[lunar_to_solar(10, 3, year)] = "Giỗ Tổ Hùng Vương"
    days[date(year, 4, 30)] = "Ngày Chiến thắng"
    days[date(year, 5, 1)] = "Ngày Quốc tế Lao động"
    days[date(year, 9, 1)] = "Quốc khánh"
    days[date(year, 9, 2)] = "Quốc khánh"
    compensations: dict[date, str] = {}
    for day, name in sorted(days.items()):
        if day.weekday() >= 5:  # Saturday or Sunday: the next working day is off
            extra = day + timedelta(days=1)
            while extra.weekday() >= 5 or extra in days or extra in compensations:
                extra += timedelta(days=1)
            compensations[extra] = f"Nghỉ bù {name}"
    return {**days, **compensations}


class WorkCalendar:
    """Working days: Monday–Friday except holidays, with per-deployment overrides."""

    def __init__(self, overrides: Mapping[date, bool] | None = None, extra_holidays: Iterable[date] = ()) -> None:
        # overrides: day → True (a working day, e.g. a compensating Saturday) / False (a holiday)
        self._overrides = dict(overrides or {})
        for day in extra_holidays:
            self._overrides.setdefault(day, False)

    def is_workday(self, day: date) -> bool:
        if day in self._overrides:
            return self._overrides[day]
        return day.weekday() < 5 and day not in public_holidays(day.year)

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (a deadline given in working days)."""
        if days < 0:
            raise ValueError("days must not be negative")
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative when end is earlier)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for i in range(1, (end - start).days + 1) if self.is_workday(start + timedelta(days=i)))

    def next_workday(self, day: date) -> date:
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day
