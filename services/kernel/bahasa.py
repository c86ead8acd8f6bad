"""How dates and money read in Bahasa Indonesia, the same on every screen and message."""

from __future__ import annotations

from datetime import date

HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def tanggal(day: date) -> str:
    """'Senin, 5 Oktober 2026'."""
    return f"{HARI[day.weekday()]}, {day.day} {BULAN[day.month - 1]} {day.year}"


def periode(period: str) -> str:
    """'2026-10' -> 'Oktober 2026'."""
    year, month = period.split("-")
    return f"{BULAN[int(month) - 1]} {int(year)}"


def ribuan(amount: int) -> str:
    """1234567 -> '1.234.567' (Indonesian thousands separator)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,}".replace(",", ".")


def rupiah(amount: int, space: bool = True) -> str:
    """'Rp 1.234.567' (or 'Rp1.234.567')."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{' ' if space else ''}{ribuan(abs(amount))}"


def persen(value: float | None, places: int = 1) -> str:
    """83.3 -> '83,3%' (Indonesian decimal comma); None -> '-' (nothing to divide by)."""
    if value is None:
        return "-"
    return f"{value:.{places}f}".replace(".", ",") + "%"
