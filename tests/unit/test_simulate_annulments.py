"""`sikerja simulate` with annulments.csv (RULES.md "Annulled cuts"): the happy fixture of
tests/unit/test_simulate.py plus BKPSDM's annulments, the arithmetic by hand.

Without annulments (test_simulate.py): Andi (pagu 5.000.000) has PSW1 12.500 and TL1 12.500
on 2 Oct, TL4 75.000, PSW3 50.000 and LKH 1.000.000 on 3 Oct: net 3.850.000. Budi (pagu
4.000.001) has ITS 80.000 and LKH 800.000 on 2 Oct, TK 200.000 and LKH 800.000 on 3 Oct:
net 2.120.001.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from openpyxl import load_workbook

from sikerja_cli.simulate import render_json, run_simulation, write_xlsx

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "simulate"
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "transfer-and-outage"
ANDI = "199001012015031001"
BUDI = "198505152010122002"

ANNULMENTS = f"""nip,opd,tanggal,kode,alasan
{ANDI},,2025-10-03,TL4,Mesin sidik jari rusak
,Dinas Kominfo,2025-10-02,,Listrik padam
{ANDI},Dinas Kominfo,2025-10-02,,keduanya
200001012022011003,,2025-10-02,,tidak terdaftar
,Dinas Fiktif,2025-10-02,,tanpa pegawai
{ANDI},,2025-10-02,XX,kode salah
{ANDI},,2025-13-02,,tanggal salah
{ANDI},,2025-10-03
{ANDI},,2025-11-03,,bulan lain: tidak dihitung
"""


def test_annulments_csv_annuls_lines_and_reports_bad_lines(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "happy", data)
    (data / "annulments.csv").write_text(ANNULMENTS, encoding="utf-8")
    doc = json.loads(render_json(run_simulation(data, "2025-10")))
    by_nip = {s["nip"]: s for s in doc["statements"]}

    andi = by_nip[ANDI]
    annulled = {(ln["date"], ln["code"]): ln for ln in andi["lines"] if "annulled_amount" in ln}
    assert {k: (v["amount"], v["annulled_amount"]) for k, v in annulled.items()} == {
        ("2025-10-02", "PSW1"): (0, 12_500),
        ("2025-10-02", "TL1"): (0, 12_500),
        ("2025-10-03", "TL4"): (0, 75_000),
    }
    assert annulled[("2025-10-03", "TL4")]["annulled_reason"] == "Mesin sidik jari rusak"
    assert annulled[("2025-10-02", "TL1")]["annulled_reason"] == "Listrik padam"
    # standing: PSW3 50.000 and LKH 1.000.000 -> 5.000.000 - 50.000 - 1.000.000
    assert (andi["attendance_deduction"], andi["net"]) == (50_000, 3_950_000)

    budi = by_nip[BUDI]
    assert [(ln["date"], ln["code"], ln["amount"]) for ln in budi["lines"]] == [
        ("2025-10-02", "ITS", 0),
        ("2025-10-02", "LKH", 0),
        ("2025-10-03", "LKH", 800_000),
        ("2025-10-03", "TK", 200_000),
    ]
    # 4.000.001 - 200.000 - 800.000
    assert budi["net"] == 3_000_001

    bad = [
        (r["line"], r["reason"]) for r in doc["rejected_inputs"] if r["file"] == "annulments.csv"
    ]
    assert [line for line, _ in bad] == [4, 5, 6, 7, 8, 9]
    reasons = dict(bad)
    assert "tepat satu" in reasons[4]
    assert "tidak terdaftar" in reasons[5]
    assert "Dinas Fiktif" in reasons[6]
    assert "XX" in reasons[7]
    assert "YYYY-MM-DD" in reasons[8]
    assert "kolom" in reasons[9]


def test_without_annulments_csv_nothing_changes(tmp_path: Path) -> None:
    doc = json.loads(render_json(run_simulation(FIXTURES / "happy", "2025-10")))
    assert all("annulled_amount" not in ln for s in doc["statements"] for ln in s["lines"])


def test_the_xlsx_detail_names_the_annulled_amount_and_reason(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "happy", data)
    (data / "annulments.csv").write_text(ANNULMENTS, encoding="utf-8")
    out = tmp_path / "tpp.xlsx"
    write_xlsx(run_simulation(data, "2025-10"), out)
    rows = list(load_workbook(out)["Rincian"].iter_rows(min_row=2, values_only=True))
    tl4 = next(r for r in rows if r[0] == ANDI and r[2] == "TL4")
    assert (tl4[4], tl4[6], tl4[7]) == (0, 75_000, "Mesin sidik jari rusak")


def test_an_annulment_naming_nobody_active_on_its_date_is_refused_as_live(tmp_path: Path) -> None:
    # RULES.md "Annulled cuts": an annulment names a date and one NIP or one OPD (whoever's
    # period on that date is in it). The live tpp refuses one that names nobody active on
    # its date (422 not_active / opd_empty, services/tpp/annul.py); simulate reads
    # annulments.csv as the live form, so it lists such a line as a rejected input.
    # Dewi joins Dinas Sosial on Mon 16 Nov 2026 (the worked example's folder plus her row).
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data)
    dewi = "199408172019032005"
    with (data / "employees.csv").open("a", encoding="utf-8") as rows:
        rows.write(f"{dewi},Dewi Lestari,Dinas Sosial,Pengelola Data,6,,4000000,2026-11-16,\n")
    (data / "annulments.csv").write_text(
        "nip,opd,tanggal,kode,alasan\n"
        f"{dewi},,2026-11-10,,sebelum masuk\n"
        ",Dinas Sosial,2026-11-13,,belum ada pegawai\n"
        f"{dewi},,2026-11-16,TK,sesudah masuk\n"
        ",Dinas Sosial,2026-11-17,,sesudah masuk\n",
        encoding="utf-8",
    )
    result = run_simulation(data, "2026-11")
    assert [(r.file, r.line, r.reason) for r in result.rejected_inputs] == [
        (
            "annulments.csv",
            2,
            f"NIP {dewi} tidak tercatat sebagai pegawai aktif pada tanggal 10-11-2026",
        ),
        ("annulments.csv", 3, "tidak ada pegawai OPD 'Dinas Sosial' pada tanggal 13-11-2026"),
    ]
    # the other two stand: her TK of the 16th (no scan) and every line of the 17th
    lines = {s.nip: s for s in result.statements}[dewi].lines
    annulled = [(ln.day.day, ln.code, ln.annulled_reason) for ln in lines if ln.annulled_amount]
    assert annulled == [
        (16, "TK", "sesudah masuk"),
        (17, "LKH", "sesudah masuk"),
        (17, "TK", "sesudah masuk"),
    ]
