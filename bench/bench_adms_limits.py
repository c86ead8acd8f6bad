"""ADMS ingest limits (issue 10): what an over-size body costs the attendance process, and
what a flood of one NIP's scans costs the reads that show it. Not a test: prints figures.

    uv run python -m bench.bench_adms_limits [--oversize-mb 50] [--flood 86400]

1. RSS: attendance (uvicorn subprocess, SQLite, real Kafka) gets bodies larger than
   adms_max_body_bytes (16 MB default): one with a Content-Length, one streamed without
   (chunked). The process's peak RSS (VmHWM) before and after is the figure: a body read
   whole would raise it by its size and more. For scale, a valid backlog of 100,000 lines
   (~5 MB, under the cap) is sent too and its peak rise printed.
2. Flood: `--flood` scans of one NIP on one day (one a second) through /iclock/cdata, then
   the time of GET /employees/{nip}/scans?period=.. (one page), GET /devices and
   GET /scans/excessive.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from bench.bench_reports import start_service
from bench.tokens import keys_env, who
from tests import factories

NIP = "199001012015011001"
SN = "BENCHLIMITS"


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} for {pid}")


def attlog(n: int, start: datetime, nip: str = NIP) -> bytes:
    return b"".join(
        f"{nip}\t{start + timedelta(seconds=i):%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\r\n".encode()
        for i in range(n)
    )


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    line = f"{NIP}\t2026-10-05 07:30:00\t0\t1\t0\t0\t0\r\n".encode()
    piece = line * (size // len(line))
    sent = 0
    while sent < total:
        part = piece[: total - sent]
        yield part
        sent += len(part)


async def oversize(client: httpx.AsyncClient, total: int, declared: bool) -> str:
    url = f"/iclock/cdata?SN={SN}&table=ATTLOG"
    headers = {"content-length": str(total)} if declared else {}
    try:
        r = await client.post(url, content=chunks(total), headers=headers)
        return f"{r.status_code} {r.text[:60]!r}"
    except httpx.HTTPError as exc:  # the server may close while we still send
        return f"connection ended: {type(exc).__name__}"


async def seed_employee(bootstrap: str, prefix: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        event = factories.employee(
            NIP, at=datetime.now(UTC), producer="bench", nama="Pegawai Bench", opd="BENCH"
        )
        await producer.send_and_wait(prefix + str(event.TOPIC), event.to_bytes(), key=event.key)
    finally:
        await producer.stop()


async def timed_get(client: httpx.AsyncClient, url: str) -> tuple[float, httpx.Response]:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        r = await client.get(url)
        best = min(best, time.perf_counter() - t)
        r.raise_for_status()
    return best, r


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oversize-mb", type=int, default=50)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--flood", type=int, default=86_400)
    parser.add_argument("--port", type=int, default=18131)
    args = parser.parse_args()
    bootstrap = os.environ.get("SIKERJA_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    run = uuid.uuid4().hex[:8]
    prefix = f"bench{run}."
    tmp = Path(tempfile.mkdtemp(prefix="bench-adms-limits-"))
    env = {
        **os.environ,
        "SIKERJA_TOPIC_PREFIX": prefix,
        "SIKERJA_DATA_DIR": str(tmp),
        "SIKERJA_DATABASE_URL": f"sqlite:///{tmp}/{{service}}.db",
        "SIKERJA_KAFKA_BOOTSTRAP": bootstrap,
        "SIKERJA_GROUP_SUFFIX": f"-b{run}",
        "SIKERJA_ATTENDANCE_SCHEDULER_ENABLED": "false",
        "SIKERJA_LOG_LEVEL": "ERROR",
        **keys_env(tmp),  # the registry API verifies tokens signed with the bench's own key
    }
    proc = start_service("attendance", args.port, env, tmp / "uvicorn.log")
    try:
        operator = who(tmp, None, "operator")  # devices ignore it; the registry API needs it
        base = f"http://127.0.0.1:{args.port}"
        async with httpx.AsyncClient(base_url=base, timeout=600, headers=operator) as c:
            for _ in range(120):
                try:
                    if (await c.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.5)
            await seed_employee(bootstrap, prefix)
            # a device is registered only to an OPD someone belongs to: once the employee is in
            for _ in range(120):
                reg = await c.post("/api/v1/devices", json={"sn": SN, "opd": "BENCH"})
                if reg.status_code == 201:
                    break
                await asyncio.sleep(0.5)
            else:
                raise SystemExit(f"device not registered: {reg.status_code} {reg.text[:200]}")
            # wait until the employee is known: a first scan shows up
            probe = attlog(1, datetime(2026, 10, 4, 7, 0))
            for _ in range(120):
                await c.post(f"/iclock/cdata?SN={SN}&table=ATTLOG", content=probe)
                if (await c.get(f"/api/v1/employees/{NIP}/scans?period=2026-10")).json():
                    break
                await asyncio.sleep(0.5)
            # warm the path once with a small valid batch
            await c.post(
                f"/iclock/cdata?SN={SN}&table=ATTLOG",
                content=attlog(100, datetime(2026, 10, 3, 7, 0)),
            )
            print(f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.2f}")
            print("| step | answer | RSS after | peak RSS (VmHWM) rise |")
            print("|---|---|---|---|")
            total = args.oversize_mb * 1024 * 1024
            for declared in (True, False):
                hwm0 = rss_kib(proc.pid, "VmHWM")
                answer = await oversize(c, total, declared)
                await asyncio.sleep(0.5)
                rise = (rss_kib(proc.pid, "VmHWM") - hwm0) / 1024
                rss = rss_kib(proc.pid, "VmRSS") / 1024
                how = "Content-Length" if declared else "chunked, no length"
                print(
                    f"| {args.oversize_mb} MB body, {how} | {answer} | {rss:.0f} MiB | "
                    f"{rise:.1f} MiB |"
                )
            backlog = attlog(args.backlog, datetime(2026, 9, 1, 7, 0))
            hwm0 = rss_kib(proc.pid, "VmHWM")
            t = time.perf_counter()
            r = await c.post(f"/iclock/cdata?SN={SN}&table=ATTLOG", content=backlog)
            took = time.perf_counter() - t
            rise = (rss_kib(proc.pid, "VmHWM") - hwm0) / 1024
            rss = rss_kib(proc.pid, "VmRSS") / 1024
            print(
                f"| valid backlog, {args.backlog:,} lines ({len(backlog) / 1e6:.1f} MB) | "
                f"{r.status_code} {r.text[:20]!r} in {took:.1f} s | {rss:.0f} MiB | "
                f"{rise:.1f} MiB |"
            )
            # the flood: one NIP, one scan a second for a whole day, in 10,000-line uploads
            # yesterday (WIB), so the device view's last week shows it too
            wib_now = datetime.now(UTC) + timedelta(hours=7)
            day = datetime.combine(wib_now.date() - timedelta(days=1), datetime.min.time())
            period = f"{day:%Y-%m}"
            t = time.perf_counter()
            for start in range(0, args.flood, 10_000):
                body = attlog(min(10_000, args.flood - start), day + timedelta(seconds=start))
                r = await c.post(f"/iclock/cdata?SN={SN}&table=ATTLOG", content=body)
                if r.text != "OK":
                    raise SystemExit(f"flood upload answered {r.status_code} {r.text[:100]}")
            print(
                f"\nflood: {args.flood:,} scans of one NIP on {day:%Y-%m-%d} stored in "
                f"{time.perf_counter() - t:.1f} s"
            )
            print("| read | seconds (best of 3) | what came back |")
            print("|---|---|---|")
            s, r = await timed_get(c, f"/api/v1/employees/{NIP}/scans?period={period}")
            print(
                f"| GET /employees/{{nip}}/scans?period={period} | {s:.3f} | "
                f"{len(r.json())} rows, next page: {'next' in r.links} |"
            )
            s, r = await timed_get(c, "/api/v1/devices")
            print(
                f"| GET /devices | {s:.3f} | "
                f"pindaian_berlebih: {r.json()[0]['pindaian_berlebih'][:2]} |"
            )
            s, r = await timed_get(c, f"/api/v1/scans/excessive?period={period}")
            flagged = [(d["nip"], d["tanggal"], d["jumlah"]) for d in r.json()["nip_hari"]]
            print(f"| GET /scans/excessive?period={period} | {s:.3f} | {flagged} |")
            metrics = (await c.get("/metrics")).text
            print(
                "\n"
                + "\n".join(
                    ln
                    for ln in metrics.splitlines()
                    if ln.startswith("sikerja_adms_excess_scans_total")
                )
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
