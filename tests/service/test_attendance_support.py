"""Shared harness of attendance's service tests (no tests here): the app on FastStream's
in-memory TestKafkaBroker, its outbox published through that broker, and every event it
puts on sikerja.attendance and sikerja.calendar collected for assertions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from faststream.kafka import KafkaMessage, TestKafkaBroker

from contracts import Topic, parse_event
from contracts.events import EmployeeUpserted, Event
from services.attendance.app import create
from services.attendance.config import AttendanceConfig
from services.shared.kit import ServiceKit, make_broker
from services.shared.outbox import BrokerPublisher
from services.shared.settings import Settings
from tests.support import key_settings, running, who

# The harness's client calls as a job would (an explicit "system" token); a test that
# checks a role sends its own who(...).
SYSTEM = who(None, "system")

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Harness:
    client: httpx.AsyncClient
    broker: Any
    kit: ServiceKit
    events: list[Event] = field(default_factory=list)

    def of(self, event_type: str) -> list[Any]:
        """Events of one type, once each (the relay delivers at least once)."""
        unique = {e.event_id: e for e in self.events if e.event_type == event_type}
        return list(unique.values())

    async def flush(self) -> None:
        """Publish the outbox now (the relay would within relay_interval_s)."""
        while await self.kit.relay.publish_pending():
            pass

    async def employee(self, nip: str, opd: str = "DISKOMINFO", pin: str | None = None) -> None:
        event = EmployeeUpserted(
            occurred_at=T0,
            producer="siasn",
            nip=nip,
            nama=f"Pegawai {nip[-3:]}",
            opd=opd,
            kelas_jabatan=7,
            tpp_pagu=5_000_000,
            pin=pin,
        )
        await self.broker.publish(event.to_bytes(), Topic.EMPLOYEES, key=nip.encode())


@asynccontextmanager
async def make_harness(tmp_path: Any, **config: Any) -> AsyncIterator[Harness]:
    """Use in a module fixture: `async with make_harness(tmp_path) as h: yield h`;
    `config` overrides AttendanceConfig fields."""
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1",  # never dialled: TestKafkaBroker patches the broker
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        retry_backoff_s=0.0,
        relay_interval_s=0.05,
        **key_settings(),
    )
    broker = make_broker(settings, "attendance")
    app = create(
        settings,
        AttendanceConfig(**{"scheduler_enabled": False, "max_document_bytes": 4096, **config}),
        broker=broker,
        publisher=BrokerPublisher(broker),
    )
    kit: ServiceKit = app.state.kit
    seen: list[Event] = []

    @broker.subscriber(Topic.ATTENDANCE.value, group_id="test-collector")
    async def collect(msg: KafkaMessage) -> None:
        seen.append(parse_event(msg.body))

    @broker.subscriber(Topic.CALENDAR.value, group_id="test-collector")
    async def collect_calendar(msg: KafkaMessage) -> None:
        seen.append(parse_event(msg.body))

    async with TestKafkaBroker(broker) as br, running(app, SYSTEM) as client:
        h = Harness(client, br, kit, seen)
        yield h
        await asyncio.sleep(0)
