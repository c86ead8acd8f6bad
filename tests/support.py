"""Helpers for tests that run our services in-process against real infrastructure."""

from __future__ import annotations

import asyncio
import atexit
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from sqlmodel import Session, select

from contracts import parse_event
from contracts.events import Event
from services.kernel.calendar import WIB
from services.shared.identity import mint
from services.shared.keys import SigningKey, ensure_dev_keys
from services.shared.settings import Settings

T = TypeVar("T")


class Clock:
    """A settable clock for an app's `clock`."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def wib(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=WIB)


# The test run's signing key: one per test process, in a temporary folder, published in a
# JWKS the services under test read (key_settings() in the fixtures' Settings).
KEYS_DIR = Path(tempfile.mkdtemp(prefix="sikerja-test-keys-"))
atexit.register(shutil.rmtree, KEYS_DIR, True)
SERVICE_NAMES = ("attendance", "activity", "approval", "tpp", "notifier", "siasn", "portal")


def key_settings() -> dict[str, Any]:
    """Settings fields that point a service at the test key (its JWKS, its private key):
    `Settings(**key_settings(), ...)`. The key is written on first use."""
    signing_key()
    return {"jwks": str(KEYS_DIR / "jwks.json"), "signing_key": KEYS_DIR / "signing.jwk.json"}


@cache
def signing_key() -> SigningKey:
    return ensure_dev_keys(
        Settings(jwks=str(KEYS_DIR / "jwks.json"), signing_key=KEYS_DIR / "signing.jwk.json")
    )


def token(
    nip: str | None,
    role: str,
    opd: str | None = None,
    *,
    audience: str | list[str] | None = None,
    ttl: timedelta = timedelta(hours=1),
) -> str:
    """A token signed with the test key, for every service unless `audience` says one."""
    key = signing_key()
    aud = audience if audience is not None else list(SERVICE_NAMES)
    claims = {"role": role, "nip": nip, "opd": opd, "aud": aud}
    return mint(key.jwk, key.kid, claims, ttl)


def who(nip: str | None, role: str, opd: str | None = None) -> dict[str, str]:
    """The Authorization header of a caller (what the portal sends for a person)."""
    return {"Authorization": f"Bearer {token(nip, role, opd)}"}


def emitted(kit: Any) -> list[Event]:
    """Every event in a kit's outbox, in order."""
    outbox = kit.tables.outbox
    with Session(kit.engine) as s:
        rows = s.exec(select(outbox).order_by(outbox.id)).all()
    return [parse_event(r.payload) for r in rows]


@asynccontextmanager
async def running(
    app: FastAPI, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan (store, relay, consumer) and give an HTTP client to it
    (sending `headers`, e.g. who(...), unless a request says otherwise)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://svc", headers=headers
        ) as client:
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
