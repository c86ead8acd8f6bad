"""The atasan confirms (or changes) the month's kinerja result; each confirmation is a new
revision announced as KinerjaResultConfirmed for siasn."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from contracts.events import KinerjaResultConfirmed
from services.approval.app import create
from services.shared.settings import Settings
from tests import factories
from tests.factories import employee
from tests.service.test_approval_service import consume
from tests.support import Clock, emitted, who, wib


@pytest.fixture
def app_client(memory_settings: Settings) -> tuple[Any, httpx.AsyncClient]:
    app = create(memory_settings, clock=Clock(wib(date(2026, 11, 3), 9)))
    app.state.kit.migrate()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
    return app.state.kit, client


async def test_atasan_confirms_and_corrects_a_result(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    kit, client = app_client
    staff, atasan, other = factories.nip(), factories.nip(), factories.nip()
    consume(kit, employee(staff, atasan=atasan))
    body = {"hasil_kerja": "di_atas", "perilaku_kerja": "sesuai"}
    r = await client.put(
        f"/api/v1/kinerja/{staff}/2026-10", json=body, headers=who(other, "atasan")
    )
    assert r.status_code == 403
    r = await client.put(
        f"/api/v1/kinerja/{staff}/2026-10", json=body, headers=who(atasan, "atasan")
    )
    assert r.status_code == 200, r.text
    assert r.json()["revision"] == 1
    changed = {"hasil_kerja": "sesuai", "perilaku_kerja": "sesuai", "reason": "target SKP belum"}
    r = await client.put(
        f"/api/v1/kinerja/{staff}/2026-10", json=changed, headers=who(atasan, "atasan")
    )
    assert r.json()["revision"] == 2
    events = [e for e in emitted(kit) if isinstance(e, KinerjaResultConfirmed)]
    assert [(e.nip, e.period, e.hasil_kerja, e.revision, e.confirmed_by) for e in events] == [
        (staff, "2026-10", "di_atas", 1, atasan),
        (staff, "2026-10", "sesuai", 2, atasan),
    ]
    bad = await client.put(
        f"/api/v1/kinerja/{staff}/2026-13",
        json={"hasil_kerja": "baik", "perilaku_kerja": "sesuai"},
        headers=who(atasan, "atasan"),
    )
    assert bad.status_code == 422
