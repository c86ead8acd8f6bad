"""The explanation of a month's pagu (issue 14): tpp's `pagu_basis` and the portal's words
for it, on a gap between two periods with a new pagu after it.

April 2026: 21 working days (Good Friday the 3rd a holiday): 1-9 April holds 6 (1, 2, 6-9),
10-19 April 6 (10, 13-17), 20-30 April 9 (20-24, 27-30).
"""

from __future__ import annotations

from datetime import date

from services.kernel.employment import Period
from services.portal.routes.work import pagu_story
from services.tpp.domain import OutsideSpan, PaguPart, pagu_basis

WORKING = [
    date(2026, 4, n)
    for n in range(1, 31)
    if date(2026, 4, n).weekday() < 5 and n != 3
]  # fmt: skip


def april(n: int) -> date:
    return date(2026, 4, n)


def test_a_gap_and_a_new_pagu_after_it() -> None:
    periods = [
        Period(april(1), april(9), "Siti", "Dinas A", "Analis", 9, None, 4_000_000),
        Period(april(20), None, "Siti", "Dinas A", "Analis", 10, None, 4_500_000),
    ]
    basis = pagu_basis("2026-04", periods, WORKING)
    assert basis.parts == (
        PaguPart(april(1), april(9), "Dinas A", "Analis", 4_000_000, 6),
        PaguPart(april(20), april(30), "Dinas A", "Analis", 4_500_000, 9),
    )
    assert basis.outside == (OutsideSpan(april(10), april(19), 6),)
    # (6 x 4,000,000 + 9 x 4,500,000) / 21 = 64,500,000 / 21 = 3,071,428.57 -> 3,071,429
    assert (basis.working_days, basis.active_working_days) == (21, 15)
    assert (basis.day_pagu_total, basis.pagu, basis.prorated) == (64_500_000, 3_071_429, True)


def test_the_portal_says_it_in_words() -> None:
    basis = {
        "working_days": 21, "active_working_days": 15, "prorated": True,
        "periods": [
            {"first": "2026-04-01", "last": "2026-04-09", "opd": "Dinas A", "jabatan": "",
             "tpp_pagu": 4_000_000, "working_days": 6},
            {"first": "2026-04-20", "last": "2026-04-30", "opd": "Dinas A", "jabatan": "",
             "tpp_pagu": 4_500_000, "working_days": 9},
        ],
        "outside": [{"first": "2026-04-10", "last": "2026-04-19", "working_days": 6},
                    {"first": "2026-04-04", "last": "2026-04-04", "working_days": 0}],
        "day_pagu_total": 64_500_000, "pagu": 3_071_429,
    }  # fmt: skip
    assert pagu_story(basis) == [
        "Bulan ini Anda aktif 6 dari 21 hari kerja di Dinas A (1–9 April, pagu Rp 4.000.000) "
        "dan 9 hari di Dinas A (20–30 April, pagu Rp 4.500.000): pagu bulan ini "
        "(6 × 4.000.000 + 9 × 4.500.000) ÷ 21 = Rp 3.071.429 (dibulatkan ke rupiah terdekat).",
        "Tanggal 10–19 April di luar masa kerja Anda (6 hari kerja): hari itu tidak dihitung.",
        "Tanggal 4 April di luar masa kerja Anda (bukan hari kerja).",
    ]
    assert pagu_story({**basis, "prorated": False}) == []
    assert pagu_story(None) == []
