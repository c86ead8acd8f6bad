"""docs/examples/transfer-and-outage.md: the worked example of issue 14, made by running
`sikerja simulate`'s code on the hand-made folder docs/examples/transfer-and-outage/ twice:
without its annulments.csv (the statement before BKPSDM acts) and with it (after).

Siti is transferred on Monday 16 November 2026 from Dinas Kesehatan (pagu 5.300.000) to
Dinas Pendidikan (pagu 6.200.000); on Thursday the 19th Dinas Pendidikan's devices are down,
nobody there can scan (so nobody can file that day's report), and BKPSDM annuls every cut of
that day for the OPD. Budi moves the other way on the same day: on the 19th he is in Dinas
Kesehatan, so the annulment does not name him (an OPD annulment follows the period on the
date, not the OPD of today). The expected values, worked out by hand from RULES.md, are in
tests/unit/test_example_transfer_outage.py.

Write the document with `uv run python -m tests.examples_doc` (the unit test checks that it
is current, and writes it when SIKERJA_WRITE_EXAMPLES_DOC=1).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

from services.kernel import bahasa
from services.kernel.calendar import WorkCalendar, parse_period
from services.kernel.employment import Period, period_on
from services.tpp.domain import Statement
from sikerja_cli.simulate import SimulationResult, _read_employees, run_simulation

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "transfer-and-outage"
DOC = ROOT / "docs" / "examples" / "transfer-and-outage.md"
PERIOD = "2026-11"
SITI, BUDI = "198703152010012004", "198106022008011003"
ANNULMENTS = "annulments.csv"


def simulate() -> tuple[SimulationResult, SimulationResult]:
    """The month before the annulment (the folder without annulments.csv) and after."""
    with tempfile.TemporaryDirectory() as scratch:
        before_dir = Path(scratch) / "before"
        shutil.copytree(EXAMPLE, before_dir, ignore=shutil.ignore_patterns(ANNULMENTS))
        before = run_simulation(before_dir, PERIOD)
    return before, run_simulation(EXAMPLE, PERIOD)


def _rp(amount: int) -> str:
    return bahasa.rupiah(amount)


def _lines(statement: Statement) -> list[str]:
    out = [
        "| date | code | percentage | amount | annulled amount | reason |",
        "|---|---|---:|---:|---:|---|",
    ]
    for ln in statement.lines:
        annulled = _rp(ln.annulled_amount) if ln.annulled_amount is not None else ""
        out.append(
            f"| {ln.day.isoformat()} | {ln.code} | {ln.percent.normalize():f} % "
            f"| {_rp(ln.amount)} | {annulled} | {ln.annulled_reason or ''} |"
        )
    return out


def _totals(s: Statement) -> list[str]:
    return [
        "",
        f"- pagu of the month {_rp(s.pagu)}: disiplin {_rp(s.discipline)}, "
        f"produktivitas {_rp(s.productivity)}",
        f"- attendance lines {_rp(s.attendance_deduction_uncapped)} "
        f"(cut: min with disiplin = {_rp(s.attendance_deduction)})",
        f"- LKH lines {_rp(s.productivity_deduction_uncapped)} "
        f"(cut: min with produktivitas = {_rp(s.productivity_deduction)}); "
        f"required report days {s.required_report_days}, approved {s.approved_report_days}",
        f"- **net {_rp(s.pagu)} − {_rp(s.attendance_deduction)} − "
        f"{_rp(s.productivity_deduction)} = {_rp(s.net)}**",
    ]


def _pagu_arithmetic(result: SimulationResult, nip: str) -> list[str]:
    """Σ day pagu ÷ working days, grouped by period (RULES.md "Employment within a month")."""
    working = _working()
    periods = _periods(nip)
    groups: dict[tuple[str, int], list[date]] = {}
    for day in working:
        found = period_on(periods, day)
        if found is not None:
            groups.setdefault((found.opd, found.tpp_pagu), []).append(day)
    terms = [f"{len(days)} × {_rp(pagu)}" for (_, pagu), days in groups.items()]
    total = sum(len(days) * pagu for (_, pagu), days in groups.items())
    rows = [
        f"- {opd}, {days[0]:%d}–{days[-1]:%d} {bahasa.periode(PERIOD)}: {len(days)} working "
        f"days at pagu {_rp(pagu)}"
        for (opd, pagu), days in groups.items()
    ]
    s = next(st for st in result.statements if st.nip == nip)
    return [
        *rows,
        f"- pagu of the month = ({' + '.join(terms)}) ÷ {len(working)} = {_rp(total)} ÷ "
        f"{len(working)} = {_rp(s.pagu)} (half up)",
        f"- disiplin = 40 % × {_rp(s.pagu)} = {_rp(s.discipline)} (half up); "
        f"produktivitas = {_rp(s.pagu)} − {_rp(s.discipline)} = {_rp(s.productivity)}",
        f"- one LKH line = produktivitas ÷ required report days = {_rp(s.productivity)} ÷ "
        f"{s.required_report_days} (half up); an attendance line is the pagu of its own date "
        "× its percentage",
    ]


def _periods(nip: str) -> list[Period]:
    periods, _ = _read_employees(EXAMPLE / "employees.csv")  # simulate's own reading
    return periods[nip]


def render() -> str:
    before, after = simulate()
    siti_before = next(s for s in before.statements if s.nip == SITI)
    siti_after = next(s for s in after.statements if s.nip == SITI)
    budi_after = next(s for s in after.statements if s.nip == BUDI)
    annulment = (EXAMPLE / ANNULMENTS).read_text(encoding="utf-8").strip()
    out = [
        "# Worked example: a transfer on the 16th, a device outage on the 19th",
        "",
        "Generated by `uv run python -m tests.examples_doc` from the hand-made folder",
        "[transfer-and-outage/](transfer-and-outage/) through `sikerja simulate`'s code; do not",
        "edit by hand (tests/unit/test_example_transfer_outage.py checks it is current and",
        "checks the figures against values worked out by hand from RULES.md). The same folder",
        "gives the same statements with",
        f"`./dev simulate --data docs/examples/transfer-and-outage --period {PERIOD} "
        "--format table`;",
        "the live services give what simulate gives (tests/integration/test_tpp_parity.py",
        "compares them on generated months full of transfers and annulments).",
        "",
        f"Siti Rahmawati (NIP {SITI}), {bahasa.periode(PERIOD)} (rule set "
        f"`{after.rules.name}`, {len(_working())} working days):",
        "",
        *_pagu_arithmetic(before, SITI),
        "",
        "Her month: late 37 minutes on the 5th (08:07:30), left 70 minutes early on the 10th",
        "(14:49:50), no scan on the 19th (her new office's devices were down, so she could not",
        "file that day's report either), her report of the 24th rejected; every other working",
        "day present on time with an approved report.",
        "",
        "An attendance line's percentage is of the pagu of its date; an LKH line's is of the",
        "produktivitas (100 ÷ 21 required report days).",
        "",
        f"## Before the annulment (statement in {before.employees[SITI].opd}, the OPD of her "
        "last active working day)",
        "",
        *_lines(siti_before),
        *_totals(siti_before),
        "",
        "## BKPSDM's annulment (annulments.csv)",
        "",
        "```",
        annulment,
        "```",
        "",
        "Every line of 2026-11-19 of whoever was in Dinas Pendidikan on that date. The 19th",
        "stays a required report day (annulling never changes them), so the LKH divisor and",
        "the other LKH line do not move.",
        "",
        "## After the annulment",
        "",
        *_lines(siti_after),
        *_totals(siti_after),
        "",
        f"Net change: {_rp(siti_before.net)} → {_rp(siti_after.net)} "
        f"(+{_rp(siti_after.net - siti_before.net)}).",
        "",
        "## The control: Budi Santoso, transferred the other way on the same day",
        "",
        f"NIP {BUDI}, Dinas Pendidikan until the 15th, Dinas Kesehatan from the 16th (pagu",
        "4.000.000 in both). He had no scan on the 19th either, but on that date he was in",
        "Dinas Kesehatan, whose devices worked: the OPD annulment does not name him and his",
        "lines stand.",
        "",
        *_lines(budi_after),
        *_totals(budi_after),
        "",
    ]
    return "\n".join(out)


def _working() -> list[date]:
    year, month = parse_period(PERIOD)
    return WorkCalendar.indonesia([year]).working_days_in_month(year, month)


def write() -> None:
    DOC.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    write()
    print(f"wrote {DOC.relative_to(ROOT)}")
