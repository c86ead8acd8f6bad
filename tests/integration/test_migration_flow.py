"""Loading a past month must not touch the present (issue 14), on the real broker and Redis:
BKPSDM imports October's scans as a migration; attendance closes those days at once, tpp
computes October's statement, and the notifier tells nobody. A live closing afterwards (for
November) does notify: it also shows the notifier got past October's events (one NIP's
events stay in order on the tpp topic)."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from contracts import Topic
from services.attendance.app import create as create_attendance
from services.attendance.config import AttendanceConfig
from services.notifier.app import create as create_notifier
from services.shared.settings import Settings
from services.tpp.app import create as create_tpp
from tests import factories
from tests.support import eventually, running, who

SYSTEM = who(None, "system")

pytestmark = pytest.mark.integration


async def test_a_migrated_month_is_closed_and_notifies_nobody(
    settings: Settings, redis_url: str
) -> None:
    settings = settings.model_copy(update={"redis_url": redis_url})
    nip = factories.nip()
    attendance = create_attendance(settings, AttendanceConfig(scheduler_enabled=False))
    tpp = create_tpp(settings)
    notifier = create_notifier(settings, scheduler=False)
    async with (
        running(attendance, SYSTEM) as att,
        running(tpp, SYSTEM) as tp,
        running(notifier, SYSTEM) as nt,
    ):
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            employee = factories.employee(nip, opd="DISKOMINFO", tpp_pagu=10_000_000)
            await producer.send_and_wait(
                settings.topic(Topic.EMPLOYEES.value), employee.to_bytes(), key=nip.encode()
            )
        finally:
            await producer.stop()

        async def known(client: Any, path: str) -> int:
            return int((await client.get(path)).status_code)

        await eventually(
            lambda: known(att, f"/api/v1/employees/{nip}/month?period=2026-10"),
            lambda s: s == 200,
        )
        csv = (
            "nip,waktu\n"
            f"{nip},2026-10-01 07:00:00\n"
            f"{nip},2026-10-01 16:00:00\n"
            f"{nip},2026-10-02 07:40:00\n"
        )
        r = await att.post(
            "/api/v1/scans/import?migrasi=true",
            content=csv,
            headers={"content-type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        assert (r.json()["accepted"], r.json()["migrasi"]) == (3, True)

        # Attendance closed Thu 1 and Fri 2 October at once (no closer ran).
        month = (await att.get(f"/api/v1/employees/{nip}/month?period=2026-10")).json()
        closed = {d["tanggal"]: d for d in month["hari"] if d.get("ditutup")}
        assert sorted(closed) == ["2026-10-01", "2026-10-02"]
        # 07:40 is 10 minutes after 07:30; one morning scan, no check-out
        assert closed["2026-10-02"]["menit_terlambat"] == 10

        async def october() -> list[dict[str, Any]]:
            return (await tp.get(f"/api/v1/employees/{nip}/days?period=2026-10")).json()

        days = await eventually(
            october, lambda ds: sum(1 for d in ds if d.get("status") == "present") == 2
        )
        # the historical time is kept: 07:00 WIB on 1 October is 00:00 UTC
        first = next(d for d in days if d["date"] == "2026-10-01")
        assert first["first_scan_at"] == "2026-10-01T00:00:00+00:00"

        # A live closing of Monday 2 November: not a migration, so its TPP change is told.
        live = await att.post(f"/api/v1/days/close?date=2026-11-02&nip={nip}")
        assert live.status_code == 200 and live.json()["emitted"] == 1

        async def inbox() -> list[dict[str, Any]]:
            res = await nt.get(f"/api/v1/inbox/{nip}", headers=who(nip, "asn"))
            assert res.status_code == 200, res.text
            return list(res.json()["messages"])

        messages = await eventually(inbox, lambda ms: len(ms) >= 1)
        # only November's: October's statement (a migration) told nobody
        assert [(m["kind"], m["title"]) for m in messages] == [
            ("tpp_berubah", "TPP bulan November 2026 berubah")
        ]
