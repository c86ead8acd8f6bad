"""Employee master data from SIASN exports or BKPSDM files (employees.csv / .xlsx): pure
parsing and validation, a report per rejected line, good lines kept."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from contracts.nip import nip_problem

COLUMNS = ("nip", "nama", "opd", "jabatan", "kelas_jabatan", "atasan_nip", "tpp_pagu")
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
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [RejectedLine(1, "kolom wajib tidak ada: " + ", ".join(missing))]
    reader.fieldnames = header
    return _rows(enumerate(reader, start=2))


def _rows(
    numbered: Iterable[tuple[int, dict[str, str]]],
) -> tuple[list[EmployeeRow], list[RejectedLine]]:
    good: list[EmployeeRow] = []
    bad: list[RejectedLine] = []
    seen: set[str] = set()
    for line, raw in numbered:
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
                pin=row.get("pin") or None,
            )
        )
    return good, bad
