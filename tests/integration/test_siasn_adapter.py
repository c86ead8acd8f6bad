"""The SIASN adapter against our own SIASN over real HTTP (uvicorn on a loopback port)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from services.siasn.adapter import (
    KinerjaResult,
    SiasnAuthFailed,
    SiasnClient,
    SiasnConfig,
    SiasnRejected,
    SiasnUnavailable,
)
from sikerja_cli import fake_siasn
from sikerja_cli.fake_siasn import FakeSiasn, Switches, from_demo, pns_id


def config(base_url: str, **overrides: object) -> SiasnConfig:
    base = SiasnConfig(
        base_url=base_url,
        consumer_key=fake_siasn.CONSUMER_KEY,
        consumer_secret=fake_siasn.CONSUMER_SECRET,
        username=fake_siasn.USERNAME,
        password=fake_siasn.PASSWORD,
        timeout_s=5.0,
        concurrency=8,
        backoff_s=0.0,  # no waiting in tests: the retries still happen
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeSiasn, str]]:
    fake = from_demo(employees=40, opds=2)
    async with fake_siasn.running(fake) as url:
        yield fake, url


async def no_sleep(_: float) -> None:
    return None


async def test_reads_an_employee_with_both_tokens(served: tuple[FakeSiasn, str]) -> None:
    fake, url = served
    nip = next(iter(fake.people))
    async with SiasnClient(config(url)) as siasn:
        got = await siasn.employee(nip)
        assert await siasn.employee("199001012015011999") is None
    assert got is not None
    assert got.nip == nip and got.siasn_id == pns_id(nip)
    assert got.unor_nama == fake.people[nip]["unorNama"]
    assert got.kelas_jabatan == fake.people[nip]["kelasJabatan"]
    assert fake.calls["token:gateway"] == 1 and fake.calls["token:user"] == 1


async def test_lists_units_and_their_members(served: tuple[FakeSiasn, str]) -> None:
    fake, url = served
    async with SiasnClient(config(url)) as siasn:
        units = await siasn.units()
        nips = [n for u in units for n in [x async for x in siasn.unit_members(u.id)]]
    assert len(units) == 2
    assert sorted(nips) == sorted(fake.people)


async def test_token_expiring_mid_sync_is_renewed_before_use(
    served: tuple[FakeSiasn, str],
) -> None:
    fake, url = served
    # tokens live 2 s; the client renews them 30 s ahead: every call after the first
    # token fetch finds its tokens "about to expire" and renews before SIASN refuses them
    fake.switches = Switches(token_ttl_s=2)
    nips = list(fake.people)[:5]
    async with SiasnClient(config(url, concurrency=1)) as siasn:
        for nip in nips:
            assert await siasn.employee(nip) is not None
    assert fake.calls["401"] == 0
    assert fake.calls["token:gateway"] == len(nips)


async def test_stale_token_gets_one_renewal_on_401(served: tuple[FakeSiasn, str]) -> None:
    fake, url = served
    nips = list(fake.people)[:3]
    async with SiasnClient(config(url)) as siasn:
        assert await siasn.employee(nips[0]) is not None
        await _revoke(url)  # SIASN forgets the tokens it issued before they expire
        assert await siasn.employee(nips[1]) is not None
        assert await siasn.employee(nips[2]) is not None
    assert fake.calls["401"] == 1
    assert fake.calls["token:gateway"] == 2 and fake.calls["token:user"] == 2


async def test_a_401_after_renewal_is_not_retried_forever(
    served: tuple[FakeSiasn, str],
) -> None:
    fake, url = served
    # every token dies the moment it is issued: one renewal, then SIASN's refusal stands
    fake.switches = Switches(token_ttl_s=60, token_grace_s=60)
    async with SiasnClient(config(url, refresh_margin_s=0)) as siasn:
        with pytest.raises(SiasnAuthFailed, match="401"):
            await siasn.employee(next(iter(fake.people)))
    assert fake.calls["401"] == 2


async def test_5xx_is_retried_until_an_answer(served: tuple[FakeSiasn, str]) -> None:
    fake, url = served
    fake.switches = Switches(error_rate=0.5)
    async with SiasnClient(config(url, attempts=30), sleep=no_sleep) as siasn:
        got = [await siasn.employee(n) for n in fake.people]
    assert all(g is not None for g in got)
    assert fake.calls["5xx"] > 0


async def test_5xx_every_time_gives_up_as_unavailable(served: tuple[FakeSiasn, str]) -> None:
    fake, url = served
    fake.switches = Switches(error_rate=1.0)
    async with SiasnClient(config(url, attempts=3), sleep=no_sleep) as siasn:
        with pytest.raises(SiasnUnavailable):
            await siasn.employee(next(iter(fake.people)))
    assert fake.calls["5xx"] == 3


async def test_timeout_is_retried(served: tuple[FakeSiasn, str]) -> None:
    fake, url = served
    fake.switches = Switches(delay_s=0.5)
    async with SiasnClient(config(url, timeout_s=0.1, attempts=2), sleep=no_sleep) as siasn:
        with pytest.raises(SiasnUnavailable, match="Timeout"):
            await siasn.employee(next(iter(fake.people)))
    assert fake.calls["api"] == 2  # both attempts reached SIASN (and timed out)


async def test_save_and_delete_kinerja(served: tuple[FakeSiasn, str]) -> None:
    fake, url = served
    nip, rejected = list(fake.people)[:2]
    fake.switches = Switches(reject_nips=[rejected])
    result = KinerjaResult(2026, 10, 1, 2, 2, pns_id(nip), "1", "Kepala", "Kepala", "X", "IV/a")
    async with SiasnClient(config(url)) as siasn:
        record = await siasn.save_kinerja(result)
        assert fake.saved[record]["hasilKinerjaNilai"] == 1
        assert fake.saved[record]["kuadranKinerjaNilai"] == 2
        await siasn.delete_kinerja(record)
        await siasn.delete_kinerja(record)  # already gone: fine
        with pytest.raises(SiasnRejected) as caught:
            await siasn.save_kinerja(replace(result, pns_id=pns_id(rejected)))
    assert caught.value.status == 400
    assert fake.received == {f"save:{pns_id(nip)}": 1, f"delete:{pns_id(nip)}": 1}


async def _revoke(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        (await http.post("/_fake/revoke-tokens")).raise_for_status()


async def test_wrong_credentials_are_an_auth_failure(served: tuple[FakeSiasn, str]) -> None:
    _, url = served
    async with SiasnClient(config(url, consumer_secret="salah")) as siasn:
        with pytest.raises(SiasnAuthFailed, match="kredensial"):
            await siasn.units()
