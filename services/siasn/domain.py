"""Employee master data from SIASN exports or BKPSDM files (employees.csv / .xlsx): pure
parsing and validation, a report per rejected line, good lines kept."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from contracts.nip import nip_problem
from services.kernel.uploads import CsvLine, csv_lines, not_text_reason

COLUMNS = ("nip", "nama", "opd", "jabatan", "kelas_jabatan", "atasan_nip", "tpp_pagu")
PIN_COLUMN = "pin"  # optional: the PIN on the devices when it is not the NIP
# Rp 1 miliar a month: far above any pagu, and well inside the stores' INTEGER (2^31 - 1)
TPP_PAGU_MAX = 1_000_000_000


@dataclass(frozen=True)
class EmployeeRow:
    nip: str
    nama: str
    opd: str
    jabatan: str
    kelas_jabatan: int
    atasan_nip: str | None
    tpp_pagu: int
    pin: str | None = None


@dataclass(frozen=True)
class RejectedLine:
    line: int
    reason: str


def parse_employees(text: str) -> tuple[list[EmployeeRow], list[RejectedLine]]:
    if reason := not_text_reason(text[:8192].encode("utf-8", "replace")):
        return [], [RejectedLine(1, reason)]
    # line by line: a quote left open spoils its own line, not the ones after it
    lines = csv_lines(text.lstrip("\ufeff"))
    first = next((ln for ln in lines if ln.error or any(f.strip() for f in ln.fields)), None)
    if first is not None and first.error:
        return [], [RejectedLine(first.line_no, first.error)]
    header = [h.strip().lower() for h in (first.fields if first else [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [RejectedLine(1, "kolom wajib tidak ada: " + ", ".join(missing))]
    return _rows(_records(header, lines))


def _records(
    header: list[str], lines: Iterator[CsvLine]
) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(line, the fields by column) of each non-blank line, or (line, why it is unreadable)."""
    for line in lines:
        if line.error is not None:
            yield line.line_no, line.error
        elif any(f.strip() for f in line.fields):
            padded = line.fields + [""] * (len(header) - len(line.fields))
            yield line.line_no, dict(zip(header, padded, strict=False))


def _rows(
    numbered: Iterable[tuple[int, dict[str, str] | str]],
) -> tuple[list[EmployeeRow], list[RejectedLine]]:
    good: list[EmployeeRow] = []
    bad: list[RejectedLine] = []
    seen: set[str] = set()
    for line, raw in numbered:
        if isinstance(raw, str):
            bad.append(RejectedLine(line, raw))
            continue
        row = {k: (v or "").strip() for k, v in raw.items() if k}
        reason = nip_problem(row["nip"])
        if reason is None and row["atasan_nip"]:
            atasan_problem = nip_problem(row["atasan_nip"])
            reason = f"atasan_nip: {atasan_problem}" if atasan_problem else None
        if reason is None and not row["nama"]:
            reason = "nama wajib diisi"
        if reason is None and not row["opd"]:
            reason = "opd wajib diisi"
        if reason is None and row["nip"] in seen:
            reason = "NIP muncul lebih dari sekali dalam berkas"
        if reason is None and row["atasan_nip"] == row["nip"]:
            reason = "atasan_nip tidak boleh sama dengan NIP sendiri"
        try:
            kelas = int(row["kelas_jabatan"])
            pagu = int(row["tpp_pagu"])
        except ValueError:
            reason = reason or "kelas_jabatan dan tpp_pagu harus bilangan bulat"
            kelas = pagu = 0
        if reason is None and not 1 <= kelas <= 17:
            reason = "kelas_jabatan harus 1 sampai 17"
        if reason is None and pagu < 0:
            reason = "tpp_pagu tidak boleh negatif"
        if reason is None and pagu > TPP_PAGU_MAX:
            reason = f"tpp_pagu paling besar {TPP_PAGU_MAX:,}".replace(",", ".")
        if reason:
            bad.append(RejectedLine(line, reason))
            continue
        seen.add(row["nip"])
        good.append(
            EmployeeRow(
                nip=row["nip"],
                nama=row["nama"],
                opd=row["opd"],
                jabatan=row["jabatan"],
                kelas_jabatan=kelas,
                atasan_nip=row["atasan_nip"] or None,
                tpp_pagu=pagu,
                pin=row.get(PIN_COLUMN) or None,
            )
        )
    return good, bad
