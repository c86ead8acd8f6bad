"""The service kit on the real broker: outbox relay across a broker restart, dead-letter
topic, redelivery, and two replicas sharing a consumer group."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter as Tally
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, col, select

from contracts.events import EmployeeDeactivated
from services.activity.app import create as create_activity
from services.attendance.app import create as create_attendance
from services.attendance.config import AttendanceConfig
from services.shared.db import kit_tables
from services.shared.handlers import Handlers
from services.shared.kit import ServiceKit
from services.shared.settings import Settings
from services.shared.uow import UnitOfWork
from tests import factories
from tests.infra import Kafka
from tests.support import eventually, running, who

SYSTEM = who(None, "system")  # a job's token; tests of a role send their own

pytestmark = pytest.mark.integration


class Base(SQLModel, registry=registry()):
    """The kit tests' tables."""


KIT = kit_tables(Base)


class Effect(Base, table=True):
    """A deliberately non-idempotent effect: a counter per NIP, and who handled it."""

    __tablename__ = "effect"
    nip: str = Field(primary_key=True)
    count: int = 0
    handled_by: str = ""


def event_for(nip: str, **kw: object) -> EmployeeDeactivated:
    return EmployeeDeactivated(
        occurred_at=datetime.now(UTC), producer="test", nip=nip, reason="test", **kw
    )


async def make_topic(kafka: Kafka, settings: Settings, partitions: int = 6) -> str:
    """A topic under the test's prefix (deleted with the test's other topics)."""
    topic = f"{settings.topic_prefix}test.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()
    return topic


async def produce(kafka: Kafka, topic: str, payloads: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in payloads:
            await producer.send_and_wait(topic, value, key=key.encode())
    finally:
        await producer.stop()


async def read_all(kafka: Kafka, topic: str, expect: int, timeout: float = 30) -> list[object]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        enable_auto_commit=False,
    )
    await consumer.start()
    got: list[object] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(got) < expect and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                got.extend(records)
    finally:
        await consumer.stop()
    return got


def counting_handler(label: str, fail_for: set[str] | None = None):
    def handle(uow: UnitOfWork, event: EmployeeDeactivated) -> None:
        if fail_for and event.nip in fail_for:
            raise RuntimeError(f"handler cannot handle {event.nip}")
        row = uow.session.get(Effect, event.nip) or Effect(nip=event.nip)
        row.count += 1
        row.handled_by = label
        uow.session.add(row)

    return handle


def test_kit(name: str, settings: Settings, topic: str, label: str, **kw: object) -> ServiceKit:
    return ServiceKit(
        name,
        KIT,
        settings,
        Handlers(counting_handler(label, kw.pop("fail_for", None))),  # type: ignore[arg-type]
        [topic],
        alembic=False,
        **kw,  # type: ignore[arg-type]
    )


test_kit.__test__ = False  # type: ignore[attr-defined]


def effects(kit: ServiceKit) -> dict[str, Effect]:
    with Session(kit.engine) as s:
        return {e.nip: e for e in s.exec(select(Effect)).all()}


async def test_failing_handler_goes_to_dlq_and_the_next_event_is_handled(
    kafka: Kafka, settings: Settings
) -> None:
    topic = await make_topic(kafka, settings, partitions=1)
    bad, good = factories.nip(), factories.nip()
    kit = test_kit("kitdlq", settings, topic, "a", fail_for={bad})
    await kit.start()
    try:
        unknown = json.dumps({"event_type": "SomethingNew", "event_id": str(uuid.uuid4())}).encode()
        newer = event_for(good).model_dump(mode="json") | {"schema_version": 99}
        bad_bytes = event_for(bad).to_bytes()
        await produce(
            kafka,
            topic,
            [
                (bad, bad_bytes),
                ("x", unknown),
                (good, json.dumps(newer).encode()),
                ("y", b"not json at all"),
                (good, event_for(good).to_bytes()),
            ],
        )

        async def probe() -> dict[str, Effect]:
            return effects(kit)

        done = await eventually(probe, lambda e: good in e)
        assert done[good].count == 1 and bad not in done
        dead = await read_all(kafka, f"kitdlq{settings.group_suffix}.dlq", expect=4)
        assert len(dead) == 4
        by_reason = {dict(r.headers)["error"].decode(): r for r in dead}  # type: ignore[attr-defined]
        failing = next(r for k, r in by_reason.items() if "handler cannot handle" in k)
        assert failing.value == bad_bytes  # the original message, untouched
        assert failing.key == bad.encode()
        assert dict(failing.headers)["attempts"] == str(settings.max_attempts).encode()
        assert dict(failing.headers)["original_topic"] == topic.encode()
        text = " | ".join(by_reason)
        assert "unknown event_type 'SomethingNew'" in text
        assert "schema_version 99" in text
        assert "not JSON" in text
    finally:
        await kit.stop()


