"""`sikerja simulate` on small fixture directories (tests/fixtures/simulate/).

Fixture "happy", period 2025-10 (1-3 Oct are Wed-Fri; October 2025 has no national
holiday), rule set bekasi-perwali-69-2019 chosen by date:

Andi 199001012015031001, pagu 5,000,000 (disiplin 2,000,000, produktivitas 3,000,000),
cuti tahunan 6-31 Oct:
  1 Oct 07:45:59-16:05 -> late 15, early 0: no line; report approved
  2 Oct 01:07Z (= 08:07 WIB), 12:10, 15:00 -> late 37 TL1 12,500; early 60 PSW1 12,500;
        reports rejected + approved -> approved
  3 Oct only 13:00 (after the 12:00 cutoff: a check-out) -> no check-in TL4 75,000;
        early 180 PSW3 50,000; report pending -> LKH 3,000,000 / 3 = 1,000,000
  attendance 150,000; net 5,000,000 - 150,000 - 1,000,000 = 3,850,000
Budi 198505152010122002, pagu 4,000,001 (disiplin 1,600,000.4 -> 1,600,000,
produktivitas 2,400,001), cuti sakit 6-31 Oct:
  1 Oct dinas luar, no scan: report approved (allowed by dinas luar)
  2 Oct izin tidak sah: ITS 2% = 80,000.02 -> 80,000; report approved but no scan and
        no dinas luar -> refused (reports.csv line 8) -> LKH
  3 Oct nothing: TK 5% = 200,000.05 -> 200,000; LKH
  LKH 2,400,001 / 3 = 800,000.33 -> 800,000 each, 1,600,000
  net 4,000,001 - 280,000 - 1,600,000 = 2,120,001
Rejected: reports.csv line 8; scans.csv line 9 (NIP not in employees.csv).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from services.activity.routes import imports as activity_imports
from services.attendance import domain as attendance_domain
from services.attendance import importer
from services.kernel.ruleset import RULESETS_DIR
from services.siasn import domain as siasn_domain
from sikerja_cli.main import app
from sikerja_cli.simulate import (
    InputError,
    SimulationResult,
    render_json,
    render_table,
    run_simulation,
    write_xlsx,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "simulate"
ANDI = "199001012015031001"
BUDI = "198505152010122002"
EMPLOYEES_HEAD = "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu\n"


def _by_nip(result: SimulationResult) -> dict[str, dict]:
    return {s["nip"]: s for s in json.loads(render_json(result))["statements"]}


def _lines(statement: dict) -> list[tuple[str, str, int]]:
    return [(ln["date"], ln["code"], ln["amount"]) for ln in statement["lines"]]


def test_happy_path_json() -> None:
    result = run_simulation(FIXTURES / "happy", "2025-10")
    doc = json.loads(render_json(result))
    assert doc["period"] == "2025-10"
    assert doc["rules"] == "bekasi-perwali-69-2019"
    assert [s["nip"] for s in doc["statements"]] == [BUDI, ANDI]  # sorted by NIP
    andi, budi = doc["statements"][1], doc["statements"][0]
    assert _lines(andi) == [
        ("2025-10-02", "PSW1", 12_500),
        ("2025-10-02", "TL1", 12_500),
        ("2025-10-03", "LKH", 1_000_000),
        ("2025-10-03", "PSW3", 50_000),
        ("2025-10-03", "TL4", 75_000),
    ]
    assert (andi["attendance_deduction"], andi["productivity_deduction"], andi["net"]) == (
        150_000,
        1_000_000,
        3_850_000,
    )
    assert andi["lines"][0]["percent"] == "0.25"
    assert _lines(budi) == [
        ("2025-10-02", "ITS", 80_000),
        ("2025-10-02", "LKH", 800_000),
        ("2025-10-03", "LKH", 800_000),
        ("2025-10-03", "TK", 200_000),
    ]
    assert (budi["discipline"], budi["productivity"]) == (1_600_000, 2_400_001)
    assert budi["net"] == 2_120_001
    assert set(budi) == {
        "nip",
        "pagu",
        "discipline",
        "productivity",
        "attendance_deduction",
        "productivity_deduction",
        "net",
        "lines",
    }


def test_report_without_scan_rejected_and_unknown_nip() -> None:
    result = run_simulation(FIXTURES / "happy", "2025-10")
    rejected = json.loads(render_json(result))["rejected_inputs"]
    assert [(r["file"], r["line"]) for r in rejected] == [("reports.csv", 8), ("scans.csv", 9)]
    assert "tidak ada sidik jari atau dinas luar" in rejected[0]["reason"]
    assert "200001012022011003" in rejected[1]["reason"]


def test_other_ruleset_by_name_and_by_path() -> None:
    # contoh-daerah-lain: 08:00-16:30, cutoff 12:30, disiplin 30%. Andi:
    # 1 Oct out 16:05 -> early 25: PSW1 0.5% = 25,000 (07:45:59 is not late)
    # 2 Oct in 08:07 -> late 7: TL1 0.5% = 25,000; out 15:00 -> early 90: PSW2 1% = 50,000
    # 3 Oct 13:00 (after 12:30: check-out) -> TL4 1.5% = 75,000; early 210: PSW4 75,000
    # attendance 250,000; LKH 3,500,000 / 3 = 1,166,666.67 -> 1,166,667
    # net 5,000,000 - 250,000 - 1,166,667 = 3,583,333
    by_name = run_simulation(FIXTURES / "happy", "2025-10", "contoh-daerah-lain")
    andi = _by_nip(by_name)[ANDI]
    assert _lines(andi) == [
        ("2025-10-01", "PSW1", 25_000),
        ("2025-10-02", "PSW2", 50_000),
        ("2025-10-02", "TL1", 25_000),
        ("2025-10-03", "LKH", 1_166_667),
        ("2025-10-03", "PSW4", 75_000),
        ("2025-10-03", "TL4", 75_000),
    ]
    assert andi["net"] == 3_583_333
    by_path = run_simulation(
        FIXTURES / "happy", "2025-10", str(RULESETS_DIR / "contoh-daerah-lain.yaml")
    )
    assert render_json(by_path) == render_json(by_name)


def test_holidays_csv_makes_listed_weekdays_non_working() -> None:
    # Same data, holidays.csv lists 2 Oct. Andi: 3 Oct TL4 75,000 + PSW3 50,000 = 125,000;
    # required 1 and 3 Oct, approved 1 Oct -> LKH 3,000,000 / 2 = 1,500,000;
    # net 5,000,000 - 125,000 - 1,500,000 = 3,375,000.
    # Budi: ITS of 2 Oct falls on the holiday: gone. TK 3 Oct 200,000; required 1 and 3 Oct
    # -> LKH 2,400,001 / 2 = 1,200,000.5 -> 1,200,001 (half up);
    # net 4,000,001 - 200,000 - 1,200,001 = 2,600,000.
    statements = _by_nip(run_simulation(FIXTURES / "holidays", "2025-10"))
    assert statements[ANDI]["net"] == 3_375_000
    assert _lines(statements[BUDI]) == [
        ("2025-10-03", "LKH", 1_200_001),
        ("2025-10-03", "TK", 200_000),
    ]
    assert statements[BUDI]["net"] == 2_600_000


def _december(tmp: Path, holidays: str | None) -> Path:
    # Cuti covering all of December except the 25th; no scan at all.
    (tmp / "employees.csv").write_text(
        EMPLOYEES_HEAD + f"{ANDI},Andi,OPD,Staf,7,,5000000\n", encoding="utf-8"
    )
    (tmp / "scans.csv").write_text("nip,waktu\n", encoding="utf-8")
    (tmp / "absences.csv").write_text(
        "nip,mulai,selesai,jenis\n"
        f"{ANDI},2025-12-01,2025-12-24,cuti_tahunan\n"
        f"{ANDI},2025-12-26,2025-12-31,cuti_tahunan\n",
        encoding="utf-8",
    )
    if holidays is not None:
        (tmp / "holidays.csv").write_text(holidays, encoding="utf-8")
    return tmp


def test_without_holidays_csv_national_calendar(tmp_path: Path) -> None:
    # 25 Dec 2025 (Thursday) is Christmas in the national calendar: no line, net = pagu.
    result = run_simulation(_december(tmp_path, None), "2025-12")
    assert result.statements[0].lines == ()
    assert result.statements[0].net == 5_000_000


def test_holidays_csv_replaces_national_calendar(tmp_path: Path) -> None:
    # holidays.csv lists only 26 Dec: 25 Dec becomes a working day with no scan ->
    # TK 5% = 250,000 and LKH 3,000,000 / 1 = 3,000,000; net 5,000,000 - 250,000 - 3,000,000
    data = _december(tmp_path, "tanggal,keterangan\n2025-12-26,Cuti bersama\n")
    s = run_simulation(data, "2025-12").statements[0]
    assert [(ln.day, ln.code, ln.amount) for ln in s.lines] == [
        (date(2025, 12, 25), "LKH", 3_000_000),
        (date(2025, 12, 25), "TK", 250_000),
    ]
    assert s.net == 1_750_000


# -- malformed files -------------------------------------------------------------------------


def test_bad_scan_time_names_file_and_line() -> None:
    with pytest.raises(InputError) as err:
        run_simulation(FIXTURES / "bad-scan-time", "2025-10")
    assert (err.value.file, err.value.line) == ("scans.csv", 3)
    assert "scans.csv, baris 3" in str(err.value)


def _copy_happy(tmp: Path) -> Path:
    for f in (FIXTURES / "happy").iterdir():
        (tmp / f.name).write_bytes(f.read_bytes())
    return tmp


@pytest.mark.parametrize(
    ("file", "content", "line", "words"),
    [
        ("employees.csv", "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip\n", 1, "tpp_pagu"),
        ("scans.csv", "nip,time\n", 1, "waktu"),
        ("employees.csv", EMPLOYEES_HEAD + f"{ANDI},A,O,J,7,,5.000.000\n", 2, "tpp_pagu"),
        ("employees.csv", EMPLOYEES_HEAD + "12345,A,O,J,7,,5000000\n", 2, "18 digit"),
        (
            "employees.csv",
            EMPLOYEES_HEAD + f"{ANDI},A,O,J,7,,1\n{ANDI},B,O,J,7,,2\n",
            3,
            "bertumpang tindih",
        ),
        ("employees.csv", EMPLOYEES_HEAD + f"{ANDI},A,O\n", 2, "kolom"),
        (
            "absences.csv",
            f"nip,mulai,selesai,jenis\n{ANDI},2025-10-01,2025-10-02,libur\n",
            2,
            "libur",
        ),
        (
            "absences.csv",
            f"nip,mulai,selesai,jenis\n{ANDI},2025-10-05,2025-10-02,cuti_besar\n",
            2,
            "selesai",
        ),
        (
            "absences.csv",
            f"nip,mulai,selesai,jenis\n{ANDI},1 Oktober 2025,2025-10-02,cuti_besar\n",
            2,
            "mulai",
        ),
        (
            "reports.csv",
            f"nip,tanggal,status\n{ANDI},2025-10-01,approved\n{ANDI},2025-10-02,ok\n",
            3,
            "status harus",
        ),
        ("holidays.csv", "tanggal,keterangan\n2025-10-32,x\n", 2, "tanggal"),
        ("scans.csv", "", 1, "kosong"),
    ],
)
def test_malformed_file_names_file_and_line(
    tmp_path: Path, file: str, content: str, line: int, words: str
) -> None:
    data = _copy_happy(tmp_path)
    (data / file).write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        run_simulation(data, "2025-10")
    assert (err.value.file, err.value.line) == (file, line)
    assert words in str(err.value)


def test_missing_required_file(tmp_path: Path) -> None:
    data = _copy_happy(tmp_path)
    (data / "employees.csv").unlink()
    with pytest.raises(InputError) as err:
        run_simulation(data, "2025-10")
    assert err.value.file == "employees.csv"
    assert "wajib" in str(err.value)


def test_non_utf8_line_found(tmp_path: Path) -> None:
    data = _copy_happy(tmp_path)
    text = f"nip,waktu\n{ANDI},2025-10-01 07:45:59\n".encode()
    (data / "scans.csv").write_bytes(text + b"\xff\xfe,2025-10-01 08:00:00\n")
    with pytest.raises(InputError) as err:
        run_simulation(data, "2025-10")
    assert (err.value.file, err.value.line) == ("scans.csv", 3)
    assert "UTF-8" in str(err.value)


def test_bom_and_extra_columns_accepted(tmp_path: Path) -> None:
    data = _copy_happy(tmp_path)
    scans = (data / "scans.csv").read_text(encoding="utf-8").splitlines()
    rows = ["perangkat," + scans[0]] + [f"SN1,{row}" for row in scans[1:]]
    (data / "scans.csv").write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")
    assert _by_nip(run_simulation(data, "2025-10"))[ANDI]["net"] == 3_850_000


def test_bad_period() -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        run_simulation(FIXTURES / "happy", "Oktober")


# -- renderings ------------------------------------------------------------------------------


def test_render_table() -> None:
    table = render_table(run_simulation(FIXTURES / "happy", "2025-10"))
    assert "bekasi-perwali-69-2019" in table
    assert "3.850.000" in table and "2.120.001" in table
    # total net: 3,850,000 + 2,120,001 = 5,970,001
    total = next(line for line in table.splitlines() if line.startswith("JUMLAH"))
    assert total.endswith("5.970.001")
    assert "reports.csv, baris 8" in table


def test_write_xlsx(tmp_path: Path) -> None:
    out = tmp_path / "tpp.xlsx"
    write_xlsx(run_simulation(FIXTURES / "happy", "2025-10"), out)
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames == ["Ringkasan", "Rincian", "Input Ditolak"]
    summary = list(wb["Ringkasan"].iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[8]) for r in summary] == [(BUDI, 2_120_001), (ANDI, 3_850_000)]
    detail = list(wb["Rincian"].iter_rows(min_row=2, values_only=True))
    assert len(detail) == 9  # 4 lines of Budi + 5 of Andi
    refused = list(wb["Input Ditolak"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1]) for r in refused] == [("reports.csv", 8), ("scans.csv", 9)]


# -- a month without data is said, not silently computed as TK -----------------------------

CHANDRA = "199203032018011003"


def test_a_period_without_scans_is_warned() -> None:
    # The happy fixture holds October 2025 only; November is all TK for lack of data.
    result = run_simulation(FIXTURES / "happy", "2025-11")
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert "2025-11" in warning and "tidak ada pindaian" in warning
    assert "2025-10" in warning  # the months the file does hold
    assert json.loads(render_json(result))["warnings"] == [warning]


def test_employees_without_any_data_are_warned(tmp_path: Path) -> None:
    data = _copy_happy(tmp_path)
    with (data / "employees.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"{CHANDRA},Chandra,Dinas Kominfo,Arsiparis,6,,3000000\n")
    result = run_simulation(data, "2025-10")
    assert len(result.warnings) == 1
    assert "1 dari 3 pegawai" in result.warnings[0] and CHANDRA in result.warnings[0]
    assert ANDI not in result.warnings[0] and BUDI not in result.warnings[0]


def test_a_month_with_data_has_no_warning() -> None:
    assert run_simulation(FIXTURES / "happy", "2025-10").warnings == []


def test_cli_warns_on_stderr(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["simulate", "--data", str(FIXTURES / "happy"), "--period", "2025-11"]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("peringatan: ") and "2025-11" in result.stderr
    assert json.loads(result.stdout)["warnings"]


# -- output formats -----------------------------------------------------------------------


def test_csv_format_is_csv() -> None:
    result = CliRunner().invoke(
        app,
        ["simulate", "--data", str(FIXTURES / "happy"), "--period", "2025-10", "--format", "csv"],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:3] == ["nip", "nama", "opd"] and "tpp_bersih" in rows[0]
    by_nip = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert set(by_nip) == {ANDI, BUDI}
    assert by_nip[ANDI]["tpp_bersih"] == "3850000"
    assert by_nip[BUDI]["nama"] == "Budi Lestari"
    assert by_nip[BUDI]["pagu"] == "4000001"


def test_unknown_format_is_refused() -> None:
    result = CliRunner().invoke(
        app,
        ["simulate", "--data", str(FIXTURES / "happy"), "--period", "2025-10", "--format", "xml"],
    )
    assert result.exit_code == 2
    assert "xml" in result.stderr


def test_xlsx_percent_is_a_number(tmp_path: Path) -> None:
    out = tmp_path / "tpp.xlsx"
    write_xlsx(run_simulation(FIXTURES / "happy", "2025-10"), out)
    sheet = load_workbook(out)["Rincian"]
    assert sheet.cell(1, 4).value == "Persen"
    # Andi's TL1 of 2 October: 0.25% of the pagu (12,500 of 5,000,000).
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == ANDI and r[2].value == "TL1")
    assert isinstance(row[3].value, int | float | Decimal)
    assert row[3].value == pytest.approx(0.0025)
    assert "%" in row[3].number_format


# -- one wording per refusal: simulate refuses what the live imports refuse, in their words --


def _simulate_refusal(tmp_path: Path, file: str, content: str) -> str:
    data = _copy_happy(tmp_path)
    (data / file).write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        run_simulation(data, "2025-10")
    return err.value.message


@pytest.mark.parametrize(
    ("mulai", "selesai", "jenis"),
    [
        ("2025-10-01", "2025-10-01", "libur"),
        ("1-13-2025", "2025-10-02", "cuti_besar"),
        ("2025-10-05", "2025-10-02", "cuti_besar"),
        ("", "2025-10-02", "cuti_besar"),
    ],
)
def test_absence_refusals_are_the_live_ones(
    tmp_path: Path, mulai: str, selesai: str, jenis: str
) -> None:
    with pytest.raises(ValueError) as live:
        attendance_domain.parse_absence(ANDI, mulai, selesai, jenis, 1100)
    content = f"nip,mulai,selesai,jenis\n{ANDI},{mulai},{selesai},{jenis}\n"
    assert _simulate_refusal(tmp_path, "absences.csv", content) == str(live.value)


def test_absences_read_as_the_live_import_reads_them(tmp_path: Path) -> None:
    # The live import takes day-first dates and any case of the jenis: so does simulate.
    data = _copy_happy(tmp_path)
    text = (data / "absences.csv").read_text(encoding="utf-8")
    text = text.replace("2025-10-06,2025-10-31,cuti_tahunan", "06/10/2025,31/10/2025,Cuti_Tahunan")
    (data / "absences.csv").write_text(text, encoding="utf-8")
    assert _by_nip(run_simulation(data, "2025-10"))[ANDI]["net"] == 3_850_000


@pytest.mark.parametrize("waktu", ["2025-10-01 25:00:00", "kemarin", "31/09/2025 07:00", ""])
def test_scan_time_refusals_are_the_live_ones(tmp_path: Path, waktu: str) -> None:
    live = importer.import_csv(f"nip,waktu\n{ANDI},{waktu}\n")
    assert [r.line_no for r in live.rejected] == [2]
    content = f"nip,waktu\n{ANDI},{waktu}\n"
    assert _simulate_refusal(tmp_path, "scans.csv", content) == live.rejected[0].reason


def test_scan_times_read_as_the_live_import_reads_them(tmp_path: Path) -> None:
    data = _copy_happy(tmp_path)
    text = (data / "scans.csv").read_text(encoding="utf-8")
    text = text.replace("2025-10-01 07:45:59", "01/10/2025 07:45:59")
    (data / "scans.csv").write_text(text, encoding="utf-8")
    assert _by_nip(run_simulation(data, "2025-10"))[ANDI]["net"] == 3_850_000


def test_unknown_nip_refusal_is_the_live_one() -> None:
    stranger = "200001012022011003"  # scans.csv line 9
    live = importer.import_csv(f"nip,waktu\n{stranger},2025-10-01 07:30:00\n", known_nips={ANDI})
    refused = run_simulation(FIXTURES / "happy", "2025-10").rejected_inputs
    assert [r.reason for r in refused if r.file == "scans.csv"] == [live.rejected[0].reason]


@pytest.mark.parametrize(("tanggal", "status"), [("2025-10-01", "ok"), ("1 Oktober", "approved")])
def test_report_refusals_are_the_live_ones(tmp_path: Path, tanggal: str, status: str) -> None:
    # activity's migration import (POST /reports/import) judges the same file.
    content = f"nip,tanggal,status\n{ANDI},{tanggal},{status}\n"
    _, live = activity_imports._parse_import(content, date(2026, 1, 1))
    assert _simulate_refusal(tmp_path, "reports.csv", content) == live[0]["reason"]


def test_unfileable_report_refusal_is_the_live_one() -> None:
    refused = run_simulation(FIXTURES / "happy", "2025-10").rejected_inputs
    reason = next(r.reason for r in refused if r.file == "reports.csv")
    # The live import's refusal (services/activity/api.py, import_reports), with the day named.
    assert reason == (
        f"laporan NIP {BUDI} tanggal 2025-10-02: "
        "tidak ada sidik jari atau dinas luar pada tanggal itu"
    )


@pytest.mark.parametrize(
    "row",
    [
        "12345,A,O,J,7,,5000000",
        f"{ANDI},A,O,J,7,,5.000.000",
        f"{ANDI},A,O,J,20,,5000000",
        f"{ANDI},,O,J,7,,5000000",
        f"{ANDI},A,O,J,7,{ANDI},5000000",
        f"{ANDI},A,O,J,7,123,5000000",
        f"{ANDI},A,O,J,7,,1\n{ANDI},B,O,J,7,,2",
    ],
)
def test_employee_refusals_are_the_live_ones(tmp_path: Path, row: str) -> None:
    # siasn's import (POST /employees/import) reads the same employees.csv.
    content = EMPLOYEES_HEAD + row + "\n"
    _, live = siasn_domain.parse_employees(content)
    assert live
    assert _simulate_refusal(tmp_path, "employees.csv", content) == live[0].reason
