"""The employee import's XLSX reading (openpyxl): a workbook's first sheet as the rows
services/siasn/domain.py checks, line numbers as the sheet's rows. Kept out of the pure
domain, which reads no file format beyond CSV text."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from xml.etree.ElementTree import ParseError

from services.kernel.employment import Period
from services.kernel.uploads import xlsx_problem
from services.siasn.domain import COLUMNS, EmployeeRow, RejectedLine, _rows


def _cell(value: object) -> str:
    """A cell as the CSV would have it: whole numbers without '.0' (a kelas or a pagu typed
    as a number), dates as YYYY-MM-DD, empty cells empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def parse_employees_xlsx(
    data: bytes,
    known_atasan: Mapping[str, str | None] | None = None,
    known_periods: Mapping[str, Sequence[Period]] | None = None,
    today: date | None = None,
) -> tuple[list[EmployeeRow], list[RejectedLine]]:
    """parse_employees for the first sheet of an XLSX workbook; a line is the sheet's row
    number. A NIP must be a text cell: 18 digits typed as a number lose their last digits in
    Excel, and such a row is refused by the NIP check like any wrong NIP."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = (zipfile.BadZipFile, KeyError, OSError, InvalidFileException, ParseError)
    if problem := xlsx_problem(data):
        return [], [RejectedLine(1, problem)]
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except unreadable:
        return [], [RejectedLine(1, "berkas bukan XLSX yang valid atau rusak")]
    try:
        if not book.worksheets:
            return [], [RejectedLine(1, "berkas XLSX tidak berisi lembar kerja")]
        rows = [
            (n, [_cell(v) for v in values])
            for n, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1)
            if any(_cell(v) for v in values)
        ]
    except ParseError:  # read-only mode parses the sheet while iterating
        return [], [RejectedLine(1, "berkas bukan XLSX yang valid atau rusak")]
    finally:
        book.close()
    if not rows:
        return [], [RejectedLine(1, "berkas kosong; tidak ada baris judul maupun data")]
    header = [h.lower() for h in rows[0][1]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [RejectedLine(rows[0][0], "kolom wajib tidak ada: " + ", ".join(missing))]
    records = (
        (n, dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False)))
        for n, cells in rows[1:]
    )
    return _rows(records, known_atasan or {}, known_periods or {}, today)
