"""The worked example of issue 14 (docs/examples/transfer-and-outage.md): a transfer on the
16th and an OPD-wide device outage annulled on the 19th, through `sikerja simulate`'s code.

By hand, RULES.md (Bekasi rule set), November 2026: 21 working days (2–6, 9–13, 16–20,
23–27, 30; no holiday), 10 before the 16th and 11 from it.

Siti: Dinas Kesehatan pagu 5.300.000 until Sun 15th, Dinas Pendidikan pagu 6.200.000 from
Mon 16th.
- pagu of the month = (10 × 5.300.000 + 11 × 6.200.000) / 21 = 121.200.000 / 21
  = 5.771.428,57 -> 5.771.429
- disiplin = 40% × 5.771.429 = 2.308.571,6 -> 2.308.572; produktivitas = 3.462.857
- 5th (Kesehatan): in at 08:07:30 = 37 min late -> TL1 0,25% × 5.300.000 = 13.250
- 10th (Kesehatan): out at 14:49:50 = 70 min early -> PSW2 0,5% × 5.300.000 = 26.500
- 19th (Pendidikan): no scan -> TK 5% × 6.200.000 = 310.000; a required report day with no
  report -> LKH 3.462.857 / 21 = 164.897,95 -> 164.898 (share 100/21 = 4,7619%)
- 24th: report rejected -> LKH 164.898
- every working day is a required report day (present or TK): 21, approved 19
- before: attendance 13.250 + 26.500 + 310.000 = 349.750 (< disiplin); LKH 2 × 164.898
  = 329.796; net 5.771.429 − 349.750 − 329.796 = 5.091.883
- after annulling every line of the 19th for Dinas Pendidikan: TK and that LKH line stay
  with amount 0 and annulled 310.000 / 164.898; attendance 39.750, LKH 164.898 (the 19th
  stays required: 21 days, the divisor unchanged); net 5.771.429 − 39.750 − 164.898
  = 5.566.781

Budi: Dinas Pendidikan until the 15th, Dinas Kesehatan from the 16th, pagu 4.000.000 in
both; no scan on the 19th. The annulment names Dinas Pendidikan's people *on the 19th*, so
not him: TK 5% × 4.000.000 = 200.000; LKH 2.400.000 / 21 = 114.285,71 -> 114.286; net
4.000.000 − 200.000 − 114.286 = 3.685.714, before and after.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

from tests import examples_doc

REASON = "Mesin sidik jari Dinas Pendidikan mati sepanjang hari (berita acara BKPSDM)"
LKH_SHARE = Decimal("4.7619")


def _line(day: int, code: str, percent: str | Decimal, amount: int) -> tuple[object, ...]:
    return (date(2026, 11, day), code, Decimal(percent), amount, None, None)


def _rows(statement: object) -> list[tuple[object, ...]]:
    return [
        (ln.day, ln.code, ln.percent, ln.amount, ln.annulled_amount, ln.annulled_reason)
        for ln in statement.lines  # type: ignore[attr-defined]
    ]


def test_siti_before_and_after_the_outage_annulment() -> None:
    before, after = examples_doc.simulate()
    assert before.rejected_inputs == after.rejected_inputs == []
    siti = {s.nip: s for s in before.statements}[examples_doc.SITI]
    assert (siti.pagu, siti.discipline, siti.productivity) == (5_771_429, 2_308_572, 3_462_857)
    assert _rows(siti) == [
        _line(5, "TL1", "0.25", 13_250),
        _line(10, "PSW2", "0.5", 26_500),
        _line(19, "LKH", LKH_SHARE, 164_898),
        _line(19, "TK", "5", 310_000),
        _line(24, "LKH", LKH_SHARE, 164_898),
    ]
    assert (siti.attendance_deduction, siti.productivity_deduction) == (349_750, 329_796)
    assert (siti.required_report_days, siti.approved_report_days, siti.net) == (21, 19, 5_091_883)
    assert before.employees[examples_doc.SITI].opd == "Dinas Pendidikan"

    siti = {s.nip: s for s in after.statements}[examples_doc.SITI]
    assert (siti.pagu, siti.discipline, siti.productivity) == (5_771_429, 2_308_572, 3_462_857)
    assert _rows(siti) == [
        _line(5, "TL1", "0.25", 13_250),
        _line(10, "PSW2", "0.5", 26_500),
        (date(2026, 11, 19), "LKH", LKH_SHARE, 0, 164_898, REASON),
        (date(2026, 11, 19), "TK", Decimal(5), 0, 310_000, REASON),
        _line(24, "LKH", LKH_SHARE, 164_898),
    ]
    assert (siti.attendance_deduction, siti.productivity_deduction) == (39_750, 164_898)
    assert (siti.required_report_days, siti.approved_report_days, siti.net) == (21, 19, 5_566_781)
    assert after.employees[examples_doc.SITI].opd == "Dinas Pendidikan"


def test_budi_was_elsewhere_on_the_19th_and_keeps_his_lines() -> None:
    for result in examples_doc.simulate():
        budi = {s.nip: s for s in result.statements}[examples_doc.BUDI]
        assert budi.pagu == 4_000_000
        assert _rows(budi) == [_line(19, "LKH", LKH_SHARE, 114_286), _line(19, "TK", "5", 200_000)]
        assert budi.net == 3_685_714
        assert result.employees[examples_doc.BUDI].opd == "Dinas Kesehatan"


def test_the_document_is_current() -> None:
    if os.environ.get("SIKERJA_WRITE_EXAMPLES_DOC") == "1":
        examples_doc.write()
    assert examples_doc.DOC.read_text(encoding="utf-8") == examples_doc.render(), (
        "docs/examples/transfer-and-outage.md is out of date: uv run python -m tests.examples_doc"
    )
