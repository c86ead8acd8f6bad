"""Employment periods (RULES.md "Employment within a month"), with plain values."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.kernel.employment import (
    Period,
    end_employment,
    last_active,
    merge_period,
    month_pagu,
    overlap_problem,
    period_on,
)

D = date


def p(first: date | None, last: date | None, opd: str = "A", pagu: int = 1000) -> Period:
    return Period(first=first, last=last, nama="Ani", opd=opd, tpp_pagu=pagu)


def test_a_transfer_on_the_16th_closes_the_old_period_on_the_15th() -> None:
    merged = merge_period([p(None, None, "A")], p(D(2026, 11, 16), None, "B"))
    assert merged == [p(None, D(2026, 11, 15), "A"), p(D(2026, 11, 16), None, "B")]
    assert period_on(merged, D(2026, 11, 15)).opd == "A"  # type: ignore[union-attr]
    assert period_on(merged, D(2026, 11, 16)).opd == "B"  # type: ignore[union-attr]


def test_the_same_period_twice_changes_nothing() -> None:
    once = merge_period([p(None, D(2026, 11, 15))], p(D(2026, 11, 16), None, "B"))
    assert merge_period(once, p(D(2026, 11, 16), None, "B")) == once


def test_a_period_inside_another_splits_it() -> None:
    merged = merge_period([p(D(2026, 1, 1), None, "A")], p(D(2026, 3, 1), D(2026, 3, 31), "B"))
    assert merged == [
        p(D(2026, 1, 1), D(2026, 2, 28), "A"),
        p(D(2026, 3, 1), D(2026, 3, 31), "B"),
        p(D(2026, 4, 1), None, "A"),
    ]


def test_an_undated_period_replaces_the_latest_in_place() -> None:
    history = [p(None, D(2026, 11, 15), "A"), p(D(2026, 11, 16), None, "B")]
    merged = merge_period(history, p(None, None, "C"))
    assert merged == [p(None, D(2026, 11, 15), "A"), p(D(2026, 11, 16), None, "C")]


def test_leaving_ends_the_open_period_and_drops_later_ones() -> None:
    history = [p(None, D(2026, 11, 15), "A"), p(D(2026, 11, 16), None, "B")]
    assert end_employment(history, D(2026, 11, 10)) == [p(None, D(2026, 11, 10), "A")]
    assert end_employment(history, D(2026, 11, 20)) == [
        p(None, D(2026, 11, 15), "A"),
        p(D(2026, 11, 16), D(2026, 11, 20), "B"),
    ]


def test_month_pagu_is_pro_rata_by_working_days_rounded_half_up() -> None:
    # 4 working days: 2 at 1,000, 1 at 2,001, 1 not active -> (2,000 + 2,001) / 4 = 1,000.25
    days = [D(2026, 11, 2), D(2026, 11, 3), D(2026, 11, 4), D(2026, 11, 5)]
    periods = [p(None, D(2026, 11, 3), pagu=1000), p(D(2026, 11, 4), D(2026, 11, 4), pagu=2001)]
    assert month_pagu(periods, days) == 1000
    # (1,000 + 1,003) / 2 = 1,001.5 -> 1,002 (half up)
    two = [p(None, D(2026, 11, 2), pagu=1000), p(D(2026, 11, 3), None, pagu=1003)]
    assert month_pagu(two, days[:2]) == 1002
    assert month_pagu([p(None, None, pagu=7_500_000)], days) == 7_500_000


def test_the_statement_belongs_to_the_last_active_working_day() -> None:
    days = [D(2026, 11, 2), D(2026, 11, 3), D(2026, 11, 30)]
    periods = [p(None, D(2026, 11, 15), "A"), p(D(2026, 11, 16), D(2026, 11, 20), "B")]
    assert last_active(periods, days).opd == "A"  # type: ignore[union-attr]
    assert last_active([p(D(2026, 12, 1), None)], days) is None


def test_overlapping_rows_are_refused_in_words() -> None:
    rows = [p(D(2026, 1, 1), D(2026, 6, 30))]
    assert overlap_problem(rows, D(2026, 7, 1), None) is None
    assert "tumpang tindih" in (overlap_problem(rows, D(2026, 6, 30), None) or "")
    assert "lebih awal" in (overlap_problem([], D(2026, 7, 2), D(2026, 7, 1)) or "")


days_st = st.integers(min_value=0, max_value=90).map(lambda n: D(2026, 1, 1) + timedelta(days=n))
bound = st.one_of(st.none(), days_st)


@st.composite
def periods_st(draw: st.DrawFn) -> Period:
    first, last = draw(bound), draw(bound)
    if first is not None and last is not None and last < first:
        first, last = last, first
    return p(first, last, draw(st.sampled_from("ABC")), draw(st.integers(0, 10_000)))


@given(st.lists(periods_st(), max_size=8), st.lists(days_st, min_size=1, max_size=20))
def test_merged_periods_never_overlap_and_the_newest_wins(
    announced: list[Period], probes: list[date]
) -> None:
    periods: list[Period] = []
    for new in announced:
        was_empty = not periods
        periods = merge_period(periods, new)
        for i, a in enumerate(periods):
            for b in periods[i + 1 :]:
                assert not a.overlaps(b.first, b.last), (a, b)
        if new.first is not None or new.last is not None or was_empty:
            for day in probes:
                if new.covers(day):
                    found = period_on(periods, day)
                    assert found is not None and found.opd == new.opd
                    assert found.tpp_pagu == new.tpp_pagu
