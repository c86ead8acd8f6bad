"""Who confirms a month's kinerja result: the atasan (or, for an employee without atasan,
the penilai BKPSDM named) of the month being confirmed, taken on the last day of that month
the employee was active — not today's atasan. A transfer on Friday 16 October: the atasan
from the 16th confirms October. Confirmations happen on 3 November 2026 (the app's clock)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from tests import factories
from tests.factories import employee
from tests.service.test_approval_kinerja import app_client, publish
from tests.support import who

__all__ = ["app_client"]  # the fixture, shared

RATED = {"hasil_kerja": "sesuai", "perilaku_kerja": "sesuai", "reason": "belum ada usulan"}


async def put(client: httpx.AsyncClient, nip: str, caller: str) -> int:
    r = await client.put(
        f"/api/v1/kinerja/{nip}/2026-10", json=RATED, headers=who(caller, "atasan")
    )
    return r.status_code


async def test_the_atasan_of_the_months_last_active_day_confirms(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    kit, client = app_client
    staff, old, new, later = (factories.nip() for _ in range(4))
    await publish(
        kit,
        employee(staff, old, aktif_mulai=date(2026, 9, 1)),
        employee(staff, new, aktif_mulai=date(2026, 10, 16)),  # October ends under `new`
        employee(staff, later, aktif_mulai=date(2026, 11, 2)),  # today's atasan
    )
    assert await put(client, staff, later) == 403  # November's atasan: not October's
    assert await put(client, staff, old) == 403  # decided the 1st-15th reports only
    assert await put(client, staff, new) == 200
    # who confirms the month reads it too
    got = await client.get(f"/api/v1/kinerja/{staff}/2026-10", headers=who(new, "atasan"))
    assert got.status_code == 200, got.text
    # and finds the ASN in their list of the month; the others do not
    for boss, listed in ((new, [staff]), (later, []), (old, [])):
        mine = await client.get("/api/v1/kinerja?period=2026-10", headers=who(boss, "atasan"))
        assert mine.status_code == 200, mine.text
        assert [k["nip"] for k in mine.json()] == listed


async def test_a_leaver_is_confirmed_by_the_atasan_of_their_last_day(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    kit, client = app_client
    staff, old, new = (factories.nip() for _ in range(3))
    await publish(
        kit,
        employee(staff, old, aktif_mulai=date(2026, 9, 1), aktif_sampai=date(2026, 10, 20)),
        employee(staff, new, aktif_mulai=date(2026, 10, 26)),  # back in another unit
    )
    assert await put(client, staff, new) == 200  # active on the 31st under `new`
    gone = factories.nip()
    await publish(
        kit, employee(gone, old, aktif_mulai=date(2026, 9, 1), aktif_sampai=date(2026, 10, 20))
    )
    assert await put(client, gone, old) == 200  # the 20th was the last active day


async def test_the_penilai_of_the_month_confirms_a_head(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    kit, client = app_client
    head, sekda, officer = (factories.nip() for _ in range(3))
    await publish(kit, employee(head, None))
    made = await client.post(
        "/api/v1/penilai",
        json={"nip": head, "penilai": sekda, "nama": "Sekda", "mulai": "2026-10-01",
              "sampai": "2026-10-31"},
        headers=who(officer, "bkpsdm"),
    )  # fmt: skip
    assert made.status_code == 201, made.text
    # the penilai covers October (its report dates), though not today (3 November)
    assert await put(client, head, sekda) == 200
    mine = await client.get("/api/v1/kinerja?period=2026-10", headers=who(sekda, "atasan"))
    assert [k["nip"] for k in mine.json()] == [head]
    assert await put(client, head, factories.nip()) == 403