async def test_same_event_twice_has_one_effect(kafka: Kafka, settings: Settings) -> None:
    topic = await make_topic(kafka, settings, partitions=1)
    nip, other = factories.nip(), factories.nip()
    once = event_for(nip).to_bytes()
    kit = test_kit("kitdup", settings, topic, "a")
    await kit.start()
    try:
        await produce(
            kafka, topic, [(nip, once), (nip, once), (other, event_for(other).to_bytes())]
        )

        async def probe() -> dict[str, Effect]:
            return effects(kit)

        done = await eventually(probe, lambda e: other in e)
        assert done[nip].count == 1  # the second delivery found the inbox entry
    finally:
        await kit.stop()
    # A restart with a reset offset (redelivery of everything) still has no second effect.
    replay = settings.model_copy(update={"group_suffix": settings.group_suffix + "-replay"})
    again = test_kit("kitdup", replay, topic, "b")
    again.engine = kit.engine
    await again.start()
    try:
        await asyncio.sleep(0)

        async def handled() -> float:
            from services.shared import metrics

            return metrics.EVENTS_DUPLICATE.labels("kitdup", "EmployeeDeactivated")._value.get()

        await eventually(handled, lambda v: v >= 3)
        assert effects(again)[nip].count == 1 and effects(again)[other].count == 1
    finally:
        await again.stop()


async def test_two_replicas_share_partitions_and_handle_each_event_once(
    kafka: Kafka, settings: Settings
) -> None:
    topic = await make_topic(kafka, settings, partitions=6)
    a = test_kit("kitrep", settings, topic, "a")
    b = test_kit("kitrep", settings, topic, "b")
    b.engine = a.engine  # replicas of one service share its store
    await a.start()
    await b.start()
    try:

        async def assigned() -> tuple[int, int]:
            return (
                len(a.subscriber.consumer.assignment()) if a.broker_started else 0,
                len(b.subscriber.consumer.assignment()) if b.broker_started else 0,
            )

        await eventually(assigned, lambda x: x[0] > 0 and x[1] > 0 and sum(x) == 6, timeout=60)
        nips = [factories.nip() for _ in range(120)]
        await produce(kafka, topic, [(n, event_for(n).to_bytes()) for n in nips])

        async def probe() -> dict[str, Effect]:
            return effects(a)

        done = await eventually(probe, lambda e: len(e) == len(set(nips)), timeout=60)
        assert all(e.count == 1 for e in done.values())
        by = Tally(e.handled_by for e in done.values())
        assert by["a"] > 0 and by["b"] > 0, by
    finally:
        await a.stop()
        await b.stop()


async def test_relay_survives_broker_restart(kafka: Kafka, settings: Settings) -> None:
    if not kafka.controllable:
        pytest.fail("this test needs a broker it can stop and start (deploy/local/kafka.sh)")
    nip = factories.nip()
    # No closer: it would add the employee's AttendanceDayClosed of the past week to the
    # outbox (a date closed before the employee arrived is closed for them at a later tick),
    # and the backlog counted here is the scans' events.
    attendance = create_attendance(settings, AttendanceConfig(scheduler_enabled=False))
    activity = create_activity(settings)
    async with running(attendance, SYSTEM) as att, running(activity, SYSTEM) as act:
        # attendance credits scans only to employees it knows (others wait in quarantine)
        kit = attendance.state.kit
        with Session(kit.engine) as s:
            s.add(kit.tables.employee(nip=nip, nama="Pegawai Uji", opd="Dinas Uji"))
            s.commit()
        await asyncio.to_thread(kafka.stop)
        try:
            scans = [
                {"nip": nip, "waktu": f"2026-10-{d:02d} 07:2{d % 10}:00"} for d in range(1, 21)
            ]
            posted = await att.post("/api/v1/scans", json={"scans": scans})
            assert [x["status"] for x in posted.json()] == ["accepted"] * 20
            kit = attendance.state.kit
            await asyncio.sleep(1.0)
            assert kit.relay.backlog() == 20  # waiting, not lost
            outbox = kit.tables.outbox
            with Session(kit.engine) as s:
                waiting = s.exec(select(outbox).where(col(outbox.sent_at).is_(None))).all()
            assert (
                sorted((r.event_type, r.key) for r in waiting)
                == [("FingerprintRecorded", nip)] * 20
            )
            assert (await att.get("/readyz")).status_code == 503
        finally:
            await asyncio.to_thread(kafka.start)

        async def backlog() -> int:
            return kit.relay.backlog()

        await eventually(backlog, lambda n: n == 0, timeout=90)

        async def unlocked() -> list[dict[str, str]]:
            return (await act.get(f"/api/v1/employees/{nip}/unlocked-days")).json()

        days = await eventually(unlocked, lambda d: len(d) == 20, timeout=90)
        assert sorted(d["date"] for d in days) == [f"2026-10-{d:02d}" for d in range(1, 21)]
        with Session(kit.engine) as s:
            sent = {r.event_id for r in s.exec(select(outbox).where(outbox.key == nip)).all()}
        assert len(sent) == 20
        inbox = activity.state.kit.tables.inbox
        with Session(activity.state.kit.engine) as s:
            handled = {r.event_id for r in s.exec(select(inbox)).all()}
        assert sent <= handled  # every event that waited in the outbox was handled once
