"""Out-of-range numbers, dates and periods are the caller's mistake: a 422 problem+json in
Bahasa Indonesia, never a 500 (each case here was a 500 found by the OpenAPI fuzzer)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import FastAPI

from contracts.events import FingerprintRecorded
from services.activity.app import create as create_activity
from services.attendance.app import create as create_attendance
from services.attendance.config import AttendanceConfig
from services.notifier.app import create as create_notifier
from services.notifier.cache import DayCache
from services.shared.settings import Settings
from services.siasn.app import create as create_siasn
from tests.support import who

NOW = datetime(2026, 10, 7, 2, 0, tzinfo=UTC)
ANI = "199001012015011001"
BKPSDM = who("197001011995031001", "bkpsdm")
TOO_BIG = "99999999999999999999"  # more than any store's integer holds


def client_of(app: FastAPI) -> httpx.AsyncClient:
    app.state.kit.migrate()
    # an explicit "system" token by default (what no header meant before tokens)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc", headers=who(None, "system")
    )


@pytest.fixture
async def attendance(memory_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_attendance(memory_settings, AttendanceConfig(scheduler_enabled=False))
    async with client_of(app) as client:
        yield client


@pytest.fixture
async def activity(memory_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(create_activity(memory_settings, clock=lambda: NOW)) as client:
        yield client


@pytest.fixture
async def notifier(memory_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_notifier(
        memory_settings,
        clock=lambda: NOW,
        cache=DayCache("redis://127.0.0.1:1/0", timeout_s=0.05),
        scheduler=False,
    )
    async with client_of(app) as client:
        yield client


def refused(res: httpx.Response, *words: str) -> None:
    """A 422 problem+json whose Bahasa `detail` names what was wrong."""
    assert res.status_code == 422, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    detail = res.json()["detail"]
    for word in words:
        assert word in detail, detail


@pytest.mark.parametrize("path", ["/api/v1/calendar/holidays", "/api/v1/calendar/working-days"])
@pytest.mark.parametrize("tanggal", [0, "1999-12-31", "2101-01-01"])
async def test_calendar_date_outside_the_served_years(
    attendance: httpx.AsyncClient, path: str, tanggal: object
) -> None:
    # 0 was read as 1970-01-01, stored, and then failed WorkCalendarChanged's year bound
    res = await attendance.post(path, json={"tanggal": tanggal}, headers=BKPSDM)
    refused(res, "tanggal", "2000", "2100")
    calendar = await attendance.get("/api/v1/calendar", params={"year": 2026})
    assert calendar.json()["hari_kerja_tambahan"] == []


async def test_skp_target_year_too_big(activity: httpx.AsyncClient) -> None:
    res = await activity.get(
        f"/api/v1/employees/{ANI}/skp-targets", params={"year": TOO_BIG}, headers=BKPSDM
    )
    refused(res, "year")


async def test_report_quantity_too_big_refuses_only_that_filing(memory_settings: Settings) -> None:
    # the domain refuses a quantity below 1 but took any above: it broke the batch's INSERT
    app = create_activity(memory_settings, clock=lambda: NOW)
    at = datetime(2026, 10, 7, 0, 20, tzinfo=UTC)
    scan = FingerprintRecorded(
        occurred_at=at,
        producer="attendance",
        nip=ANI,
        scan_id="s1",
        scanned_at=at,
        work_date=date(2026, 10, 7),
    )
    body = {"work_date": "2026-10-07", "description": "Rapat", "output": "notula", "minutes": 60}
    async with client_of(app) as client:
        assert await app.state.kit.handle(scan.to_bytes()) == "handled"
        res = await client.post(
            "/api/v1/reports", json={**body, "quantity": int(TOO_BIG)}, headers=who(ANI, "asn")
        )
        refused(res, "quantity")
        ok = await client.post("/api/v1/reports", json=body, headers=who(ANI, "asn"))
    assert ok.status_code == 201, ok.text


async def test_inbox_message_id_too_big(notifier: httpx.AsyncClient) -> None:
    res = await notifier.post(f"/api/v1/inbox/{ANI}/{TOO_BIG}/read", headers=who(ANI, "asn"))
    refused(res, "message_id")


async def test_absences_of_year_10000(attendance: httpx.AsyncClient) -> None:
    # December 9999's next month is in year 10000, which `date` cannot hold
    refused(await attendance.get("/api/v1/absences", params={"period": "9999-12"}), "9999-12")


async def test_reports_of_year_10000(activity: httpx.AsyncClient) -> None:
    res = await activity.get(
        f"/api/v1/employees/{ANI}/reports", params={"period": "9999-12"}, headers=BKPSDM
    )
    refused(res, "9999-12")


@pytest.mark.parametrize(
    ("build", "url"),
    [
        (lambda s: create_attendance(s), "/api/v1/absences?period=2026-10"),
        (lambda s: create_activity(s, clock=lambda: NOW), f"/api/v1/employees/{ANI}/reports"),
    ],
)
async def test_a_served_period_still_answers(
    memory_settings: Settings, build: Callable[[Settings], FastAPI], url: str
) -> None:
    async with client_of(build(memory_settings)) as client:
        res = await client.get(url, params={"period": "2026-10"}, headers=BKPSDM)
    assert res.status_code == 200, res.text
    assert res.json() == []


async def test_scan_time_no_clock_can_hold_is_a_rejected_line(
    attendance: httpx.AsyncClient,
) -> None:
    # 00:00 WIB of 1 January of year 1 is in year 0 in UTC: the whole batch was a 500
    lines = [
        {"nip": ANI, "waktu": "0001-01-01 00:00:00"},
        {"nip": ANI, "waktu": "9999-12-31T23:59:59-12:00"},
        {"nip": ANI, "waktu": "2026-10-05 07:30:00"},
    ]
    res = await attendance.post("/api/v1/scans", json={"scans": lines})
    assert res.status_code == 200, res.text
    assert [(r["line"], r["status"]) for r in res.json()] == [
        (1, "rejected"),
        (2, "rejected"),
        (3, "menunggu"),  # kept: Ani is not an employee of this store yet (quarantine)
    ]
    assert all("waktu" in r["reason"] for r in res.json()[:2])


async def test_absence_outside_the_served_years(attendance: httpx.AsyncClient) -> None:
    absence = {"nip": ANI, "mulai": "9999-12-31", "selesai": "9999-12-31", "jenis": "cuti_sakit"}
    res = await attendance.post("/api/v1/absences", json=absence, headers=BKPSDM)
    refused(res, "9999-12-31", "2000-2100")


async def test_employee_import_pagu_too_big_is_a_rejected_line(memory_settings: Settings) -> None:
    # a pagu past the store's integer failed the whole import with a 500
    csv = (
        "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu\n"
        f"{ANI},Ani,Dinas Kesehatan,Analis,9,,{TOO_BIG}\n"
        "198503152010122002,Budi,Dinas Kesehatan,Analis,9,,5000000\n"
    )
    async with client_of(create_siasn(memory_settings)) as client:
        res = await client.post(
            "/api/v1/employees/import", content=csv, headers={"content-type": "text/csv"}
        )
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["accepted"] == 1
    assert [r["line"] for r in body["rejected"]] == [2]
    assert "tpp_pagu" in body["rejected"][0]["reason"]


async def test_report_import_date_outside_the_served_years(activity: httpx.AsyncClient) -> None:
    csv = f"nip,tanggal,status\n{ANI},1999-12-31,approved\n"
    res = await activity.post(
        "/api/v1/reports/import",
        params={"wait_s": 0},
        content=csv,
        headers={**BKPSDM, "content-type": "text/csv"},
    )
    assert res.status_code == 200, res.text
    [error] = res.json()["errors"]
    assert error["code"] == "invalid_date" and "2000-2100" in error["reason"]
