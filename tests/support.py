"""Helpers for tests that run our services in-process against real infrastructure."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
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


def free_port() -> int:
    """A TCP port nothing listens on now, for a server the test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def topic_records(bootstrap: str, topic: str) -> list[bytes]:
    """Every record on `topic` now: from the start to the end offsets, no waiting."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[bytes] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            out.extend(r.value or b"" for records in batch.values() for r in records)
        return out
    finally:
        await consumer.stop()
