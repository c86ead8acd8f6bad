"""Helpers for tests that run our services in-process against real infrastructure."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from sqlmodel import Session, select

from contracts import parse_event
from contracts.events import Event
from services.kernel.calendar import WIB

T = TypeVar("T")


class Clock:
    """A settable clock for an app's `clock`."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def wib(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=WIB)


def who(nip: str | None, role: str) -> dict[str, str]:
    """The headers the portal forwards for a caller."""
    return {"X-Actor-Role": role, **({"X-Actor-Nip": nip} if nip else {})}


def emitted(kit: Any) -> list[Event]:
    """Every event in a kit's outbox, in order."""
    outbox = kit.tables.outbox
    with Session(kit.engine) as s:
        rows = s.exec(select(outbox).order_by(outbox.id)).all()
    return [parse_event(r.payload) for r in rows]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan (store, relay, consumer) and give an HTTP client to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield client


async def eventually(
    probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 30.0
) -> T:
    """Poll `probe` until `ok(result)`; fail with the last result after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T = await probe()
    while not ok(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")
        await asyncio.sleep(0.2)
        last = await probe()
    return last
