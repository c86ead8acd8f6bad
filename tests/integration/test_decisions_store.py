"""Decisions through ServiceKit.run_store on both stores (PostgreSQL: the asyncpg path):
single and bulk approvals change the queue once and emit one event each."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import httpx

from services.approval.app import create
from services.kernel.calendar import WIB
from services.shared.settings import Settings
from tests import factories
from tests.factories import employee
from tests.service.test_approval_service import publish, reported
from tests.support import Clock, emitted, key_settings, who


async def test_single_and_bulk_decisions(store_url: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=store_url,
        kafka_bootstrap="127.0.0.1:1",
        **key_settings(),  # tokens of tests.support.who verify
    )
    app = create(settings, clock=Clock(datetime(2026, 10, 7, 9, tzinfo=WIB)))
    kit = app.state.kit
    kit.migrate()
    staff, boss = factories.nip(), factories.nip()
    reports = [reported(staff, date(2026, 10, 5), description=f"Kegiatan {i}") for i in range(3)]
    await publish(kit, employee(staff, boss), *reports)
    ids = [r.report_id for r in reports]
    me = who(boss, "atasan")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as client:
        one = await client.post(f"/api/v1/reports/{ids[0]}/approve", headers=me)
        assert one.status_code == 200, one.text
        again = await client.post(f"/api/v1/reports/{ids[0]}/approve", headers=me)
        assert again.status_code == 409
        bulk = await client.post(
            "/api/v1/reports/bulk-approve", json={"report_ids": ids}, headers=me
        )
        assert bulk.status_code == 200, bulk.text
        assert [r["ok"] for r in bulk.json()["results"]] == [False, True, True]
        queue = await client.get(f"/api/v1/atasan/{boss}/queue", headers=me)
        assert queue.json() == []
    approved = [e for e in emitted(kit) if e.event_type == "ReportApproved"]
    assert sorted(e.report_id for e in approved) == sorted(ids)  # type: ignore[attr-defined]
    await kit.stop()
    kit.engine.dispose()
