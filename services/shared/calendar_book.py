"""The work calendar as a service other than attendance knows it: the national calendar
plus BKPSDM's overrides, as attendance's last WorkCalendarChanged of each year said.

Activity (filing deadlines, "not a working day"), approval (age of a waiting report) and
the notifier (reminders on working days) keep this projection; attendance owns the
calendar and its edits. A service's models.py adds the table with
`kit_tables(Base, calendar=True)`; its app builds one `CalendarBook(kit)`, a
`year -> WorkCalendar` callable, and gives it to the service's handlers, which include
`calendar_handler(book)`, and to its routes as the `Calendars` dependency.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Protocol, Unpack

from fastapi import Depends, Request
from sqlalchemy import select

from contracts.events import WorkCalendarChanged
from services.kernel.calendar import WorkCalendar, indonesia_calendar, with_overrides
from services.shared.db import KitTables
from services.shared.handlers import Handlers
from services.shared.kit import KitFactory, KitOptions, ServiceKit
from services.shared.settings import Settings, get_settings
from services.shared.uow import Handler, UnitOfWork

# How long a process keeps a built year. A change handled by this process drops it at once;
# the other processes of the service (uvicorn workers) see it within this time.
CACHE_S = 30.0


def kit_with_book(
    name: str,
    tables: KitTables,
    settings: Settings,
    handlers_for: Callable[[CalendarBook], Handlers],
    **overrides: Unpack[KitOptions],
) -> tuple[ServiceKit, CalendarBook]:
    """The composition of a service that keeps the calendar: its kit, and the kit's one
    book, given to the handlers the kit consumes with (their calendar handler drops the
    book's built years) and returned for the app (app.state.calendar_for)."""
    kit = ServiceKit(name, tables, settings, **overrides)
    book = CalendarBook(kit)
    kit.subscribe(handlers_for(book))
    return kit, book


class Composer(Protocol):
    """A calendar-keeping service's `compose(settings, **options)`: its kit and its book."""

    def __call__(
        self, settings: Settings | None = None, **overrides: Unpack[KitOptions]
    ) -> tuple[ServiceKit, CalendarBook]: ...


def book_factory(
    name: str, tables: KitTables, handlers_for: Callable[[CalendarBook], Handlers]
) -> tuple[Composer, KitFactory]:
    """The `compose` and `build_kit` of a service whose handlers need only its book: the
    kit on `settings` (the environment's by default) with the test's `overrides`."""

    def compose(
        settings: Settings | None = None, **overrides: Unpack[KitOptions]
    ) -> tuple[ServiceKit, CalendarBook]:
        return kit_with_book(name, tables, settings or get_settings(), handlers_for, **overrides)

    def build_kit(settings: Settings | None = None, **overrides: Unpack[KitOptions]) -> ServiceKit:
        return compose(settings, **overrides)[0]

    return compose, build_kit


def calendar_handler(book: CalendarBook) -> Handler:
    """The handler of WorkCalendarChanged, which drops `book`'s built years (this kit's)."""

    def on_calendar_changed(uow: UnitOfWork, event: WorkCalendarChanged) -> None:
        if save_snapshot(uow, event):
            book.forget()

    return on_calendar_changed


def save_snapshot(uow: UnitOfWork, event: WorkCalendarChanged) -> bool:
    """Keep the newest snapshot of the year; an older or repeated one changes nothing
    (returns False)."""
    model = uow.tables.calendar_year
    assert model is not None, "the service keeps no calendar: kit_tables(Base, calendar=True)"
    row = uow.session.get(model, event.year)
    if row is not None and row.changed_at >= event.occurred_at:
        return False
    if row is None:
        row = model(year=event.year, changed_at=event.occurred_at)
    row.holidays = json.dumps(
        [{"tanggal": h.tanggal.isoformat(), "nama": h.nama} for h in event.holidays]
    )
    row.working_days = json.dumps([d.isoformat() for d in event.working_days])
    row.changed_at = event.occurred_at
    uow.session.add(row)
    return True


class CalendarBook:
    """`book(year)`: the WorkCalendar of `year` and its neighbours (deadlines and waits
    cross the new year): national holidays and cuti bersama, with BKPSDM's overrides of
    those three years applied."""

    def __init__(self, kit: ServiceKit, clock: Any = time.monotonic) -> None:
        self._kit, self._clock = kit, clock
        self._built: dict[int, tuple[float, WorkCalendar]] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop the built years: the store has a newer snapshot."""
        with self._lock:
            self._built.clear()

    def __call__(self, year: int) -> WorkCalendar:
        now = self._clock()
        with self._lock:
            hit = self._built.get(year)
        if hit is not None and now - hit[0] < CACHE_S:
            return hit[1]
        calendar = self._build(year)
        with self._lock:
            self._built[year] = (now, calendar)
        return calendar

    def _build(self, year: int) -> WorkCalendar:
        years = [year - 1, year, year + 1]
        model = self._kit.tables.calendar_year
        assert model is not None, "the service keeps no calendar: kit_tables(Base, calendar=True)"
        table = model.__table__
        with self._kit.engine.connect() as conn:
            rows = conn.execute(
                select(table.c.holidays, table.c.working_days).where(table.c.year.in_(years))
            ).all()
        made_holidays: set[date] = set()
        made_working: set[date] = set()
        for holidays, working in rows:
            made_holidays.update(date.fromisoformat(h["tanggal"]) for h in json.loads(holidays))
            made_working.update(date.fromisoformat(d) for d in json.loads(working))
        seeded = indonesia_calendar(year).holidays  # national, the year and its neighbours
        return with_overrides(seeded, made_holidays, made_working)


async def _app_book(request: Request) -> CalendarBook:
    book: CalendarBook = request.app.state.calendar_for
    return book


# A route's dependency on the app's book (app.state.calendar_for): the route resolves the
# calendar of the year it needs, or hands the book to the unit of work when the year is
# only known there; the Request itself stays at the route.
Calendars = Annotated[CalendarBook, Depends(_app_book)]
