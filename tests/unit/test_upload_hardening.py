"""Hardened uploads (issue 10): XLSX decompression bombs refused before openpyxl opens them,
a quote left open spoils only its own CSV line, binary content named by what it looks like
instead of echoed, and stored documents named safely for download."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl import Workbook

from services.attendance.importer import import_csv, import_xlsx
from services.kernel import uploads
from services.siasn.domain import parse_employees

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
NIP = "199001012015011001"
NIP2 = "198503152010122002"
KNOWN = {NIP, NIP2}


def workbook(*rows: tuple[object, ...]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def with_member(xlsx: bytes, name: str, size: int) -> bytes:
    """`xlsx` with member `name` replaced by `size` bytes of one repeated letter (deflated:
    a few KB on the wire), written in chunks so the test itself stays small."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info))
        with dst.open(name, "w") as member:
            chunk = b"A" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return out.getvalue()


# --- 1. decompression bombs -------------------------------------------------------------


def test_an_xlsx_whose_members_unpack_far_beyond_its_size_is_refused() -> None:
    good = workbook(("nip", "waktu"), (NIP, "2026-01-05 07:31:02"))
    bomb = with_member(good, "xl/worksheets/sheet1.xml", 20 * 1024 * 1024)
    assert len(bomb) < 200 * 1024  # small on the wire
    result = import_xlsx(bomb, KNOWN)
    assert result.fatal
    reason = result.rejected[0].reason
    assert "20 MB" in reason and "sheet1.xml" in reason  # says what and how big
    # An ordinary workbook still passes the same guard.
    assert not import_xlsx(good, KNOWN).fatal


def test_the_guard_counts_the_declared_total_of_all_members() -> None:
    good = workbook(("nip", "waktu"), (NIP, "2026-01-05 07:31:02"))
    assert uploads.xlsx_problem(good) is None
    assert uploads.xlsx_problem(good, max_total=1024) is not None
    assert "bukan XLSX" in (uploads.xlsx_problem(b"nip,waktu\n") or "")


# --- 2. a quote left open --------------------------------------------------------------


def test_an_unterminated_quote_blames_its_own_line_and_keeps_the_next_ones() -> None:
    result = import_csv((FIXTURES / "unterminated_quote.csv").read_bytes(), KNOWN)
    assert not result.fatal
    assert [r.line_no for r in result.rows] == [2, 4, 5]
    assert [r.line_no for r in result.rejected] == [3]
    assert "kutip" in result.rejected[0].reason


def test_siasn_employees_keep_the_lines_after_an_open_quote() -> None:
    header = "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu"
    text = (
        f"{header}\n"
        f'{NIP},"Budi,DISKOMINFO,Staf,7,,5000000\n'
        f"{NIP2},Sari,DISKOMINFO,Staf,7,,5000000\n"
    )
    rows, rejected = parse_employees(text)
    assert [r.nip for r in rows] == [NIP2]
    assert [(r.line, "kutip" in r.reason) for r in rejected] == [(2, True)]


# --- 3. binary content is named, not echoed --------------------------------------------


def test_an_xlsx_sent_as_csv_is_named_not_echoed() -> None:
    xlsx = workbook(("nip", "waktu"), (NIP, "2026-01-05 07:31:02"))
    result = import_csv(xlsx, KNOWN)
    assert result.fatal
    reason = result.rejected[0].reason
    assert "XLSX" in reason and "bukan CSV" in reason
    assert "PK" not in reason and "\x03" not in reason


def test_a_pdf_or_other_binary_sent_as_csv_is_named() -> None:
    assert "PDF" in import_csv(b"%PDF-1.7\n%\xe2\xe3\n1 0 obj", KNOWN).rejected[0].reason
    odd = import_csv(b"\x00\x01\x02garbage\x00", KNOWN).rejected[0].reason
    assert "\x00" not in odd and "biner" in odd


def test_format_size_states_megabytes_in_bahasa() -> None:
    assert uploads.format_size(12 * 1024 * 1024) == "12 MB"
    assert uploads.format_size(int(5.1 * 1024 * 1024)) == "5,1 MB"
    assert uploads.format_size(26 * 1024 * 1024 + 10) == "26 MB"
    assert uploads.format_size(3000) == "2 KB"


# --- 4. download names --------------------------------------------------------------------


def test_content_disposition_is_an_attachment_with_a_safe_name() -> None:
    header = uploads.content_disposition('../../x"\r\nSet-Cookie: a=b.pdf')
    assert header.startswith("attachment; ")
    assert "\r" not in header and "\n" not in header and "/" not in header.split("''")[0]
    assert 'filename="' in header and "filename*=UTF-8''" in header
    assert uploads.content_disposition("Surat Sakit Budi.pdf").startswith(
        'attachment; filename="Surat Sakit Budi.pdf"'
    )
    assert 'filename="dokumen"' in uploads.content_disposition("")


def test_a_huge_cell_is_not_quoted_back_whole() -> None:
    long_nip, long_time = "1" * 5000, "2026-01-05 07:31:02" + " " * 10 + "x" * 5000
    result = import_csv(f"nip,waktu\n{long_nip},2026-01-05 07:31:02\n{NIP},{long_time}\n", KNOWN)
    assert [r.line_no for r in result.rejected] == [2, 3]
    assert all(len(r.reason) < 300 for r in result.rejected), result.rejected
