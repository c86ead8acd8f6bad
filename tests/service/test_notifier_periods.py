"""The notifier and employment periods / migration imports (issue 14): the 15:00 warning goes
only to employees active that day; events marked `migration` (BKPSDM loading history)
notify nobody — on the in-memory broker, Redis down (the SQL path)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
from faststream.kafka import TestKafkaBroker

from contracts.events import EmployeeDeactivated, ReportRejected, RevisionRequested, TppRecomputed
from services.shared.settings import Settings
from tests import factories
from tests.service.test_notifier_handlers import MON, NOW, Harness, at_wib, filed, scan


@pytest.fixture
async def h(memory_settings: Settings) -> AsyncIterator[Harness]:
    harness = Harness(memory_settings)
    async with TestKafkaBroker(harness.kit.broker) as br:
        harness.br = br
        yield harness
    await harness.client.aclose()
    await harness.notifier.cache.close()


async def test_the_warning_goes_only_to_those_active_that_day(h: Harness) -> None:
    stays, left, joins, unknown = (factories.nip() for _ in range(4))
    await h.send(
        factories.employee(stays, at=NOW),
        factories.employee(left, at=NOW),
        EmployeeDeactivated(
            occurred_at=NOW, producer="siasn", nip=left, aktif_sampai=date(2026, 10, 2)
        ),
        factories.employee(joins, at=NOW, aktif_mulai=date(2026, 10, 6)),
    )
    # Monday the 5th: all four scanned, none filed. `left` ended on Friday the 2nd and
    # `joins` starts on Tuesday the 6th: neither is active on the 5th. `unknown` is not
    # in the projection yet (attendance knew it): warned, as before.
    await h.send(scan(stays), scan(left), scan(joins), scan(unknown))
    result = await h.run_warnings(at_wib(MON, 15))
    assert (result["due"], result["created"]) == (2, 2)
    for nip, count in ((stays, 1), (unknown, 1), (left, 0), (joins, 0)):
        assert len((await h.inbox(nip))["messages"]) == count, nip


async def test_migration_events_notify_nobody(h: Harness) -> None:
    a, boss = factories.nip(), factories.nip()
    common = {"occurred_at": NOW, "producer": "approval", "nip": a, "work_date": MON}
    rejected = ReportRejected(
        **common, report_id="r1", decided_by=boss, reason="Data lama.", migration=True
    )
    revision = RevisionRequested(
        **common, report_id="r2", decided_by=boss, note="Data lama.", migration=True
    )
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
        migration=True,
    )
    history = scan(a).model_copy(update={"migration": True})
    await h.send(rejected, revision, tpp, history)
    assert (await h.inbox(a))["messages"] == []
    # a migrated scan is not today's presence: no 15:00 warning for it either
    assert (await h.run_warnings(at_wib(MON, 15)))["due"] == 0
    # the same events without the marker do notify (the marker, not the kind, decides)
    live = rejected.model_copy(update={"migration": False, "event_id": uuid.uuid4()})
    await h.send(live, filed(a, "r9"))
    assert [m["kind"] for m in (await h.inbox(a))["messages"]] == ["laporan_ditolak"]


async def test_the_reminder_goes_to_the_atasan_of_the_reports_date(h: Harness) -> None:
    a, old_boss, new_boss = factories.nip(), factories.nip(), factories.nip()
    await h.send(
        factories.employee(a, old_boss, at=NOW),
        factories.employee(a, new_boss, at=NOW, aktif_mulai=date(2026, 10, 16)),
    )
    # Reports of Thu 15th (old atasan's) and Fri 16th (new atasan's), filed on the 16th;
    # on Tue 20th they have waited two working days (19, 20): each atasan is reminded once.
    filed_at = at_wib(date(2026, 10, 16), 10)
    await h.send(
        filed(a, "r15", date(2026, 10, 15), filed_at), filed(a, "r16", date(2026, 10, 16), filed_at)
    )
    res = await h.client.post(
        "/api/v1/jobs/reminders/run", params={"at": at_wib(date(2026, 10, 20), 9).isoformat()}
    )
    assert res.json()["created"] == 2
    for boss in (old_boss, new_boss):
        (msg,) = (await h.inbox(boss))["messages"]
        assert "Ada 1 laporan" in msg["body"]
