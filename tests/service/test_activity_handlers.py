"""Activity's subscribers with TestKafkaBroker."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from faststream.kafka import KafkaMessage, TestKafkaBroker
from sqlmodel import Session, select

from contracts import Topic
from contracts.events import FingerprintRecorded
from services.activity.app import build_kit
from services.activity.models import DayUnlock
from services.shared.outbox import BrokerPublisher
from services.shared.settings import Settings
from tests import factories

NOW = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)


def unlocks(kit) -> list[tuple[str, date, str, bool]]:
    with Session(kit.engine) as s:
        rows = s.exec(select(DayUnlock)).all()
    return sorted((r.nip, r.work_date, r.source, r.active) for r in rows)


async def test_fingerprint_and_dinas_luar_open_days(memory_settings: Settings) -> None:
    kit = build_kit(memory_settings)
    kit.relay.publisher = BrokerPublisher(kit.broker)
    kit.migrate()
    nip = factories.nip()
    scan = factories.scan(nip, date(2026, 10, 5), NOW, scan_id="s1")
    dl = factories.absence(
        nip, "dinas_luar", date(2026, 10, 6), date(2026, 10, 7), NOW, absence_id="a1"
    )
    async with TestKafkaBroker(kit.broker) as br:
        await br.publish(scan.to_bytes(), Topic.ATTENDANCE, key=nip.encode())
        await br.publish(scan.to_bytes(), Topic.ATTENDANCE, key=nip.encode())  # redelivered
        await br.publish(dl.to_bytes(), Topic.ATTENDANCE, key=nip.encode())
        assert unlocks(kit) == [
            (nip, date(2026, 10, 5), "scan", True),
            (nip, date(2026, 10, 6), "dinas_luar", True),
            (nip, date(2026, 10, 7), "dinas_luar", True),
        ]
        cancel = dl.model_copy(update={"event_id": uuid.uuid4(), "cancelled": True})
        await br.publish(cancel.to_bytes(), Topic.ATTENDANCE, key=nip.encode())
        assert [u[3] for u in unlocks(kit)] == [True, False, False]


async def test_poison_message_goes_to_the_dead_letter_topic(memory_settings: Settings) -> None:
    kit = build_kit(memory_settings)
    kit.migrate()
    seen: list[bytes] = []

    @kit.broker.subscriber(f"{kit.group}.dlq")
    async def dlq(msg: KafkaMessage) -> None:
        seen.append(msg.body)

    async with TestKafkaBroker(kit.broker) as br:
        await br.publish(b'{"event_type": "Nonsense"}', Topic.ATTENDANCE)
        assert seen == [b'{"event_type": "Nonsense"}']


async def test_a_store_outage_is_not_dead_lettered(memory_settings: Settings) -> None:
    """A locked or unreachable database is not the event's fault: after the retries the
    message is left unacknowledged (it comes back) instead of going to the DLQ."""
    from sqlalchemy.exc import OperationalError

    from services.shared import metrics

    kit = build_kit(memory_settings.model_copy(update={"relay_max_backoff_s": 0.0}))
    kit.migrate()

    def locked(uow, event) -> None:
        raise OperationalError("INSERT ...", {}, Exception("database is locked"))

    kit.handlers[FingerprintRecorded] = locked
    scan = factories.scan(factories.nip(), date(2026, 10, 5), NOW, scan_id="s9")
    dead_before = metrics.DLQ.labels(kit.name)._value.get()
    with pytest.raises(OperationalError):
        await kit.handle(scan.to_bytes())
    assert metrics.DLQ.labels(kit.name)._value.get() == dead_before
    # ... whereas a handler bug still ends in the DLQ after its retries
    kit.handlers[FingerprintRecorded] = lambda uow, event: 1 / 0
    seen: list[bytes] = []

    @kit.broker.subscriber(f"{kit.group}.dlq")
    async def dlq(msg: KafkaMessage) -> None:
        seen.append(msg.body)

    async with TestKafkaBroker(kit.broker):
        assert await kit.handle(scan.to_bytes()) == "dead-lettered"
    assert seen == [scan.to_bytes()]
