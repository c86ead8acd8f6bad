"""The kernel's work calendar: national holidays and cuti bersama, named in Bahasa Indonesia."""

from __future__ import annotations

from datetime import date

from services.kernel.calendar import indonesian_holidays


def test_national_holidays_are_named_in_bahasa_indonesia() -> None:
    names = indonesian_holidays([2026])
    assert names[date(2026, 8, 17)] == "Hari Kemerdekaan Republik Indonesia"
    assert names[date(2026, 12, 25)] == "Hari Raya Natal"
    assert "Independence Day" not in names.values()


def test_cuti_bersama_is_named_in_bahasa_indonesia() -> None:
    # the government category: the joint leave days the SKB of three ministers sets
    names = indonesian_holidays([2026])
    assert names[date(2026, 12, 24)] == "Cuti Bersama Hari Raya Natal"
    assert not any("Joint Holiday" in name for name in names.values())
