"""The proposal of the month's two ratings (docs/rules.md "Monthly kinerja result")."""

from __future__ import annotations

import pytest

from services.approval.domain import ResultThresholds, propose_hasil, propose_perilaku

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
