"""Filing deadlines across the new year: a report of 31 December whose deadline falls in
January knows January's calendar, BKPSDM's changes to the next year included (attendance's
WorkCalendarChanged of 2027, kept by activity's calendar book).

    December 2026 / January 2027
    Th 31 Dec   Fr 1 Jan (Tahun Baru, national)   Sa 2   Su 3   Mo 4   Tu 5 (Isra Mi'raj,
    national in the holidays package)   We 6
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from contracts.events import CITY_KEY, CalendarHoliday, WorkCalendarChanged
from services.activity.app import create
from services.shared.settings import Settings
from tests import factories
from tests.support import Clock, who, wib

DEC31 = date(2026, 12, 31)
SAT2, MON4 = date(2027, 1, 2), date(2027, 1, 4)
NIP = "199001012015011001"


def changed_2027(holidays: list[date] = [], working: list[date] = []) -> bytes:  # noqa: B006
    return WorkCalendarChanged(
        occurred_at=datetime(2026, 12, 20, tzinfo=UTC),
        producer="attendance",
        nip=CITY_KEY,
        year=2027,
        holidays=[CalendarHoliday(tanggal=d, nama="Cuti bersama") for d in holidays],
        working_days=working,
    ).to_bytes()


@pytest.fixture
async def env(memory_settings: Settings) -> dict[str, Any]:
    clock = Clock(wib(DEC31, 10))
    app = create(memory_settings, clock=clock)
    kit = app.state.kit
    kit.migrate()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
    await kit.handle(factories.employee(NIP, at=wib(date(2026, 12, 1), 6), opd="X").to_bytes())
    scan = factories.scan(NIP, DEC31, wib(DEC31, 7, 20), scan_id="s-dec31")
    await kit.handle(scan.to_bytes())
    return {"app": app, "kit": kit, "clock": clock, "client": client}


async def deadline(client: httpx.AsyncClient) -> str:
    r = await client.get(
        f"/api/v1/employees/{NIP}/filing-status?work_date={DEC31}", headers=who(NIP, "asn")
    )
    assert r.status_code == 200, r.text
    assert r.json()["allowed"] is True
    return str(r.json()["deadline"])


async def test_national_new_year_moves_the_deadline_to_monday(env: dict[str, Any]) -> None:
    # Fri 1 Jan is a holiday, Sat and Sun are not working days: Monday 4 January
    assert await deadline(env["client"]) == "2027-01-04T23:59:59.999999+07:00"


async def test_a_saturday_made_working_in_january_is_the_deadline(env: dict[str, Any]) -> None:
    await env["kit"].handle(changed_2027(working=[SAT2]))
    assert await deadline(env["client"]) == "2027-01-02T23:59:59.999999+07:00"


async def test_cuti_bersama_in_january_moves_the_deadline(env: dict[str, Any]) -> None:
    # Mon 4 made cuti bersama, Tue 5 a national holiday: Wednesday 6 January
    await env["kit"].handle(changed_2027(holidays=[MON4]))
    assert await deadline(env["client"]) == "2027-01-06T23:59:59.999999+07:00"


async def test_december_filing_counts_31_december_by_januarys_calendar(
    env: dict[str, Any],
) -> None:
    """The city's on-time view of December: 31 December is judged once its deadline has
    passed, that deadline counted on January's calendar (Saturday 2 made a working day)."""
    kit, client, clock = env["kit"], env["client"], env["clock"]
    await kit.handle(changed_2027(working=[SAT2]))
    clock.moment = wib(SAT2, 20)  # filed on the Saturday made working: before the deadline
    body = {"work_date": DEC31.isoformat(), "description": "Menyusun laporan akhir tahun",
            "output": "laporan", "quantity": 1, "minutes": 120}  # fmt: skip
    filed = await client.post("/api/v1/reports", json=body, headers=who(NIP, "asn"))
    assert filed.status_code == 201, filed.text
    clock.moment = wib(date(2027, 1, 3), 9)  # Sunday: the deadline (Saturday) has passed
    r = await client.get(
        "/api/v1/opds/filing", params={"period": "2026-12"}, headers=who(None, "bkpsdm")
    )
    assert r.status_code == 200, r.text
    assert DEC31.isoformat() in r.json()["hari_dinilai"]
    (x,) = [o for o in r.json()["opds"] if o["opd"] == "X"]
    assert x["sebelum_batas"] == 1 and x["lewat_batas"] == 0
