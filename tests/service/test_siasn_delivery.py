"""Monthly results delivered to our SIASN over real HTTP: due only when confirmed and the
period closed, exactly once through an outage, a visible backlog, correction = delete and
re-send, a refused record reported."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from contracts.events import EmployeeUpserted, KinerjaResultConfirmed, TppPeriodClosed
from services.shared.employees import apply_employee_event, employee_on
from services.shared.settings import Settings
from services.siasn.adapter import KinerjaResult, SiasnClient
from services.siasn.app import create
from services.siasn.config import SiasnSettings
from services.siasn.delivery import BACKLOG, Deliverer
from services.siasn.handlers import on_closed, on_result
from sikerja_cli import fake_siasn
from sikerja_cli.demo_data import PAGU_BY_KELAS
from sikerja_cli.fake_siasn import FakeSiasn, Switches, from_demo, pns_id
from tests.support import eventually, who

BKPSDM = who(None, "bkpsdm")
PERIOD = "2026-10"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    fake: FakeSiasn
    app: FastAPI
    http: httpx.AsyncClient
    clock: Clock

    @property
    def deliverer(self) -> Deliverer:
        d: Deliverer = self.app.state.siasn_delivery
        return d

    def confirm(self, nip: str, atasan: str, hasil: str, perilaku: str, rev: int = 1) -> None:
        kit = self.app.state.kit
        with kit.uow() as uow:
            on_result(uow, KinerjaResultConfirmed(
                occurred_at=self.clock.now, producer="approval", nip=nip, period=PERIOD,
                hasil_kerja=hasil, perilaku_kerja=perilaku, confirmed_by=atasan, revision=rev,
            ))  # fmt: skip
            uow.commit()

    def close(self, nip: str) -> None:
        kit = self.app.state.kit
        with kit.uow() as uow:
            on_closed(uow, TppPeriodClosed(
                occurred_at=self.clock.now, producer="tpp", nip=nip, period=PERIOD,
                rules="bekasi-perwali-69-2019", pagu=1, net=1, closed_by="bkpsdm",
            ))  # fmt: skip
            uow.commit()

    async def results(self) -> dict[str, dict[str, object]]:
        r = await self.http.get(f"/api/v1/siasn/results?period={PERIOD}", headers=BKPSDM)
        assert r.status_code == 200, r.text
        return {x["nip"]: x for x in r.json()}

    async def backlog(self) -> int:
        r = await self.http.get("/api/v1/siasn/backlog", headers=BKPSDM)
        total: int = r.json()["total"]
        return total


@pytest.fixture
async def world(memory_settings: Settings) -> AsyncIterator[World]:
    fake = from_demo(employees=12, opds=1)
    clock = Clock()
    async with fake_siasn.running(fake) as url:
        bridge = SiasnSettings(
            base_url=url,
            consumer_key=fake_siasn.CONSUMER_KEY,
            consumer_secret=fake_siasn.CONSUMER_SECRET,
            username=fake_siasn.USERNAME,
            password=fake_siasn.PASSWORD,
            attempts=2,
            retry_base_s=60,
            retry_cap_s=600,
        )
        app = create(memory_settings, bridge, clock=clock)
        app.state.kit.migrate()
        app.state.siasn_sync.client = lambda: _fast(bridge)
        app.state.siasn_delivery.client = lambda: _fast(bridge)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
            for unit in fake.units():
                await http.put(
                    f"/api/v1/siasn/units/{unit['id']}", json={"opd": unit["nama"]}, headers=BKPSDM
                )
            pagu = {"berlaku_mulai": "2020-01-01", "pagu": PAGU_BY_KELAS}
            await http.post("/api/v1/siasn/pagu", json=pagu, headers=BKPSDM)
            synced = await http.post("/api/v1/siasn/sync?wait=true", headers=BKPSDM)
            assert synced.status_code == 200, synced.text
            yield World(fake, app, http, clock)


def _fast(bridge: SiasnSettings) -> object:
    from services.siasn.adapter import SiasnClient

    async def no_sleep(_: float) -> None:
        return None

    return SiasnClient(bridge.client_config(), sleep=no_sleep)


def staff(world: World) -> list[tuple[str, str]]:
    return [(n, p["atasanNipBaru"]) for n, p in world.fake.people.items() if p["atasanNipBaru"]]


async def test_due_only_when_confirmed_and_closed(world: World) -> None:
    (a, atasan_a), (b, _), (c, _) = staff(world)[:3]
    world.confirm(a, atasan_a, "di_atas", "sesuai")  # confirmed, not closed
    world.close(b)  # closed, not confirmed
    world.confirm(c, atasan_a, "sesuai", "sesuai")
    world.close(c)
    assert await world.deliverer.deliver_once() == 1
    assert world.fake.received == {f"save:{pns_id(c)}": 1}
    got = await world.results()
    assert got[a]["state"] == "menunggu" and got[b]["state"] == "menunggu"
    assert got[c]["state"] == "terkirim" and got[c]["predikat"] == 2
    record = world.fake.saved[str(got[c]["siasn_record_id"])]
    assert record["penilaiNipNrp"] == atasan_a
    assert (record["hasilKinerjaNilai"], record["perilakuKerjaNilai"]) == (2, 2)
    assert record["periodikId"] == "1" and record["bulanMulaiPenilaian"] == "10"


async def test_delivered_exactly_once_through_an_outage(world: World) -> None:
    people = staff(world)[:8]
    for nip, atasan in people:
        world.confirm(nip, atasan, "di_atas", "di_atas")
        world.close(nip)
    world.fake.switches = Switches(error_rate=1.0)  # SIASN down
    assert await world.deliverer.deliver_once() == 0
    assert await world.backlog() == 8 and BACKLOG._value.get() == 8
    states = {r["state"] for r in (await world.results()).values()}
    assert states == {"gagal_sementara"}
    calls = world.fake.calls["api"]
    assert await world.deliverer.deliver_once() == 0  # still waiting out the backoff
    assert world.fake.calls["api"] == calls
    assert world.fake.received == {}

    world.fake.switches = Switches(error_rate=0.3)  # back, but flaky
    for _ in range(30):
        world.clock.now += timedelta(hours=1)
        await world.deliverer.deliver_once()
        if await world.backlog() == 0:
            break
    assert await world.backlog() == 0 and BACKLOG._value.get() == 0
    assert world.fake.received == {f"save:{pns_id(n)}": 1 for n, _ in people}
    world.clock.now += timedelta(days=1)
    assert await world.deliverer.deliver_once() == 0  # nothing sent twice
    assert sum(world.fake.received.values()) == len(people)


async def test_results_per_asn_opd_and_month_within_the_callers_scope(world: World) -> None:
    """Results with their delivery state and SIASN ids: the city sees every OPD, an operator
    only their own, an ASN only themself (an atasan also a subordinate they name)."""
    (a, atasan), (b, atasan_b) = staff(world)[:2]
    for nip, boss_nip in ((a, atasan), (b, atasan_b)):
        world.confirm(nip, boss_nip, "sesuai", "sesuai")
        world.close(nip)
    await world.deliverer.deliver_once()
    opd = world.fake.units()[0]["nama"]
    url = f"/api/v1/siasn/results?period={PERIOD}"
    city = (await world.http.get(f"{url}&opd={opd}", headers=BKPSDM)).json()
    assert {r["nip"] for r in city} >= {a, b}
    row = next(r for r in city if r["nip"] == a)
    assert (row["siasn_id"], row["state"], row["state_label"]) == (
        pns_id(a), "terkirim", "Terkirim ke SIASN",
    )  # fmt: skip
    assert row["siasn_record_id"] in world.fake.saved and row["predikat_nama"] == "Baik"

    operator = who("198001012005011006", "operator", opd)
    mine = (await world.http.get(url, headers=operator)).json()
    assert {r["nip"] for r in mine} == {r["nip"] for r in city}
    other = who("198001012005011007", "operator", "DINAS LAIN")
    assert (await world.http.get(url, headers=other)).json() == []
    for query in (f"{url}&opd={opd}", f"{url}&nip={a}"):
        refused = await world.http.get(query, headers=other)
        assert refused.status_code == 403, query

    asn = who(a, "asn", opd)
    assert [r["nip"] for r in (await world.http.get(url, headers=asn)).json()] == [a]
    assert (await world.http.get(f"{url}&nip={b}", headers=asn)).status_code == 403
    boss = who(atasan_b, "atasan", opd)
    assert [r["nip"] for r in (await world.http.get(f"{url}&nip={b}", headers=boss)).json()] == [b]


async def test_a_correction_deletes_then_resends(world: World) -> None:
    (nip, atasan) = staff(world)[0]
    world.confirm(nip, atasan, "sesuai", "sesuai")
    world.close(nip)
    await world.deliverer.deliver_once()
    first = (await world.results())[nip]["siasn_record_id"]
    world.confirm(nip, atasan, "di_atas", "di_atas", rev=2)
    world.confirm(nip, atasan, "di_bawah", "di_bawah", rev=1)  # an old one, late: ignored
    assert await world.deliverer.deliver_once() == 1
    got = (await world.results())[nip]
    assert got["state"] == "terkirim" and got["predikat"] == 1
    assert first not in world.fake.saved and got["siasn_record_id"] in world.fake.saved
    assert world.fake.received == {f"save:{pns_id(nip)}": 2, f"delete:{pns_id(nip)}": 1}


async def test_a_refused_record_is_reported_and_others_go(world: World) -> None:
    (a, atasan), (b, _) = staff(world)[:2]
    world.fake.switches = Switches(reject_nips=[a])
    for nip in (a, b):
        world.confirm(nip, atasan, "sesuai", "di_bawah")
        world.close(nip)
    assert await world.deliverer.deliver_once() == 1
    got = await world.results()
    assert got[a]["state"] == "ditolak" and "pnsDinilaiId" in str(got[a]["last_error"])
    assert got[b]["state"] == "terkirim" and got[b]["predikat"] == 4
    assert await world.backlog() == 0


async def test_tokens_refused_keep_results_waiting_not_refused(world: World) -> None:
    # SIASN refuses our tokens (revoked credentials, an expired consumer key): the results
    # are not at fault, they wait in the backlog
    (nip, atasan) = staff(world)[0]
    world.confirm(nip, atasan, "sesuai", "sesuai")
    world.close(nip)
    world.fake.switches = Switches(token_ttl_s=60, token_grace_s=60)  # every token dead
    assert await world.deliverer.deliver_once() == 0
    got = (await world.results())[nip]
    assert got["state"] == "gagal_sementara", got
    assert await world.backlog() == 1


async def test_a_new_revision_after_tpp_reopened_the_month_deletes_then_resends(
    world: World,
) -> None:
    # delivered; tpp reopens the month (no event reaches siasn), the atasan confirms a new
    # revision, tpp closes the month again (a second TppPeriodClosed)
    (nip, atasan) = staff(world)[0]
    world.confirm(nip, atasan, "sesuai", "sesuai")
    world.close(nip)
    assert await world.deliverer.deliver_once() == 1
    first = (await world.results())[nip]["siasn_record_id"]
    world.confirm(nip, atasan, "di_bawah", "sesuai", rev=2)
    assert await world.deliverer.deliver_once() == 1
    world.close(nip)  # the re-close
    world.confirm(nip, atasan, "di_bawah", "di_bawah", rev=3)  # and one more correction
    assert await world.deliverer.deliver_once() == 1
    assert await world.deliverer.deliver_once() == 0  # nothing left: no extra send
    got = (await world.results())[nip]
    assert got["state"] == "terkirim" and got["predikat"] == 5  # di bawah + di bawah
    assert list(world.fake.saved) == [got["siasn_record_id"]] and first not in world.fake.saved
    assert world.fake.received == {f"save:{pns_id(nip)}": 3, f"delete:{pns_id(nip)}": 2}


async def test_a_new_revision_while_siasn_is_down_after_delivery_still_deletes_first(
    world: World,
) -> None:
    (nip, atasan) = staff(world)[0]
    world.confirm(nip, atasan, "sesuai", "sesuai")
    world.close(nip)
    await world.deliverer.deliver_once()
    world.fake.switches = Switches(error_rate=1.0)  # SIASN down when the correction comes
    world.confirm(nip, atasan, "di_atas", "di_atas", rev=2)
    assert await world.deliverer.deliver_once() == 0
    world.confirm(nip, atasan, "di_atas", "sesuai", rev=3)  # corrected again while waiting
    world.fake.switches = Switches()
    world.clock.now += timedelta(hours=1)
    assert await world.deliverer.deliver_once() == 1
    got = (await world.results())[nip]
    assert got["state"] == "terkirim" and got["predikat"] == 2
    assert len(world.fake.saved) == 1  # the first record is gone, only the newest stands
    assert world.fake.received == {f"save:{pns_id(nip)}": 2, f"delete:{pns_id(nip)}": 1}


async def test_a_second_replica_never_resends_what_the_first_is_sending(world: World) -> None:
    people = staff(world)[:4]
    for nip, atasan in people:
        world.confirm(nip, atasan, "sesuai", "sesuai")
        world.close(nip)
    first = world.deliverer
    plain = first.client
    assert plain is not None
    held_back = asyncio.Event()  # the first replica's sends wait here: its pass is in flight

    def gated() -> SiasnClient:
        client = plain()
        save = client.save_kinerja

        async def slow_save(result: KinerjaResult) -> str:
            await held_back.wait()
            return await save(result)

        client.save_kinerja = slow_save  # type: ignore[method-assign]
        return client

    first.client = gated
    second = Deliverer(world.app.state.kit, plain, first.policy)  # another replica
    sending = asyncio.create_task(first.deliver_once())

    async def states() -> set[object]:
        return {r["state"] for r in (await world.results()).values() if r["state"] != "menunggu"}

    await eventually(states, lambda got: got == {"mengirim"})
    assert await second.deliver_once() == 0  # the first holds the lease: it does nothing
    held_back.set()
    assert await sending == len(people)
    assert world.fake.received == {f"save:{pns_id(n)}": 1 for n, _ in people}
    # once the first is done, the second delivers what comes next
    (nip, atasan) = people[0]
    world.confirm(nip, atasan, "di_atas", "sesuai", rev=2)
    assert await second.deliver_once() == 1


async def test_a_result_belongs_to_the_opd_of_the_month_not_of_today(world: World) -> None:
    # October's result of an ASN transferred to BAPPEDA on 1 November, and of one
    # transferred on 16 October: each month belongs to the OPD of its last period in it
    (later, atasan), (mid, _) = staff(world)[:2]
    kit = world.app.state.kit
    october_opd = world.fake.people[later]["unorNama"]
    with kit.uow() as uow:
        for nip, since in ((later, date(2026, 11, 1)), (mid, date(2026, 10, 16))):
            now = employee_on(uow, nip, since)
            assert now is not None
            apply_employee_event(uow, EmployeeUpserted(
                occurred_at=world.clock.now, producer="siasn", nip=nip, nama=now.nama,
                opd="BAPPEDA", jabatan=now.jabatan, kelas_jabatan=now.kelas_jabatan,
                atasan_nip=now.atasan_nip, tpp_pagu=now.tpp_pagu, aktif_mulai=since,
            ))  # fmt: skip
        uow.commit()
    world.confirm(later, atasan, "sesuai", "sesuai")
    world.confirm(mid, atasan, "sesuai", "sesuai")
    got = await world.results()
    assert got[later]["opd"] == october_opd
    assert got[mid]["opd"] == "BAPPEDA"


async def test_the_penilai_is_sent_as_they_were_in_the_month(world: World) -> None:
    # the atasan who confirms October was promoted to another unit on 1 November: SIASN gets
    # the jabatan and unit they held in October, not today's
    (nip, atasan) = staff(world)[0]
    kit = world.app.state.kit
    with kit.uow() as uow:
        october = employee_on(uow, atasan, date(2026, 10, 31))
        assert october is not None and october.opd != "BAPPEDA"
        apply_employee_event(uow, EmployeeUpserted(
            occurred_at=world.clock.now, producer="siasn", nip=atasan, nama=october.nama,
            opd="BAPPEDA", jabatan="Kepala Bidang Baru", kelas_jabatan=october.kelas_jabatan,
            atasan_nip=october.atasan_nip, tpp_pagu=october.tpp_pagu,
            aktif_mulai=date(2026, 11, 1),
        ))  # fmt: skip
        uow.commit()
    world.confirm(nip, atasan, "sesuai", "sesuai")
    world.close(nip)
    assert await world.deliverer.deliver_once() == 1
    record = world.fake.saved[str((await world.results())[nip]["siasn_record_id"])]
    assert record["penilaiNipNrp"] == atasan
    assert (record["penilaiJabatanNama"], record["penilaiUnorNama"]) == (
        october.jabatan,
        october.opd,
    )
