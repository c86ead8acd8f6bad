"""Attendance on the real broker: a device's ADMS push becomes FingerprintRecorded on
Kafka, and a backlog upload for a day already closed re-closes it as revision 2."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from contracts import Topic, parse_event
from contracts.events import Event
from services.attendance.app import create
from services.attendance.config import AttendanceConfig
from services.shared.settings import Settings
from tests import factories
from tests.support import eventually, running, who

SYSTEM = who(None, "system")  # a job's token; tests of a role send their own

pytestmark = pytest.mark.integration

DAY = "2026-10-05"  # a Monday, a working day


async def test_adms_push_and_backlog_reclose(settings: Settings, run_id: str) -> None:
    nip = factories.nip()
    pin = str(random.randint(10_000, 99_999))
    sn = f"T{run_id.upper()}"
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        # The test's own topics (settings.topic_prefix): create attendance's now, so the
        # consumer knows every partition before the first event.
        topic = settings.topic(Topic.ATTENDANCE.value)
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        await admin.start()
        try:
            await admin.create_topics(
                [NewTopic(topic, settings.topic_partitions, settings.topic_replication)]
            )
        except TopicAlreadyExistsError:
            pass
        finally:
            await admin.close()
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or {0}]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen: list[Event] = []

        async def mine() -> list[Event]:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                seen.extend(e for e in (parse_event(r.value) for r in records) if e.nip == nip)
            return seen

        app = create(settings, AttendanceConfig(scheduler_enabled=False))
        async with running(app, SYSTEM) as client:
            now = datetime.now(UTC)
            employee = factories.employee(nip, at=now, opd="DISKOMINFO", pin=pin)
            await producer.send_and_wait(
                settings.topic(Topic.EMPLOYEES.value), employee.to_bytes(), key=nip.encode()
            )

            async def known() -> int:
                r = await client.get(f"/api/v1/employees/{nip}/month?period=2026-10")
                return r.status_code

            await eventually(known, lambda s: s == 200)
            reg = await client.post("/api/v1/devices", json={"sn": sn, "opd": "DISKOMINFO"})
            assert reg.status_code == 201, reg.text

            push = await client.post(
                f"/iclock/cdata?SN={sn}&table=ATTLOG&Stamp=1",
                content=f"{pin}\t{DAY} 07:50:30\t0\t1\t0\t0\t0\r\n",
            )
            assert (push.status_code, push.text) == (200, "OK")
            events = await eventually(
                mine, lambda es: any(e.event_type == "FingerprintRecorded" for e in es)
            )
            scan = next(e for e in events if e.event_type == "FingerprintRecorded")
            # 07:50:30 WIB is 00:50:30 UTC
            assert scan.scanned_at == datetime(2026, 10, 5, 0, 50, 30, tzinfo=UTC)
            assert (scan.source, scan.device_sn) == ("adms", sn)

            closed = await client.post(f"/api/v1/days/close?date={DAY}&nip={nip}")
            assert closed.json()["emitted"] == 1

            # The device was offline; its backlog brings the check-out of the closed day.
            backlog = await client.post(
                f"/iclock/cdata?SN={sn}&table=ATTLOG&Stamp=2",
                content=f"{pin}\t{DAY} 15:30:00\t1\t1\t0\t0\t0\r\n",
            )
            assert backlog.text == "OK"

            def day_closed(es: list[Event]) -> list[Event]:
                return sorted(
                    (e for e in es if e.event_type == "AttendanceDayClosed"),
                    key=lambda e: e.revision,  # type: ignore[attr-defined]
                )

            events = await eventually(mine, lambda es: len(day_closed(es)) >= 2)
            first, second = day_closed(events)[:2]
            # Rev 1: check-in 07:50:30 only -> 20 min late, no check-out.
            assert (first.revision, first.minutes_late, first.check_out) == (1, 20, None)
            # Rev 2: check-out 15:30:00 -> 30 min early.
            assert (second.revision, second.status, second.minutes_early) == (2, "present", 30)
            month = (await client.get(f"/api/v1/employees/{nip}/month?period=2026-10")).json()
            day = next(d for d in month["hari"] if d["tanggal"] == DAY)
            assert (day["revisi"], day["jam_pulang"]) == (2, "15:30:00")
    finally:
        await consumer.stop()
        await producer.stop()
        await asyncio.sleep(0)
