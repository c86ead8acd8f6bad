"""Login time with argon2id (issue 12: ≤ 300 ms on this machine) and token verification cost.

uv run python -m bench.bench_login [--logins 40] [--redis URL]

1. argon2id verify alone, for the portal's parameters and for argon2-cffi's default;
2. the whole `POST /api/v1/session` in-process (httpx over ASGI, SQLite store, limits in
   memory or in Redis): password check, limiter, session row, audit row, cookie;
3. `identity.verify` of a service token against a cached JWKS (what every service pays per
   request).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from argon2 import PasswordHasher

from services.portal import credentials
from services.portal.app import create
from services.portal.models import Account
from services.shared import identity
from services.shared.keys import ensure_dev_keys
from services.shared.settings import Settings
from tests import factories

NIP = "198501012010011001"
PASSWORD = "Bekasi-Kerja-2026"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def line(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"{name:<44} median {statistics.median(ms):7.1f} ms  p95 {pct(ms, 0.95):7.1f} ms"
        f"  max {max(ms):7.1f} ms  (n={len(ms)})"
    )


def argon2_alone(n: int) -> None:
    for name, hasher in (
        (f"argon2id portal {credentials.ARGON2}", credentials.password_hasher()),
        ("argon2id argon2-cffi default (t3 m64MiB p4)", PasswordHasher()),
    ):
        stored = hasher.hash(PASSWORD)
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            hasher.verify(stored, PASSWORD)
            times.append(time.perf_counter() - t0)
        print(line(name, times))


async def whole_login(n: int, redis: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/{{service}}.db", log_json=False
        )
        app = create(settings, rate_storage=redis or "memory://")
        kit = app.state.kit
        kit.migrate()
        event = factories.employee(
            NIP,
            at=datetime.now(UTC),
            nama="Pegawai Bench",
            opd="Dinas Bench",
            kelas_jabatan=9,
            tpp_pagu=1,
        )
        await kit.handle(event.to_bytes())
        portal = app.state.portal
        with kit.uow() as uow:
            account = uow.session.get(Account, NIP)
            account.password_hash = portal.passwords.hash(PASSWORD)
            uow.session.add(account)
            uow.commit()
        transport = httpx.ASGITransport(app=app)
        times = []
        async with httpx.AsyncClient(transport=transport, base_url="https://portal") as http:
            for i in range(n):
                if i % 4 == 0:  # stay under the per-IP limit: each "user" from its own IP
                    transport.client = (f"10.1.{i // 250}.{i % 250}", 1)
                t0 = time.perf_counter()
                r = await http.post("/api/v1/session", json={"nip": NIP, "password": PASSWORD})
                times.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text
        storage = "redis" if redis else "memory"
        print(line(f"POST /api/v1/session (limits in {storage})", times))


def verify_cost(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        key = ensure_dev_keys(settings)
        claims = {"nip": NIP, "role": "asn", "opd": "X", "aud": "tpp"}
        token = identity.mint(key.jwk, key.kid, claims, timedelta(minutes=5))
        keys = identity.Jwks(settings.jwks_source())
        identity.verify(token, "tpp", keys)
        t0 = time.perf_counter()
        for _ in range(n):
            identity.verify(token, "tpp", keys)
        each = (time.perf_counter() - t0) / n
        print(f"{'identity.verify (cached JWKS file)':<44} {each * 1e6:7.1f} µs per token")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--redis", default=None, help="e.g. redis://127.0.0.1:56379/0")
    args = parser.parse_args()
    argon2_alone(args.logins // 2)
    asyncio.run(whole_login(args.logins, args.redis))
    verify_cost(2000)


if __name__ == "__main__":
    main()
