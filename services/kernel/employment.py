"""Employment within a month (RULES.md "Employment within a month"), as pure rules.

An employee's master data is a series of periods, each valid from a first to a last day
(inclusive; `None` = open at that end). Periods of one NIP never overlap. Every service asks
"who was this person on that date" through `period_on`, never "who is this person now".

How a new period is merged into the ones known (`merge_period`): the newest statement wins
for the days it covers. Existing periods are cut back where they overlap it (split in two
when it falls inside one), so a transfer from the 16th closes the old period on the 15th,
and re-sending the same period is a no-op. A period without a first day (schema-1 events,
CSV rows without `aktif_mulai`) replaces the data of the latest period in place, as the
single-row master used to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Period:
    """One period of one NIP: who they were from `first` to `last` (inclusive)."""

    first: date | None
    last: date | None
    nama: str
    opd: str
    jabatan: str = ""
    kelas_jabatan: int = 1
    atasan_nip: str | None = None
    tpp_pagu: int = 0

    def covers(self, day: date) -> bool:
        return (self.first is None or self.first <= day) and (self.last is None or day <= self.last)

    def overlaps(self, first: date | None, last: date | None) -> bool:
        return (self.first is None or last is None or self.first <= last) and (
            self.last is None or first is None or first <= self.last
        )


def _start(period: Period) -> date:
    return period.first or date.min


def ordered(periods: Iterable[Period]) -> list[Period]:
    return sorted(periods, key=_start)


def period_on(periods: Iterable[Period], day: date) -> Period | None:
    """The period in force on `day`, or None when the employee was not active then."""
    for period in periods:
        if period.covers(day):
            return period
    return None


def latest(periods: Iterable[Period]) -> Period | None:
    found = ordered(periods)
    return found[-1] if found else None


def overlap_problem(periods: Iterable[Period], first: date | None, last: date | None) -> str | None:
    """A Bahasa message when [first, last] is backwards or overlaps one of `periods`
    (a per-line input error of an import holding several rows per NIP)."""
    if first is not None and last is not None and last < first:
        return "aktif_sampai lebih awal dari aktif_mulai"
    for period in periods:
        if period.overlaps(first, last):
            return (
                f"masa kerja bertumpang tindih dengan baris lain NIP ini "
                f"({_text(period.first)} s.d. {_text(period.last)})"
            )
    return None


def _text(day: date | None) -> str:
    return day.isoformat() if day is not None else "terbuka"


def merge_period(periods: Sequence[Period], new: Period) -> list[Period]:
    """The periods after `new` was announced (see the module's docstring)."""
    if new.first is None and new.last is None and periods:
        current = latest(periods)
        assert current is not None
        kept = [p for p in periods if p is not current]
        return ordered([*kept, replace(new, first=current.first, last=current.last)])
    merged: list[Period] = []
    for period in periods:
        if not period.overlaps(new.first, new.last):
            merged.append(period)
            continue
        if new.first is not None and _start(period) < new.first:
            merged.append(replace(period, last=new.first - ONE_DAY))
        if new.last is not None and (period.last is None or period.last > new.last):
            merged.append(replace(period, first=new.last + ONE_DAY))
    merged.append(new)
    return ordered(merged)


def end_employment(periods: Sequence[Period], last_day: date) -> list[Period]:
    """The periods after the employee left with `last_day` as their last active day."""
    ended: list[Period] = []
    for period in periods:
        if period.first is not None and period.first > last_day:
            continue
        if period.last is None or period.last > last_day:
            period = replace(period, last=last_day)
        ended.append(period)
    return ordered(ended)


def active_days(periods: Sequence[Period], days: Iterable[date]) -> list[date]:
    return [day for day in days if period_on(periods, day) is not None]


def month_pagu(periods: Sequence[Period], working_days: Sequence[date]) -> int:
    """Pagu of the month: Σ over the working days of that day's pagu (0 when not active)
    ÷ the number of working days, rounded half up (RULES.md, pro rata by working days)."""
    if not working_days:
        current = latest(periods)
        return current.tpp_pagu if current is not None else 0
    total = 0
    for day in working_days:
        period = period_on(periods, day)
        total += period.tpp_pagu if period is not None else 0
    share = Decimal(total) / Decimal(len(working_days))
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def last_active(periods: Sequence[Period], working_days: Sequence[date]) -> Period | None:
    """The period of the last active working day: its OPD owns the month's statement.
    None when no working day is active (no statement for that month)."""
    for day in sorted(working_days, reverse=True):
        period = period_on(periods, day)
        if period is not None:
            return period
    return None
