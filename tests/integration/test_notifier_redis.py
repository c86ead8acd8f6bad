"""The notifier on real Kafka and real Redis: a scan without a report becomes one warning at
the 15:00 run (Redis SDIFF path), a second run sends nothing new, and a rejection reaches the
employee's inbox."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from redis import asyncio as aioredis
from sqlmodel import Session

from contracts.events import Event, ReportRejected
from services.notifier.app import create
from services.notifier.domain import WIB, Kind, warning_key
from services.notifier.models import ScanDay
from services.shared.settings import Settings
from tests import factories
from tests.support import eventually, running, who

SYSTEM = who(None, "system")  # a job's token; tests of a role send their own

pytestmark = pytest.mark.integration

DAY = date(2030, 7, 10)  # a Wednesday, a working day; far from other tests' dates


async def publish(settings: Settings, *events: Event) -> None:
    """Publish as the producing service would, onto this test's own topics."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                settings.topic(event.TOPIC.value), event.to_bytes(), key=event.key
            )
    finally:
        await producer.stop()


async def test_warning_once_and_rejection_in_inbox(settings: Settings, redis_url: str) -> None:
    settings = settings.model_copy(update={"redis_url": redis_url})
    nip = factories.nip()
    app = create(settings)
    notifier = app.state.notifier
    prefix = notifier.cache.prefix
    redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
    scanned_at = datetime(2030, 7, 10, 0, 40, tzinfo=UTC)  # 07:40 WIB
    try:
        async with running(app, SYSTEM) as client:
            # what the scheduler does at midnight: the day's sets are ready (empty) in Redis
            assert await notifier.warm(DAY)
            await publish(
                settings,
                factories.scan(nip, DAY, scanned_at, scan_id=f"it-{nip}"),
            )

            async def in_scanned_set() -> bool:
                return bool(await redis.sismember(f"{prefix}scanned:{DAY}", nip))

            await eventually(in_scanned_set, bool)

            async def run(at: datetime) -> dict[str, Any]:
                res = await client.post("/api/v1/jobs/warnings/run", params={"at": at.isoformat()})
                assert res.status_code == 200, res.text
                return res.json()

            async def inbox() -> dict[str, Any]:
                res = await client.get(f"/api/v1/inbox/{nip}")
                assert res.status_code == 200, res.text
                return res.json()

            first = await run(datetime(2030, 7, 10, 15, 0, tzinfo=WIB))
            assert first["source"] == "redis" and first["created"] >= 1
            box = await inbox()
            assert [m["kind"] for m in box["messages"]] == ["lkh_belum_diisi"]
            assert await redis.exists(f"{prefix}sent:lkh_belum_diisi:{nip}:{DAY}")

            # again, and again with the Redis claim gone: SQL's unique key still holds
            await run(datetime(2030, 7, 10, 15, 30, tzinfo=WIB))
            await redis.delete(f"{prefix}sent:lkh_belum_diisi:{nip}:{DAY}")
            await run(datetime(2030, 7, 10, 16, 0, tzinfo=WIB))
            assert len((await inbox())["messages"]) == 1

            await publish(
                settings,
                ReportRejected(
                    occurred_at=datetime(2030, 7, 11, 2, tzinfo=UTC),
                    producer="approval",
                    nip=nip,
                    report_id=f"r-{nip}",
                    work_date=DAY,
                    decided_by=factories.nip(),
                    reason="Uraian kegiatan belum diisi.",
                ),
            )
            box = await eventually(inbox, lambda b: len(b["messages"]) == 2)
            newest = box["messages"][0]
            assert newest["kind"] == "laporan_ditolak"
            assert "Alasan: Uraian kegiatan belum diisi." in newest["body"]
            assert box["unread"] == 2

            health = await client.get("/api/v1/health/redis")
            assert health.json() == {"redis": "ok"}
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def test_redis_that_lost_everything_is_rebuilt_from_the_store(
    tmp_path: Path, redis_url: str
) -> None:
    """Day sets and the day's dedup keys come back from SQL: a claim of a warning already
    stored is refused by Redis again, not only by SQL's unique key."""
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1",  # not dialled: no event goes through Kafka here
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        redis_url=redis_url,
        group_suffix=f"-t{uuid.uuid4().hex[:8]}",
    )
    app = create(settings, scheduler=False)
    notifier = app.state.notifier
    notifier.kit.migrate()
    prefix = notifier.cache.prefix
    redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
    nip = factories.nip()
    try:
        with Session(notifier.kit.engine) as session:
            session.add(ScanDay(nip=nip, work_date=DAY))
            session.commit()
        first = await notifier.run_leased("warnings", datetime(2030, 7, 10, 15, tzinfo=WIB))
        assert first["created"] == 1
        # Redis restarts empty
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
        await redis.delete(*keys)
        assert await notifier.cache.scanned_not_filed(DAY) is None  # not ready: SQL path
        assert await notifier.warm(DAY)
        assert await notifier.cache.scanned_not_filed(DAY) == {nip}
        key = warning_key(Kind.LKH_MISSING, nip, DAY)
        assert await notifier.cache.claim(key) is False
        again = await notifier.run_leased("warnings", datetime(2030, 7, 10, 15, 5, tzinfo=WIB))
        assert (again["source"], again["created"]) == ("redis", 0)
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        await notifier.cache.close()
