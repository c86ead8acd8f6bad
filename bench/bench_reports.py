"""Month-end crush: many ASN filing daily reports at once, then their atasan deciding.

Runs activity and approval with uvicorn in subprocesses (real HTTP, real Kafka, SQLite or
PostgreSQL), seeds employees and today's scans through Kafka, then fires:
  1. filings: POST /api/v1/reports from `--users` concurrent ASN (`--filings` in total);
  2. decisions: every atasan approves their queue concurrently (POST .../approve).
Prints throughput and p50/p95 latency of each phase, and the CPU seconds the load client
itself burnt in it: the client shares the machine's cores with the services, so a busy client
slows the servers it measures.

    uv run python -m bench.bench_reports --store sqlite --users 100 --filings 3000
    uv run python -m bench.bench_reports --store postgresql

Needs Kafka on SIKERJA_KAFKA_BOOTSTRAP (default 127.0.0.1:9092) and, for postgresql, the
local server (deploy/local/postgres.sh url) or --pg-url. Each run uses its own topics
(SIKERJA_TOPIC_PREFIX) and consumer groups.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvloop
from aiokafka import AIOKafkaProducer

from bench.rawhttp import RawConnection, RawHttpError, encode_request
from bench.tokens import keys_env, who
from services.kernel.calendar import WIB
from tests import factories
from tests.infra import drop_created_databases, drop_topics

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    client_cpu: float = 0.0  # CPU seconds of this (client) process during the phase
    server_cpu: dict[str, float] = field(default_factory=dict)  # service -> CPU seconds

    def add(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def line(self, store: str) -> str:
        lat = sorted(self.latencies)
        n = len(lat)
        p50 = lat[n // 2] * 1000 if n else 0.0
        p95 = lat[min(n - 1, int(n * 0.95))] * 1000 if n else 0.0
        rate = n / self.seconds if self.seconds else 0.0
        mean = statistics.mean(lat) * 1000 if n else 0.0
        share = self.client_cpu / self.seconds * 100 if self.seconds else 0.0
        servers = ", ".join(
            f"{k} {v * 1000 / n:.1f}" if n else k for k, v in self.server_cpu.items()
        )
        return (
            f"| {store} | {self.name} | {n} | {self.statuses} | {rate:.0f}/s | "
            f"{p50:.1f} ms | {p95:.1f} ms | {mean:.1f} ms | "
            f"{self.client_cpu:.1f} s ({share:.0f}% of a core) | {servers} |"
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and its children (uvicorn --workers starts processes)."""
    total = cpu_seconds(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            total += cpu_seconds(int(stat.parent.name))
    return total


class Timed:
    """Wall time of a phase, the client's CPU and the services' CPU during it; with
    `profile_dir`, a py-spy profile of each service over the phase (raw folded stacks)."""

    def __init__(self, phase: Phase, servers: dict[str, int], profile_dir: str | None) -> None:
        self.phase, self.servers, self.profile_dir = phase, servers, profile_dir
        self._spies: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Timed:
        if self.profile_dir:
            Path(self.profile_dir).mkdir(parents=True, exist_ok=True)
            for name, pid in self.servers.items():
                if name == "postgres":
                    continue  # not Python
                out = Path(self.profile_dir) / f"{self.phase.name}-{name}.txt"
                self._spies.append(
                    subprocess.Popen(
                        [
                            "uvx",
                            "py-spy",
                            "record",
                            "-p",
                            str(pid),
                            "-r",
                            "250",
                            "-f",
                            "raw",
                            "--nonblocking",
                            "--gil",
                            "-o",
                            str(out),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            time.sleep(1.0)  # py-spy attaches
        self._servers = {n: tree_cpu_seconds(pid) for n, pid in self.servers.items()}
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.phase.seconds = time.perf_counter() - self._wall
        self.phase.client_cpu = time.process_time() - self._cpu
        self.phase.server_cpu = {
            n: tree_cpu_seconds(pid) - self._servers[n] for n, pid in self.servers.items()
        }
        for spy in self._spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for spy in self._spies:
            spy.wait(timeout=30)


async def run_phase(
    phase: Phase,
    port: int,
    work: list[list[bytes]],
    rate: float | None,
    pids: dict[str, int],
    profile: str | None,
) -> None:
    """Send each connection's requests in order. Closed loop (rate None): each connection
    sends its next request when the previous one is answered. Open loop: request number i
    (counted across connections, round robin) is due at i / rate seconds; its latency is
    counted from when it was due, so a slow server is not hidden by a waiting client."""
    conns = [await RawConnection("127.0.0.1", port).open() for _ in work]
    try:
        # warm each connection outside the measurement
        warm = encode_request("GET", "/healthz", {})
        await asyncio.gather(*(c.send(warm) for c in conns))
        n = len(work)

        async def worker(index: int, conn: RawConnection, requests: list[bytes]) -> None:
            for k, request in enumerate(requests):
                if rate is None:
                    due = time.perf_counter()
                else:
                    due = start + (k * n + index) / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                try:
                    status, _ = await conn.send(request)
                except (OSError, asyncio.IncompleteReadError, RawHttpError):
                    status = 0  # counted, not fatal: the table shows it
                    await conn.close()
                phase.add(status, time.perf_counter() - due)

        with Timed(phase, pids, profile):
            start = time.perf_counter()
            pairs = enumerate(zip(conns, work, strict=True))
            await asyncio.gather(*(worker(i, c, w) for i, (c, w) in pairs))
    finally:
        await asyncio.gather(*(c.close() for c in conns))


def start_service(
    name: str, port: int, env: dict[str, str], log: Path, workers: int = 1
) -> subprocess.Popen[bytes]:
    if workers > 1:
        # the workers would all migrate at start and race on CREATE TABLE: migrate once
        subprocess.run(
            [sys.executable, "-c", f"import services.{name}.app as a; a.build_kit().migrate()"],
            cwd=REPO,
            env=env,
            check=True,
        )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"services.{name}.app:create",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            # the default 5 s drops idle pooled connections between phases
            "--timeout-keep-alive",
            "120",
            *(["--workers", str(workers)] if workers > 1 else []),
        ],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def wait_until(probe, ok, timeout: float = 120.0):  # probe, ok: any callables
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timeout waiting; last value {value!r}")
        await asyncio.sleep(0.5)


async def seed(bootstrap: str, prefix: str, atasan: list[str], staff: dict[str, str]) -> None:
    now = datetime.now(UTC)
    scanned = now - timedelta(minutes=5)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    try:
        for nip in [*atasan, *staff]:
            event = factories.employee(
                nip, staff.get(nip), at=now, producer="bench", nama="Pegawai Bench", opd="BENCH"
            )
            await producer.send(prefix + str(event.TOPIC), event.to_bytes(), key=event.key)
        for nip in staff:
            scan = factories.scan(
                nip,
                scanned.astimezone(WIB).date(),
                scanned,
                occurred_at=now,
                scan_id=f"bench-{uuid.uuid4()}",
                producer="bench",
            )
            await producer.send(prefix + str(scan.TOPIC), scan.to_bytes(), key=scan.key)
        await producer.flush()
    finally:
        await producer.stop()


async def run_store(store: str, db_url: str, args: argparse.Namespace, tmp: Path) -> list[str]:
    suffix = f"-bench{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "SIKERJA_DATA_DIR": str(tmp),
        "SIKERJA_DATABASE_URL": db_url,
        "SIKERJA_GROUP_SUFFIX": suffix,
        # own topics: no replay of other runs' history, no noise for other consumers
        "SIKERJA_TOPIC_PREFIX": f"b{suffix[-6:]}.",
        "SIKERJA_LOG_LEVEL": "WARNING",
        **keys_env(tmp),  # the services verify tokens signed with the bench's own key
    }
    bootstrap = env.get("SIKERJA_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    ports = {"activity": args.port, "approval": args.port + 1}
    procs = [start_service(n, p, env, tmp / f"{n}.log", args.workers) for n, p in ports.items()]
    pids = {n: p.pid for n, p in zip(ports, procs, strict=True)}
    postmaster = REPO / ".cache/pg-data/postmaster.pid"
    if store == "postgresql" and postmaster.exists():
        # the local server's backends work for the services: their CPU is the store's cost
        pids["postgres"] = int(postmaster.read_text().split()[0])
    act, apr = (f"http://127.0.0.1:{p}" for p in ports.values())
    rng = random.Random()  # fresh NIPs: the topics keep earlier runs' events
    atasan = [factories.nip(rng) for _ in range(max(1, args.users // 20))]
    staff = {factories.nip(rng): atasan[i % len(atasan)] for i in range(args.users)}
    bkpsdm = who(tmp, None, "bkpsdm")
    limits = httpx.Limits(max_connections=args.users, max_keepalive_connections=args.users)
    try:
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:

            async def ready() -> bool:
                try:
                    a = await client.get(f"{act}/readyz")
                    b = await client.get(f"{apr}/readyz")
                    return a.status_code == 200 and b.status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_until(ready, bool)
            await seed(bootstrap, env["SIKERJA_TOPIC_PREFIX"], atasan, staff)
            last = list(staff)[-1]

            async def unlocked() -> int:
                r = await client.get(f"{act}/api/v1/employees/{last}/unlocked-days", headers=bkpsdm)
                return len(r.json()) if r.status_code == 200 else 0

            await wait_until(unlocked, lambda n: n > 0)
            today = (datetime.now(UTC) - timedelta(minutes=5)).astimezone(WIB).date()

            filing = Phase("filing")
            per_user = max(1, args.filings // len(staff))
            # Requests encoded once, before the clock starts: the client should cost little.
            # One token per person, reused for every request (as the portal's would be).
            tokens = {nip: who(tmp, nip, "asn") for nip in staff}
            filings = [
                [
                    encode_request(
                        "POST",
                        "/api/v1/reports",
                        {**tokens[nip], "Content-Type": "application/json"},
                        json.dumps(
                            {
                                "work_date": today.isoformat(),
                                "description": f"Kegiatan ke-{i} menyusun bahan rapat",
                                "output": "dokumen",
                                "quantity": 1,
                                "minutes": 1,
                            }
                        ).encode(),
                    )
                    for i in range(per_user)
                ]
                for nip in staff
            ]
            await run_phase(filing, ports["activity"], filings, args.rate, pids, args.profile)
            filed = filing.statuses.get(201, 0)

            async def queued() -> dict[str, list[str]]:
                out = {}
                for a in atasan:
                    r = await client.get(f"{apr}/api/v1/atasan/{a}/queue", headers=bkpsdm)
                    out[a] = [i["report_id"] for i in r.json()]
                return out

            queues = await wait_until(queued, lambda q: sum(map(len, q.values())) >= filed)

            deciding = Phase("approve")
            # as many deciders as filers: each atasan's queue is split among
            # `users / atasan` connections (an atasan with several tabs, or Plt helpers)
            per_atasan = max(1, args.users // len(atasan))
            decisions: list[list[bytes]] = []
            for a, ids in queues.items():
                headers = who(tmp, a, "atasan")
                for k in range(per_atasan):
                    decisions.append(
                        [
                            encode_request("POST", f"/api/v1/reports/{rid}/approve", headers)
                            for rid in ids[k::per_atasan]
                        ]
                    )
            await run_phase(deciding, ports["approval"], decisions, args.rate, pids, args.profile)
            return [filing.line(store), deciding.line(store)]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if args.logs:
            copy_logs(tmp, Path(args.logs), store, list(ports))
        await drop_topics(bootstrap, env["SIKERJA_TOPIC_PREFIX"], suffix)


def copy_logs(tmp: Path, dest: Path, store: str, names: list[str]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copy(tmp / f"{n}.log", dest / f"{store}-{n}.log")


def postgres_urls(admin: str) -> str:
    from tests.infra import fresh_postgres_database

    run = uuid.uuid4().hex[:6]
    url = ""
    for service in ("activity", "approval"):
        url = fresh_postgres_database(admin, f"bench{run}_{service}")
    return url.replace("_approval", "_{service}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--filings", type=int, default=2000)
    parser.add_argument("--port", type=int, default=18102)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per service")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="open loop: offer this many requests/s (default: closed loop, one per connection)",
    )
    parser.add_argument("--pg-url", default=None, help="admin URL of a PostgreSQL server")
    parser.add_argument(
        "--profile", default=None, help="py-spy profiles of the services per phase, to here"
    )
    parser.add_argument("--logs", default=None, help="copy the services' logs to this folder")
    args = parser.parse_args()
    lines = [
        "| store | phase | requests | statuses | throughput | p50 | p95 | mean | client CPU "
        "| server CPU ms/request |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    for store in stores:
        with tempfile.TemporaryDirectory(prefix=f"bench-{store}-") as tmp:
            if store == "sqlite":
                url = f"sqlite:///{tmp}/{{service}}.db"
            else:
                admin = (
                    args.pg_url
                    or subprocess.run(  # noqa: ASYNC221 - once, before any load
                        [str(REPO / "deploy/local/postgres.sh"), "url"],
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout.strip()
                )
                url = postgres_urls(admin)
            try:
                lines += await run_store(store, url, args, Path(tmp))
            finally:
                drop_created_databases()
    print("\n".join(lines))


if __name__ == "__main__":
    uvloop.run(main())
