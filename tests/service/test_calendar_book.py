"""The work calendar as approval (and activity, the notifier) keep it: attendance's
WorkCalendarChanged snapshots over the national calendar. Through approval's app: the age
of a waiting report counts BKPSDM's holidays as soon as the event is handled.

October 2026: Mo 5, Tu 6, We 7; no national holiday in these days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.events import (
    CITY_KEY,
    CalendarHoliday,
    Event,
    WorkCalendarChanged,
)
from services.approval.app import create
from services.shared.calendar_book import CalendarBook
from services.shared.settings import Settings
from tests import factories
from tests.factories import employee
from tests.service.test_approval_service import publish, reported
from tests.support import Clock, who, wib

MON, TUE, WED = date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7)
T0 = datetime(2026, 10, 1, tzinfo=UTC)


def changed(
    at: datetime, holidays: list[date] | None = None, working: list[date] | None = None
) -> Event:
    return WorkCalendarChanged(
        occurred_at=at,
        producer="attendance",
        nip=CITY_KEY,
        year=2026,
        holidays=[CalendarHoliday(tanggal=d, nama="Cuti bersama daerah") for d in holidays or []],
        working_days=list(working or []),
    )


@pytest.fixture
def env(memory_settings: Settings) -> dict[str, Any]:
    app = create(memory_settings, clock=Clock(wib(WED, 9)))
    kit = app.state.kit
    kit.migrate()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
    return {"app": app, "kit": kit, "client": client}


async def test_bkpsdm_holiday_counts_in_the_age_of_a_waiting_report(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    staff, boss = factories.nip(), factories.nip()
    await publish(kit, employee(staff, boss), reported(staff, MON))

    async def age() -> int:
        r = await client.get(f"/api/v1/atasan/{boss}/queue", headers=who(boss, "atasan"))
        assert r.status_code == 200, r.text
        return int(r.json()[0]["age_working_days"])

    assert await age() == 2  # Tuesday and Wednesday
    await publish(kit, changed(T0, holidays=[TUE]))
    assert await age() == 1  # Tuesday became cuti bersama
    await publish(kit, changed(T0 - timedelta(days=1), holidays=[]))
    assert await age() == 1  # an older snapshot arriving late changes nothing
    await publish(kit, changed(T0 + timedelta(days=1), holidays=[]))
    assert await age() == 2  # the newest says Tuesday is a working day again


async def test_book_applies_overrides_to_the_national_calendar_and_its_neighbours(
    env: dict[str, Any],
) -> None:
    kit, book = env["kit"], env["app"].state.calendar_for
    assert isinstance(book, CalendarBook)
    new_year = date(2026, 1, 1)  # national holiday
    saturday = date(2026, 10, 10)
    assert not book(2026).is_working_day(new_year) and book(2026).is_working_day(TUE)
    same = changed(T0, holidays=[TUE], working=[new_year, saturday])
    await publish(kit, same, same)  # redelivered: harmless
    cal = book(2026)
    assert not cal.is_working_day(TUE)
    assert cal.is_working_day(new_year) and cal.is_working_day(saturday)
    # a deadline counted from late December 2025 sees 2026's changes
    assert book(2025).is_working_day(new_year)
    assert book(2025).next_working_day(date(2025, 12, 31)) == new_year


async def test_a_change_drops_the_book_of_the_kit_that_handled_it(
    memory_settings: Settings, tmp_path: Path
) -> None:
    """Two apps of one service in a process (uvicorn workers are processes, but tests and
    tools build several): the change one of them handles drops its own book at once."""
    first = create(memory_settings, clock=Clock(wib(WED, 9)))
    second = create(
        memory_settings.model_copy(
            update={"data_dir": tmp_path / "b", "database_url": f"sqlite:///{tmp_path}/b.db"}
        ),
        clock=Clock(wib(WED, 9)),
    )
    for app in (first, second):
        app.state.kit.migrate()
        assert app.state.calendar_for(2026).is_working_day(TUE)  # built and kept
    await publish(first.state.kit, changed(T0, holidays=[TUE]))
    assert not first.state.calendar_for(2026).is_working_day(TUE)
    assert second.state.calendar_for(2026).is_working_day(TUE)  # its store has no change
