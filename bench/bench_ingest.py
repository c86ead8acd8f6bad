"""Device ingest: many simulated ZKTeco devices posting ATTLOG batches concurrently to
attendance's /iclock/cdata (uvicorn in a subprocess, real HTTP, real Kafka), measured end
to end until every FingerprintRecorded is on the topic; and, in the same run, the raw
aiokafka baseline (produce the same number of events with the kit's producer settings,
consume them back). Prints a table.

    uv run python -m bench.bench_ingest --devices 40 --batches 10 --lines 100
    uv run python -m bench.bench_ingest --db-url postgresql+psycopg://u:p@host:port/db --workers 2

CPU is reported per 1,000 scans for the server (uvicorn and its workers, /proc) and for this
client (its HTTP devices and the Kafka consumer that counts the events), over the measured
window: steadier than scans/s on a shared machine. A PostgreSQL --db-url gets a fresh
database per run (created next to the given one, dropped afterwards). --py-spy FILE records
a flame graph of the server during the window.

The events go to fresh topics (SIKERJA_TOPIC_PREFIX=bench<run>.), so the shared
sikerja.attendance topic stays clean for tests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.bench_reports import start_service, tree_cpu_seconds
from bench.tokens import keys_env, who
from tests import factories

REPO = Path(__file__).resolve().parents[1]


async def make_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()


async def consume_until(bootstrap: str, topic: str, expected: int, timeout: float) -> float:
    """Reads `topic` from the start until `expected` messages; returns the monotonic time
    the last one arrived."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = consumer.partitions_for_topic(topic) or {0}
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen, last = 0, time.monotonic()
        deadline = time.monotonic() + timeout
        while seen < expected:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {seen} of {expected} events on {topic} in {timeout}s")
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                seen += len(records)
            if batch:
                last = time.monotonic()
        return last
    finally:
        await consumer.stop()


def fresh_database(url: str, name: str) -> str:
    """A new, empty PostgreSQL database next to `url`; returns its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{url.rpartition('/')[0]}/{name}"


def drop_database(url: str, name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def attlog_bodies(devices: int, batches: int, lines: int, day: datetime) -> list[list[bytes]]:
    """Per device, `batches` bodies of `lines` distinct scans (PIN = a valid NIP)."""
    rng = random.Random(7)
    out = []
    for _ in range(devices):
        nips = [factories.nip(rng) for _ in range(lines)]
        bodies = []
        for b in range(batches):
            when = day + timedelta(minutes=b)
            fmt = "%Y-%m-%d %H:%M:%S"
            rows = [
                f"{nip}\t{(when + timedelta(seconds=i % 60)).strftime(fmt)}\t0\t1\t0\t0\t0"
                for i, nip in enumerate(nips)
            ]
            bodies.append(("\r\n".join(rows) + "\r\n").encode())
        out.append(bodies)
    return out


def seed_employees(db_url: str, nips: set[str]) -> None:
    """Attendance credits a NIP-looking PIN only to an employee it knows (other scans wait
    in quarantine): its employee projection gets the bench's NIPs before the run."""
    from services.attendance.models import KIT
    from services.shared.db import make_engine
    from services.shared.migrations import upgrade

    engine = make_engine(db_url.format(service="attendance"))
    upgrade(engine, "attendance", KIT.metadata)
    employee = KIT.employee
    with engine.begin() as conn:
        conn.execute(
            employee.__table__.insert(),
            [{"nip": n, "nama": n, "opd": "BENCH", "pin": None, "active": True} for n in nips],
        )
    engine.dispose()


