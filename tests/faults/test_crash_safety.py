"""Crash safety under load: devices push ATTLOG batches to attendance's /iclock/cdata while
attendance, then tpp, then the broker are killed with SIGKILL and restarted. At the end
every scan a device got "OK" for is stored once by attendance, published once as
FingerprintRecorded (one event id per scan; the relay may re-send an event it had not yet
marked sent, the same event id, which consumers dedup), counted once in tpp's day facts,
and no dead-letter topic holds anything.

A device does what a ZKTeco does: a batch without "OK" (refused connection, reset, 503) is
sent again later, so a batch attendance stored just before it died comes again.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import create_engine
from sqlmodel import Session, select

from contracts import Topic, dlq_topic, parse_event
from contracts.events import FingerprintRecorded
from services.attendance.models import Scan
from services.kernel.calendar import WIB
from services.tpp.models import DayFact
from tests import factories
from tests.faults.processes import OwnKafka, Service
from tests.support import eventually, key_env, topic_records, who

# A hang guard, not a measurement: the run itself is bounded by the waits below.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

DEVICES, BATCHES, LINES = 8, 25, 15  # 3,000 scans; 120 NIPs with 25 scans each
DAY = datetime(2026, 10, 5, 7, 0, tzinfo=WIB)  # a Monday, long past (not "future")
PACE_S = 0.15  # between a device's batches, so the load outlasts the kills
RETRY_S = 0.3  # a device's wait before sending a refused batch again

Key = tuple[str, datetime]  # (NIP, scan instant in UTC): the scan's natural key


def load() -> dict[str, list[list[Key]]]:
    """Per device serial number, its batches of scans (distinct NIPs per device)."""
    rng = random.Random(10)
    nips: set[str] = set()
    while len(nips) < DEVICES * LINES:
        nips.add(factories.nip(rng))
    ordered = sorted(nips)
    run = uuid.uuid4().hex[:6].upper()
    out = {}
    for d in range(DEVICES):
        mine = ordered[d * LINES : (d + 1) * LINES]
        out[f"F{run}{d:02d}"] = [
            [
                (nip, (DAY + timedelta(minutes=b, seconds=i)).astimezone(UTC))
                for i, nip in enumerate(mine)
            ]
            for b in range(BATCHES)
        ]
    return out


def attlog(batch: list[Key]) -> bytes:
    rows = [
        f"{nip}\t{ts.astimezone(WIB).strftime('%Y-%m-%d %H:%M:%S')}\t0\t1\t0\t0\t0"
        for nip, ts in batch
    ]
    return ("\r\n".join(rows) + "\r\n").encode()


async def until(probe: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.1)


async def ready(service: Service, timeout: float = 60) -> None:
    async with httpx.AsyncClient(base_url=service.url, timeout=5) as client:

        async def probe() -> int:
            assert service.proc is not None and service.proc.poll() is None, service.log_tail()
            try:
                return (await client.get("/readyz")).status_code
            except httpx.TransportError:
                return 0

        await eventually(probe, lambda s: s == 200, timeout=timeout)


def stored_scans(data: Path) -> list[Key]:
    engine = create_engine(f"sqlite:///{data}/attendance.db")
    try:
        with Session(engine) as s:
            return [(nip, ts) for nip, ts in s.exec(select(Scan.nip, Scan.ts))]
    finally:
        engine.dispose()


def tpp_days(data: Path) -> dict[tuple[str, date], int]:
    engine = create_engine(f"sqlite:///{data}/tpp.db")
    try:
        with Session(engine) as s:
            rows = s.exec(select(DayFact.nip, DayFact.work_date, DayFact.scans_seen))
            return {(nip, day): seen for nip, day, seen in rows}
    finally:
        engine.dispose()


async def kill_with_unmarked_rows(service: Service, db: Path, bootstrap: str, topic: str) -> int:
    """kill -9 `service` while rows of its outbox are on the topic but not yet marked sent,
    so its relay must send them again: the store's writer is held meanwhile (as a long
    transaction holds it), which parks the relay's marking, not its publishing. Returns how
    many rows were published and unmarked when it died."""
    watcher = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await watcher.start()
    try:
        await watcher._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in watcher.partitions_for_topic(topic) or ()]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            writer = sqlite3.connect(db, timeout=5, isolation_level=None)
            try:
                writer.execute("BEGIN IMMEDIATE")
                sent = writer.execute(
                    "select count(*) from outbox where topic = ? and sent_at is not null",
                    (topic,),
                ).fetchone()[0]
                for _ in range(10):  # the relay publishes what was committed before the lock
                    published = sum((await watcher.end_offsets(tps)).values())
                    if published > sent:
                        service.kill()
                        return int(published - sent)
                    await asyncio.sleep(0.05)
            finally:
                writer.close()  # rolls back: the writer slot is free again
            await asyncio.sleep(0.2)
        raise AssertionError(f"no published, unmarked outbox rows of {service.name} in 30s")
    finally:
        await watcher.stop()


async def publish_employees(bootstrap: str, topic: str, nips: set[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for nip in sorted(nips):
            employee = factories.employee(
                nip,
                at=datetime.now(UTC),
                nama=f"Pegawai {nip[-4:]}",
                opd="FAULTS",
                tpp_pagu=4_000_000,
            )
            await producer.send(topic, employee.to_bytes(), key=employee.key)
        await producer.flush()
    finally:
        await producer.stop()


def known_employees(data: Path) -> int:
    with sqlite3.connect(data / "attendance.db") as conn:
        return int(conn.execute("select count(*) from employee").fetchone()[0])


def unsent(data: Path) -> int:
    with sqlite3.connect(data / "attendance.db") as conn:
        return int(conn.execute("select count(*) from outbox where sent_at is null").fetchone()[0])


async def test_acknowledged_scans_survive_kills_of_attendance_tpp_and_broker(
    own_kafka: OwnKafka, tmp_path: Path
) -> None:
    started = time.monotonic()
    run = uuid.uuid4().hex[:8]
    prefix, suffix = f"f{run}.", f"-f{run}"
    data = tmp_path / "data"
    data.mkdir()
    env = {
        **os.environ,
        "SIKERJA_TOPIC_PREFIX": prefix,
        "SIKERJA_GROUP_SUFFIX": suffix,
        "SIKERJA_DATA_DIR": str(data),
        "SIKERJA_DATABASE_URL": f"sqlite:///{data}/{{service}}.db",
        "SIKERJA_KAFKA_BOOTSTRAP": own_kafka.bootstrap,
        "SIKERJA_ATTENDANCE_SCHEDULER_ENABLED": "false",
        "SIKERJA_LOG_LEVEL": "WARNING",
        "SIKERJA_RELAY_INTERVAL_S": "0.1",
        "SIKERJA_RELAY_MAX_BACKOFF_S": "1",
        "SIKERJA_RETRY_BACKOFF_S": "0.05",
        **key_env(),  # the services verify tokens of the test key
    }
    topic = prefix + Topic.ATTENDANCE.value
    attendance = Service("attendance", env, tmp_path)
    tpp = Service("tpp", env, tmp_path)
    try:
        tpp.start()
        attendance.start()
        await asyncio.gather(ready(tpp), ready(attendance))  # tpp has made the topics it reads
        devices = load()
        # Attendance credits scans only to employees it knows (others wait in quarantine,
        # unpublished): siasn's EmployeeUpserted of every NIP first, as in production.
        nips = {nip for batches in devices.values() for nip, _ in batches[0]}
        await publish_employees(own_kafka.bootstrap, prefix + Topic.EMPLOYEES.value, nips)

        async def employees_known() -> int:
            return known_employees(data)

        await eventually(employees_known, lambda n: n == len(nips), timeout=60)
        operator = who(None, "operator", "FAULTS")
        async with httpx.AsyncClient(
            base_url=attendance.url, timeout=10, headers=operator
        ) as client:
            for sn in devices:
                r = await client.post("/api/v1/devices", json={"sn": sn, "opd": "FAULTS"})
                assert r.status_code == 201, r.text

        acked: list[Key] = []
        refused = Counter[str]()
        inflight = [0]  # batches sent and not yet answered
        total = DEVICES * BATCHES * LINES

        async def device(sn: str, batches: list[list[Key]]) -> None:
            limits = httpx.Limits(max_connections=1)
            async with httpx.AsyncClient(base_url=attendance.url, timeout=10, limits=limits) as c:
                for stamp, batch in enumerate(batches, 1):
                    while True:
                        inflight[0] += 1
                        try:
                            r = await c.post(
                                f"/iclock/cdata?SN={sn}&table=ATTLOG&Stamp={stamp}",
                                content=attlog(batch),
                            )
                            if r.status_code == 200 and r.text == "OK":
                                break
                            refused[f"http {r.status_code}"] += 1
                        except httpx.TransportError as exc:
                            refused[type(exc).__name__] += 1
                        finally:
                            inflight[0] -= 1
                        await asyncio.sleep(RETRY_S)
                    acked.extend(batch)
                    await asyncio.sleep(PACE_S)

        unmarked = [0]

        async def crash_attendance() -> None:
            unmarked[0] = await kill_with_unmarked_rows(
                attendance, data / "attendance.db", own_kafka.bootstrap, topic
            )
            attendance.start()

        async def crash_tpp() -> None:
            await asyncio.to_thread(tpp.restart)

        async def crash_broker() -> None:
            await asyncio.to_thread(own_kafka.kill)
            await asyncio.to_thread(own_kafka.start)

        async def chaos() -> list[str]:
            """Each kill once enough is acknowledged and while a batch is in flight; the
            services come back on their own folders (not awaited: devices retry meanwhile)."""
            done = []
            for share, target, crash in (
                (0.15, "attendance", crash_attendance),
                (0.35, "tpp", crash_tpp),
                (0.55, "broker", crash_broker),
            ):
                await until(
                    lambda s=share: len(acked) >= s * total and inflight[0] > 0,
                    f"{share:.0%} acked",
                    60,
                )
                done.append(f"{target} at {len(acked)} acked, {time.monotonic() - t0:.1f}s")
                await crash()
            return done

        t0 = time.monotonic()
        _, kills = await asyncio.gather(
            asyncio.gather(*(device(sn, b) for sn, b in devices.items())), chaos()
        )
        load_s = time.monotonic() - t0
        setup_s = t0 - started
        expected = {key for batches in devices.values() for batch in batches for key in batch}
        assert sorted(acked) == sorted(expected)  # every batch got its "OK" in the end

        # Stored once: the scan table's key is the natural key; all acknowledged are there.
        stored = stored_scans(data)
        assert len(stored) == len(set(stored)) == total
        assert set(stored) == expected

        # Published once: the outbox drains, one event id per scan on the topic.
        async def outbox() -> int:
            return unsent(data)

        await eventually(outbox, lambda n: n == 0, timeout=60)
        raw = await topic_records(own_kafka.bootstrap, topic)
        events = [e for e in map(parse_event, raw) if isinstance(e, FingerprintRecorded)]
        ids_by_key: dict[Key, set[str]] = defaultdict(set)
        for e in events:
            ids_by_key[(e.nip, e.scanned_at)].add(str(e.event_id))
        assert set(ids_by_key) == expected
        assert [k for k, ids in ids_by_key.items() if len(ids) != 1] == []
        # attendance died with published, unmarked rows: they went out again (same ids)
        assert unmarked[0] > 0 and len(events) > total

        # Seen once by tpp: its day facts count each scan once (a re-sent event is deduped).
        per_day = Counter((nip, ts.astimezone(WIB).date()) for nip, ts in expected)

        async def tpp_seen() -> int:
            return sum(tpp_days(data).values())

        await eventually(tpp_seen, lambda n: n >= total, timeout=60)
        assert tpp_days(data) == dict(per_day)

        # Nothing dead-lettered.
        for group in ("attendance" + suffix, "tpp" + suffix):
            assert await topic_records(own_kafka.bootstrap, dlq_topic(group)) == [], group

        print(
            f"\ncrash safety: {total} scans from {DEVICES} devices acknowledged, stored "
            f"{len(stored)}, on the topic {len(events)} records / "
            f"{len({i for ids in ids_by_key.values() for i in ids})} event ids, tpp counted "
            f"{sum(tpp_days(data).values())}; {unmarked[0]} unmarked at attendance's kill; "
            f"kills at {kills}; retries {dict(refused)}; "
            f"setup {setup_s:.1f}s, load {load_s:.1f}s, "
            f"whole test {time.monotonic() - started:.1f}s"
        )
    finally:
        attendance.stop()
        tpp.stop()
