"""The proposal of the month's two ratings (docs/rules.md "Monthly kinerja result")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.approval.domain import (
    MonthSummary,
    ResultThresholds,
    SkpTargetFact,
    confirmation_reason,
    propose,
    propose_hasil,
    propose_perilaku,
    skp_all_realised,
)
from services.kernel.errors import DomainError
from services.kernel.ruleset import KinerjaRules, load_ruleset

T = ResultThresholds()


@pytest.mark.parametrize(
    ("approved", "required", "skp", "expected"),
    [
        (19, 20, True, "di_atas"),  # 95 %, SKP realised
        (19, 20, False, "sesuai"),  # 95 % but an SKP target not realised
        (18, 20, True, "sesuai"),  # 90 %
        (15, 20, True, "sesuai"),  # 75 % exactly
        (14, 20, True, "di_bawah"),  # 70 %
        (0, 0, True, "di_atas"),  # no report day required (cuti all month)
    ],
)
def test_propose_hasil(approved: int, required: int, skp: bool, expected: str) -> None:
    assert propose_hasil(approved, required, skp, T) == expected


@pytest.mark.parametrize(
    ("lines", "deduction", "tk", "expected"),
    [
        (0, 0, 0, "di_atas"),  # no attendance line at all
        (3, 250_000, 0, "sesuai"),  # exactly 5 % of 5,000,000
        (3, 250_001, 0, "di_bawah"),  # above 5 %
        (1, 50_000, 1, "di_bawah"),  # a TK day
    ],
)
def test_propose_perilaku(lines: int, deduction: int, tk: int, expected: str) -> None:
    assert propose_perilaku(lines, deduction, 5_000_000, tk, T) == expected


def test_thresholds_are_parameters() -> None:
    strict = ResultThresholds(hasil_di_atas_pct=100, hasil_sesuai_pct=90)
    assert propose_hasil(19, 20, True, strict) == "sesuai"
    assert propose_hasil(17, 20, True, strict) == "di_bawah"


# --- the proposal from a month's summary (tpp's close) and the SKP targets ------------------
# By hand from docs/rules.md: pagu 3.000.000, so 5 % of the pagu is 150.000; a TK day alone
# costs 5 % in Bekasi (150.000): the "no TK day" condition decides that month, not the 5 %.
BEKASI = ResultThresholds.of(load_ruleset("bekasi-perwali-69-2019"))
PAGU = 3_000_000


def month(required: int = 20, approved: int = 20, deduction: int = 0, lines: int = 0,
          tk: int = 0) -> MonthSummary:  # fmt: skip
    return MonthSummary(PAGU, required, approved, deduction, lines, tk)


@pytest.mark.parametrize(
    ("summary", "skp", "expected", "grade"),
    [
        (month(approved=19), True, ("di_atas", "di_atas"), 1),  # 95 %, nothing late
        (month(approved=19), False, ("sesuai", "di_atas"), 2),  # a target not realised
        (month(approved=18), True, ("sesuai", "di_atas"), 2),  # 90 %
        (month(approved=15), True, ("sesuai", "di_atas"), 2),  # 75 % exactly
        (month(approved=14), True, ("di_bawah", "di_atas"), 3),  # 70 %
        (month(required=0, approved=0), True, ("di_atas", "di_atas"), 1),  # cuti all month
        (month(required=0, approved=0), False, ("sesuai", "di_atas"), 2),
        (month(lines=2, deduction=150_000), True, ("di_atas", "sesuai"), 2),  # 5 % exactly
        (month(lines=2, deduction=150_001), True, ("di_atas", "di_bawah"), 4),  # above 5 %
        (month(lines=1, deduction=150_000, tk=1), True, ("di_atas", "di_bawah"), 4),  # a TK day
        (month(lines=1, deduction=7_500), True, ("di_atas", "sesuai"), 2),  # one TL1 line
        (month(approved=14, lines=1, deduction=150_000, tk=1), True, ("di_bawah", "di_bawah"), 5),
    ],
)
def test_propose_from_the_month(
    summary: MonthSummary, skp: bool, expected: tuple[str, str], grade: int
) -> None:
    proposal = propose(summary, skp, BEKASI)
    assert (proposal.hasil_kerja, proposal.perilaku_kerja) == expected
    assert proposal.predikat == grade


def test_the_thresholds_come_from_the_rule_set() -> None:
    assert BEKASI == ResultThresholds(Decimal(95), Decimal(75), Decimal(5))
    rules = load_ruleset("bekasi-perwali-69-2019")
    strict = ResultThresholds.of(
        rules.model_copy(update={"kinerja": KinerjaRules(hasil_di_atas_pct=Decimal(100))})
    )
    assert propose(month(approved=19), True, strict).hasil_kerja == "sesuai"


def test_a_rule_set_with_sesuai_above_di_atas_is_refused() -> None:
    with pytest.raises(ValueError, match="hasil_sesuai_pct"):
        KinerjaRules(hasil_di_atas_pct=Decimal(70), hasil_sesuai_pct=Decimal(75))


def skp(target_id: str, quantity: int, year: int = 2026) -> SkpTargetFact:
    return SkpTargetFact(target_id, year, quantity)


@pytest.mark.parametrize(
    ("targets", "approved", "period", "expected"),
    [
        ([skp("a", 12)], {"a": 10}, "2026-10", True),  # 10 × 12 = 120 >= 12 × 10
        ([skp("a", 12)], {"a": 9}, "2026-10", False),  # 108 < 120
        ([skp("a", 4)], {"a": 1}, "2026-01", True),  # 12 >= 4 × 1
        ([skp("a", 4)], {}, "2026-01", False),
        ([skp("a", 12), skp("b", 24)], {"a": 10, "b": 19}, "2026-10", False),  # b: 228 < 240
        ([skp("a", 12), skp("b", 24)], {"a": 10, "b": 20}, "2026-10", True),
        ([skp("a", 12), skp("old", 12, 2025)], {"a": 10}, "2026-10", True),  # last year's
        ([], {}, "2026-10", False),  # no SKP target: nothing realised
        ([skp("old", 12, 2025)], {"old": 12}, "2026-10", False),
    ],
)
def test_every_skp_target_of_the_month_realised(
    targets: list[SkpTargetFact], approved: dict[str, int], period: str, expected: bool
) -> None:
    assert skp_all_realised(targets, approved, period) is expected


def test_a_change_from_the_proposal_needs_a_reason() -> None:
    proposal = propose(month(approved=14), False, BEKASI)  # di_bawah, di_atas
    assert confirmation_reason("di_bawah", "di_atas", "", proposal) == ""
    assert confirmation_reason("di_bawah", "di_atas", " ok ", proposal) == "ok"
    with pytest.raises(DomainError) as refused:
        confirmation_reason("sesuai", "di_atas", "   ", proposal)
    assert refused.value.code == "reason_required"
    assert "di bawah ekspektasi" in refused.value.message
    assert confirmation_reason("sesuai", "di_atas", "tugas tambahan", proposal) == "tugas tambahan"
    with pytest.raises(DomainError) as none_yet:
        confirmation_reason("sesuai", "di_atas", "", None)
    assert none_yet.value.code == "reason_required"
    with pytest.raises(DomainError) as long:
        confirmation_reason("sesuai", "di_atas", "x" * 1001, proposal)
    assert long.value.code == "text_too_long"
