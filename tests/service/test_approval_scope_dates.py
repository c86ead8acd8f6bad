"""Who may read a queued report and an atasan's queue, by the report's date (issue 14): the
OPD and atasan of the period in force on the report's date, not the latest period.

Calendar (October 2026): Thu 15, Fri 16. Transfers take effect on Friday 16: what is dated up
to Thursday 15 belongs to the old OPD and atasan, what is dated from the 16th to the new ones.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from faststream.kafka import TestKafkaBroker

from contracts.events import ActivityReported, Event
from services.approval.app import create
from services.shared.settings import Settings
from tests import factories
from tests.factories import employee
from tests.support import Clock, who, wib

OCT1, THU15, FRI16, TUE20 = (date(2026, 10, d) for d in (1, 15, 16, 20))
OPD_A, OPD_B, OPD_C = "Dinas A", "Dinas B", "Dinas C"


def reported(nip: str, day: date) -> ActivityReported:
    return ActivityReported(
        occurred_at=wib(day, 16),
        producer="activity",
        nip=nip,
        report_id=str(uuid.uuid4()),
        work_date=day,
        description="Menyusun notula rapat",
    )


async def publish(kit: Any, *events: Event) -> None:
    async with TestKafkaBroker(kit.broker) as br:
        for event in events:
            await br.publish(event.to_bytes(), str(event.TOPIC), key=event.nip.encode())


@pytest.fixture
def env(memory_settings: Settings) -> dict[str, Any]:
    app = create(memory_settings, clock=Clock(wib(TUE20, 9)))
    kit = app.state.kit
    kit.migrate()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
    return {"kit": kit, "client": client}


async def test_a_report_is_read_by_the_opd_and_atasan_of_its_date(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    staff, old, new = factories.nip(), factories.nip(), factories.nip()
    r15, r16 = reported(staff, THU15), reported(staff, FRI16)
    # staff: Dinas A under `old` from 1 October, Dinas B under `new` from the 16th
    await publish(
        kit,
        employee(staff, old, opd=OPD_A, aktif_mulai=OCT1),
        employee(staff, new, opd=OPD_B, aktif_mulai=FRI16),
        r15,
        r16,
    )

    async def status(report: ActivityReported, headers: dict[str, str]) -> int:
        r = await client.get(f"/api/v1/reports/{report.report_id}", headers=headers)
        return r.status_code

    # the 15th: Dinas A's operator and `old`; not Dinas B's operator nor `new`
    assert await status(r15, who(None, "operator", OPD_A)) == 200
    assert await status(r15, who(old, "atasan")) == 200
    assert await status(r15, who(None, "operator", OPD_B)) == 403
    assert await status(r15, who(new, "atasan")) == 403
    # the 16th: the other way round
    assert await status(r16, who(None, "operator", OPD_B)) == 200
    assert await status(r16, who(new, "atasan")) == 200
    assert await status(r16, who(None, "operator", OPD_A)) == 403
    assert await status(r16, who(old, "atasan")) == 403
    # the owner and the city, whatever the date
    for report in (r15, r16):
        assert await status(report, who(staff, "asn")) == 200
        assert await status(report, who(None, "auditor")) == 200


async def test_an_atasan_s_queue_is_read_by_the_opd_and_atasan_of_each_report_s_date(
    env: dict[str, Any],
) -> None:
    kit, client = env["kit"], env["client"]
    staff, boss, boss_a, boss_b = (factories.nip() for _ in range(4))
    r15, r16 = reported(staff, THU15), reported(staff, FRI16)
    # `boss` (staff's atasan all month) is in Dinas A under `boss_a`, from the 16th in Dinas B
    # under `boss_b`
    await publish(
        kit,
        employee(boss, boss_a, opd=OPD_A, aktif_mulai=OCT1),
        employee(boss, boss_b, opd=OPD_B, aktif_mulai=FRI16),
        employee(staff, boss, opd=OPD_A, aktif_mulai=OCT1),
        r15,
        r16,
    )
    path = f"/api/v1/atasan/{boss}/queue"

    async def seen(headers: dict[str, str]) -> set[str] | int:
        r = await client.get(path, headers=headers)
        return {q["report_id"] for q in r.json()} if r.status_code == 200 else r.status_code

    both = {r15.report_id, r16.report_id}
    assert await seen(who(boss, "atasan")) == both
    assert await seen(who(None, "bkpsdm")) == both
    assert await seen(who(None, "operator", OPD_A)) == {r15.report_id}
    assert await seen(who(boss_a, "atasan")) == {r15.report_id}
    assert await seen(who(None, "operator", OPD_B)) == {r16.report_id}
    assert await seen(who(boss_b, "atasan")) == {r16.report_id}
    # never in Dinas C: refused as before
    assert await seen(who(None, "operator", OPD_C)) == 403
