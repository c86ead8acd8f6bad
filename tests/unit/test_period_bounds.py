"""The one period parser refuses years SIKERJA does not serve (a month of year 9999 has no
next month a `date` can hold)."""

from __future__ import annotations

import pytest

from services.kernel.calendar import parse_period


@pytest.mark.parametrize(
    ("text", "expected"), [("2000-01", (2000, 1)), ("2026-10", (2026, 10)), ("2100-12", (2100, 12))]
)
def test_served_periods(text: str, expected: tuple[int, int]) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["1999-12", "2101-01", "9999-12", "0000-01"])
def test_years_outside_2000_2100_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"di luar rentang 2000-2100"):
        parse_period(text)


@pytest.mark.parametrize("text", ["2026-13", "2026", "26-10", "abcd-10", ""])
def test_malformed_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="gunakan format YYYY-MM"):
        parse_period(text)
