"""The work calendar: which dates are working days (docs/rules.md, "The working day").

Pure: no clock, no framework. Seeded from the `holidays` package (Indonesia, public and
government categories — the latter holds the cuti bersama days); BKPSDM edits arrive as
explicit overrides.
"""

from __future__ import annotations

import calendar as _cal
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# Business dates and office hours are in Western Indonesia Time; events carry UTC.
WIB = ZoneInfo("Asia/Jakarta")


def indonesian_holidays(years: Iterable[int]) -> dict[date, str]:
    """National holidays and cuti bersama of Indonesia for the given years, named in Bahasa
    Indonesia (the package's "id" locale; its default names are English)."""
    found: dict[date, str] = {}
    for category in ("public", "government"):
        try:
            cal = holidays.country_holidays(
                "ID", years=list(years), categories=(category,), language="id"
            )
        except (NotImplementedError, ValueError, KeyError):
            continue  # a holidays release without that category: the public one still applies
        for day, name in cal.items():
            found.setdefault(day, name)
    return found


@dataclass(frozen=True)
class WorkCalendar:
    """Monday–Friday minus `holidays`, plus `extra_working_days` (a BKPSDM override)."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def indonesia(cls, years: Iterable[int]) -> WorkCalendar:
        return cls(holidays=frozenset(indonesian_holidays(years)))

    @classmethod
    def from_dates(cls, holiday_dates: Iterable[date]) -> WorkCalendar:
        return cls(holidays=frozenset(holiday_dates))

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        nxt = day + timedelta(days=1)
        for _ in range(3660):
            if self.is_working_day(nxt):
                return nxt
            nxt += timedelta(days=1)
        raise ValueError("no working day within ten years")

    def add_working_days(self, day: date, n: int) -> date:
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in the half-open interval (start, end]."""
        count, d = 0, start
        while d < end:
            d += timedelta(days=1)
            if self.is_working_day(d):
                count += 1
        return count

    def working_days_in_month(self, year: int, month: int) -> list[date]:
        return [d for d in month_days(year, month) if self.is_working_day(d)]


def with_overrides(
    seeded: Iterable[date], made_holidays: Iterable[date], made_working: Iterable[date]
) -> WorkCalendar:
    """The seeded (national) holidays with BKPSDM's overrides: dates made holidays are
    added, dates made working days are working whatever else says."""
    working = frozenset(made_working)
    return WorkCalendar(
        holidays=frozenset((set(seeded) | set(made_holidays)) - working),
        extra_working_days=working,
    )


@lru_cache(maxsize=16)
def indonesia_calendar(year: int) -> WorkCalendar:
    """Indonesia's calendar of `year` and its neighbours (deadlines and waits cross the new
    year), built once per process: the holidays package is slow to compute."""
    return WorkCalendar.indonesia([year - 1, year, year + 1])


def month_days(year: int, month: int) -> Iterator[date]:
    for n in range(1, _cal.monthrange(year, month)[1] + 1):
        yield date(year, month, n)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """The first and last day of the month."""
    return date(year, month, 1), date(year, month, _cal.monthrange(year, month)[1])


def period_bounds(period: str) -> tuple[date, date]:
    """The first and last day of `period` (YYYY-MM); ValueError for a bad period."""
    return month_bounds(*parse_period(period))


# The years SIKERJA serves (WorkCalendarChanged's bounds). A date outside them is a typo or
# a probe: it would only reach a calendar or a store that cannot hold it (year 10000).
YEAR_MIN, YEAR_MAX = 2000, 2100


def year_problem(year: int) -> str | None:
    """None for a year SIKERJA serves, otherwise why not (in Bahasa Indonesia)."""
    if YEAR_MIN <= year <= YEAR_MAX:
        return None
    return f"tahun {year} di luar rentang {YEAR_MIN}-{YEAR_MAX}"


def parse_period(period: str) -> tuple[int, int]:
    """'2026-10' -> (2026, 10); ValueError with a message in Bahasa Indonesia otherwise."""
    try:
        year_s, month_s = period.split("-")
        year, month = int(year_s), int(month_s)
        if len(year_s) != 4 or not 1 <= month <= 12:
            raise ValueError
    except ValueError:
        raise ValueError(f"periode '{period}' tidak valid; gunakan format YYYY-MM") from None
    if problem := year_problem(year):
        raise ValueError(f"periode '{period}' tidak valid: {problem}")
    return year, month
