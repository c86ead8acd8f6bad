"""Authorization matrix of notifier's routes (issue 12), over HTTP with real tokens.

The subject is employee A of OPD X (atasan B). An inbox is its owner's: A reads it and marks
it read; X's operator may too (people without a phone get their messages read out at the
office); BKPSDM, the auditor and the service account read it (city readers), but never mark
it read, and A's atasan does not read it (the messages are A's own). A's channel: A, X's
operator and BKPSDM/system set it; the city readers see it. The delivery log and the dead
letters: the city readers and an operator, who sees only their own OPD's people; retrying a
dead letter: X's operator for X's people, BKPSDM, system. The 15:00/09:00 jobs reach the whole
city: BKPSDM and the service account only. Redis health: anyone signed in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date, datetime

import httpx
import pytest

from services.notifier.app import create
from services.notifier.cache import DayCache
from services.notifier.domain import WIB
from services.notifier.models import Delivery, Message
from services.shared.settings import Settings
from tests import factories
from tests.authz import CALLERS, CITY, CITY_WRITERS, EVERYONE, Rule, check_rules, uncovered
from tests.support import who

NOW = datetime(2026, 10, 5, 16, 0, tzinfo=WIB)
X, Y = "Dinas Kesehatan", "Dinas Pendidikan"
A, B, C, D = (factories.nip() for _ in range(4))
B2, OPS_X, OPS_Y, CITY_NIP = (factories.nip() for _ in range(4))
CHANNEL = {"channel": "whatsapp", "address": "+6281234567890"}

OWNER_AND_OPERATOR = frozenset({"asn_self", "operator_own"})
READERS = OWNER_AND_OPERATOR | CITY
SETTERS = OWNER_AND_OPERATOR | CITY_WRITERS
LOGS = frozenset({"operator_own", "operator_other"}) | CITY

RULES: list[Rule] = [
    Rule(
        "GET",
        "/api/v1/inbox/{nip}",
        READERS,
        note="operator OPD hari ini; operator OPD lain: pesan bertanggal di OPD-nya",
    ),
    Rule(
        "POST",
        "/api/v1/inbox/{nip}/{message_id}/read",
        OWNER_AND_OPERATOR,
        note="operator OPD hari ini atau OPD pada tanggal pesan",
    ),
    Rule("GET", "/api/v1/channels/{nip}", READERS, note="operator OPD hari ini"),
    Rule("PUT", "/api/v1/channels/{nip}", SETTERS, body=CHANNEL, note="operator OPD hari ini"),
    Rule("DELETE", "/api/v1/channels/{nip}", SETTERS, note="operator OPD hari ini"),
    Rule("GET", "/api/v1/deliveries", LOGS, note="operator: hanya pegawai OPD-nya"),
    Rule("GET", "/api/v1/dead-letters", LOGS, note="operator: hanya pegawai OPD-nya"),
    Rule(
        "POST",
        "/api/v1/dead-letters/{message_id}/retry",
        frozenset({"operator_own"}) | CITY_WRITERS,
        values={"message_id": "2"},
        note="operator: pesan pegawai OPD-nya",
    ),
    Rule("POST", "/api/v1/jobs/warnings/run", CITY_WRITERS, params={"at": NOW.isoformat()}),
    Rule("POST", "/api/v1/jobs/reminders/run", CITY_WRITERS, params={"at": NOW.isoformat()}),
    Rule("GET", "/api/v1/health/redis", EVERYONE),
]

VALUES = {"nip": A, "message_id": "1"}


def headers_of(caller: str) -> Mapping[str, str]:
    return {
        "asn_self": who(A, "asn", X),
        "asn_other": who(C, "asn", X),
        "atasan_own": who(B, "atasan", X),
        "atasan_other": who(B2, "atasan", Y),
        "operator_own": who(OPS_X, "operator", X),
        "operator_other": who(OPS_Y, "operator", Y),
        "bkpsdm": who(CITY_NIP, "bkpsdm"),
        "auditor": who(CITY_NIP, "auditor"),
        "system": who(None, "system"),
    }[caller]


def message(nip: str, key: str, state: str = "none") -> Message:
    return Message(
        nip=nip,
        kind="warning",
        ref_date=date(2026, 10, 5),
        title="Belum ada laporan",
        body="Laporan kegiatan hari ini belum diisi.",
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
    for nip, boss, opd in ((A, B, X), (C, B2, X), (D, B2, Y), (B, None, X)):
        await kit.handle(factories.employee(nip, boss, NOW, opd=opd).to_bytes())
    with kit.uow() as uow:
        uow.session.add(message(A, "a-inbox"))  # id 1
        uow.session.add(message(A, "a-dead", "dead"))  # id 2
        uow.session.add(message(D, "d-dead", "dead"))  # id 3
        uow.session.flush()
        for message_id, nip in ((2, A), (3, D)):
            uow.session.add(
                Delivery(
                    message_id=message_id,
                    nip=nip,
                    channel="whatsapp",
                    address="+628111",
                    status="dead",
                    attempted_at=NOW,
                )
            )
        uow.commit()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://notifier"
    ) as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


async def test_every_route_is_in_the_matrix(client: httpx.AsyncClient) -> None:
    assert uncovered(client.app.openapi(), RULES) == []  # type: ignore[attr-defined]


async def test_the_matrix_holds(client: httpx.AsyncClient) -> None:
    failures = await check_rules(client, RULES, VALUES, headers_of)
    assert failures == [], "\n".join(failures)


async def test_an_operator_sees_only_their_opds_deliveries_and_dead_letters(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/api/v1/deliveries", "/api/v1/dead-letters"):
        seen = {}
        for caller in ("operator_own", "operator_other", "bkpsdm"):
            got = await client.get(path, headers=headers_of(caller))
            assert got.status_code == 200, got.text
            seen[caller] = {row["nip"] for row in got.json()}
        assert seen == {"operator_own": {A}, "operator_other": {D}, "bkpsdm": {A, D}}, path


async def test_an_operator_cannot_retry_another_opds_dead_letter(
    client: httpx.AsyncClient,
) -> None:
    got = await client.post("/api/v1/dead-letters/3/retry", headers=headers_of("operator_own"))
    assert got.status_code == 403, got.text
    mine = await client.post("/api/v1/dead-letters/3/retry", headers=headers_of("operator_other"))
    assert mine.status_code == 200, mine.text


async def test_an_unknown_nip_looks_like_a_foreign_one(client: httpx.AsyncClient) -> None:
    unknown = factories.nip()
    for caller in CALLERS[:6]:
        # D belongs to OPD Y: foreign to every one of these but Y's operator
        for nip in (unknown, D) if caller != "operator_other" else (unknown,):
            got = await client.get(f"/api/v1/channels/{nip}", headers=headers_of(caller))
            assert got.status_code == 403, (caller, got.text)
