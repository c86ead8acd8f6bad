"""The statement explains its pagu (issue 14, RULES.md "Employment within a month"): the
periods that covered the month clipped to it, with OPD, pagu and working days each, the
days outside every period, and the sum the month's pagu divides.

April 2026 (national calendar): 21 working days (1, 2, 6-10, 13-17, 20-24, 27-30; Good
Friday the 3rd a holiday). Up to the 9th: 6 working days (1, 2, 6, 7, 8, 9); from the 10th:
15. Up to the 15th: 10; from the 16th: 11.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from contracts.events import Event
from services.shared.kit import ServiceKit
from services.shared.settings import Settings
from services.tpp.app import create
from tests import factories
from tests.support import who

NOW = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
KESEHATAN, PENDIDIKAN = "Dinas Kesehatan", "Dinas Pendidikan"


def april(n: int) -> date:
    return date(2026, 4, n)


async def handle(kit: ServiceKit, event: Event) -> None:
    assert await kit.handle(event.to_bytes()) == "handled"


@pytest.fixture
async def tpp(memory_settings: Settings) -> AsyncIterator[tuple[ServiceKit, httpx.AsyncClient]]:
    app = create(memory_settings)
    kit: ServiceKit = app.state.kit
    kit.migrate()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://tpp", headers=who(None, "system")
    ) as http:
        yield kit, http


async def statement_of(http: httpx.AsyncClient, nip: str) -> dict[str, Any]:
    r = await http.get(f"/api/v1/employees/{nip}/statements/2026-04", headers=who(nip, "asn"))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_a_join_on_the_10th_is_explained(
    tpp: tuple[ServiceKit, httpx.AsyncClient],
) -> None:
    kit, http = tpp
    nip = factories.nip()
    await handle(
        kit,
        factories.employee(
            nip, at=NOW, opd=PENDIDIKAN, jabatan="Guru", tpp_pagu=6_200_000,
            aktif_mulai=april(10),
        ),
    )  # fmt: skip
    await handle(kit, factories.day_closed(nip, april(20), 1, NOW))
    body = await statement_of(http, nip)
    # 15 of 21 working days at 6,200,000: 93,000,000 / 21 = 4,428,571.43 -> 4,428,571
    assert body["pagu"] == 4_428_571
    assert body["pagu_basis"] == {
        "working_days": 21,
        "active_working_days": 15,
        "prorated": True,
        "periods": [
            {
                "first": "2026-04-10",
                "last": "2026-04-30",
                "opd": PENDIDIKAN,
                "jabatan": "Guru",
                "tpp_pagu": 6_200_000,
                "working_days": 15,
            }
        ],
        # 1-9 April: outside the employment period, 6 of them working days
        "outside": [{"first": "2026-04-01", "last": "2026-04-09", "working_days": 6}],
        "day_pagu_total": 93_000_000,
        "pagu": 4_428_571,
    }


async def test_a_transfer_on_the_16th_is_explained(
    tpp: tuple[ServiceKit, httpx.AsyncClient],
) -> None:
    kit, http = tpp
    nip = factories.nip()
    await handle(kit, factories.employee(nip, at=NOW, opd=KESEHATAN, tpp_pagu=5_300_000))
    await handle(kit, factories.day_closed(nip, april(20), 1, NOW))
    whole = await statement_of(http, nip)
    # one open period over the whole month: nothing to explain, the pagu is that pagu
    assert whole["pagu"] == 5_300_000
    assert whole["pagu_basis"]["prorated"] is False
    assert whole["pagu_basis"]["outside"] == []
    assert whole["pagu_basis"]["day_pagu_total"] == 21 * 5_300_000

    await handle(
        kit,
        factories.employee(nip, at=NOW, opd=PENDIDIKAN, tpp_pagu=6_200_000,
                           aktif_mulai=april(16)),
    )  # fmt: skip
    body = await statement_of(http, nip)
    # (10 x 5,300,000 + 11 x 6,200,000) / 21 = 121,200,000 / 21 = 5,771,428.57 -> 5,771,429
    assert body["pagu"] == 5_771_429 and body["opd"] == PENDIDIKAN
    basis = body["pagu_basis"]
    assert (basis["working_days"], basis["active_working_days"]) == (21, 21)
    assert basis["prorated"] is True and basis["outside"] == []
    assert [(p["first"], p["last"], p["opd"], p["tpp_pagu"], p["working_days"])
            for p in basis["periods"]] == [
        ("2026-04-01", "2026-04-15", KESEHATAN, 5_300_000, 10),
        ("2026-04-16", "2026-04-30", PENDIDIKAN, 6_200_000, 11),
    ]  # fmt: skip
    assert (basis["day_pagu_total"], basis["pagu"]) == (121_200_000, 5_771_429)


async def test_a_leave_on_the_20th_leaves_the_rest_of_the_month_outside(
    tpp: tuple[ServiceKit, httpx.AsyncClient],
) -> None:
    kit, http = tpp
    nip = factories.nip()
    await handle(
        kit,
        factories.employee(nip, at=NOW, opd=KESEHATAN, tpp_pagu=5_000_000,
                           aktif_sampai=april(20)),
    )  # fmt: skip
    await handle(kit, factories.day_closed(nip, april(20), 1, NOW))
    basis = (await statement_of(http, nip))["pagu_basis"]
    # up to Monday the 20th: 13 working days (1, 2, 6-10, 13-17, 20);
    # 13 x 5,000,000 / 21 = 3,095,238.10 -> 3,095,238; 21-30 April outside (8 working days)
    assert (basis["active_working_days"], basis["pagu"]) == (13, 3_095_238)
    assert basis["periods"][0]["last"] == "2026-04-20"
    assert basis["outside"] == [{"first": "2026-04-21", "last": "2026-04-30", "working_days": 8}]
