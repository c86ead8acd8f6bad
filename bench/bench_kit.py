"""Throughput of the service kit against raw aiokafka, in the same run, on the real broker.

raw:  AIOKafkaProducer (acks=all) -> AIOKafkaConsumer (manual commit per batch), N messages
kit:  N events written through the outbox (500 per transaction) -> relay -> consumer with
      inbox + a counter effect + offset commit after each transaction (FastStream, ack after)

    uv run python -m bench.bench_kit [--events 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, func, select

from contracts.events import EmployeeDeactivated
from services.shared.db import kit_tables
from services.shared.handlers import Handlers
from services.shared.kit import ServiceKit
from services.shared.settings import Settings
from services.shared.uow import UnitOfWork


class Base(SQLModel, registry=registry()):
    """The bench's tables."""


KIT = kit_tables(Base)


class Tally(Base, table=True):
    __tablename__ = "tally"
    nip: str = Field(primary_key=True)
    count: int = 0


def count_effect(uow: UnitOfWork, event: EmployeeDeactivated) -> None:
    row = uow.session.get(Tally, event.nip) or Tally(nip=event.nip)
    row.count += 1
    uow.session.add(row)


def nips(n: int) -> list[str]:
    return [
        f"1985031220100110{i % 10}{(i // 10) % 100:02d}"[:15] + f"{(i % 998) + 1:03d}"
        for i in range(n)
    ]


async def new_topic(bootstrap: str, partitions: int = 6) -> str:
    topic = f"sikerja.bench.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()
    return topic


def payloads(n: int) -> list[tuple[bytes, bytes]]:
    now = datetime.now(UTC)
    keys = [f"19850312201001{(i % 9000) + 1000:04d}" for i in range(n)]
    return [
        (
            k.encode(),
            EmployeeDeactivated(
                occurred_at=now, producer="bench", nip=k[:14] + "1" + k[15:]
            ).to_bytes(),
        )
        for k in keys
    ]


async def bench_raw(bootstrap: str, n: int) -> float:
    topic = await new_topic(bootstrap)
    data = payloads(n)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    started = time.perf_counter()
    futures = [await producer.send(topic, v, key=k) for k, v in data]
    await asyncio.gather(*futures)
    got = 0
    while got < n:
        batch = await consumer.getmany(timeout_ms=1000)
        got += sum(len(v) for v in batch.values())
        await consumer.commit()
    elapsed = time.perf_counter() - started
    await producer.stop()
    await consumer.stop()
    return elapsed


async def bench_kit(bootstrap: str, n: int, db_url: str) -> float:
    topic = await new_topic(bootstrap)
    settings = Settings(
        kafka_bootstrap=bootstrap,
        database_url=db_url,
        relay_interval_s=0.05,
        group_suffix=f"-{uuid.uuid4().hex[:6]}",
    )
    kit = ServiceKit("bench", KIT, settings, Handlers(count_effect), [topic], alembic=False)
    await kit.start()
    data = payloads(n)
    started = time.perf_counter()
    for i in range(0, n, 500):
        with kit.uow() as uow:
            for _key, value in data[i : i + 500]:
                uow.emit(EmployeeDeactivated.model_validate_json(value), topic=topic)
            uow.commit()
    while True:
        with Session(kit.engine) as s:
            done = s.exec(select(func.sum(Tally.count))).one() or 0
        if done >= n:
            break
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - started
    await kit.stop()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    args = parser.parse_args()
    n = args.events
    raw = await bench_raw(args.bootstrap, n)
    with tempfile.TemporaryDirectory() as tmp:
        kit = await bench_kit(args.bootstrap, n, f"sqlite:///{Path(tmp)}/bench.db")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"| {datetime.now(UTC):%Y-%m-%d} | {platform.machine()} {os.cpu_count()} cores "
        f"| {n} | raw aiokafka {n / raw:,.0f} ev/s | kit (outbox→relay→consumer+inbox, SQLite) "
        f"{n / kit:,.0f} ev/s | kit takes {kit / raw:.1f}x the raw time | peak RSS {rss:.0f} MiB |"
    )


if __name__ == "__main__":
    asyncio.run(main())
