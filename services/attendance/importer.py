"""Scan import from CSV or XLSX files with the columns ``nip,waktu``: pure parsing.

Every line is judged alone: good lines are accepted, each bad line gets a reason in
Bahasa Indonesia with its line number. A NIP that is not 18 valid digits is a bad line
(refused alone); a valid NIP attendance does not know yet is not judged here: the API
keeps its scan in quarantine until the employee arrives (services/attendance/quarantine.py).
A file whose header lacks the columns gives one clear error and nothing else. Keys come
from `scan_key`, so importing the same file twice yields the same rows and the store can
ignore the second copy.

Times: "YYYY-MM-DD HH:MM[:SS]" (WIB) or ISO 8601 with an offset (see
domain.parse_scan_time), and the Indonesian day-first form "DD/MM/YYYY HH:MM[:SS]"
(also with "-" or "." as separators) that spreadsheets in id-ID locale write.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO
from xml.etree.ElementTree import ParseError

from contracts.nip import nip_problem
from services.attendance.domain import parse_scan_time, scan_key, scan_time_problem
from services.kernel.calendar import WIB
from services.kernel.uploads import csv_lines, not_text_reason, printable, xlsx_problem

__all__ = [
    "ImportResult",
    "ImportedScan",
    "RejectedLine",
    "import_csv",
    "import_file",
    "import_xlsx",
    "parse_import_time",
    "scan_key",
]

NIP_ALIASES = frozenset({"nip", "nip_asn", "nip_pegawai", "nomor_induk_pegawai"})
TIME_ALIASES = frozenset(
    {"waktu", "waktu_scan", "waktu_pindai", "waktu_absen", "tanggal_waktu", "tanggal_jam"}
)
REQUIRED_COLUMNS = ("nip", "waktu")  # or one of their aliases above
EXPECTED_HEADER = ",".join(REQUIRED_COLUMNS)
MAX_TIME_TEXT = 64  # "2026-01-05T07:31:02.123456+07:00" with room to spare


@dataclass(frozen=True)
class ImportedScan:
    line_no: int
    nip: str
    ts: datetime  # tz-aware
    key: str  # scan_key(nip, ts): the store's idempotency key


@dataclass(frozen=True)
class RejectedLine:
    line_no: int
    reason: str  # Bahasa Indonesia


@dataclass
class ImportResult:
    rows: list[ImportedScan] = field(default_factory=list)
    rejected: list[RejectedLine] = field(default_factory=list)
    fatal: bool = False  # the whole file was refused (wrong columns, unreadable file)


def _norm_header(value: object) -> str:
    return re.sub(r"[\s_\-]+", "_", str(value or "").strip().lower()).strip("_")


_DAY_FIRST = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})[ T]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?$"
)


def parse_import_time(value: object) -> datetime:
    """A cell or CSV field as a tz-aware time; naive values are WIB. ValueError otherwise
    (also for a time outside the scan range, domain.scan_time_problem)."""
    ts = _import_time(value)
    if problem := scan_time_problem(ts):
        raise ValueError(problem)
    return ts


def _import_time(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=WIB)
    if isinstance(value, date):
        raise ValueError(f"waktu '{value}' hanya berisi tanggal tanpa jam")
    text = str(value if value is not None else "").strip()
    if not text:
        raise ValueError("kolom waktu kosong")
    m = _DAY_FIRST.match(text)
    if m is None:
        return parse_scan_time(text)
    d, mo, y, hh, mm, ss = m.groups()
    try:
        ts = datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss or 0), tzinfo=WIB)
    except ValueError:
        raise ValueError(f"waktu '{text}' bukan tanggal/jam yang ada") from None
    return ts


def _nip_text(value: object) -> str:
    if isinstance(value, bool):
        raise ValueError("NIP harus 18 digit angka")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel keeps 15 significant digits: an 18-digit NIP stored as a number is damaged.
        raise ValueError("NIP tersimpan sebagai angka dan rusak; format kolom NIP sebagai teks")
    return str(value if value is not None else "").strip().lstrip("'")


class _Collector:
    """Judges rows one by one; keeps what was accepted and why others were rejected."""

    def __init__(self, known_nips: Collection[str] | None) -> None:
        self.known = known_nips
        self.result = ImportResult()
        self.first_seen: dict[str, int] = {}

    def refuse_file(self, reason: str) -> ImportResult:
        return ImportResult([], [RejectedLine(1, reason)], fatal=True)

    def row(self, line_no: int, nip_value: object, time_value: object) -> None:
        reject = self.result.rejected
        try:
            nip = _nip_text(nip_value)
        except ValueError as e:
            reject.append(RejectedLine(line_no, str(e)))
            return
        if not nip:
            reject.append(RejectedLine(line_no, "kolom NIP kosong"))
            return
        problem = nip_problem(nip)
        if problem is not None:
            shown = printable(nip, 40)
            reject.append(RejectedLine(line_no, f"NIP '{shown}' tidak valid: {problem}"))
            return
        if self.known is not None and nip not in self.known:
            reject.append(RejectedLine(line_no, f"NIP {nip} tidak terdaftar sebagai pegawai"))
            return
        if isinstance(time_value, str) and len(time_value) > MAX_TIME_TEXT:
            # a cell this long is no time: say so instead of quoting it back whole
            reject.append(
                RejectedLine(line_no, f"kolom waktu terlalu panjang ({len(time_value)} karakter)")
            )
            return
        try:
            ts = parse_import_time(time_value)
        except ValueError as e:
            reject.append(RejectedLine(line_no, str(e)))
            return
        key = scan_key(nip, ts)
        first = self.first_seen.get(key)
        if first is not None:
            reject.append(RejectedLine(line_no, f"duplikat dari baris {first} dalam berkas"))
            return
        self.first_seen[key] = line_no
        self.result.rows.append(ImportedScan(line_no, nip, ts, key))


def _columns(header: Iterable[object]) -> tuple[int, int] | str:
    """(nip index, waktu index), or the reason the header is wrong."""
    names = [_norm_header(h) for h in header]
    nip_at = [i for i, n in enumerate(names) if n in NIP_ALIASES]
    time_at = [i for i, n in enumerate(names) if n in TIME_ALIASES]
    if len(nip_at) == 1 and len(time_at) == 1:
        return nip_at[0], time_at[0]
    if len(nip_at) > 1 or len(time_at) > 1:
        return "kolom NIP atau waktu muncul lebih dari sekali di baris judul"
    missing = [n for n, at in (("nip", nip_at), ("waktu", time_at)) if not at]
    shown = printable(", ".join(str(h) for h in header if str(h or "").strip())) or "(kosong)"
    return (
        f"kolom {' dan '.join(missing)} tidak ditemukan; baris pertama harus berisi judul "
        f"kolom '{EXPECTED_HEADER}' (ditemukan: {shown})"
    )


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # saved by an old Excel


def import_csv(data: bytes | str, known_nips: Collection[str] | None = None) -> ImportResult:
    """Import a CSV (``,`` ``;`` or tab separated; UTF-8, with or without BOM)."""
    collector = _Collector(known_nips)
    if isinstance(data, bytes | bytearray) and (reason := not_text_reason(bytes(data[:8192]))):
        return collector.refuse_file(reason)
    text = _decode(data)
    first_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    if not first_line:
        return collector.refuse_file("berkas kosong; tidak ada baris judul maupun data")
    delimiter = max(",;\t", key=first_line.count)
    header: list[str] | None = None
    for line in csv_lines(text, delimiter):
        line_no, fields = line.line_no, line.fields
        if line.error is not None:
            if header is None:
                return collector.refuse_file(f"baris judul tidak terbaca: {line.error}")
            collector.result.rejected.append(RejectedLine(line_no, line.error))
            continue
        if not any(f.strip() for f in fields):
            continue
        if header is None:
            header = fields
            cols = _columns(header)
            if isinstance(cols, str):
                return collector.refuse_file(cols)
            nip_i, time_i = cols
            continue
        if len(fields) > len(header) and not any(f.strip() for f in fields[len(header) :]):
            fields = fields[: len(header)]  # trailing empty cells a spreadsheet left behind
        if len(fields) != len(header):
            collector.result.rejected.append(
                RejectedLine(
                    line_no,
                    f"jumlah kolom {len(fields)}, seharusnya {len(header)} ({', '.join(header)})",
                )
            )
            continue
        collector.row(line_no, fields[nip_i], fields[time_i])
    return collector.result


def import_xlsx(data: bytes | BinaryIO, known_nips: Collection[str] | None = None) -> ImportResult:
    """Import the first sheet of an XLSX workbook (read-only mode, streamed)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    collector = _Collector(known_nips)
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    # Before openpyxl inflates anything: a decompression bomb is refused on its directory.
    if (problem := xlsx_problem(stream)) is not None:
        return collector.refuse_file(problem)
    try:
        wb = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, InvalidFileException, ParseError):
        return collector.refuse_file("berkas bukan XLSX yang valid atau rusak")
    try:
        if not wb.worksheets:
            return collector.refuse_file("berkas XLSX tidak berisi lembar kerja")
        header: tuple[Any, ...] | None = None
        for row_no, values in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
            if not any(v is not None and str(v).strip() for v in values):
                continue
            if header is None:
                header = values
                cols = _columns(header)
                if isinstance(cols, str):
                    return collector.refuse_file(cols)
                nip_i, time_i = cols
                continue
            nip_v = values[nip_i] if len(values) > nip_i else None
            time_v = values[time_i] if len(values) > time_i else None
            collector.row(row_no, nip_v, time_v)
    except ParseError:  # read-only mode parses the sheet while iterating
        return collector.refuse_file("berkas bukan XLSX yang valid atau rusak")
    finally:
        wb.close()
    if header is None:
        return collector.refuse_file("berkas kosong; tidak ada baris judul maupun data")
    return collector.result


def import_file(
    filename: str, data: bytes, known_nips: Collection[str] | None = None
) -> ImportResult:
    """Dispatch on the file name: .xlsx -> import_xlsx, .csv/.txt -> import_csv."""
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return import_xlsx(data, known_nips)
    if name.endswith((".csv", ".txt")):
        return import_csv(data, known_nips)
    return ImportResult(
        [], [RejectedLine(1, "jenis berkas tidak didukung; gunakan CSV atau XLSX")], fatal=True
    )
