"""Who may read a person's monthly kinerja result for SIASN (issue 14): the operator and
atasan of that month (the period of the month's last active day; siasn keeps no work
calendar, so the last period in the month stands in), not of the latest period.

The employee is in Dinas A under X from 1 September 2026 and in Dinas B under Y from Friday
16 October: September belongs to Dinas A and X, October (its last days in Dinas B) to
Dinas B and Y.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest

from contracts.events import KinerjaResultConfirmed
from services.shared.employees import apply_employee_event
from services.shared.settings import Settings
from services.siasn.app import create
from services.siasn.handlers import on_result
from tests import factories
from tests.support import who

NOW = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
OPD_A, OPD_B = "Dinas A", "Dinas B"
E, X, Y = factories.nip(), factories.nip(), factories.nip()


@pytest.fixture
async def client(memory_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create(memory_settings)
    kit = app.state.kit
    kit.migrate()
    with kit.uow() as uow:
        apply_employee_event(uow, factories.employee(E, X, opd=OPD_A, aktif_mulai=date(2026, 9, 1)))
        apply_employee_event(
            uow, factories.employee(E, Y, opd=OPD_B, aktif_mulai=date(2026, 10, 16))
        )
        for period, atasan in (("2026-09", X), ("2026-10", Y)):
            on_result(uow, KinerjaResultConfirmed(
                occurred_at=NOW, producer="approval", nip=E, period=period,
                hasil_kerja="sesuai", perilaku_kerja="sesuai", confirmed_by=atasan,
            ))  # fmt: skip
        uow.commit()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        yield http


async def months(http: httpx.AsyncClient, headers: dict[str, str]) -> set[str] | int:
    r = await http.get(f"/api/v1/siasn/results?nip={E}", headers=headers)
    return {x["period"] for x in r.json()} if r.status_code == 200 else r.status_code


async def test_each_month_s_result_is_read_by_that_month_s_operator_and_atasan(
    client: httpx.AsyncClient,
) -> None:
    assert await months(client, who(None, "bkpsdm")) == {"2026-09", "2026-10"}
    assert await months(client, who(E, "asn")) == {"2026-09", "2026-10"}
    assert await months(client, who(None, "operator", OPD_A)) == {"2026-09"}
    assert await months(client, who(X, "atasan")) == {"2026-09"}
    assert await months(client, who(None, "operator", OPD_B)) == {"2026-10"}
    assert await months(client, who(Y, "atasan")) == {"2026-10"}
    # never their OPD nor their atasan: refused, as an unknown NIP would be
    assert await months(client, who(None, "operator", "Dinas C")) == 403
    assert await months(client, who(factories.nip(), "atasan")) == 403
