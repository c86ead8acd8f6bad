"""The work calendar on the real broker: BKPSDM makes a date cuti bersama in attendance,
WorkCalendarChanged travels on sikerja.calendar, and activity's filing deadline follows."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.activity.app import create as create_activity
from services.attendance.app import create as create_attendance
from services.attendance.config import AttendanceConfig
from services.kernel.calendar import WIB
from services.shared.settings import Settings
from tests import factories
from tests.support import eventually, running, who

pytestmark = pytest.mark.integration

MON, TUE = date(2026, 10, 5), date(2026, 10, 6)
BKPSDM = who("198001012005011099", "bkpsdm")


async def test_bkpsdm_holiday_reaches_activity_deadline(settings: Settings) -> None:
    nip = factories.nip()
    monday_morning = datetime(2026, 10, 5, 10, tzinfo=WIB)
    attendance = create_attendance(settings, AttendanceConfig(scheduler_enabled=False))
    activity = create_activity(settings, clock=lambda: monday_morning)
    async with running(attendance) as att, running(activity) as act:

        async def deadline() -> str:
            r = await act.get(
                f"/api/v1/employees/{nip}/filing-status",
                params={"work_date": MON.isoformat()},
                headers=BKPSDM,
            )
            assert r.status_code == 200, r.text
            return str(r.json()["deadline"])

        assert (await deadline()).startswith("2026-10-06T23:59")  # the next working day
        made = await att.post(
            "/api/v1/calendar/holidays",
            json={"tanggal": TUE.isoformat(), "nama": "Cuti bersama daerah"},
            headers=BKPSDM,
        )
        assert made.status_code == 200, made.text
        # Tuesday is now a holiday: the deadline moves to Wednesday (within the cache time
        # at the latest; this process handled the event, so at once)
        await eventually(deadline, lambda d: d.startswith("2026-10-07T23:59"), timeout=30)
