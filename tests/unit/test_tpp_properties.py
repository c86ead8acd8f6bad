"""Properties of the TPP engine that hold for any month, under both shipped rule sets."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from services.kernel.ruleset import RuleSet, load_ruleset
from services.tpp.domain import DayRecord, Statement, compute_statement

RULESETS = [load_ruleset("bekasi-perwali-69-2019"), load_ruleset("contoh-daerah-lain")]
STATUSES = [
    "present",
    "present",
    "present",
    "tanpa_keterangan",
    "izin_tidak_sah",
    "dinas_luar",
    "cuti_tahunan",
    "tugas_belajar",
    "non_working",
]
minutes = st.one_of(st.none(), st.integers(min_value=0, max_value=600))


@st.composite
def months(draw: st.DrawFn) -> tuple[int, list[DayRecord], set[date], RuleSet]:
    pagu = draw(st.integers(min_value=0, max_value=50_000_000))
    numbers = draw(st.sets(st.integers(min_value=1, max_value=31), max_size=31))
    records = [
        DayRecord(
            date(2025, 10, n),
            draw(st.sampled_from(STATUSES)),
            draw(minutes),
            draw(minutes),
        )
        for n in sorted(numbers)
    ]
    approved = {r.day for r in records if draw(st.booleans())}
    return pagu, records, approved, draw(st.sampled_from(RULESETS))


def run(pagu: int, records: list[DayRecord], approved: set[date], rules: RuleSet) -> Statement:
    return compute_statement("199001012015031001", "2025-10", pagu, records, approved, rules)


@settings(max_examples=300, deadline=None)
@given(months())
def test_net_between_zero_and_pagu(month: tuple[int, list[DayRecord], set[date], RuleSet]) -> None:
    s = run(*month)
    assert 0 <= s.net <= s.pagu


@settings(max_examples=300, deadline=None)
@given(months())
def test_caps_hold(month: tuple[int, list[DayRecord], set[date], RuleSet]) -> None:
    s = run(*month)
    assert s.attendance_deduction == min(s.attendance_deduction_uncapped, s.discipline)
    assert s.productivity_deduction == min(s.productivity_deduction_uncapped, s.productivity)
    assert s.net == s.pagu - s.attendance_deduction - s.productivity_deduction
    # the uncapped sums are the sums of the lines shown
    assert s.attendance_deduction_uncapped + s.productivity_deduction_uncapped == sum(
        line.amount for line in s.lines
    )


@settings(max_examples=300, deadline=None)
@given(months(), st.data())
def test_more_lateness_never_raises_net(
    month: tuple[int, list[DayRecord], set[date], RuleSet], data: st.DataObject
) -> None:
    pagu, records, approved, rules = month
    present = [i for i, r in enumerate(records) if r.status == "present"]
    if not present:
        return
    i = data.draw(st.sampled_from(present))
    r = records[i]
    extra = data.draw(st.integers(min_value=1, max_value=300))
    worse_late = data.draw(st.one_of(st.none(), st.just((r.minutes_late or 0) + extra)))
    worse_early = data.draw(st.one_of(st.none(), st.just((r.minutes_early or 0) + extra)))
    # a missing check-in is the worst case already: keep it missing
    late = None if r.minutes_late is None else worse_late
    early = None if r.minutes_early is None else worse_early
    worse = [*records[:i], DayRecord(r.day, r.status, late, early), *records[i + 1 :]]
    assert run(pagu, worse, approved, rules).net <= run(pagu, records, approved, rules).net


@settings(max_examples=200, deadline=None)
@given(months())
def test_approving_more_never_lowers_net(
    month: tuple[int, list[DayRecord], set[date], RuleSet],
) -> None:
    pagu, records, approved, rules = month
    everything = {r.day for r in records}
    assert run(pagu, records, everything, rules).net >= run(pagu, records, approved, rules).net


@settings(max_examples=200, deadline=None)
@given(months())
def test_all_approved_means_no_lkh(month: tuple[int, list[DayRecord], set[date], RuleSet]) -> None:
    pagu, records, _, rules = month
    s = run(pagu, records, {r.day for r in records}, rules)
    assert s.productivity_deduction == 0
    assert s.approved_report_days == s.required_report_days