async def bench_http(args: argparse.Namespace, bootstrap: str) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    prefix = f"bench{run}."
    topic = f"{prefix}sikerja.attendance"
    await make_topic(bootstrap, topic, args.partitions)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    db_url = f"sqlite:///{tmp}/{{service}}.db"
    pg_name = None
    if args.db_url and args.db_url.startswith("postgresql"):
        pg_name = f"bench_ingest_{run}"
        db_url = fresh_database(args.db_url, pg_name)
    elif args.db_url:
        db_url = args.db_url
    env = {
        **os.environ,
        "SIKERJA_TOPIC_PREFIX": prefix,
        "SIKERJA_DATA_DIR": str(tmp),
        "SIKERJA_DATABASE_URL": db_url,
        "SIKERJA_KAFKA_BOOTSTRAP": bootstrap,
        "SIKERJA_GROUP_SUFFIX": f"-b{run}",
        "SIKERJA_ATTENDANCE_SCHEDULER_ENABLED": "false",
        "SIKERJA_LOG_LEVEL": "WARNING",
        "SIKERJA_RELAY_INTERVAL_S": "0.05",
        "SIKERJA_RELAY_BATCH": "2000",
        **keys_env(tmp),  # the registry API verifies tokens signed with the bench's own key
    }
    day = datetime(2026, 10, 5, 7, 0)
    bodies = attlog_bodies(args.devices, args.batches, args.lines, day)
    # every batch of a device carries the same PINs (valid NIPs)
    pins = {ln.split(b"\t", 1)[0].decode() for b in bodies for ln in b[0].splitlines()}
    seed_employees(db_url, pins)
    port = args.port
    # started once, before the measurement (migrated first when there are workers)
    proc = start_service("attendance", port, env, tmp / "uvicorn.log", args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        limits = httpx.Limits(max_connections=args.devices, max_keepalive_connections=args.devices)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
            for _ in range(120):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.5)
            sns = [f"BENCH{run}{i:04d}" for i in range(args.devices)]
            operator = who(tmp, None, "operator", "BENCH")  # an operator is scoped to its OPD
            for sn in sns:
                r = await client.post(
                    "/api/v1/devices", json={"sn": sn, "opd": "BENCH"}, headers=operator
                )
                r.raise_for_status()
            expected = args.devices * args.batches * args.lines
            latencies: list[float] = []

            async def device(sn: str, mine: list[bytes]) -> None:
                for body in mine:
                    t = time.perf_counter()
                    r = await client.post(f"/iclock/cdata?SN={sn}&table=ATTLOG", content=body)
                    latencies.append(time.perf_counter() - t)
                    if r.text != "OK":
                        raise SystemExit(f"device {sn} got {r.status_code} {r.text[:200]}")

            consumer = asyncio.create_task(
                consume_until(bootstrap, topic, expected, timeout=args.timeout)
            )
            spy = None
            if args.py_spy:
                spy = subprocess.Popen(  # noqa: ASYNC220 - started once, before the window
                    [
                        "py-spy",
                        "record",
                        "--pid",
                        str(proc.pid),
                        "--subprocesses",
                        "--rate",
                        "50",
                        "--output",
                        args.py_spy,
                        "--nonblocking",
                        *(["--format", "raw"] if args.py_spy.endswith(".txt") else []),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=(tmp / "py-spy.log").open("wb"),
                )
                await asyncio.sleep(1.0)
            server_cpu0, client_cpu0 = tree_cpu_seconds(proc.pid), time.process_time()
            started = time.monotonic()
            await asyncio.gather(*(device(sn, b) for sn, b in zip(sns, bodies, strict=True)))
            posted = time.monotonic()
            last = await consumer
            server_cpu = tree_cpu_seconds(proc.pid) - server_cpu0
            client_cpu = time.process_time() - client_cpu0
            if spy is not None:
                spy.send_signal(2)  # SIGINT: py-spy writes the flame graph and exits
                spy.wait(timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if pg_name is not None:
            drop_database(args.db_url, pg_name)
    latencies.sort()
    return {
        "scans": expected,
        "http_s": posted - started,
        "end_to_end_s": last - started,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
        "server_cpu_s": server_cpu,
        "client_cpu_s": client_cpu,
    }


async def bench_raw(args: argparse.Namespace, bootstrap: str, n: int) -> dict[str, float]:
    """The same number of FingerprintRecorded-sized messages, produced with the kit's
    producer settings (acks=all, idempotence) and consumed back."""
    topic = f"sikerja.bench.raw.{uuid.uuid4().hex[:8]}"
    await make_topic(bootstrap, topic, args.partitions)
    payload = (
        b'{"event_id":"00000000-0000-0000-0000-000000000000","event_type":"FingerprintRecorded",'
        b'"schema_version":1,"occurred_at":"2026-10-05T00:00:00Z","producer":"attendance",'
        b'"nip":"199001012015011001","causation_id":null,"scan_id":"199001012015011001@2026-10-'
        b'05T00:00:00Z","scanned_at":"2026-10-05T00:00:00Z","work_date":"2026-10-05",'
        b'"device_sn":"BENCH0001","source":"adms","flag":null}'
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    consumer = asyncio.create_task(consume_until(bootstrap, topic, n, timeout=args.timeout))
    started = time.monotonic()
    try:
        futures = []
        for i in range(n):
            key = f"{199001012015011001 + i % 5000}".encode()
            futures.append(await producer.send(topic, payload, key=key))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    last = await consumer
    return {"scans": n, "end_to_end_s": last - started}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=40)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--port", type=int, default=18101)
    parser.add_argument("--db-url", default=None, help="attendance store (default SQLite)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--py-spy",
        default=None,
        help="py-spy output: FILE.svg flame graph, FILE.txt collapsed stacks",
    )
    parser.add_argument("--no-raw", action="store_true", help="skip the raw aiokafka baseline")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    bootstrap = os.environ.get("SIKERJA_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    http = await bench_http(args, bootstrap)
    raw = {"scans": 0.0, "end_to_end_s": 0.0}
    if not args.no_raw:
        raw = await bench_raw(args, bootstrap, int(http["scans"]))
    rate = http["scans"] / http["end_to_end_s"]
    raw_rate = raw["scans"] / raw["end_to_end_s"] if raw["end_to_end_s"] else 0.0
    store = "PostgreSQL" if (args.db_url or "").startswith("postgresql") else "SQLite"
    print(
        f"devices={args.devices} batches={args.batches} lines/batch={args.lines} "
        f"store={store} workers={args.workers} load={os.getloadavg()[0]:.2f}"
    )
    print("| path | scans | seconds | scans/s | POST p50 | POST p95 |")
    print("|---|---|---|---|---|---|")
    print(
        f"| ADMS HTTP -> store+outbox -> Kafka (end to end) | {http['scans']:.0f} | "
        f"{http['end_to_end_s']:.2f} | {rate:.0f} | {http['p50_ms']:.0f} ms | "
        f"{http['p95_ms']:.0f} ms |"
    )
    print(
        f"| ADMS HTTP accepted (all POSTs answered OK) | {http['scans']:.0f} | "
        f"{http['http_s']:.2f} | {http['scans'] / http['http_s']:.0f} | | |"
    )
    print(
        f"| raw aiokafka produce -> consume | {raw['scans']:.0f} | {raw['end_to_end_s']:.2f} | "
        f"{raw_rate:.0f} | | |"
    )
    if raw_rate:
        print(f"ratio end-to-end / raw: {rate / raw_rate:.2f}")
    k = http["scans"] / 1000
    window = http["end_to_end_s"]
    print(
        f"CPU per 1,000 scans: server {http['server_cpu_s'] / k:.3f} s "
        f"({http['server_cpu_s'] / window * 100:.0f}% of a core), client "
        f"{http['client_cpu_s'] / k:.3f} s ({http['client_cpu_s'] / window * 100:.0f}% of a core)"
    )


if __name__ == "__main__":
    asyncio.run(main())
