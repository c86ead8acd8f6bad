"""NIP (Nomor Induk Pegawai): 18 digits — birth date YYYYMMDD, TMT CPNS YYYYMM,
sex (1 male, 2 female), sequence number (3 digits). Shape only: BKN owns the register."""

from __future__ import annotations

import re
from datetime import date

_NIP = re.compile(r"^\d{18}$")


def nip_problem(nip: str) -> str | None:
    """None when `nip` is valid in shape, else the reason in Bahasa Indonesia."""
    if not _NIP.match(nip or ""):
        return "NIP harus 18 digit angka"
    try:
        date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        return "8 digit pertama NIP bukan tanggal lahir yang valid"
    if not (1 <= int(nip[12:14]) <= 12):
        return "digit 13-14 NIP bukan bulan TMT CPNS yang valid"
    if nip[14] not in "12":
        return "digit ke-15 NIP (jenis kelamin) harus 1 atau 2"
    if nip[15:18] == "000":
        return "nomor urut NIP tidak boleh 000"
    return None


def nip_refusal(nip: str) -> str | None:
    """None when `nip` is valid in shape, else the one refusal every import says."""
    problem = nip_problem(nip)
    return None if problem is None else f"NIP '{nip}' tidak valid: {problem}"


def nip_unregistered(nip: str) -> str:
    """The refusal of a well-formed NIP that is not an employee (imports, simulate)."""
    return f"NIP {nip} tidak terdaftar sebagai pegawai"


def is_valid_nip(nip: str) -> bool:
    return nip_problem(nip) is None
