"""The portal under 200 concurrent people (issue 13): login, filing, approval, by the pages.

Starts attendance, activity, approval, tpp, notifier and the portal with uvicorn in
subprocesses (real HTTP, the real local Kafka, SQLite per service), seeds `--atasan` atasan
with `--users` − `--atasan` ASN between them and today's scans through Kafka, gives every
account its first password through the portal's API, then runs, every person at once:
  - login:    GET /masuk, POST /masuk (argon2id: the CPU-bound step by design)
  - filing:   each ASN GET / (Hari ini), GET /laporan/baru, POST /laporan/baru with a photo
  - approval: each atasan GET /persetujuan, POST /persetujuan/setujui (their whole queue)
By default people arrive at 10 a second and think 1-5 s between clicks (locust's model of
a user); `--think-max 0` fires everything at once in three phases (the ceiling).
Prints p50/p95/max per request kind and for all page requests but the login POST, and the
CPU seconds each service and the client burnt. The goal (issue 13) is p95 < 150 ms.

    uv run python -m bench.bench_portal [--users 200] [--atasan 20]

The client shares the two cores with the services: its own CPU is printed beside theirs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.bench_reports import seed, start_service, tree_cpu_seconds, wait_until
from bench.tokens import keys_env, who
from services.kernel.calendar import WIB
from tests import factories
from tests.e2e.test_portal_journey import png
from tests.infra import drop_topics
from tests.support import free_port

SERVICES = ("attendance", "activity", "approval", "tpp", "notifier", "portal")
PASSWORD = "Bekasi-Kerja-2026"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REPORT_ID = re.compile(r'name="report_ids" value="([^"]+)"')


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Person:
    """One browser: its own cookies (the portal's are Secure, which httpx's jar would not
    send over plain HTTP to 127.0.0.1 as a browser does, so they are kept by hand)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        nip: str,
        timings: dict[str, list[float]],
        think: tuple[float, float] = (0.0, 0.0),
    ):
        self.client, self.nip, self.timings, self.think = client, nip, timings, think
        self.cookies: dict[str, str] = {}
        self.statuses: dict[int, int] = defaultdict(int)

    async def call(self, kind: str, method: str, path: str, **kwargs: object) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        t0 = time.perf_counter()
        response = await self.client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
        self.timings[kind].append(time.perf_counter() - t0)
        self.statuses[response.status_code] += 1
        for raw in response.headers.get_list("set-cookie"):
            name, _, rest = raw.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    async def pause(self) -> None:
        """A person reads the page before the next click (locust's `between(a, b)`)."""
        if self.think[1] > 0:
            await asyncio.sleep(random.uniform(*self.think))

    async def login(self) -> None:
        page = await self.call("GET /masuk", "GET", "/masuk")
        token = CSRF.search(page.text)
        assert token, page.text[:300]
        await self.pause()
        r = await self.call(
            "POST /masuk", "POST", "/masuk",
            data={"nip": self.nip, "password": PASSWORD, "csrf_token": token.group(1)},
        )  # fmt: skip
        assert r.status_code == 303, (r.status_code, r.text[:300])

    async def file(self, day: str) -> None:
        home = await self.call("GET /", "GET", "/")
        assert home.status_code == 200, home.text[:300]
        await self.pause()
        form = await self.call("GET /laporan/baru", "GET", f"/laporan/baru?tanggal={day}")
        token = CSRF.search(form.text)
        assert token, form.text[:300]
        await self.pause()
        r = await self.call(
            "POST /laporan/baru", "POST", "/laporan/baru",
            data={"work_date": day, "description": "Menyusun laporan bulanan bidang",
                  "output": "dokumen", "quantity": "1", "minutes": "90",
                  "csrf_token": token.group(1)},
            files={"bukti": ("foto.png", png(), "image/png")},
        )  # fmt: skip
        assert r.status_code in (200, 303), (r.status_code, r.text[:300])

    async def approve(self) -> int:
        queue = await self.call("GET /persetujuan", "GET", "/persetujuan")
        ids, token = REPORT_ID.findall(queue.text), CSRF.search(queue.text)
        assert token, queue.text[:300]
        if ids:
            await self.pause()
            r = await self.call(
                "POST /persetujuan/setujui", "POST", "/persetujuan/setujui",
                data={"report_ids": ids, "csrf_token": token.group(1)},
            )  # fmt: skip
            assert r.status_code in (200, 303), (r.status_code, r.text[:300])
        return len(ids)


