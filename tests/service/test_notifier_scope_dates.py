"""Which operator may help with an employee's inbox and channel (issue 14). The channel
preferences and the inbox as a whole are about now: the operator of today's period (not of
the latest one, which may start later). One message is about its fact's date (`ref_date`):
the operator of that date's OPD may also list it, mark it read and retry it.

Today is Tuesday 20 October 2026. `moved` is in Dinas A from 1 October and in Dinas B from
Friday 16 October; `moving` is in Dinas A and moves to Dinas B on Monday 26 October (known
already).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime

import httpx
import pytest

from services.notifier.app import create
from services.notifier.cache import DayCache
from services.notifier.domain import WIB
from services.notifier.models import Message
from services.shared.settings import Settings
from tests import factories
from tests.support import who

NOW = datetime(2026, 10, 20, 10, 0, tzinfo=WIB)
OPD_A, OPD_B, OPD_C = "Dinas A", "Dinas B", "Dinas C"
MOVED, MOVING = factories.nip(), factories.nip()
OP_A, OP_B, OP_C = (who(None, "operator", o) for o in (OPD_A, OPD_B, OPD_C))
CHANNEL = {"channel": "email", "address": "pegawai@example.go.id"}


def message(nip: str, day: date, key: str, state: str = "none") -> Message:
    return Message(
        nip=nip,
        kind="warning",
        ref_date=day,
        title="Belum ada laporan",
        body="Laporan kegiatan hari itu belum diisi.",
        dedup_key=key,
        created_at=NOW,
        channel_state=state,
    )


@pytest.fixture
async def client(memory_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create(
        memory_settings,
        clock=lambda: NOW,
        cache=DayCache("redis://127.0.0.1:1/0", timeout_s=0.2),
        scheduler=False,
    )
    kit = app.state.notifier.kit
    kit.migrate()
    for event in (
        factories.employee(MOVED, opd=OPD_A, aktif_mulai=date(2026, 10, 1)),
        factories.employee(MOVED, opd=OPD_B, aktif_mulai=date(2026, 10, 16)),
        factories.employee(MOVING, opd=OPD_A, aktif_mulai=date(2026, 10, 1)),
        factories.employee(MOVING, opd=OPD_B, aktif_mulai=date(2026, 10, 26)),
    ):
        await kit.handle(event.to_bytes())
    with kit.uow() as uow:
        uow.session.add(message(MOVED, date(2026, 10, 15), "m15", "dead"))  # id 1
        uow.session.add(message(MOVED, date(2026, 10, 19), "m19", "dead"))  # id 2
        uow.commit()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as http:
        yield http


async def inbox(http: httpx.AsyncClient, headers: dict[str, str]) -> tuple[set[str], int] | int:
    r = await http.get(f"/api/v1/inbox/{MOVED}", headers=headers)
    if r.status_code != 200:
        return r.status_code
    return {m["date"] for m in r.json()["messages"]}, r.json()["unread"]


async def test_the_inbox_is_today_s_operator_s_and_a_message_also_its_date_s(
    client: httpx.AsyncClient,
) -> None:
    both = {"2026-10-15", "2026-10-19"}
    assert await inbox(client, who(MOVED, "asn")) == (both, 2)
    assert await inbox(client, OP_B) == (both, 2)  # today's OPD: the whole inbox
    assert await inbox(client, OP_A) == ({"2026-10-15"}, 1)  # the messages of its days
    assert await inbox(client, OP_C) == 403

    read = f"/api/v1/inbox/{MOVED}/{{}}/read"
    assert (await client.post(read.format(2), headers=OP_A)).status_code == 403
    assert (await client.post(read.format(1), headers=OP_A)).status_code == 200
    assert (await client.post(read.format(2), headers=OP_B)).status_code == 200
    assert (await client.post("/api/v1/dead-letters/2/retry", headers=OP_A)).status_code == 403
    assert (await client.post("/api/v1/dead-letters/1/retry", headers=OP_A)).status_code == 200
    assert (await client.post("/api/v1/dead-letters/2/retry", headers=OP_B)).status_code == 200


async def test_the_channel_is_today_s_operator_s_not_the_latest_period_s(
    client: httpx.AsyncClient,
) -> None:
    for nip, today_s, other in ((MOVED, OP_B, OP_A), (MOVING, OP_A, OP_B)):
        path = f"/api/v1/channels/{nip}"
        assert (await client.get(path, headers=today_s)).status_code == 200, nip
        assert (await client.put(path, json=CHANNEL, headers=today_s)).status_code == 200, nip
        assert (await client.get(path, headers=other)).status_code == 403, nip
        assert (await client.put(path, json=CHANNEL, headers=other)).status_code == 403, nip
