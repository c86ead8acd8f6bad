"""RULES.md "Employment within a month" in the TPP engine, with the arithmetic written out.

April 2026 has 22 weekdays; Good Friday (3 April) is a holiday, so 21 working days:
1, 2, 6-10, 13-15 (10 days up to the 15th) and 16, 17, 20-24, 27-30 (11 days from the 16th).
Bekasi rule set: disiplin 40%, TK 5%, TL1 0.25%, TL2 0.5%, LKH = produktivitas / required days.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.kernel.employment import Period
from services.kernel.ruleset import load_ruleset
from services.tpp.domain import DayRecord, Statement, compute_statement, month_statement

BEKASI = load_ruleset("bekasi-perwali-69-2019")
NIP = "199001012015031001"
PERIOD = "2026-04"
GOOD_FRIDAY = date(2026, 4, 3)
WORKING = [
    date(2026, 4, n)
    for n in range(1, 31)
    if date(2026, 4, n).weekday() < 5 and date(2026, 4, n) != GOOD_FRIDAY
]


def april(n: int) -> date:
    return date(2026, 4, n)


def period(
    first: date | None, last: date | None, pagu: int = 5_000_000, opd: str = "Dinas A"
) -> Period:
    return Period(first, last, "Siti", opd, "Analis", 9, None, pagu)


def present(d: date, late: int = 0) -> DayRecord:
    return DayRecord(d, "present", late, 0)


def tk(d: date) -> DayRecord:
    return DayRecord(d, "tanpa_keterangan", None, None)


def month(
    periods: list[Period], days: list[DayRecord], approved: set[date] | None = None
) -> tuple[Statement, Period] | None:
    # Approve every present day unless told: a TK day has no report.
    if approved is None:
        approved = {d.day for d in days if d.status == "present"}
    return month_statement(NIP, PERIOD, periods, WORKING, days, approved, BEKASI)


def lines(s: Statement) -> list[tuple[date, str, int]]:
    return [(ln.day, ln.code, ln.amount) for ln in s.lines]


def test_the_calendar_of_the_example_has_21_working_days() -> None:
    assert len(WORKING) == 21
    assert len([d for d in WORKING if d.day <= 15]) == 10


def test_transfer_on_the_16th_with_two_pagus() -> None:
    # Dinas A at 4,000,000 until the 15th, Dinas B at 6,000,000 from the 16th.
    periods = [
        period(None, april(15), 4_000_000, "Dinas A"),
        period(april(16), None, 6_000_000, "Dinas B"),
    ]
    days = [present(d) for d in WORKING if d not in (april(14), april(20), april(22))]
    days += [tk(april(14)), present(april(20), late=30), tk(april(22))]
    found = month(periods, days)
    assert found is not None
    st, owner = found
    # pagu = (10 x 4,000,000 + 11 x 6,000,000) / 21 = 106,000,000 / 21 = 5,047,619.05 -> 5,047,619
    assert st.pagu == 5_047_619
    # disiplin 40% = 2,019,047.6 -> 2,019,048; produktivitas 5,047,619 - 2,019,048 = 3,028,571
    assert (st.discipline, st.productivity) == (2_019_048, 3_028_571)
    # TK 14th: 5% of 4,000,000 = 200,000; TL1 20th: 0.25% of 6,000,000 = 15,000;
    # TK 22nd: 5% of 6,000,000 = 300,000. LKH: 3,028,571 / 21 = 144,217.67 -> 144,218 each.
    assert lines(st) == [
        (april(14), "LKH", 144_218),
        (april(14), "TK", 200_000),
        (april(20), "TL1", 15_000),
        (april(22), "LKH", 144_218),
        (april(22), "TK", 300_000),
    ]
    assert st.attendance_deduction == 515_000
    assert st.productivity_deduction == 288_436
    assert st.required_report_days == 21
    # net = 5,047,619 - 515,000 - 288,436 = 4,244,183
    assert st.net == 4_244_183
    assert owner.opd == "Dinas B"


def test_join_on_the_10th_has_no_line_before() -> None:
    # Active from Friday the 10th: 10, 13, 14, 15 + 11 days = 15 working days.
    periods = [period(april(10), None)]
    days = [tk(d) for d in WORKING if d < april(10)]  # closed before the join: ignored
    days += [present(d) for d in WORKING if d >= april(10) and d != april(13)]
    days.append(tk(april(13)))
    found = month(periods, days)
    assert found is not None
    st, _ = found
    # pagu = 15 x 5,000,000 / 21 = 3,571,428.57 -> 3,571,429; disiplin 1,428,571.6 -> 1,428,572;
    # produktivitas 2,142,857; TK 13th = 5% of 5,000,000 = 250,000; LKH 2,142,857 / 15 =
    # 142,857.13 -> 142,857; net = 3,571,429 - 250,000 - 142,857 = 3,178,572.
    assert (st.pagu, st.discipline, st.productivity) == (3_571_429, 1_428_572, 2_142_857)
    assert lines(st) == [(april(13), "LKH", 142_857), (april(13), "TK", 250_000)]
    assert st.required_report_days == 15
    assert st.net == 3_178_572


def test_leave_on_the_20th() -> None:
    # Last active day Monday the 20th: 10 days + 16, 17, 20 = 13 working days.
    periods = [period(None, april(20))]
    days = [present(d) for d in WORKING if d < april(20)]
    days.append(present(april(20), late=90))
    days += [tk(d) for d in WORKING if d > april(20)]  # after the leave: ignored
    found = month(periods, days)
    assert found is not None
    st, _ = found
    # pagu = 13 x 5,000,000 / 21 = 3,095,238.10 -> 3,095,238; disiplin 1,238,095.2 -> 1,238,095;
    # TL2 (90 minutes late) = 0.5% of 5,000,000 = 25,000; net = 3,095,238 - 25,000 = 3,070,238.
    assert (st.pagu, st.discipline, st.productivity) == (3_095_238, 1_238_095, 1_857_143)
    assert lines(st) == [(april(20), "TL2", 25_000)]
    assert st.required_report_days == 13
    assert st.net == 3_070_238


def test_a_gap_between_two_periods() -> None:
    # Active 1-9 (1, 2, 6, 7, 8, 9: 6 days), unpaid leave 10-19, active again from the 20th
    # (20-24, 27-30: 9 days): 15 working days.
    periods = [period(None, april(9)), period(april(20), None)]
    days = [present(d) for d in WORKING if d != april(8)] + [tk(april(8))]
    found = month(periods, days)
    assert found is not None
    st, _ = found
    # As the join: pagu 3,571,429, TK 250,000, LKH 2,142,857 / 15 -> 142,857, net 3,178,572.
    assert st.pagu == 3_571_429
    assert lines(st) == [(april(8), "LKH", 142_857), (april(8), "TK", 250_000)]
    assert st.required_report_days == 15
    assert st.net == 3_178_572


def test_no_active_working_day_means_no_statement() -> None:
    assert month([period(None, date(2026, 3, 31))], [tk(d) for d in WORKING]) is None
    assert month([period(date(2026, 5, 1), None)], []) is None
    # Active only on Good Friday and the weekend after it: no working day.
    assert month([period(GOOD_FRIDAY, april(5))], []) is None


def test_the_statement_belongs_to_the_opd_of_the_last_active_working_day() -> None:
    # Dinas B only on Saturday 25 and Sunday 26 (no working day): the last active working
    # day is Friday the 24th, Dinas A's. Dinas B until Monday the 27th: Dinas B's.
    weekend_only = [
        period(None, april(24), opd="Dinas A"),
        period(april(25), april(26), opd="Dinas B"),
    ]
    found = month(weekend_only, [present(d) for d in WORKING])
    assert found is not None and found[1].opd == "Dinas A"
    moved = [period(None, april(15), opd="Dinas A"), period(april(16), april(27), opd="Dinas B")]
    found = month(moved, [present(d) for d in WORKING])
    assert found is not None and found[1].opd == "Dinas B"


# -- properties ------------------------------------------------------------------------------

STATUSES = ["present", "present", "tanpa_keterangan", "izin_tidak_sah", "cuti_tahunan"]
minutes = st.one_of(st.none(), st.integers(min_value=0, max_value=300))


@st.composite
def employments(draw: st.DrawFn) -> list[Period]:
    """1-3 non-overlapping periods around April 2026, with gaps, pagus up to 50,000,000."""
    cuts = sorted(draw(st.sets(st.integers(min_value=-5, max_value=35), min_size=2, max_size=6)))
    periods: list[Period] = []
    for first, last in zip(cuts[::2], cuts[1::2], strict=False):
        periods.append(
            period(
                date(2026, 3, 31) + timedelta(days=first),
                date(2026, 3, 31) + timedelta(days=last),
                draw(st.integers(min_value=0, max_value=50_000_000)),
            )
        )
    return periods


@st.composite
def days_of_april(draw: st.DrawFn) -> tuple[list[DayRecord], set[date]]:
    days = [
        DayRecord(d, draw(st.sampled_from(STATUSES)), draw(minutes), draw(minutes)) for d in WORKING
    ]
    approved = {d for d in WORKING if draw(st.booleans())}
    return days, approved


@settings(max_examples=200, deadline=None)
@given(employments(), days_of_april())
def test_net_stays_within_zero_and_the_month_pagu(
    periods: list[Period], facts: tuple[list[DayRecord], set[date]]
) -> None:
    days, approved = facts
    found = month_statement(NIP, PERIOD, periods, WORKING, days, approved, BEKASI)
    active = [d for d in WORKING if any(p.covers(d) for p in periods)]
    assert (found is None) == (not active)
    if found is not None:
        st_, _ = found
        assert 0 <= st_.net <= st_.pagu
        assert st_.pagu <= max(p.tpp_pagu for p in periods)
        assert st_.required_report_days <= len(active)
        assert all(any(p.covers(ln.day) for p in periods) for ln in st_.lines)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=50_000_000), days_of_april())
def test_fully_active_all_month_is_the_statement_before_periods(
    pagu: int, facts: tuple[list[DayRecord], set[date]]
) -> None:
    days, approved = facts
    before = compute_statement(NIP, PERIOD, pagu, days, approved, BEKASI)
    for periods in ([period(None, None, pagu)], [period(date(2026, 4, 1), april(30), pagu)]):
        found = month_statement(NIP, PERIOD, periods, WORKING, days, approved, BEKASI)
        assert found is not None
        assert found[0] == before
