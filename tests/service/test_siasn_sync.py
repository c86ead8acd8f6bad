"""The siasn service syncing from our own SIASN over real HTTP: only changes reach the
outbox, bad records are reported one by one, BKPSDM's tables decide OPD and pagu."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from contracts.events import EmployeeDeactivated, EmployeeUpserted
from services.shared import lease
from services.shared.employees import periods_of
from services.shared.settings import Settings
from services.siasn.adapter import employee_from
from services.siasn.app import create
from services.siasn.config import SiasnSettings
from services.siasn.models import JobLease
from services.siasn.sync import SYNC_LEASE, CityRead, SyncRunner, apply_read
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


class Clock:
    def __init__(self) -> None:
        # 2026-11-30 18:30 UTC is 2026-12-01 01:30 WIB: the sync's day is the 1st
        self.now = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


SYNC_DAY = date(2026, 12, 1)


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
        app = create(memory_settings, siasn, clock=Clock())
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
    # our SIASN's tmtJabatan is "01-01-2024" (dd-mm-yyyy) for everyone: their periods start
    # then, open
    assert {(e.aktif_mulai, e.aktif_sampai) for e in upserts} == {(date(2024, 1, 1), None)}

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
    # the transfer has no date in SIASN (its tmtJabatan is the jabatan's, from 2024): it
    # starts on the sync's WIB day; the leaver's last day is the day before the sync
    assert (new[0].aktif_mulai, new[0].aktif_sampai) == (SYNC_DAY, None)
    assert new[1].aktif_sampai == date(2026, 11, 30)
    with bridge.app.state.kit.uow() as uow:
        moved_periods = [(p.first, p.last, p.opd) for p in periods_of(uow, moved)]
        gone_periods = [(p.first, p.last) for p in periods_of(uow, gone)]
    assert moved_periods[1] == (SYNC_DAY, None, other_unit["nama"])
    assert moved_periods[0][:2] == (date(2024, 1, 1), date(2026, 11, 30))
    assert gone_periods == [(date(2024, 1, 1), date(2026, 11, 30))]


async def test_a_new_jabatan_starts_on_its_tmt_and_a_new_atasan_on_the_sync_day(
    bridge: Bridge,
) -> None:
    await bridge.sync()
    before = len(bridge.events())
    staff = [n for n, p in bridge.fake.people.items() if p["atasanNipBaru"]]
    promoted, reassigned = staff[0], staff[1]
    kelas = bridge.fake.people[promoted]["kelasJabatan"] + 1
    bridge.fake.people[promoted] |= {
        "jabatanNama": "Analis Kebijakan Ahli Muda",
        "kelasJabatan": kelas,
        "tmtJabatan": "16-11-2026",
    }
    boss = bridge.fake.people[reassigned]["atasanNipBaru"]
    # a kepala (no atasan of their own): no cycle
    other_boss = next(
        n for n, p in bridge.fake.people.items() if not p["atasanNipBaru"] and n != boss
    )
    bridge.fake.people[reassigned] |= {"atasanNipBaru": other_boss}

    result = await bridge.sync()
    assert result["upserted"] == 2 and result["deactivated"] == 0
    new = {e.nip: e for e in bridge.events()[before:] if isinstance(e, EmployeeUpserted)}
    assert (new[promoted].aktif_mulai, new[promoted].kelas_jabatan) == (date(2026, 11, 16), kelas)
    assert new[promoted].tpp_pagu == PAGU_BY_KELAS[kelas]  # the new kelas's pagu
    assert (new[reassigned].aktif_mulai, new[reassigned].atasan_nip) == (SYNC_DAY, other_boss)
    # nothing changed since: nothing announced
    again = await bridge.sync()
    assert again["upserted"] == 0 and again["deactivated"] == 0
    assert len(bridge.events()) == before + 2


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


async def test_two_replicas_never_sync_at_the_same_time(bridge: Bridge) -> None:
    first: SyncRunner = bridge.app.state.siasn_sync
    second = SyncRunner(bridge.app.state.kit, first.client)  # another replica, same store
    bridge.fake.switches = fake_siasn.Switches(delay_s=0.02)
    results = await asyncio.gather(
        first.run("jadwal"), second.run("jadwal"), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["SyncBusy", "SyncSummary"]
    assert bridge.fake.calls["data-utama"] == len(bridge.fake.people)  # SIASN read once
    # BKPSDM's "sync now" on the replica that finds the lease taken: 409, in Bahasa
    kit = bridge.app.state.kit
    held = lease.acquire(kit.engine, JobLease, SYNC_LEASE, "replika-lain", kit.clock(), 60)
    assert held is not None
    r = await bridge.http.post("/api/v1/siasn/sync?wait=true", headers=BKPSDM)
    assert r.status_code == 409 and "replika lain" in r.json()["detail"]
    lease.release(kit.engine, held, kit.clock())
    assert (await bridge.sync())["status"] == "selesai"


async def test_a_sync_whose_lease_was_taken_over_writes_nothing(bridge: Bridge) -> None:
    kit = bridge.app.state.kit
    runner: SyncRunner = bridge.app.state.siasn_sync
    clock = kit.clock
    paused = lease.acquire(kit.engine, JobLease, SYNC_LEASE, "pausing", clock(), 60)
    assert paused is not None
    run_id = runner.begin("jadwal")
    clock.now += timedelta(minutes=2)  # it paused past its lease; another replica took it
    assert lease.acquire(kit.engine, JobLease, SYNC_LEASE, "other", clock(), 60) is not None
    city = CityRead(people=[employee_from(p) for p in bridge.fake.people.values()])
    with pytest.raises(lease.Fenced):
        apply_read(kit, city, run_id, clock(), paused, 60)
    assert bridge.events() == []
