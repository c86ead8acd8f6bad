"""Filings by group commit on both stores (PostgreSQL: the asyncpg path and its lock
statement): concurrent filings of several people and of one person's day share batches,
each gets its own answer, and a day never holds more than 1,440 minutes."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import httpx
from faststream.kafka import TestKafkaBroker
from sqlmodel import Session, func, select

from contracts import Topic
from services.activity.app import create
from services.activity.models import Report
from services.shared.settings import Settings
from tests import factories
from tests.service.test_activity_reports import report_body, scan
from tests.support import Clock, emitted, key_settings, who, wib

MON = date(2026, 10, 5)


async def test_concurrent_filings_in_batches(store_url: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=store_url,
        kafka_bootstrap="127.0.0.1:1",
        **key_settings(),  # tokens of tests.support.who verify
    )
    app = create(settings, clock=Clock(wib(MON, 10)))
    kit = app.state.kit
    kit.migrate()
    people = [factories.nip() for _ in range(5)]
    async with TestKafkaBroker(kit.broker) as br:
        for nip in people:
            await br.publish(scan(nip, MON).to_bytes(), Topic.ATTENDANCE.value, key=nip.encode())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as client:

        async def file(nip: str, minutes: int) -> int:
            r = await client.post(
                "/api/v1/reports", json=report_body(minutes=minutes), headers=who(nip, "asn")
            )
            return r.status_code

        # each person: four 400-minute reports at once (only three fit in 1,440 minutes)
        statuses = await asyncio.gather(*(file(n, 400) for n in people for _ in range(4)))
        stranger = await file(factories.nip(), 30)  # no scan: refused, nothing else affected
    assert stranger == 409
    assert sorted(statuses) == [201] * 15 + [422] * 5
    with Session(kit.engine) as s:
        per_day = dict(
            s.exec(select(Report.nip, func.sum(Report.minutes)).group_by(Report.nip)).all()
        )
    assert per_day == {nip: 1200 for nip in people}
    reported = [e for e in emitted(kit) if e.event_type == "ActivityReported"]
    assert len(reported) == 15
    await kit.stop()
    kit.engine.dispose()
