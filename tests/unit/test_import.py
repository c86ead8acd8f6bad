"""Scan import (CSV/XLSX of nip,waktu): good lines kept, bad lines reported by number."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from services.attendance.domain import WIB
from services.attendance.importer import (
    import_csv,
    import_file,
    import_xlsx,
    parse_import_time,
    scan_key,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
NIP = "199001012015011001"
NIP2 = "198503152010122002"
KNOWN = {NIP, NIP2}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def wib(y: int, mo: int, d: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(y, mo, d, hh, mm, ss, tzinfo=WIB)


# --- CSV --------------------------------------------------------------------------------


def test_valid_csv_with_header_aliases_and_crlf() -> None:
    result = import_csv(fixture("valid.csv"), KNOWN)
    assert result.rejected == [] and not result.fatal
    assert [(r.line_no, r.nip, r.ts) for r in result.rows] == [
        (2, NIP, wib(2026, 1, 5, 7, 31, 2)),
        (3, NIP2, wib(2026, 1, 5, 7, 44, 59)),  # 00:44:59 UTC + 7 h
        (4, NIP, wib(2026, 1, 5, 16, 2, 11)),
    ]
    assert result.rows[0].key == f"{NIP}@2026-01-05T00:31:02Z"  # 07:31:02 WIB - 7 h


def test_same_file_twice_yields_the_same_rows() -> None:
    assert import_csv(fixture("valid.csv"), KNOWN) == import_csv(fixture("valid.csv"), KNOWN)


def test_semicolon_bom_extra_column_and_day_first_times() -> None:
    result = import_csv(fixture("semicolon_bom_dayfirst.csv"), KNOWN)
    assert result.rejected == []
    assert [(r.nip, r.ts) for r in result.rows] == [
        (NIP, wib(2026, 1, 5, 7, 31, 0)),  # "05/01/2026 07.31": 5 January, day first
        (NIP2, wib(2026, 1, 5, 16, 0, 30)),
    ]


def test_wrong_columns_is_one_clear_error() -> None:
    result = import_csv(fixture("wrong_columns.csv"), KNOWN)
    assert result.fatal and result.rows == []
    assert len(result.rejected) == 1
    error = result.rejected[0]
    assert error.line_no == 1
    assert "kolom nip dan waktu tidak ditemukan" in error.reason
    assert "'nip,waktu'" in error.reason and "nama, jam" in error.reason


def test_header_with_only_nip() -> None:
    result = import_csv("NIP,jam\n199001012015011001,07:30\n", KNOWN)
    assert result.fatal and "kolom waktu tidak ditemukan" in result.rejected[0].reason


def test_header_with_duplicate_column() -> None:
    result = import_csv("nip,waktu,Waktu\n", KNOWN)
    assert result.fatal and "lebih dari sekali" in result.rejected[0].reason


def test_empty_file() -> None:
    result = import_csv(b"\n\n", KNOWN)
    assert result.fatal and "kosong" in result.rejected[0].reason


def test_broken_rows_each_reported_with_line_and_reason() -> None:
    result = import_csv(fixture("broken_rows.csv"), KNOWN)
    assert not result.fatal
    assert [(r.line_no, r.nip) for r in result.rows] == [(2, NIP), (12, NIP2)]
    reasons = {r.line_no: r.reason for r in result.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 9, 10, 11]  # line 8 is blank, skipped
    assert "bukan tanggal/jam yang ada" in reasons[3]
    assert "18 digit" in reasons[4]
    assert "tanggal lahir" in reasons[5]
    assert "tidak terdaftar" in reasons[6]
    assert reasons[7] == "duplikat dari baris 2 dalam berkas"
    assert "jumlah kolom 1, seharusnya 2" in reasons[9]
    assert "tidak valid" in reasons[10]
    assert "jumlah kolom 3, seharusnya 2" in reasons[11]


def test_without_known_nips_any_valid_nip_passes() -> None:
    result = import_csv(fixture("broken_rows.csv"), None)
    assert 6 in [r.line_no for r in result.rows]  # 197001012000011999 accepted


def test_duplicate_across_time_zones_is_still_a_duplicate() -> None:
    text = f"nip,waktu\n{NIP},2026-01-05 07:30:00\n{NIP},2026-01-05T00:30:00Z\n"
    result = import_csv(text, KNOWN)
    assert len(result.rows) == 1
    assert result.rejected[0].line_no == 3 and "baris 2" in result.rejected[0].reason


def test_trailing_empty_cells_are_tolerated() -> None:
    result = import_csv(f"nip,waktu\n{NIP},2026-01-05 07:30:00,,\n", KNOWN)
    assert len(result.rows) == 1 and result.rejected == []


def test_quoted_fields_and_cp1252_bytes() -> None:
    text = f'"nip","waktu","catatan"\n"{NIP}","2026-01-05 07:30:00","caf\xe9"\n'
    result = import_csv(text.encode("cp1252"), KNOWN)
    assert [r.nip for r in result.rows] == [NIP]


def test_fifty_thousand_lines() -> None:
    # 1,000 NIPs: birth dates 1990-01-01..1990-01-20, TMT 2015-01, male, sequence 001..050
    nips = [f"199001{d:02d}2015011{s:03d}" for d in range(1, 21) for s in range(1, 51)]
    base = datetime(2026, 1, 5, 7, 0, 0)
    lines = ["nip,waktu"]
    for i in range(50_000):
        ts = base + timedelta(seconds=i)  # a distinct second per line: no duplicates
        lines.append(f"{nips[i % len(nips)]},{ts:%Y-%m-%d %H:%M:%S}")
    result = import_csv("\n".join(lines) + "\n", set(nips))
    assert result.rejected == []
    assert len(result.rows) == 50_000
    assert result.rows[-1].line_no == 50_001  # header is line 1
    assert len({r.key for r in result.rows}) == 50_000


# --- XLSX -------------------------------------------------------------------------------


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_cells_of_each_kind() -> None:
    data = _xlsx(
        [
            ["Nip", "WAKTU SCAN", "Nama"],
            [NIP, datetime(2026, 1, 5, 7, 31, 2), "Budi"],  # datetime cell: WIB
            [NIP2, "2026-01-05 16:00:00", "Sari"],  # text cell
            # a number cell: stored (by Excel as by openpyxl) with 15 significant digits
            [int(NIP2), "2026-01-05 16:00:01", "Rusak"],
            [NIP2, "besok", "Sari"],
            [None, None, None],  # empty row: skipped
            [NIP2, None, "Sari"],
        ]
    )
    result = import_xlsx(data, KNOWN)
    assert [(r.line_no, r.nip, r.ts) for r in result.rows] == [
        (2, NIP, wib(2026, 1, 5, 7, 31, 2)),
        (3, NIP2, wib(2026, 1, 5, 16, 0, 0)),
    ]
    reasons = {r.line_no: r.reason for r in result.rejected}
    assert sorted(reasons) == [4, 5, 7]
    assert "format kolom NIP sebagai teks" in reasons[4]
    assert "tidak valid" in reasons[5]
    assert reasons[7] == "kolom waktu kosong"


def test_xlsx_wrong_columns() -> None:
    result = import_xlsx(_xlsx([["nomor", "jam"], [NIP, "07:30"]]), KNOWN)
    assert result.fatal and len(result.rejected) == 1
    assert "kolom nip dan waktu tidak ditemukan" in result.rejected[0].reason


def test_xlsx_not_a_workbook() -> None:
    result = import_xlsx(b"PK\x03\x04 this is not a workbook", KNOWN)
    assert result.fatal and "bukan XLSX" in result.rejected[0].reason


def test_xlsx_and_csv_agree_on_keys() -> None:
    csv_rows = import_csv(f"nip,waktu\n{NIP},2026-01-05 07:31:02\n", KNOWN).rows
    xlsx_rows = import_xlsx(_xlsx([["nip", "waktu"], [NIP, "2026-01-05 07:31:02"]]), KNOWN).rows
    assert [r.key for r in csv_rows] == [r.key for r in xlsx_rows]


# --- dispatch and helpers ---------------------------------------------------------------


def test_import_file_dispatch() -> None:
    assert len(import_file("scan.CSV", fixture("valid.csv"), KNOWN).rows) == 3
    assert (
        len(import_file("scan.xlsx", _xlsx([["nip", "waktu"], [NIP, "2026-01-05 07:00"]])).rows)
        == 1
    )
    other = import_file("scan.pdf", b"%PDF", KNOWN)
    assert other.fatal and "tidak didukung" in other.rejected[0].reason


def test_scan_key_is_deterministic() -> None:
    ts = wib(2026, 1, 5, 7, 30, 0)
    assert scan_key(NIP, ts) == scan_key(NIP, ts.astimezone(UTC)) == f"{NIP}@2026-01-05T00:30:00Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("31/01/2026 07:05:09", wib(2026, 1, 31, 7, 5, 9)),
        ("1-2-2026 7.05", wib(2026, 2, 1, 7, 5, 0)),  # day first: 1 February
        ("2026-01-05T07:30:00+07:00", wib(2026, 1, 5, 7, 30, 0)),
        (datetime(2026, 1, 5, 7, 30), wib(2026, 1, 5, 7, 30, 0)),
    ],
)
def test_parse_import_time(value: object, expected: datetime) -> None:
    assert parse_import_time(value) == expected


@pytest.mark.parametrize("value", ["31/02/2026 07:00", "2026/01/05 07:00", "", None])
def test_parse_import_time_refuses(value: object) -> None:
    with pytest.raises(ValueError):
        parse_import_time(value)
