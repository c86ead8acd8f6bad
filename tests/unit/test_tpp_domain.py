"""docs/rules.md "TPP of a month", row by row, with the arithmetic written out.

Unless said otherwise: pagu 5,000,000 -> disiplin 40% = 2,000,000, produktivitas
3,000,000; 0.25% = 12,500; 0.5% = 25,000; 1% = 50,000; 1.5% = 75,000; 2% = 100,000;
5% = 250,000.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.kernel.ruleset import RuleSet, load_ruleset
from services.kernel.vocabulary import ABSENCE_KINDS
from services.tpp.domain import (
    DayRecord,
    Statement,
    compute_statement,
    diff_statements,
    report_filing_allowed,
)

BEKASI = load_ruleset("bekasi-perwali-69-2019")
OTHER = load_ruleset("contoh-daerah-lain")
PAGU = 5_000_000
PERIOD = "2025-10"
D1 = date(2025, 10, 1)  # Wednesday


def day(n: int) -> date:
    return date(2025, 10, n)


def present(d: date, late: int | None = 0, early: int | None = 0) -> DayRecord:
    return DayRecord(d, "present", late, early)


def absent(d: date, status: str) -> DayRecord:
    return DayRecord(d, status, 0, 0)


def stmt(
    days: list[DayRecord],
    approved: set[date] | None = None,
    pagu: int = PAGU,
    rules: RuleSet = BEKASI,
) -> Statement:
    # Approve every day unless told: isolates attendance lines from LKH lines.
    approved = {d.day for d in days} if approved is None else approved
    return compute_statement("199001012015031001", PERIOD, pagu, days, approved, rules)


def codes(s: Statement) -> list[tuple[date, str, int]]:
    return [(line.day, line.code, line.amount) for line in s.lines]


# -- components ----------------------------------------------------------------------------


def test_components_40_60() -> None:
    s = stmt([])
    # 40% of 5,000,000 = 2,000,000; produktivitas = 5,000,000 - 2,000,000 = 3,000,000
    assert (s.discipline, s.productivity) == (2_000_000, 3_000_000)
    assert s.net == PAGU  # no day, no line


def test_components_odd_pagu() -> None:
    s = stmt([], pagu=1_234_567)
    # 40% of 1,234,567 = 493,826.8 -> 493,827; produktivitas = 1,234,567 - 493,827 = 740,740
    assert (s.discipline, s.productivity) == (493_827, 740_740)


def test_discipline_share_rounds_half_up() -> None:
    # contoh-daerah-lain: share 30%. 30% of 1,000,015 = 300,004.5 -> 300,005 half up
    # (banker's rounding would give 300,004).
    s = stmt([], pagu=1_000_015, rules=OTHER)
    assert s.discipline == 300_005
    assert s.productivity == 1_000_015 - 300_005  # 700,010


# -- late arrival bands ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, None),
        (15, None),  # 0-15: no deduction
        (16, ("TL1", "0.25", 12_500)),  # 5,000,000 x 0.25% = 12,500
        (60, ("TL1", "0.25", 12_500)),
        (61, ("TL2", "0.5", 25_000)),  # 5,000,000 x 0.5% = 25,000
        (120, ("TL2", "0.5", 25_000)),
        (121, ("TL3", "1", 50_000)),  # 5,000,000 x 1% = 50,000
        (180, ("TL3", "1", 50_000)),
        (181, ("TL4", "1.5", 75_000)),  # 5,000,000 x 1.5% = 75,000
        (480, ("TL4", "1.5", 75_000)),
        (None, ("TL4", "1.5", 75_000)),  # no check-in
    ],
)
def test_late_bands(minutes: int | None, expected: tuple[str, str, int] | None) -> None:
    s = stmt([present(D1, late=minutes, early=0)])
    got = [(line.code, str(line.percent), line.amount) for line in s.lines]
    assert got == ([expected] if expected else [])
    assert s.attendance_deduction == (expected[2] if expected else 0)


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, None),  # 0: no deduction
        (1, ("PSW1", "0.25", 12_500)),  # 1-60: 0.25% = 12,500
        (60, ("PSW1", "0.25", 12_500)),
        (61, ("PSW2", "0.5", 25_000)),  # 61-120: 0.5% = 25,000
        (120, ("PSW2", "0.5", 25_000)),
        (121, ("PSW3", "1", 50_000)),  # 121-180: 1% = 50,000
        (180, ("PSW3", "1", 50_000)),
        (181, ("PSW4", "1.5", 75_000)),  # over 180: 1.5% = 75,000
        (None, ("PSW4", "1.5", 75_000)),  # no check-out
    ],
)
def test_early_bands(minutes: int | None, expected: tuple[str, str, int] | None) -> None:
    s = stmt([present(D1, late=0, early=minutes)])
    got = [(line.code, str(line.percent), line.amount) for line in s.lines]
    assert got == ([expected] if expected else [])


def test_late_and_early_of_one_day_add_up() -> None:
    s = stmt([present(D1, late=37, early=90)])
    # late 37 -> TL1 12,500; early 90 -> PSW2 25,000; together 37,500
    assert codes(s) == [(D1, "PSW2", 25_000), (D1, "TL1", 12_500)]  # date, then code
    assert s.attendance_deduction == 37_500
    assert s.net == PAGU - 37_500  # 4,962,500


def test_no_checkin_and_no_checkout_both_lines() -> None:
    # A present day can lack both only in theory; each missing side is its own 1.5% line.
    s = stmt([present(D1, late=None, early=None)])
    assert s.attendance_deduction == 150_000  # 75,000 + 75,000


# -- whole-day statuses ------------------------------------------------------------------------


def test_tanpa_keterangan_costs_5_percent_not_two_lines() -> None:
    s = stmt([DayRecord(D1, "tanpa_keterangan", None, None)])
    # 5% of 5,000,000 = 250,000 (not TL4 + PSW4 = 150,000)
    assert codes(s) == [(D1, "TK", 250_000)]
    assert s.lines[0].percent == Decimal("5")


def test_izin_tidak_sah_costs_2_percent() -> None:
    s = stmt([absent(D1, "izin_tidak_sah")])
    assert codes(s) == [(D1, "ITS", 100_000)]  # 2% of 5,000,000


@pytest.mark.parametrize("kind", [k for k in ABSENCE_KINDS if k != "izin_tidak_sah"])
def test_absence_kinds_without_deduction(kind: str) -> None:
    s = stmt([absent(D1, kind)], approved=set())
    assert [line for line in s.lines if line.code != "LKH"] == []
    assert s.attendance_deduction == 0


def test_non_working_day_costs_and_earns_nothing() -> None:
    # A day closed as present, later made a holiday: no line, not a required report day.
    s = stmt([DayRecord(D1, "non_working", 200, None)], approved=set())
    assert s.lines == ()
    assert s.required_report_days == 0
    assert s.net == PAGU


def test_unknown_status_is_an_error() -> None:
    with pytest.raises(ValueError, match="tidak dikenal"):
        stmt([absent(D1, "mogok")])


# -- cap ------------------------------------------------------------------------------------


def test_attendance_capped_at_discipline() -> None:
    # 9 TK days x 250,000 = 2,250,000 > disiplin 2,000,000 -> capped at 2,000,000.
    days = [DayRecord(day(n), "tanpa_keterangan", None, None) for n in range(1, 10)]
    s = stmt(days)
    assert s.attendance_deduction_uncapped == 2_250_000
    assert s.attendance_deduction == 2_000_000
    assert len(s.lines) == 9  # every line is still shown
    assert s.net == 3_000_000  # 5,000,000 - 2,000,000 - 0 (all reports approved)


def test_attendance_below_cap_not_touched() -> None:
    # 7 TK days = 1,750,000 <= 2,000,000
    s = stmt([DayRecord(day(n), "tanpa_keterangan", None, None) for n in range(1, 8)])
    assert s.attendance_deduction == 1_750_000


# -- produktivitas / LKH ---------------------------------------------------------------------


def test_required_report_days_and_lkh_division() -> None:
    days = [present(day(n)) for n in (1, 2, 3, 6, 7, 8, 9, 10)]  # 8 present
    days += [absent(day(13), "dinas_luar"), absent(day(14), "izin_tidak_sah")]
    days += [DayRecord(day(15), "tanpa_keterangan", None, None)]
    days += [absent(day(16), "cuti_tahunan"), absent(day(17), "tugas_belajar")]
    # required: 8 present + dinas luar + ITS + TK = 11; cuti and tugas belajar are not.
    approved = {day(n) for n in (1, 2, 3, 6, 7, 8, 9, 13)}  # 8 approved; 10, 14, 15 missing
    approved.add(day(16))  # a report on a cuti day earns nothing
    s = stmt(days, approved=approved)
    assert (s.required_report_days, s.approved_report_days) == (11, 8)
    lkh = [line for line in s.lines if line.code == "LKH"]
    # 3,000,000 / 11 = 272,727.27 -> 272,727 per missing day
    assert [(line.day, line.amount) for line in lkh] == [
        (day(10), 272_727),
        (day(14), 272_727),
        (day(15), 272_727),
    ]
    # percent of the produktivitas component: 100 / 11 = 9.0909...% -> 9.0909
    assert lkh[0].percent == Decimal("9.0909")
    assert s.productivity_deduction == 818_181  # 3 x 272,727
    # attendance: ITS 100,000 + TK 250,000 = 350,000
    assert s.attendance_deduction == 350_000
    assert s.net == 5_000_000 - 350_000 - 818_181  # 3,831,819


def test_lkh_rounds_half_up() -> None:
    # pagu 4,000,005: disiplin 40% = 1,600,002; produktivitas 2,400,003.
    # 4 required days, 1 missing: 2,400,003 / 4 = 600,000.75 -> 600,001.
    days = [present(day(n)) for n in (1, 2, 3, 6)]
    s = stmt(days, approved={day(1), day(2), day(3)}, pagu=4_000_005)
    assert s.productivity == 2_400_003
    assert codes(s) == [(day(6), "LKH", 600_001)]


def test_lkh_exact_half_rounds_up() -> None:
    # pagu 1,000,005: disiplin 40% = 400,002; produktivitas 600,003.
    # 6 required days: 600,003 / 6 = 100,000.5 -> 100,001 half up (banker's: 100,000).
    days = [present(day(n)) for n in (1, 2, 3, 6, 7, 8)]
    s = stmt(days, approved={day(n) for n in (1, 2, 3, 6, 7)}, pagu=1_000_005)
    assert codes(s) == [(day(8), "LKH", 100_001)]


def test_lkh_capped_at_productivity() -> None:
    # pagu 1,000,003: disiplin 400,001.2 -> 400,001; produktivitas 600,002.
    # 3 required days, none approved: 600,002 / 3 = 200,000.67 -> 200,001 each,
    # 3 x 200,001 = 600,003 > 600,002 -> capped at 600,002.
    s = stmt([present(day(n)) for n in (1, 2, 3)], approved=set(), pagu=1_000_003)
    assert s.productivity_deduction_uncapped == 600_003
    assert s.productivity_deduction == 600_002
    assert s.net == 1_000_003 - 0 - 600_002  # 400,001 = the disiplin component


def test_month_without_required_day_has_no_lkh() -> None:
    s = stmt([absent(day(n), "cuti_sakit") for n in (1, 2, 3)], approved=set())
    assert s.required_report_days == 0
    assert s.lines == ()
    assert s.net == PAGU


def test_nothing_at_all_costs_whole_pagu() -> None:
    # 20 TK days, no report: attendance 20 x 250,000 = 5,000,000 capped at 2,000,000;
    # LKH 20 x 150,000 = 3,000,000 (= produktivitas). net = 0.
    days = [
        DayRecord(d, "tanpa_keterangan", None, None)
        for d in (date(2025, 10, 1) + timedelta(n) for n in range(31))
        if d.weekday() < 5
    ][:20]
    s = stmt(days, approved=set())
    assert s.attendance_deduction == 2_000_000
    assert s.productivity_deduction == 3_000_000
    assert s.net == 0


# -- lines, periods, rounding of attendance lines ---------------------------------------------


def test_attendance_line_rounds_half_up_on_odd_pagu() -> None:
    # 0.25% of 1,000,200 = 2,500.5 -> 2,501 half up (banker's rounding would give 2,500)
    s = stmt([present(D1, late=20)], pagu=1_000_200)
    assert codes(s) == [(D1, "TL1", 2_501)]
    # 1.5% of 1,000,033 = 15,000.495 -> 15,000
    s = stmt([present(D1, late=None)], pagu=1_000_033)
    assert codes(s) == [(D1, "TL4", 15_000)]


def test_lines_sorted_by_date_then_code_and_cite_articles() -> None:
    days = [present(day(2), late=70, early=5), present(day(1), late=None, early=0)]
    s = stmt(days, approved={day(2)})
    # day 1: LKH (3,000,000 / 2 = 1,500,000) and TL4; day 2: PSW1 and TL2
    assert [(line.day, line.code) for line in s.lines] == [
        (day(1), "LKH"),
        (day(1), "TL4"),
        (day(2), "PSW1"),
        (day(2), "TL2"),
    ]
    assert all("Perwali Kota Bekasi 69/2019" in line.article for line in s.lines)


def test_days_outside_period_ignored() -> None:
    days = [
        DayRecord(date(2025, 9, 30), "tanpa_keterangan", None, None),
        DayRecord(date(2025, 11, 3), "tanpa_keterangan", None, None),
        present(D1),
    ]
    s = stmt(days, approved=set())
    # only 1 Oct counts: 1 required day without report -> LKH 3,000,000
    assert codes(s) == [(D1, "LKH", 3_000_000)]


def test_duplicate_day_refused() -> None:
    with pytest.raises(ValueError, match="lebih dari sekali"):
        stmt([present(D1), present(D1, late=30)])


def test_bad_period_refused() -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        compute_statement("x", "2025/10", PAGU, [], set(), BEKASI)


def test_to_dict_shape() -> None:
    s = stmt([present(D1, late=16)])
    assert s.to_dict() == {
        "nip": "199001012015031001",
        "pagu": 5_000_000,
        "discipline": 2_000_000,
        "productivity": 3_000_000,
        "attendance_deduction": 12_500,
        "productivity_deduction": 0,
        "net": 4_987_500,  # 5,000,000 - 12,500
        "lines": [
            {
                "date": "2025-10-01",
                "code": "TL1",
                "percent": "0.25",
                "amount": 12_500,
                "article": "Perwali Kota Bekasi 69/2019 Pasal 9 ayat (2) huruf a",
            }
        ],
    }


# -- another rule set ----------------------------------------------------------------------


def test_other_ruleset_uses_its_own_numbers() -> None:
    days = [
        present(day(1), late=20, early=0),  # other: 6-30 -> TL1 0.5% = 25,000
        present(day(2), late=100, early=40),  # TL3 1.25% = 62,500; PSW2 1% = 50,000
        DayRecord(day(3), "tanpa_keterangan", None, None),  # TK 4% = 200,000
    ]
    s = stmt(days, rules=OTHER)
    assert codes(s) == [
        (day(1), "TL1", 25_000),
        (day(2), "PSW2", 50_000),
        (day(2), "TL3", 62_500),
        (day(3), "TK", 200_000),
    ]
    assert s.discipline == 1_500_000  # 30%
    assert s.attendance_deduction == 337_500  # 25,000 + 50,000 + 62,500 + 200,000
    assert s.rules_name == "contoh-daerah-lain"
    # The same days under Bekasi: TL1 12,500 + TL2 25,000 + PSW1 12,500 + TK 250,000
    assert stmt(days).attendance_deduction == 300_000


def test_pagu_cap_reading() -> None:
    # attendance_cap "pagu": attendance may pass disiplin but never leaves a negative net.
    rules = OTHER.model_copy(update={"attendance_cap": "pagu"})
    days = [DayRecord(day(n), "tanpa_keterangan", None, None) for n in range(1, 11)]
    # 10 x 4% x 5,000,000 = 2,000,000 > disiplin 1,500,000, allowed under this reading
    s = stmt(days, rules=rules)
    assert s.attendance_deduction == 2_000_000
    assert s.net == 3_000_000


def test_pagu_cap_keeps_net_non_negative() -> None:
    rules = OTHER.model_copy(update={"attendance_cap": "pagu"})
    # 30 TK days x 200,000 = 6,000,000 > pagu -> 5,000,000; no room left for LKH.
    days = [
        DayRecord(date(2025, 10, 1) + timedelta(n), "tanpa_keterangan", None, None)
        for n in range(30)
    ]
    s = stmt(days, approved=set(), rules=rules)
    assert (s.attendance_deduction, s.productivity_deduction, s.net) == (5_000_000, 0, 0)


# -- diff and the filing gate --------------------------------------------------------------


def test_diff_between_rule_sets() -> None:
    days = [present(day(1), late=20), present(day(2), late=10)]
    old, new = stmt(days), stmt(days, rules=OTHER)
    changes = diff_statements(old, new)
    kinds = [(c.kind, c.day, c.code, c.old, c.new) for c in changes]
    # Bekasi: day 1 TL1 12,500; day 2 nothing (10 <= 15). Other: day 1 TL1 25,000;
    # day 2 TL1 25,000 (6-30). Net 4,987,500 -> 4,950,000.
    assert kinds == [
        ("rules_changed", None, None, "bekasi-perwali-69-2019", "contoh-daerah-lain"),
        ("line_changed", day(1), "TL1", 12_500, 25_000),
        ("line_added", day(2), "TL1", None, 25_000),
        ("net_changed", None, None, 4_987_500, 4_950_000),
    ]
    assert "Rp 4.987.500" in changes[-1].message


def test_diff_line_removed_and_no_change() -> None:
    old = stmt([present(D1, late=None)])
    new = stmt([present(D1, late=0)])  # a scan correction
    changes = diff_statements(old, new)
    assert [(c.kind, c.code) for c in changes] == [("line_removed", "TL4"), ("net_changed", None)]
    assert diff_statements(new, new) == []


@pytest.mark.parametrize(
    ("has_scan", "kind", "allowed"),
    [
        (True, None, True),
        (False, "dinas_luar", True),
        (False, None, False),
        (False, "cuti_tahunan", False),
        (True, "cuti_sakit", True),
    ],
)
def test_filing_gate(has_scan: bool, kind: str | None, allowed: bool) -> None:
    assert report_filing_allowed(has_scan, kind) is allowed
