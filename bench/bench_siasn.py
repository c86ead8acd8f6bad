"""A full sync of the city's ASN from our own SIASN, then a no-change sync.

Our SIASN (sikerja_cli/fake_siasn.py) runs in its own process on loopback with the demo
city (`--asn`, 44 OPDs); `--latency-ms` makes each of its API answers wait (BKN is far
away), `--error-rate` answers that share of calls 503. The siasn service's sync (the real
adapter, bounded to `--concurrency` calls in flight) reads every unit, every ASN's
data-utama, diffs against the store and writes the outbox. Prints both syncs' durations,
the events emitted, the calls SIASN saw and the peak RSS. With `--deliver`, every synced
ASN's monthly result is then due (confirmed, period closed) and delivery passes run until
the backlog is empty: time, passes, and how many ASN SIASN got a record for twice.

    uv run python -m bench.bench_siasn --asn 15000 --concurrency 16 --latency-ms 50
    uv run python -m bench.bench_siasn --asn 15000 --error-rate 0.1 --deliver
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from anyio import to_thread
from sqlalchemy import func
from sqlmodel import Session, select

from services.shared.kit import ServiceKit
from services.shared.settings import Settings
from services.shared.uow import utcnow
from services.siasn.adapter import SiasnClient
from services.siasn.app import build_kit
from services.siasn.config import SiasnSettings
from services.siasn.delivery import Deliverer, DeliveryPolicy
from services.siasn.models import DUE, KinerjaDelivery, PaguVersion, UnitOpd
from services.siasn.sync import SyncRunner
from sikerja_cli import fake_siasn
from sikerja_cli.demo_data import PAGU_BY_KELAS


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def bench(args: argparse.Namespace, url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        while True:
            try:
                if (await http.get("/_fake/units")).status_code == 200:
                    break
            except httpx.HTTPError:
                await asyncio.sleep(0.3)
        switches = {"delay_s": args.latency_ms / 1000, "error_rate": args.error_rate}
        (await http.put("/_fake/switches", json=switches)).raise_for_status()
        units = (await http.get("/_fake/units")).json()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=args.db_url or
                            f"sqlite:///{tmp}/{{service}}.db")  # fmt: skip
        kit = build_kit(settings, alembic=True)
        kit.migrate()
        now = utcnow()
        with Session(kit.engine) as s:
            for u in units:
                s.add(UnitOpd(unor_id=u["id"], opd=u["nama"], updated_at=now))
            for kelas, pagu in PAGU_BY_KELAS.items():
                s.add(PaguVersion(kelas_jabatan=kelas, berlaku_mulai=date(2020, 1, 1),
                                  pagu=pagu, created_at=now))  # fmt: skip
            s.commit()
        bridge = SiasnSettings(
            base_url=url,
            consumer_key=fake_siasn.CONSUMER_KEY,
            consumer_secret=fake_siasn.CONSUMER_SECRET,
            username=fake_siasn.USERNAME,
            password=fake_siasn.PASSWORD,
            concurrency=args.concurrency,
            timeout_s=30,
            attempts=8,
        )
        runner = SyncRunner(kit, lambda: SiasnClient(bridge.client_config()))
        for label in ("full sync", "no-change sync"):
            started = time.perf_counter()
            summary = await runner.run("bench")
            took = time.perf_counter() - started
            with Session(kit.engine) as s:
                outbox = s.exec(select(func.count()).select_from(kit.tables.outbox)).one()
            print(
                f"{label}: {took:.1f} s, read {summary.read}, upserted {summary.upserted}, "
                f"deactivated {summary.deactivated}, rejected {len(summary.rejected)}, "
                f"outbox rows {outbox}"
            )
        async with httpx.AsyncClient(base_url=url) as http:
            print("siasn saw:", (await http.get("/_fake/received")).json()["calls"])
        if args.deliver:
            await deliver(kit, bridge, url, args)
        kit.engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS (bridge process) {rss:.0f} MiB")


async def deliver(kit: ServiceKit, bridge: SiasnSettings, url: str, args: Any) -> None:
    """Every synced ASN's October result confirmed by their atasan and the period closed,
    then delivery passes until the backlog is empty, SIASN failing `--error-rate`."""
    now = utcnow()
    with Session(kit.engine) as s:
        people = s.exec(select(kit.tables.employee)).all()
        for e in people:
            s.add(KinerjaDelivery(
                nip=e.nip, period="2026-10", opd=e.opd, hasil_kerja="sesuai",
                perilaku_kerja="sesuai", predikat=2, confirmed_by=e.atasan_nip or e.nip,
                revision=1, closed=True, state=DUE, updated_at=now,
            ))  # fmt: skip
        s.commit()
    policy = DeliveryPolicy(retry_base_s=1.0, retry_cap_s=5.0)
    deliverer = Deliverer(kit, lambda: SiasnClient(bridge.client_config()), policy)
    started = time.perf_counter()
    passes = 0
    while sum((await to_thread.run_sync(deliverer.backlog)).values()):
        await deliverer.deliver_once()
        passes += 1
        await asyncio.sleep(0.2)
    took = time.perf_counter() - started
    async with httpx.AsyncClient(base_url=url) as http:
        got = (await http.get("/_fake/received")).json()
    saves = [v for k, v in got["received"].items() if k.startswith("save:")]
    print(
        f"delivery of {len(people)} results: {took:.1f} s in {passes} passes; SIASN got "
        f"{sum(saves)} saves for {len(saves)} ASN, {sum(1 for v in saves if v > 1)} twice; "
        f"calls {got['calls']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--asn", type=int, default=15000)
    parser.add_argument("--opds", type=int, default=44)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--db-url", default="")
    parser.add_argument("--deliver", action="store_true", help="then deliver every result")
    args = parser.parse_args()
    port = _port()
    fake = subprocess.Popen(
        [sys.executable, "-m", "sikerja_cli.fake_siasn", "--port", str(port),
         "--employees", str(args.asn), "--opds", str(args.opds)],
    )  # fmt: skip
    try:
        asyncio.run(bench(args, f"http://127.0.0.1:{port}"))
    finally:
        fake.terminate()
        fake.wait()


if __name__ == "__main__":
    main()
