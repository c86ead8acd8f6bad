"""Pure helpers at attendance's edges: closing window, day end in WIB, absence fields,
document sniffing, device state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.attendance.domain import document_kind, parse_absence
from services.attendance.models import Device
from services.attendance.routes.devices import device_state
from services.attendance.scheduler import closing_window
from services.attendance.web import day_has_ended

NIP = "199001012015011001"


def test_closing_window_is_the_days_before_today() -> None:
    assert closing_window(date(2026, 1, 6), 3) == [
        date(2026, 1, 3),
        date(2026, 1, 4),
        date(2026, 1, 5),
    ]


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_a_day_ends_at_midnight_wib(day: date) -> None:
    # Midnight WIB after `day` is 17:00 UTC on `day` (UTC+7).
    end = datetime(day.year, day.month, day.day, 17, 0, tzinfo=UTC)
    assert not day_has_ended(day, end - timedelta(seconds=1))
    assert day_has_ended(day, end)


def test_parse_absence_accepts_iso_and_day_first_dates() -> None:
    assert parse_absence(NIP, "2026-01-05", "07/01/2026", "Cuti_Tahunan", 30) == (
        NIP,
        date(2026, 1, 5),
        date(2026, 1, 7),
        "cuti_tahunan",
    )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (("123", "2026-01-05", "2026-01-05", "cuti_sakit"), "18 digit"),
        ((NIP, "2026-02-30", "2026-03-01", "cuti_sakit"), "bukan tanggal yang valid"),
        ((NIP, "", "2026-03-01", "cuti_sakit"), "kosong"),
        ((NIP, "2026-01-05", "2026-01-04", "cuti_sakit"), "sebelum tanggal mulai"),
        ((NIP, "2026-01-05", "2026-01-05", "bolos"), "tidak dikenal"),
        # 1 Jan to 31 Jan is 31 days, one more than the limit of 30.
        ((NIP, "2026-01-01", "2026-01-31", "cuti_besar"), "lebih dari 30 hari"),
    ],
)
def test_parse_absence_reasons(fields: tuple[str, str, str, str], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_absence(*fields, 30)


def test_document_kind_reads_the_content_not_the_name() -> None:
    assert document_kind(b"%PDF-1.7\n...") == "pdf"
    assert document_kind(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "jpg"
    assert document_kind(b"\x89PNG\r\n\x1a\n\x00") == "png"
    assert document_kind(b"MZ\x90\x00 an exe named surat.pdf") is None
    assert document_kind(b"") is None


def test_device_state() -> None:
    now = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    device = Device(sn="X", opd="O", registered_at=now)
    assert device_state(device, now, 900) == "belum_pernah"
    device.last_seen_at = now - timedelta(seconds=900)
    assert device_state(device, now, 900) == "online"  # exactly at the limit: still online
    device.last_seen_at = now - timedelta(seconds=901)
    assert device_state(device, now, 900) == "offline"
