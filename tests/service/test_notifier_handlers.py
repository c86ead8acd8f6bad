"""Notifier's subscribers and jobs with TestKafkaBroker, and Redis down on purpose: every
answer here comes from the SQL path (the Redis path is tested in
tests/integration/test_notifier_redis.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from faststream.kafka import TestKafkaBroker
from sqlmodel import Session, select

from contracts.events import (
    ActivityReported,
    ActivityWithdrawn,
    Event,
    FingerprintRecorded,
    ReportRejected,
    RevisionRequested,
    TppRecomputed,
)
from services.notifier.app import create
from services.notifier.cache import DayCache
from services.notifier.config import NotifierSettings
from services.notifier.delivery import LogSender
from services.notifier.domain import WIB
from services.notifier.models import CacheGap, Delivery
from services.shared.outbox import BrokerPublisher
from services.shared.settings import Settings
from tests import factories
from tests.support import who

MON = date(2026, 10, 5)  # a Monday, a working day in Indonesia
NOW = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)  # 08:00 WIB
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens there: Redis is "down"


def at_wib(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=WIB)


class Harness:
    def __init__(self, settings: Settings, config: NotifierSettings | None = None) -> None:
        self.sender = LogSender()
        self.app = create(
            settings,
            clock=lambda: NOW,
            sender=self.sender,
            config=config,
            cache=DayCache(DEAD_REDIS, timeout_s=0.2),
            scheduler=False,
        )
        self.notifier = self.app.state.notifier
        self.kit = self.notifier.kit
        self.kit.relay.publisher = BrokerPublisher(self.kit.broker)
        self.kit.migrate()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://svc",
            headers=who(None, "system"),  # a test checking a role sends its own
        )
        self.br: Any = None

    async def send(self, *events: Event) -> None:
        for event in events:
            await self.br.publish(event.to_bytes(), event.TOPIC.value, key=event.key)

    async def inbox(self, nip: str) -> dict[str, Any]:
        res = await self.client.get(f"/api/v1/inbox/{nip}", headers=who(nip, "asn"))
        assert res.status_code == 200, res.text
        return res.json()

    async def run_warnings(self, at: datetime) -> dict[str, Any]:
        res = await self.client.post("/api/v1/jobs/warnings/run", params={"at": at.isoformat()})
        assert res.status_code == 200, res.text
        return res.json()


@pytest.fixture
async def h(memory_settings: Settings) -> AsyncIterator[Harness]:
    harness = Harness(memory_settings)
    async with TestKafkaBroker(harness.kit.broker) as br:
        harness.br = br
        yield harness
    await harness.client.aclose()
    await harness.notifier.cache.close()


def scan(nip: str, day: date = MON) -> FingerprintRecorded:
    return factories.scan(nip, day, NOW)


def filed(nip: str, rid: str, day: date = MON, at: datetime = NOW) -> ActivityReported:
    return ActivityReported(
        occurred_at=at, producer="activity", nip=nip, report_id=rid, work_date=day, description="x"
    )


def withdrawn(nip: str, rid: str, at: datetime) -> ActivityWithdrawn:
    return ActivityWithdrawn(
        occurred_at=at, producer="activity", nip=nip, report_id=rid, work_date=MON
    )


async def test_scanned_without_report_gets_one_warning(h: Harness) -> None:
    a, b = factories.nip(), factories.nip()
    await h.send(scan(a), scan(a), scan(b), filed(b, "rb1"))
    # Redis is down: each day-set update left a gap to rebuild from SQL later
    with Session(h.kit.engine) as s:
        assert s.get(CacheGap, MON) is not None

    early = await h.run_warnings(at_wib(MON, 14, 59))
    assert early["created"] == 0 and early["skipped"] == "not_due"
    first = await h.run_warnings(at_wib(MON, 15))
    # scanned {a, b} minus filed {b} = {a}
    assert (first["source"], first["due"], first["created"]) == ("sql", 1, 1)
    again = await h.run_warnings(at_wib(MON, 15, 1))  # a restart, a second replica, ...
    assert (again["due"], again["created"]) == (0, 0)

    box = await h.inbox(a)
    assert box["unread"] == 1 and len(box["messages"]) == 1
    assert box["messages"][0]["kind"] == "lkh_belum_diisi"
    assert "belum mengisi laporan kegiatan" in box["messages"][0]["body"]
    assert (await h.inbox(b))["messages"] == []

    msg_id = box["messages"][0]["id"]
    read = await h.client.post(f"/api/v1/inbox/{a}/{msg_id}/read", headers=who(a, "asn"))
    assert read.status_code == 200 and read.json()["read"] is True
    assert (await h.inbox(a))["unread"] == 0
    # someone else's inbox is closed to an ASN; a wrong id is a 404 problem in Bahasa
    other = await h.client.get(f"/api/v1/inbox/{a}", headers=who(b, "asn"))
    assert other.status_code == 403
    missing = await h.client.post(f"/api/v1/inbox/{b}/{msg_id}/read", headers=who(b, "asn"))
    assert missing.status_code == 404 and missing.json()["detail"] == "Pesan tidak ditemukan."


async def test_withdrawal_counts_the_other_reports_of_the_day(h: Harness) -> None:
    b = factories.nip()
    t = [datetime(2026, 10, 5, 2, m, tzinfo=UTC) for m in range(3)]
    await h.send(
        scan(b), filed(b, "r1", at=t[0]), filed(b, "r2", at=t[0]), withdrawn(b, "r1", t[1])
    )
    # r2 is still filed: no warning
    assert (await h.run_warnings(at_wib(MON, 15)))["due"] == 0
    await h.send(withdrawn(b, "r2", t[2]))
    # no report left for Monday: warned
    assert (await h.run_warnings(at_wib(MON, 15, 5)))["created"] == 1


async def test_no_warning_on_a_saturday(h: Harness) -> None:
    a = factories.nip()
    sat = date(2026, 10, 10)
    await h.send(scan(a, sat))
    result = await h.run_warnings(at_wib(sat, 15))
    assert result["created"] == 0 and result["skipped"] == "not_due"


async def test_rejection_revision_and_tpp_reach_the_employee_at_once(h: Harness) -> None:
    a, boss = factories.nip(), factories.nip()
    common = {"occurred_at": NOW, "producer": "approval", "nip": a, "work_date": MON}
    rejected = ReportRejected(**common, report_id="r1", decided_by=boss, reason="Uraian kosong.")
    revision = RevisionRequested(**common, report_id="r2", decided_by=boss, note="Tambah foto.")
    tpp = TppRecomputed(
        occurred_at=NOW,
        producer="tpp",
        nip=a,
        period="2026-10",
        rules="bekasi-perwali-69-2019",
        old_net=5_000_000,
        new_net=4_900_000,
        cause_event_type="ReportRejected",
        cause_event_id=rejected.event_id,
    )
    await h.send(rejected, rejected, revision, tpp)  # the rejection is redelivered
    kinds = sorted(m["kind"] for m in (await h.inbox(a))["messages"])
    assert kinds == ["laporan_ditolak", "perbaikan_diminta", "tpp_berubah"]
    bodies = " ".join(m["body"] for m in (await h.inbox(a))["messages"])
    assert "Alasan: Uraian kosong." in bodies and "Catatan atasan: Tambah foto." in bodies
    assert "dari Rp 5.000.000 menjadi Rp 4.900.000 karena" in bodies


async def test_atasan_reminder_after_more_than_one_working_day(h: Harness) -> None:
    a, boss = factories.nip(), factories.nip()
    emp = factories.employee(a, boss, at=NOW, nama="A", opd="X", tpp_pagu=1)
    fri = date(2026, 10, 9)
    filed_fri = datetime(2026, 10, 9, 3, tzinfo=UTC)  # 10:00 WIB Friday
    await h.send(emp, filed(a, "r1", fri, filed_fri))

    async def remind(at: datetime) -> dict[str, Any]:
        res = await h.client.post("/api/v1/jobs/reminders/run", params={"at": at.isoformat()})
        assert res.status_code == 200, res.text
        return res.json()

    # Monday: one working day waited (the weekend does not count) -> nothing
    assert (await remind(at_wib(date(2026, 10, 12), 9)))["created"] == 0
    # Tuesday: two -> one reminder to the atasan, once
    assert (await remind(at_wib(date(2026, 10, 13), 9)))["created"] == 1
    assert (await remind(at_wib(date(2026, 10, 13), 10)))["created"] == 0
    (msg,) = (await h.inbox(boss))["messages"]
    assert msg["kind"] == "pengingat_atasan" and "Ada 1 laporan" in msg["body"]
    # approved: nothing waits any more on Wednesday
    approved = factories.approved(
        a, fri, datetime(2026, 10, 13, 5, tzinfo=UTC), report_id="r1", decided_by=boss
    )
    await h.send(approved)
    assert (await remind(at_wib(date(2026, 10, 14), 9)))["due"] == 0


async def test_configured_channel_rate_limit_and_delivery_log(memory_settings: Settings) -> None:
    h = Harness(memory_settings, NotifierSettings(rate_limit_per_hour=1))
    async with TestKafkaBroker(h.kit.broker) as br:
        h.br = br
        a = factories.nip()
        put = await h.client.put(
            f"/api/v1/channels/{a}", json={"channel": "whatsapp", "address": "+6281234567890"}
        )
        assert put.status_code == 200, put.text
        bad = await h.client.put(f"/api/v1/channels/{a}", json={"channel": "pos", "address": "x"})
        assert bad.status_code == 422
        common = {"occurred_at": NOW, "producer": "approval", "nip": a, "work_date": MON}
        await h.send(
            ReportRejected(**common, report_id="r1", decided_by=factories.nip(), reason="A."),
            ReportRejected(**common, report_id="r2", decided_by=factories.nip(), reason="B."),
        )
        # two messages, limit 1 per hour; Redis is down, so the delivery log counts the hour
        assert await h.notifier.dispatch() == 1  # sends made: the other is over the limit
        assert await h.notifier.dispatch() == 0  # nothing pending any more
        assert [s[0:2] for s in h.sender.sent] == [("whatsapp", "+6281234567890")]
        log = (await h.client.get("/api/v1/deliveries", params={"nip": a})).json()
        statuses = sorted((d["channel"], d["status"]) for d in log)
        assert statuses == [
            ("inbox", "stored"),
            ("inbox", "stored"),
            ("whatsapp", "rate_limited"),
            ("whatsapp", "sent"),
        ]
        asn = await h.client.get("/api/v1/deliveries", headers=who(None, "asn"))
        assert asn.status_code == 403
        health = (await h.client.get("/api/v1/health/redis")).json()
        assert health["redis"].startswith("degraded")
    with Session(h.kit.engine) as s:
        assert len(s.exec(select(Delivery)).all()) == 4
    await h.client.aclose()
    await h.notifier.cache.close()


async def test_scheduler_tick_runs_each_due_job_once_a_day(h: Harness) -> None:
    a = factories.nip()
    await h.send(scan(a))
    # 08:59 WIB: nothing due yet; 09:00: the reminders (none pending); 15:00: the warnings
    assert await h.notifier.tick(at_wib(MON, 8, 59)) == []
    assert [r["job"] for r in await h.notifier.tick(at_wib(MON, 9))] == ["reminders"]
    ran = await h.notifier.tick(at_wib(MON, 15))
    assert [(r["job"], r["created"]) for r in ran] == [("warnings", 1)]
    # the next minute (or a restart that evening) runs nothing again
    assert await h.notifier.tick(at_wib(MON, 15, 1)) == []
    assert len((await h.inbox(a))["messages"]) == 1
