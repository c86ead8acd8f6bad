"""Payroll export of a month: XLSX (a sheet per OPD, one row per ASN, totals, rupiah format)
and CSV (one row per ASN). Input: plain rows, sorted by OPD then NIP."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any


@dataclass(frozen=True)
class PayrollRow:
    opd: str
    nip: str
    nama: str
    jabatan: str
    pagu: int
    discipline: int
    productivity: int
    attendance_deduction: int
    productivity_deduction: int
    net: int
    annulled: int = 0  # what the annulled lines would have cost (RULES.md "Annulled cuts")


@dataclass(frozen=True)
class AnnulledLine:
    """One annulled line of a statement, listed on its own sheet of the workbook."""

    opd: str
    nip: str
    nama: str
    day: str
    code: str
    amount: int  # what it would have cost
    reason: str


ANNULLED_SHEET = "Potongan Dibatalkan"
ANNULLED_HEADER = ("OPD", "NIP", "Nama", "Tanggal", "Kode", "Potongan Dibatalkan", "Alasan")

HEADER = (
    "No",
    "NIP",
    "Nama",
    "Jabatan",
    "Pagu TPP",
    "Komponen Disiplin",
    "Komponen Produktivitas",
    "Potongan Kehadiran",
    "Potongan LKH",
    "TPP Bersih",
)
MONEY_FIELDS = (
    "pagu",
    "discipline",
    "productivity",
    "attendance_deduction",
    "productivity_deduction",
    "net",
)
RUPIAH_FORMAT = '"Rp"#,##0'  # Excel shows the grouping of the user's locale (Rp1.234.567)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")

CSV_HEADER = (
    "opd",
    "nip",
    "nama",
    "jabatan",
    "pagu",
    "disiplin",
    "produktivitas",
    "potongan_kehadiran",
    "potongan_lkh",
    "tpp_bersih",
    "potongan_dibatalkan",
)


def sheet_title(opd: str, taken: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique in the book."""
    base = _BAD_SHEET_CHARS.sub(" ", opd).strip() or "OPD"
    title = base[:31]
    n = 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(title.lower())
    return title


def file_slug(text: str) -> str:
    """A file-name part: lower-case letters, digits and dashes ("Dinas Kesehatan" ->
    "dinas-kesehatan")."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "opd"


def write_xlsx(
    period: str,
    rules: str,
    status: str,
    rows: Sequence[PayrollRow],
    annulled: Sequence[AnnulledLine] = (),
    *,
    total_label: str = "JUMLAH KOTA",
) -> bytes:
    """A workbook with a Ringkasan sheet (one row per OPD), one sheet per OPD and, when BKPSDM
    annulled any line, a sheet listing the annulled lines; an OPD's own workbook says
    JUMLAH OPD on its last line (`total_label`)."""
    from openpyxl import Workbook
    from openpyxl.cell import Cell, WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)

    def cells(
        ws: Any, values: Iterable[str | int | None], *, money_from: int, strong: bool = False
    ) -> list[Cell]:
        out = []
        for i, value in enumerate(values):
            cell = WriteOnlyCell(ws, value=value)
            if i >= money_from and isinstance(value, int):
                cell.number_format = RUPIAH_FORMAT
            if strong:
                cell.font = bold
            out.append(cell)
        return out

    summary = wb.create_sheet("Ringkasan")
    summary.append([f"Daftar TPP ASN periode {period}", f"aturan {rules}", f"status {status}"])
    summary.append(
        cells(
            summary,
            ["OPD", "Jumlah ASN", *HEADER[4:]],
            money_from=99,
            strong=True,
        )
    )
    taken = {"ringkasan"}
    grand = [0] * len(MONEY_FIELDS)
    count_all = 0
    for opd, group in groupby(rows, key=lambda r: r.opd):
        members = list(group)
        ws = wb.create_sheet(sheet_title(opd, taken))
        ws.append([opd, f"periode {period}"])
        ws.append(cells(ws, HEADER, money_from=99, strong=True))
        sums = [0] * len(MONEY_FIELDS)
        for n, r in enumerate(members, start=1):
            money = [getattr(r, f) for f in MONEY_FIELDS]
            sums = [a + b for a, b in zip(sums, money, strict=True)]
            ws.append(cells(ws, [n, r.nip, r.nama, r.jabatan, *money], money_from=4))
        ws.append(
            cells(ws, ["", "JUMLAH", f"{len(members)} ASN", "", *sums], money_from=4, strong=True)
        )
        summary.append(cells(summary, [opd, len(members), *sums], money_from=2))
        grand = [a + b for a, b in zip(grand, sums, strict=True)]
        count_all += len(members)
    summary.append(cells(summary, [total_label, count_all, *grand], money_from=2, strong=True))
    if annulled:
        ws = wb.create_sheet(ANNULLED_SHEET)
        ws.append(cells(ws, ANNULLED_HEADER, money_from=99, strong=True))
        for a in annulled:
            ws.append(
                cells(ws, [a.opd, a.nip, a.nama, a.day, a.code, a.amount, a.reason], money_from=5)
            )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write_csv(rows: Iterable[PayrollRow]) -> str:
    """UTF-8 CSV, one row per ASN, integer rupiah (no thousands separators)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        money = (getattr(r, f) for f in MONEY_FIELDS)
        writer.writerow((r.opd, r.nip, r.nama, r.jabatan, *money, r.annulled))
    return buffer.getvalue()
