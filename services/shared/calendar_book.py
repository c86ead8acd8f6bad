"""The work calendar as a service other than attendance knows it: the national calendar
plus BKPSDM's overrides, as attendance's last WorkCalendarChanged of each year said.

Activity (filing deadlines, "not a working day"), approval (age of a waiting report) and
the notifier (reminders on working days) keep this projection; attendance owns the
calendar and its edits. A service's models.py adds the table with
`CalendarYear = calendar_year_model(Base)`, its handlers include `calendar_handlers()`, and
its app builds one `CalendarBook(kit)`, a `year -> WorkCalendar` callable, which routes
take as the `Calendars` dependency.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from fastapi import Depends, Request
from sqlalchemy import select
from sqlmodel import Column, Field

from contracts.events import Event, WorkCalendarChanged
from services.kernel.calendar import WorkCalendar, indonesia_calendar, with_overrides
from services.shared.db import Utc
from services.shared.messaging import ServiceKit, UnitOfWork

# How long a process keeps a built year. A change handled by this process drops it at once;
# the other processes of the service (uvicorn workers) see it within this time.
CACHE_S = 30.0


def calendar_year_model(base: type) -> type:
    """The projection table on a service's Base (one row per year with BKPSDM changes)."""

    class CalendarYear(base, table=True):  # type: ignore[misc,valid-type,call-arg]
        __tablename__ = "calendar_year"
        year: int = Field(primary_key=True)
        holidays: str = "[]"  # JSON: [{"tanggal": "2026-12-24", "nama": "..."}]
        working_days: str = "[]"  # JSON: ["2026-12-26"]
        changed_at: datetime = Field(sa_column=Column(Utc(), nullable=False))

    base.CalendarYear = CalendarYear  # type: ignore[attr-defined]
    return CalendarYear


def on_calendar_changed(uow: UnitOfWork, event: Event) -> None:
    """Keep the newest snapshot of the year; an older or repeated one changes nothing."""
    assert isinstance(event, WorkCalendarChanged)
    model = uow._kit.base.CalendarYear  # type: ignore[attr-defined]
    row = uow.session.get(model, event.year)
    if row is not None and row.changed_at >= event.occurred_at:
        return
    if row is None:
        row = model(year=event.year, changed_at=event.occurred_at)
    row.holidays = json.dumps(
        [{"tanggal": h.tanggal.isoformat(), "nama": h.nama} for h in event.holidays]
    )
    row.working_days = json.dumps([d.isoformat() for d in event.working_days])
    row.changed_at = event.occurred_at
    uow.session.add(row)
    CalendarBook.forget(uow._kit)


def calendar_handlers() -> dict[str, Any]:
    return {"WorkCalendarChanged": on_calendar_changed}


class CalendarBook:
    """`book(year)`: the WorkCalendar of `year` and its neighbours (deadlines and waits
    cross the new year): national holidays and cuti bersama, with BKPSDM's overrides of
    those three years applied."""

    # by id(kit): the handler finds its kit's book (weak: a dropped app drops its book)
    _books: ClassVar[weakref.WeakValueDictionary[int, CalendarBook]] = weakref.WeakValueDictionary()

    def __init__(self, kit: ServiceKit, clock: Any = time.monotonic) -> None:
        self._kit, self._clock = kit, clock
        self._built: dict[int, tuple[float, WorkCalendar]] = {}
        self._lock = threading.Lock()
        CalendarBook._books[id(kit)] = self

    @classmethod
    def forget(cls, kit: ServiceKit) -> None:
        book = cls._books.get(id(kit))
        if book is not None:
            with book._lock:
                book._built.clear()

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
        model = self._kit.base.CalendarYear  # type: ignore[attr-defined]
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
    return request.app.state.calendar_for  # type: ignore[no-any-return]


# A route's dependency on the app's book (app.state.calendar_for): the route resolves the
# calendar of the year it needs, or hands the book to the unit of work when the year is
# only known there; the Request itself stays at the route.
Calendars = Annotated[CalendarBook, Depends(_app_book)]
