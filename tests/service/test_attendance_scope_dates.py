"""An operator's reach in attendance follows the period of the date concerned (a scan's date,
an absence's dates), not the employee's latest period: A moves from DISKOMINFO to BAPPEDA on
Friday 16 January 2026. The 15th stays DISKOMINFO's, the 19th is BAPPEDA's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from tests.service.test_attendance_periods import join
from tests.service.test_attendance_support import Harness, make_harness
from tests.support import who

A = "199001012015011001"
OLD, NEW = who(None, "operator", "DISKOMINFO"), who(None, "operator", "BAPPEDA")


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with make_harness(tmp_path, max_scans_per_nip_day=2) as found:
        await join(found, A, None, opd="DISKOMINFO")
        await join(found, A, date(2026, 1, 16), opd="BAPPEDA")
        await found.flush()
        yield found


def line(day: int, at: str = "07:00:00") -> dict[str, str]:
    return {"nip": A, "waktu": f"2026-01-{day} {at}"}


async def test_scans_are_pushed_and_imported_by_the_opd_of_their_date(h: Harness) -> None:
    pushed = await h.client.post("/api/v1/scans", json={"scans": [line(15), line(19)]}, headers=OLD)
    assert pushed.status_code == 200, pushed.text
    assert [r["status"] for r in pushed.json()] == ["accepted", "rejected"]
    pushed = await h.client.post(
        "/api/v1/scans", json={"scans": [line(15, "16:00:00"), line(19)]}, headers=NEW
    )
    assert [r["status"] for r in pushed.json()] == ["rejected", "accepted"]
    text = f"nip,waktu\n{A},2026-01-14 07:00:00\n{A},2026-01-20 07:00:00\n".encode()
    imported = await h.client.post(
        "/api/v1/scans/import", files={"file": ("p.csv", text, "text/csv")}, headers=OLD
    )
    assert imported.status_code == 200, imported.text
    # line 2 (the 14th) is DISKOMINFO's, line 3 (the 20th) is not
    assert (imported.json()["accepted"], [e["line"] for e in imported.json()["errors"]]) == (1, [3])


async def test_excessive_scans_are_listed_to_the_opd_of_the_scan_date(h: Harness) -> None:
    times = ("07:00:00", "07:01:00", "07:02:00")  # 3 > max_scans_per_nip_day 2
    scans = [line(d, t) for d in (15, 19) for t in times]
    assert (await h.client.post("/api/v1/scans", json={"scans": scans})).status_code == 200

    async def flagged(headers: dict[str, str]) -> list[str]:
        r = await h.client.get("/api/v1/scans/excessive?period=2026-01", headers=headers)
        assert r.status_code == 200, r.text
        return [d["tanggal"] for d in r.json()["nip_hari"]]

    assert await flagged(OLD) == ["2026-01-15"]
    assert await flagged(NEW) == ["2026-01-19"]


async def test_absences_are_recorded_and_read_by_the_opd_of_their_dates(h: Harness) -> None:
    def body(first: int, last: int) -> dict[str, str]:
        return {
            "nip": A,
            "mulai": f"2026-01-{first}",
            "selesai": f"2026-01-{last}",
            "jenis": "cuti_sakit",
        }

    early = await h.client.post("/api/v1/absences", json=body(13, 14), headers=OLD)
    assert early.status_code == 201, early.text
    assert (
        await h.client.post("/api/v1/absences", json=body(13, 14), headers=NEW)
    ).status_code == 403
    late = await h.client.post("/api/v1/absences", json=body(20, 21), headers=NEW)
    assert late.status_code == 201, late.text
    assert (
        await h.client.post("/api/v1/absences", json=body(20, 21), headers=OLD)
    ).status_code == 403
    early_id, late_id = early.json()["absence_id"], late.json()["absence_id"]

    async def listed(headers: dict[str, str]) -> list[str]:
        r = await h.client.get("/api/v1/absences?period=2026-01", headers=headers)
        assert r.status_code == 200, r.text
        return [a["absence_id"] for a in r.json()]

    assert await listed(OLD) == [early_id]
    assert await listed(NEW) == [late_id]
    assert (await h.client.get(f"/api/v1/absences/{early_id}", headers=OLD)).status_code == 200
    assert (await h.client.get(f"/api/v1/absences/{early_id}", headers=NEW)).status_code == 403
    assert (await h.client.get(f"/api/v1/absences/{late_id}", headers=NEW)).status_code == 200
    assert (await h.client.get(f"/api/v1/absences/{late_id}", headers=OLD)).status_code == 403

    async def of_a(headers: dict[str, str]) -> list[str]:
        r = await h.client.get(f"/api/v1/absences?nip={A}", headers=headers)
        assert r.status_code == 200, r.text
        return [a["absence_id"] for a in r.json()]

    # by NIP too: each operator sees the absences of their OPD's dates
    assert await of_a(OLD) == [early_id]
    assert await of_a(NEW) == [late_id]
    other = await h.client.get(f"/api/v1/absences?nip={A}", headers=who(None, "operator", "X"))
    assert other.status_code == 403


async def test_a_month_is_read_by_the_opds_of_its_periods(h: Harness) -> None:
    # January holds both periods: both operators read A's January; February is BAPPEDA's
    for headers in (OLD, NEW):
        month = await h.client.get(f"/api/v1/employees/{A}/month?period=2026-01", headers=headers)
        assert month.status_code == 200, month.text
        scans = await h.client.get(f"/api/v1/employees/{A}/scans?period=2026-01", headers=headers)
        assert scans.status_code == 200, scans.text
    feb = f"/api/v1/employees/{A}/month?period=2026-02"
    assert (await h.client.get(feb, headers=OLD)).status_code == 403
    assert (await h.client.get(feb, headers=NEW)).status_code == 200
