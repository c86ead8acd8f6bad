"""Who may read an employee's TPP of a month: the person, the operator of the statement's OPD
(stored on the statement: the OPD of the last active working day), the atasan of any period
in that month, the city readers — not whoever the employee's latest period names.

April 2026: 30 April (Thursday) is a working day, so an employee still active then has the
April statement in the OPD of their period on the 30th."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest

from contracts.events import Event
from services.shared.kit import ServiceKit
from services.shared.settings import Settings
from services.tpp.app import create
from tests import factories
from tests.support import who

NOW = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
OPD_A, OPD_B = "Dinas A", "Dinas B"
X, Y = factories.nip(), factories.nip()  # the atasan in Dinas A, in Dinas B
LATER, MID = factories.nip(), factories.nip()  # moves on 18 May; moves on 16 April


async def handle(kit: ServiceKit, event: Event) -> None:
    assert await kit.handle(event.to_bytes()) == "handled"


@pytest.fixture
async def client(memory_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create(memory_settings)
    kit: ServiceKit = app.state.kit
    kit.migrate()
    for nip in (LATER, MID):
        await handle(kit, factories.employee(nip, X, NOW, opd=OPD_A, tpp_pagu=4_000_000))
        await handle(kit, factories.day_closed(nip, date(2026, 4, 14), 1, NOW))
        await handle(kit, factories.day_closed(nip, date(2026, 4, 20), 1, NOW))
    moves = ((LATER, date(2026, 5, 18)), (MID, date(2026, 4, 16)))
    for nip, day in moves:
        await handle(
            kit, factories.employee(nip, Y, NOW, opd=OPD_B, tpp_pagu=4_000_000, aktif_mulai=day)
        )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tpp") as http:
        yield http


async def status(http: httpx.AsyncClient, path: str, headers: dict[str, str]) -> int:
    return (await http.get(path, headers=headers)).status_code


async def test_april_stays_with_april_s_opd_and_atasan_after_a_later_transfer(
    client: httpx.AsyncClient,
) -> None:
    path = f"/api/v1/employees/{LATER}/statements/2026-04"
    # April was spent wholly in Dinas A under X: the statement's OPD is Dinas A.
    assert (await client.get(path, headers=who(None, "system"))).json()["opd"] == OPD_A
    assert await status(client, path, who(None, "operator", OPD_A)) == 200
    assert await status(client, path, who(X, "atasan")) == 200
    # the new OPD and atasan (from 18 May) have no say over April
    assert await status(client, path, who(None, "operator", OPD_B)) == 403
    assert await status(client, path, who(Y, "atasan")) == 403
    # the day facts of April follow the same reading
    days = f"/api/v1/employees/{LATER}/days?period=2026-04"
    assert await status(client, days, who(None, "operator", OPD_A)) == 200
    assert await status(client, days, who(None, "operator", OPD_B)) == 403


async def test_a_transfer_on_the_16th_statement_opd_and_both_atasan(
    client: httpx.AsyncClient,
) -> None:
    path = f"/api/v1/employees/{MID}/statements/2026-04"
    # the last active working day (30 April) is in Dinas B: the statement is Dinas B's
    assert (await client.get(path, headers=who(None, "system"))).json()["opd"] == OPD_B
    assert await status(client, path, who(None, "operator", OPD_B)) == 200
    assert await status(client, path, who(None, "operator", OPD_A)) == 403
    # X was the atasan up to the 15th, Y from the 16th: both read the month
    assert await status(client, path, who(X, "atasan")) == 200
    assert await status(client, path, who(Y, "atasan")) == 200
    assert await status(client, path, who(MID, "asn")) == 200
    assert await status(client, path, who(LATER, "asn")) == 403
    # a month without a statement: 404 for the person, 403 for a stranger (no probing)
    none = f"/api/v1/employees/{MID}/statements/2026-03"
    assert await status(client, none, who(MID, "asn")) == 404
    assert await status(client, none, who(None, "operator", "Dinas C")) == 403
