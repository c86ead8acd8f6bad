"""The siasn service syncing from our own SIASN over real HTTP: only changes reach the
outbox, bad records are reported one by one, BKPSDM's tables decide OPD and pagu."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from contracts.events import EmployeeDeactivated, EmployeeUpserted
from services.shared.settings import Settings
from services.siasn.app import create
from services.siasn.config import SiasnSettings
from sikerja_cli import fake_siasn
from sikerja_cli.demo_data import PAGU_BY_KELAS
from sikerja_cli.fake_siasn import FakeSiasn, from_demo
from tests.support import emitted, eventually, who

BKPSDM = who("196801011990031001", "bkpsdm")


@dataclass
class Bridge:
    fake: FakeSiasn
    app: FastAPI
    http: httpx.AsyncClient

    async def sync(self) -> dict[str, object]:
        r = await self.http.post("/api/v1/siasn/sync?wait=true", headers=BKPSDM)
        assert r.status_code == 200, r.text
        body: dict[str, object] = r.json()
        return body

    def events(self) -> list[object]:
        return list(emitted(self.app.state.kit))


@pytest.fixture
async def bridge(memory_settings: Settings) -> AsyncIterator[Bridge]:
    fake = from_demo(employees=30, opds=2)
    async with fake_siasn.running(fake) as url:
        siasn = SiasnSettings(
            base_url=url,
            consumer_key=fake_siasn.CONSUMER_KEY,
            consumer_secret=fake_siasn.CONSUMER_SECRET,
            username=fake_siasn.USERNAME,
            password=fake_siasn.PASSWORD,
            concurrency=4,
        )
        app = create(memory_settings, siasn)
        app.state.kit.migrate()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
            for unit in fake.units():
                r = await http.put(
                    f"/api/v1/siasn/units/{unit['id']}", json={"opd": unit["nama"]}, headers=BKPSDM
                )
                assert r.status_code == 200, r.text
            r = await http.post(
                "/api/v1/siasn/pagu",
                json={"berlaku_mulai": "2020-01-01", "pagu": PAGU_BY_KELAS},
                headers=BKPSDM,
            )
            assert r.status_code == 200, r.text
            yield Bridge(fake, app, http)


async def test_first_sync_upserts_every_asn_and_a_second_emits_nothing(bridge: Bridge) -> None:
    first = await bridge.sync()
    assert first["status"] == "selesai" and first["rejected"] == []
    upserts = [e for e in bridge.events() if isinstance(e, EmployeeUpserted)]
    assert sorted(e.nip for e in upserts) == sorted(bridge.fake.people)
    some = upserts[0]
    data = bridge.fake.people[some.nip]
    assert (some.opd, some.kelas_jabatan) == (data["unorNama"], data["kelasJabatan"])
    assert some.tpp_pagu == PAGU_BY_KELAS[data["kelasJabatan"]]

    second = await bridge.sync()
    assert second["upserted"] == 0 and second["unchanged"] == len(bridge.fake.people)
    assert len(bridge.events()) == len(upserts)


async def test_a_change_in_siasn_becomes_one_upsert_and_a_leaver_is_deactivated(
    bridge: Bridge,
) -> None:
    await bridge.sync()
    before = len(bridge.events())
    staff = [n for n, p in bridge.fake.people.items() if p["atasanNipBaru"]]
    moved, gone = staff[0], staff[1]
    other_unit = next(
        u for u in bridge.fake.units() if u["id"] != bridge.fake.people[moved]["unorId"]
    )
    bridge.fake.people[moved] |= {"unorId": other_unit["id"], "unorNama": other_unit["nama"]}
    del bridge.fake.people[gone]

    result = await bridge.sync()
    new = bridge.events()[before:]
    assert result["upserted"] == 1 and result["deactivated"] == 1
    assert [(type(e).__name__, e.nip) for e in new] == [  # type: ignore[attr-defined]
        ("EmployeeUpserted", moved),
        ("EmployeeDeactivated", gone),
    ]
    assert isinstance(new[0], EmployeeUpserted) and new[0].opd == other_unit["nama"]
    assert isinstance(new[1], EmployeeDeactivated)


async def test_bad_records_are_reported_and_never_block_the_good_ones(bridge: Bridge) -> None:
    nips = list(bridge.fake.people)
    a, b, c = nips[-1], nips[-2], nips[-3]
    bridge.fake.people[a] |= {"atasanNipBaru": b}
    bridge.fake.people[b] |= {"atasanNipBaru": a}  # a cycle
    bridge.fake.people[c] |= {"unorId": "unit-baru", "unorNama": "Unit Baru"}

    result = await bridge.sync()
    rejected = {r["nip"]: r["reason"] for r in result["rejected"]}  # type: ignore[attr-defined]
    assert set(rejected) == {a, b, c}
    assert "lingkaran" in rejected[a] and "belum dipetakan" in rejected[c]
    upserted = {e.nip for e in bridge.events()}  # type: ignore[attr-defined]
    assert upserted == set(nips) - {a, b, c}


async def test_a_new_pagu_version_changes_the_pagu_of_its_kelas_only(bridge: Bridge) -> None:
    await bridge.sync()
    before = len(bridge.events())
    kelas = bridge.fake.people[next(iter(bridge.fake.people))]["kelasJabatan"]
    r = await bridge.http.post(
        "/api/v1/siasn/pagu",
        json={"berlaku_mulai": "2021-01-01", "pagu": {str(kelas): 9_999_000}},
        headers=BKPSDM,
    )
    assert r.status_code == 200, r.text
    await bridge.sync()
    new = bridge.events()[before:]
    same_kelas = {n for n, p in bridge.fake.people.items() if p["kelasJabatan"] == kelas}
    assert {e.nip for e in new} == same_kelas  # type: ignore[attr-defined]
    assert {e.tpp_pagu for e in new} == {9_999_000}  # type: ignore[attr-defined]


async def test_sync_survives_token_expiry_and_5xx(bridge: Bridge) -> None:
    bridge.fake.switches = fake_siasn.Switches(token_ttl_s=1, error_rate=0.2)
    result = await bridge.sync()
    assert result["read"] == len(bridge.fake.people) and result["rejected"] == []


async def test_only_bkpsdm_syncs(bridge: Bridge) -> None:
    r = await bridge.http.post("/api/v1/siasn/sync?wait=true", headers=who(None, "asn"))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_sync_now_without_waiting_answers_202_and_the_run_is_listed(
    bridge: Bridge,
) -> None:
    r = await bridge.http.post("/api/v1/siasn/sync", headers=BKPSDM)
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]

    async def runs() -> list[dict[str, object]]:
        got = await bridge.http.get("/api/v1/siasn/sync", headers=BKPSDM)
        body: list[dict[str, object]] = got.json()
        return body

    done = await eventually(
        runs, lambda rs: rs[0]["id"] == run_id and rs[0]["status"] != "berjalan"
    )
    assert done[0]["status"] == "selesai" and done[0]["upserted"] == len(bridge.fake.people)


async def test_scheduled_sync_runs_by_itself_and_a_failure_is_recorded(bridge: Bridge) -> None:
    runner = bridge.app.state.siasn_sync
    bridge.fake.switches = fake_siasn.Switches(error_rate=1.0)  # first rounds: SIASN down
    task = asyncio.create_task(runner.every(0.05))
    try:

        async def runs() -> list[dict[str, object]]:
            got = await bridge.http.get("/api/v1/siasn/sync", headers=BKPSDM)
            body: list[dict[str, object]] = got.json()
            return body

        failed = await eventually(runs, lambda rs: any(r["status"] == "gagal" for r in rs))
        assert any("SIASN tidak tersedia" in str(r["error"]) for r in failed)
        bridge.fake.switches = fake_siasn.Switches()
        await eventually(runs, lambda rs: any(r["status"] == "selesai" for r in rs))
    finally:
        task.cancel()
    assert {e.nip for e in bridge.events()} == set(bridge.fake.people)  # type: ignore[attr-defined]