async def run(args: argparse.Namespace, tmp: Path) -> None:
    run_id = uuid.uuid4().hex[:6]
    prefix, suffix = f"benchportal{run_id}.", f"-benchportal{run_id}"
    ports = {name: free_port() for name in SERVICES}
    bootstrap = os.environ.get("SIKERJA_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    env = {
        **os.environ,
        **keys_env(tmp),
        "SIKERJA_KAFKA_BOOTSTRAP": bootstrap,
        "SIKERJA_DATA_DIR": str(tmp),
        "SIKERJA_DATABASE_URL": f"sqlite:///{tmp}/{{service}}.db",
        "SIKERJA_PORTS": json.dumps(ports),
        "SIKERJA_TOPIC_PREFIX": prefix,
        "SIKERJA_GROUP_SUFFIX": suffix,
        "SIKERJA_LOG_LEVEL": "WARNING",
        "SIKERJA_RELAY_INTERVAL_S": "0.1",
    }
    if args.redis:
        env["SIKERJA_REDIS_URL"] = args.redis
    procs = {n: start_service(n, ports[n], env, tmp / f"{n}.log") for n in SERVICES}
    url = {n: f"http://127.0.0.1:{p}" for n, p in ports.items()}
    try:
        async with httpx.AsyncClient(timeout=10) as probe:
            for name in SERVICES:

                async def ready(n: str = name) -> int:
                    try:
                        return (await probe.get(f"{url[n]}/readyz")).status_code
                    except httpx.TransportError:
                        return 0

                await wait_until(ready, lambda s: s == 200, 90)
        bosses = [factories.nip() for _ in range(args.atasan)]
        staff = {factories.nip(): bosses[i % len(bosses)] for i in range(args.users - args.atasan)}
        await seed(bootstrap, prefix, bosses, staff)
        admin = who(tmp, factories.nip(), "bkpsdm")
        everyone = [*bosses, *staff]
        async with httpx.AsyncClient(base_url=url["portal"], headers=admin, timeout=30) as api:
            gate = asyncio.Semaphore(4)

            async def enrol(nip: str) -> None:
                async with gate:

                    async def known() -> int:
                        return (await api.get(f"/api/v1/accounts/{nip}")).status_code

                    await wait_until(known, lambda s: s == 200, 120)
                    code = (await api.post(f"/api/v1/accounts/{nip}/setup-code")).json()["code"]
                    r = await api.post(
                        "/api/v1/first-password",
                        json={"nip": nip, "code": code, "new_password": PASSWORD},
                    )
                    assert r.status_code == 204, r.text

            await asyncio.gather(*(enrol(n) for n in everyone))
        day = datetime.now(UTC).astimezone(WIB).date().isoformat()
        async with httpx.AsyncClient(base_url=url["activity"], timeout=30) as activity:

            async def unlocked() -> int:
                count = 0
                for nip in staff:
                    r = await activity.get(
                        f"/api/v1/employees/{nip}/filing-status",
                        params={"work_date": day}, headers=who(tmp, nip, "asn", "BENCH"),
                    )  # fmt: skip
                    count += bool(r.json().get("allowed"))
                return count

            await wait_until(unlocked, lambda c: c == len(staff), 120)

        timings: dict[str, list[float]] = defaultdict(list)
        limits = httpx.Limits(max_connections=args.users + 10, max_keepalive_connections=args.users)
        async with httpx.AsyncClient(
            base_url=url["portal"], timeout=60, limits=limits, follow_redirects=False
        ) as client:
            think = (args.think_min, args.think_max)
            people = {n: Person(client, n, timings, think) for n in everyone}
            phases: list[tuple[str, float, float, dict[str, float]]] = []
            approved = [0]

            async def phase(name: str, jobs: list) -> None:  # jobs: awaitables
                cpu0 = {n: tree_cpu_seconds(p.pid) for n, p in procs.items()}
                client0, t0 = time.process_time(), time.perf_counter()
                await asyncio.gather(*jobs)
                wall, client_cpu = time.perf_counter() - t0, time.process_time() - client0
                cpu = {n: tree_cpu_seconds(p.pid) - cpu0[n] for n, p in procs.items()}
                phases.append((name, wall, client_cpu, cpu))

            if args.think_max > 0:
                # people arrive at `--spawn-rate` a second, each clicking after a think time
                mine = {b: sum(1 for a in staff.values() if a == b) for b in bosses}

                async def asn(index: int, nip: str) -> None:
                    await asyncio.sleep(index / args.spawn_rate)
                    await people[nip].login()
                    await people[nip].pause()
                    await people[nip].file(day)

                async def boss(index: int, nip: str) -> None:
                    await asyncio.sleep(index / args.spawn_rate)
                    await people[nip].login()
                    done, deadline = 0, time.monotonic() + 300
                    while done < mine[nip] and time.monotonic() < deadline:
                        await people[nip].pause()
                        done += await people[nip].approve()
                    approved[0] += done

                order = list(everyone)
                random.shuffle(order)
                await phase("people", [
                    boss(i, n) if n in mine else asn(i, n) for i, n in enumerate(order)
                ])  # fmt: skip
            else:  # every person at once, no think time: the ceiling
                await phase("login", [p.login() for p in people.values()])
                await phase("filing", [people[n].file(day) for n in staff])
                async with httpx.AsyncClient(base_url=url["approval"], timeout=30) as approval:

                    async def queued() -> int:
                        total = 0
                        for b in bosses:
                            r = await approval.get(f"/api/v1/atasan/{b}/queue", headers=admin)
                            total += len(r.json()) if r.status_code == 200 else 0
                        return total

                    await wait_until(queued, lambda c: c >= len(staff), 120)

                async def approve(b: str) -> None:
                    done = await people[b].approve()
                    approved[0] += done

                await phase("approval", [approve(b) for b in bosses])

        statuses: dict[int, int] = defaultdict(int)
        for person in people.values():
            for code, count in person.statuses.items():
                statuses[code] += count
        stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores"
        mode = (
            f"think {args.think_min:g}-{args.think_max:g} s, spawn {args.spawn_rate:g}/s"
            if args.think_max > 0
            else "no think time"
        )
        print(f"\n{args.users} people ({args.atasan} atasan), {mode}, {stamp};"
              f" statuses {dict(statuses)}; approved {approved[0]}")  # fmt: skip
        for name, wall, client_cpu, cpu in phases:
            servers = ", ".join(f"{n} {s:.1f}" for n, s in cpu.items() if s >= 0.05)
            print(f"phase {name:<9} {wall:6.1f} s wall; CPU s: client {client_cpu:.1f}, {servers}")
        print(f"{'request':<28} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        pages: list[float] = []
        for kind, values in timings.items():
            ms = [v * 1000 for v in values]
            if kind != "POST /masuk":
                pages.extend(ms)
            print(f"{kind:<28} {len(ms):>5} {statistics.median(ms):8.1f} {pct(ms, 0.95):8.1f}"
                  f" {max(ms):8.1f}")  # fmt: skip
        print(f"{'all but POST /masuk':<28} {len(pages):>5} {statistics.median(pages):8.1f}"
              f" {pct(pages, 0.95):8.1f} {max(pages):8.1f}")  # fmt: skip
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=20)
        await drop_topics(bootstrap, prefix, suffix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--atasan", type=int, default=20)
    parser.add_argument("--think-min", type=float, default=1.0, help="seconds between clicks")
    parser.add_argument("--think-max", type=float, default=5.0, help="0: no think time")
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="people arriving a second")
    parser.add_argument("--redis", default=None, help="Redis URL (the login limiter's store)")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and logs")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    try:
        asyncio.run(run(args, tmp))
    finally:
        if args.keep:
            print(f"data and logs: {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
