"""Login limits are counted in Redis: two portal workers on one store see the same failures,
so a NIP is locked whichever worker the attempts reach."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.shared.settings import Settings
from tests.service.test_portal import ANI, OPD_A, login, make, upserted, with_password

pytestmark = pytest.mark.integration


async def test_two_workers_share_the_lockout(tmp_path: Path, redis_url: str, run_id: str) -> None:
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1",  # never dialled: events go through kit.handle
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        redis_url=redis_url,
        group_suffix=f"-t{run_id}",  # its own counters in the shared Redis
    )
    one = make(settings, rate_storage=redis_url)
    two = make(settings, rate_storage=redis_url)
    assert await one.kit.handle(upserted(ANI, OPD_A).to_bytes()) == "handled"
    await with_password(one, ANI)
    async with one.client() as a, two.client() as b:
        for http in (a, b, a, b):
            assert (await login(http, ANI, "Salah-Sandi-123")).status_code == 401
        fifth = await login(b, ANI, "Salah-Sandi-123")
        assert fifth.status_code == 429 and "Akun dikunci sementara" in fifth.json()["detail"]
        assert (await login(a, ANI)).status_code == 429  # the other worker knows too
