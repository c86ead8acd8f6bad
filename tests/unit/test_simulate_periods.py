"""`sikerja simulate` with employment periods (RULES.md "Employment within a month").

April 2026 with holidays.csv = Good Friday (3 April) only: 21 working days, 10 up to the
15th, 11 from the 16th. Andi moves from Dinas A (pagu 4,000,000) to Dinas B (pagu
6,000,000) on Thursday the 16th; worked by hand in tests/unit/test_tpp_employment.py:
pagu (10 x 4,000,000 + 11 x 6,000,000) / 21 = 5,047,619; TK 14th 200,000 (old pagu),
TL1 20th 15,000 and TK 22nd 300,000 (new pagu), LKH 144,218 x 2; net 4,244,183.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

from sikerja_cli.demo_data import generate
from sikerja_cli.simulate import render_csv, render_json, run_simulation

ANDI = "199001012015031001"
CITRA = "198505152010122002"
DEDI = "199203032019031004"
HEAD = "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu,aktif_mulai,aktif_sampai\n"
GOOD_FRIDAY = date(2026, 4, 3)
WORKING = [
    date(2026, 4, n)
    for n in range(1, 31)
    if date(2026, 4, n).weekday() < 5 and date(2026, 4, n) != GOOD_FRIDAY
]


def _city(tmp: Path, employees: str) -> Path:
    (tmp / "employees.csv").write_text(HEAD + employees, encoding="utf-8")
    (tmp / "holidays.csv").write_text("tanggal,keterangan\n2026-04-03,Wafat Isa Almasih\n")
    scans = ["nip,waktu"]
    reports = ["nip,tanggal,status"]
    for day in WORKING:
        if day not in (date(2026, 4, 14), date(2026, 4, 22)):  # TK days of Andi
            arrive = "08:00:00" if day == date(2026, 4, 20) else "07:25:00"  # 30 min late
            scans += [f"{ANDI},{day} {arrive}", f"{ANDI},{day} 16:05:00"]
            reports.append(f"{ANDI},{day},approved")
        if day >= date(2026, 4, 10):  # Dedi joins on Friday the 10th
            scans += [f"{DEDI},{day} 07:25:00", f"{DEDI},{day} 16:05:00"]
            reports.append(f"{DEDI},{day},approved")
    (tmp / "scans.csv").write_text("\n".join(scans) + "\n")
    (tmp / "reports.csv").write_text("\n".join(reports) + "\n")
    return tmp


ROWS = (
    f"{ANDI},Andi,Dinas A,Analis,9,,4000000,,2026-04-15\n"
    f"{ANDI},Andi,Dinas B,Analis,9,,6000000,2026-04-16,\n"
    f"{CITRA},Citra,Dinas A,Staf,7,,3000000,,2026-03-31\n"
    f"{DEDI},Dedi,Dinas B,Staf,7,,5000000,2026-04-10,\n"
)


def test_transfer_join_and_leave(tmp_path: Path) -> None:
    result = run_simulation(_city(tmp_path, ROWS), "2026-04")
    by_nip = {s["nip"]: s for s in json.loads(render_json(result))["statements"]}
    # Citra left before April: no statement.
    assert sorted(by_nip) == [ANDI, DEDI]
    andi = by_nip[ANDI]
    assert (andi["pagu"], andi["discipline"], andi["productivity"]) == (
        5_047_619,
        2_019_048,
        3_028_571,
    )
    assert [(ln["date"], ln["code"], ln["amount"]) for ln in andi["lines"]] == [
        ("2026-04-14", "LKH", 144_218),
        ("2026-04-14", "TK", 200_000),
        ("2026-04-20", "TL1", 15_000),
        ("2026-04-22", "LKH", 144_218),
        ("2026-04-22", "TK", 300_000),
    ]
    assert andi["net"] == 4_244_183
    # Dedi: 15 active working days, no scan before the 10th and no line for them:
    # pagu 15 x 5,000,000 / 21 = 3,571,428.57 -> 3,571,429, nothing deducted.
    assert by_nip[DEDI]["lines"] == []
    assert by_nip[DEDI]["net"] == 3_571_429
    # The statement belongs to the OPD of the last active working day.
    rows = list(csv.DictReader(io.StringIO(render_csv(result))))
    assert {r["nip"]: r["opd"] for r in rows} == {ANDI: "Dinas B", DEDI: "Dinas B"}
    assert result.rejected_inputs == []


def test_an_overlapping_row_is_refused_alone(tmp_path: Path) -> None:
    # Line 6: Andi again from the 10th, inside both of his periods.
    rows = ROWS + f"{ANDI},Andi,Dinas C,Analis,9,,9000000,2026-04-10,\n"
    result = run_simulation(_city(tmp_path, rows), "2026-04")
    assert [(r.file, r.line) for r in result.rejected_inputs] == [("employees.csv", 6)]
    assert "tumpang tindih" in result.rejected_inputs[0].reason
    by_nip = {s.nip: s for s in result.statements}
    assert by_nip[ANDI].net == 4_244_183  # his good rows still count
    assert result.employees[ANDI].opd == "Dinas B"


def test_a_file_without_period_columns_is_one_open_period(tmp_path: Path) -> None:
    data = _city(tmp_path, ROWS)
    (data / "employees.csv").write_text(
        "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu\n"
        f"{ANDI},Andi,Dinas B,Analis,9,,6000000\n"
    )
    result = run_simulation(data, "2026-04")
    (andi,) = result.statements
    # Pagu 6,000,000 every day: TK 300,000 x 2, TL1 15,000; LKH 3,600,000 / 21 = 171,428.57
    # -> 171,429 x 2; net 6,000,000 - 615,000 - 342,858 = 5,042,142.
    assert andi.pagu == 6_000_000
    assert andi.net == 5_042_142
    assert sum(1 for r in result.rejected_inputs if r.file == "scans.csv") > 0  # Dedi's


def test_a_generated_city_with_changes(tmp_path: Path) -> None:
    # The parity test's city with 40% of the ASN changing within October 2026.
    counts = generate(tmp_path, employees=60, opds=3, period="2026-10", seed=5, changes=0.4)
    assert counts["changed"] > 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "employees.csv").read_text())))
    per_nip: dict[str, int] = {}
    for r in rows:
        per_nip[r["nip"]] = per_nip.get(r["nip"], 0) + 1
    assert max(per_nip.values()) == 2
    assert any(r["aktif_mulai"] for r in rows) and any(r["aktif_sampai"] for r in rows)
    result = run_simulation(tmp_path, "2026-10")
    # Every change falls on a working day inside the month: everyone has a statement, and
    # the generator wrote nothing the rules refuse (no scan, report or absence off-period).
    assert result.rejected_inputs == []
    assert len(result.statements) == 60
    single = {r["nip"]: int(r["tpp_pagu"]) for r in rows if per_nip[r["nip"]] == 1}
    partial = [
        s
        for s in result.statements
        if s.nip not in single
        # every row says aktif_mulai (the month's first day, at the least): a change starts later
        or any(
            r["aktif_mulai"] not in ("", "2026-10-01") or r["aktif_sampai"]
            for r in rows
            if r["nip"] == s.nip
        )
    ]
    assert len(partial) == counts["changed"]
    assert any(
        s.pagu not in {int(r["tpp_pagu"]) for r in rows if r["nip"] == s.nip} for s in partial
    )
    assert all(0 <= s.net <= s.pagu for s in result.statements)
