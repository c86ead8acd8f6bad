"""SKP rules: checking a target an ASN writes and the monthly realisation of each target
(approved quantities against the yearly target, in percent).

Pure: no framework, no clock. Built on domain.py (a target's record `SkpTarget`, the reports
and their status); domain.py does not import this module.

Reading fixed here: SKP realisation counts every approved report linked to a target,
including reports on non-working days: an output produced is an output, whatever TPP pays
for that day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from services.activity.domain import (
    DailyReport,
    Problem,
    ReportStatus,
    SkpTarget,
    _is_positive_int,
)
from services.kernel.employment import Period, period_on

PERCENT_QUANT = Decimal("0.01")


def validate_skp_target(target: SkpTarget, max_text: int = 500) -> list[Problem]:
    problems: list[Problem] = []
    if not target.activity.strip():
        problems.append(Problem("activity", "required", "Kegiatan SKP wajib diisi."))
    elif len(target.activity) > max_text:
        problems.append(
            Problem("activity", "too_long", f"Kegiatan SKP paling banyak {max_text} karakter.")
        )
    if not target.indicator.strip():
        problems.append(Problem("indicator", "required", "Indikator kinerja wajib diisi."))
    elif len(target.indicator) > max_text:
        problems.append(
            Problem(
                "indicator", "too_long", f"Indikator kinerja paling banyak {max_text} karakter."
            )
        )
    if not _is_positive_int(target.target_quantity):
        problems.append(
            Problem(
                "target_quantity",
                "not_positive",
                "Target kuantitas harus bilangan bulat lebih dari 0.",
            )
        )
    return problems


@dataclass(frozen=True)
class Realisation:
    """Realisation of one SKP target in one month, against the yearly target quantity."""

    target: SkpTarget
    year: int
    month: int
    quantity: int  # approved quantity reported in this month
    percent: Decimal  # quantity / target × 100, 2 decimals, half up
    cumulative_quantity: int  # approved quantity from January up to and including this month
    cumulative_percent: Decimal


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(PERCENT_QUANT, ROUND_HALF_UP)


def monthly_realisation(
    targets: Iterable[SkpTarget], reports: Iterable[DailyReport], year: int, month: int
) -> list[Realisation]:
    """Recap per target for `year`-`month`: sum of approved quantities and percent of target.

    Only approved reports of the target's own NIP and year count; the result keeps the order
    of `targets`.
    """
    target_list = list(targets)
    by_id = {t.id: t for t in target_list}
    in_month: dict[str, int] = dict.fromkeys(by_id, 0)
    up_to_month: dict[str, int] = dict.fromkeys(by_id, 0)
    for report in reports:
        content = report.content
        target = by_id.get(content.skp_target_id or "")
        if report.status is not ReportStatus.APPROVED or target is None:
            continue
        day = content.report_date
        if report.nip != target.nip or day.year != target.year or day.year != year:
            continue
        if day.month == month:
            in_month[target.id] += content.quantity
        if day.month <= month:
            up_to_month[target.id] += content.quantity
    return [
        Realisation(
            target=t,
            year=year,
            month=month,
            quantity=in_month[t.id],
            percent=_percent(in_month[t.id], t.target_quantity),
            cumulative_quantity=up_to_month[t.id],
            cumulative_percent=_percent(up_to_month[t.id], t.target_quantity),
        )
        for t in target_list
        if t.year == year
    ]


# --------------------------------------------------------------------------- a year's periods
# An SKP target is of a year, and the year may hold several periods (RULES.md "Employment
# within a month"): a transfer on 16 October leaves the year to both atasan and both OPDs.


def employed_days(periods: Sequence[Period], year: int) -> list[date]:
    """The days of `year` some period covers."""
    day, days = date(year, 1, 1), []
    while day.year == year:
        if period_on(periods, day) is not None:
            days.append(day)
        day += timedelta(days=1)
    return days


def atasan_in_year(periods: Sequence[Period], year: int) -> set[str]:
    """The atasan of the periods in `year` (none: no period in it, or none has an atasan)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    return {p.atasan_nip for p in periods if p.atasan_nip and p.overlaps(first, last)}
