"""SKP targets by the year's periods (issue 14): a target of a year is corrected by the
atasan of a period in that year, and read by those who may see the person on some day of
that year (its atasan and operators, a Plt for today of such an atasan), not by the latest
period's.

`staff` is in Dinas A under OLD from 1 January 2025 and in Dinas B under NEW from Friday
16 October 2026. Today is Tuesday 20 October 2026. 2025 is wholly OLD's and Dinas A's; 2026
is both atasan's and both OPDs'.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime

import httpx
import pytest

from services.activity.app import create
from services.kernel.calendar import WIB
from services.shared.settings import Settings
from tests import factories
from tests.factories import employee
from tests.support import who

NOW = datetime(2026, 10, 20, 10, 0, tzinfo=WIB)
STAFF, OLD, NEW = factories.nip(), factories.nip(), factories.nip()
OPD_A, OPD_B = "Dinas A", "Dinas B"


def target(year: int) -> dict[str, object]:
    return {"year": year, "activity": "Notula", "indicator": "notula", "target_quantity": 5}


@pytest.fixture
async def client(memory_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create(memory_settings, clock=lambda: NOW)
    kit = app.state.kit
    kit.migrate()
    await kit.handle(employee(STAFF, OLD, opd=OPD_A, aktif_mulai=date(2025, 1, 1)).to_bytes())
    await kit.handle(employee(STAFF, NEW, opd=OPD_B, aktif_mulai=date(2026, 10, 16)).to_bytes())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        yield http


async def create_target(http: httpx.AsyncClient, year: int, headers: dict[str, str]) -> int:
    r = await http.post(
        f"/api/v1/employees/{STAFF}/skp-targets", json=target(year), headers=headers
    )
    return r.status_code


async def test_a_year_s_target_is_written_by_the_atasan_of_that_year(
    client: httpx.AsyncClient,
) -> None:
    old, new = who(OLD, "atasan"), who(NEW, "atasan")
    assert await create_target(client, 2025, old) == 201
    assert await create_target(client, 2026, old) == 201  # OLD was atasan until the 15th
    assert await create_target(client, 2026, new) == 201
    assert await create_target(client, 2025, new) == 403  # NEW came after 2025
    assert await create_target(client, 2025, who(STAFF, "asn")) == 201

    made = await client.post(
        f"/api/v1/employees/{STAFF}/skp-targets", json=target(2025), headers=who(STAFF, "asn")
    )
    path = f"/api/v1/skp-targets/{made.json()['id']}"
    assert (await client.put(path, json=target(2025), headers=new)).status_code == 403
    # moving a 2025 target to 2026 needs a say in both years
    assert (await client.put(path, json=target(2026), headers=new)).status_code == 403
    assert (await client.put(path, json=target(2026), headers=old)).status_code == 200
    assert (await client.put(path, json=target(2026), headers=new)).status_code == 200
    assert (await client.delete(path, headers=new)).status_code == 204


async def test_a_year_s_targets_are_read_by_those_of_that_year(
    client: httpx.AsyncClient,
) -> None:
    me = who(STAFF, "asn")
    for year in (2025, 2026):
        assert await create_target(client, year, me) == 201

    async def years(headers: dict[str, str], query: str = "") -> list[int] | int:
        r = await client.get(f"/api/v1/employees/{STAFF}/skp-targets{query}", headers=headers)
        return sorted(t["year"] for t in r.json()) if r.status_code == 200 else r.status_code

    assert await years(me) == [2025, 2026]
    assert await years(who(OLD, "atasan")) == [2025, 2026]
    assert await years(who(None, "operator", OPD_A)) == [2025, 2026]
    assert await years(who(NEW, "atasan")) == [2026]
    assert await years(who(None, "operator", OPD_B)) == [2026]
    assert await years(who(NEW, "atasan"), "?year=2025") == 403
    assert await years(who(OLD, "atasan"), "?year=2025") == [2025]
    assert await years(who(None, "operator", "Dinas C")) == 403

    async def realisation(headers: dict[str, str], period: str) -> int:
        r = await client.get(
            f"/api/v1/employees/{STAFF}/skp-realisation?period={period}", headers=headers
        )
        return r.status_code

    assert await realisation(who(OLD, "atasan"), "2025-10") == 200
    assert await realisation(who(NEW, "atasan"), "2025-10") == 403
    assert await realisation(who(NEW, "atasan"), "2026-10") == 200
