"""Live pipeline latency (issue 6): a scan posted to attendance until the TppRecomputed it
caused is on the broker, at a steady input rate, with the raw aiokafka baseline in the same
run.

    uv run python -m bench.bench_tpp_pipeline                 # 1,000 scans/s for 30 s
    uv run python -m bench.bench_tpp_pipeline --quick         # 1,000 scans/s for 3 s

Set-up (not measured). siasn, attendance and tpp run as three `sikerja serve NAME`
subprocesses, as `sikerja up` starts them (one process per service, SQLite stores unless
--db-url, attendance's scheduler off so only the bench closes days), in a fresh data folder,
on this run's own topics (SIKERJA_TOPIC_PREFIX, created up front with 6 partitions), consumer
groups (SIKERJA_GROUP_SUFFIX) and ports (SIKERJA_PORTS). N = rate x duration / 2 employees
are imported into siasn (EmployeeUpserted -> attendance, tpp); once both have consumed them,
BKPSDM closes the last working day before today for everyone: nobody scanned, so every
employee is tanpa keterangan (TK, 5%). The measured phase starts once tpp has handled all
those AttendanceDayClosed and its TppRecomputed (the employees' first statements, then the
TK ones) have stopped arriving, so it starts on an idle pipeline.

Measured. Each employee then scans twice for that past day: a check-in at 07:xx WIB (the
first half of the run: TK 5% -> present without check-out, PSW4 1.5%) and a check-out at
16:xx WIB (the second half: -> 0%). The scans go to attendance's POST /api/v1/scans in
batches every --tick seconds (rate x tick scans per POST), open loop: a POST is sent when it
is due whether or not the previous ones have been answered, so a slow pipeline shows as
latency, not as a lower rate. Each scan of an already-closed day re-closes it at once, as a
new revision: FingerprintRecorded + AttendanceDayClosed in the same transaction ->
outbox -> Kafka -> tpp recomputes the month -> a higher net -> TppRecomputed -> Kafka.

Following causation. A plain aiokafka consumer (assigned all partitions of this run's
attendance and tpp topics, from the beginning) reads every event:
TppRecomputed.cause_event_id -> AttendanceDayClosed.event_id; AttendanceDayClosed.causation_id
-> FingerprintRecorded.event_id; FingerprintRecorded.scan_id -> the scan_id attendance
answered to our POST. Every measured TppRecomputed must resolve through that chain (the
count of those that do not is printed; it should be 0).

Per scan:
  FR -> TppRecomputed:   FingerprintRecorded.occurred_at (attendance's clock when it received
                         the POST) to the TppRecomputed arriving at the bench's consumer
                         (issue 6's figure);
  POST -> TppRecomputed: the moment the POST was due to the same arrival (adds HTTP queueing).
All timestamps are wall clock (time.time()) of one machine.

Baseline: after the services stop, raw aiokafka at the same rate and batching for the same
duration: messages of FingerprintRecorded's size produced with the kit's producer settings
(acks=all, idempotence, linger 5 ms), read by the same kind of consumer; latency per message
from the send call to its arrival.

Prints a markdown table row. No test asserts these timings.

Longer than ~600 lines on purpose: one harness (set-up, load, measure, report) kept in one
file so a run reads top to bottom.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.tokens import keys_env, who
from contracts import Topic
from services.kernel.calendar import WIB, WorkCalendar
from tests import factories

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("siasn", "attendance", "tpp")
BKPSDM_NIP = "197001011995031001"
PARTITIONS = 6
# The chain's hops, each from one timestamp to the next (occurred_at = the producer's clock,
# seen = when the bench's consumer read the event off Kafka).
HOPS = (
    "POST due → FR occurred",  # HTTP queueing + attendance's handling up to the scan row
    "FR → ADC occurred",  # same transaction in attendance
    "ADC occurred → seen",  # attendance's commit + outbox relay + Kafka
    "ADC seen → TppRecomputed occurred",  # tpp's consumer batch + recompute
    "TppRecomputed occurred → seen",  # tpp's commit + outbox relay + Kafka
)


# --- helpers ----------------------------------------------------------------------------


def pct(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    v = sorted(values)
    return {
        "n": len(v),
        "p50": pct(v, 50),
        "p95": pct(v, 95),
        "p99": pct(v, 99),
        "max": v[-1] if v else math.nan,
    }


def ms(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x * 1000:,.0f} ms"


def last_working_day(today: date) -> date:
    cal = WorkCalendar.indonesia([today.year - 1, today.year])
    day = today - timedelta(days=1)
    while not cal.is_working_day(day):
        day -= timedelta(days=1)
    return day


def employees_csv(n: int, seed: int) -> tuple[bytes, list[str]]:
    rng = random.Random(seed)
    nips: list[str] = []
    seen: set[str] = set()
    while len(nips) < n:
        nip = factories.nip(rng)
        if nip not in seen:
            seen.add(nip)
            nips.append(nip)
    # aktif_mulai: an undated new NIP would start on the import day, after the day closed
    lines = ["nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu,aktif_mulai"]
    for i, nip in enumerate(nips):
        pagu = rng.randrange(3_000_000, 15_000_000, 1_000)
        lines.append(f"{nip},Pegawai Bench {i},BENCH-{i % 20:02d},Pelaksana,7,,{pagu},2020-01-01")
    return ("\n".join(lines) + "\n").encode(), nips


async def create_topics(bootstrap: str, topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in topics])
    finally:
        await admin.close()


async def assign_from_start(consumer: AIOKafkaConsumer, topics: list[str]) -> None:
    """Every partition of `topics`, from offset 0, once the broker has their leaders."""
    for _ in range(100):
        await consumer._client.force_metadata_update()
        if all(len(consumer.partitions_for_topic(t) or ()) == PARTITIONS for t in topics):
            break
        await asyncio.sleep(0.1)
    tps = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)


async def delete_topics(bootstrap: str, match: list[str]) -> None:
    """This run's topics only (its prefix, its consumer groups' DLQs, its raw topic)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if any(m in t for m in match)]
        if mine:
            await admin.delete_topics(mine)
    except Exception as exc:  # noqa: BLE001 - hygiene only
        print(f"(topics not deleted: {exc!r})", file=sys.stderr)
    finally:
        await admin.close()


def counter(metrics_text: str, name: str, **labels: str) -> float:
    """Sum of a Prometheus sample whose labels include `labels`."""
    total = 0.0
    for line in metrics_text.splitlines():
        if not line.startswith(name + "{"):
            continue
        head, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', head))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(value)
    return total


# --- the bench's own consumer -----------------------------------------------------------


@dataclass
class Seen:
    # event_id -> scan_id, occurred_at, seen (wall time the bench read it)
    fr: dict[str, tuple[str, float, float]] = field(default_factory=dict)
    # event_id -> causation_id, occurred_at, seen
    adc: dict[str, tuple[str | None, float, float]] = field(default_factory=dict)
    # cause_event_id, nip, seen, occurred_at
    tpp: list[tuple[str | None, str, float, float]] = field(default_factory=list)
    messages: int = 0


class Watcher:
    """Reads every partition of `topics` from the beginning with a plain AIOKafkaConsumer
    and keeps what the causation chain needs, with the wall-clock time of arrival."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.bootstrap, self.topics = bootstrap, topics
        self.seen = Seen()
        self.consumer: AIOKafkaConsumer | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=10,
        )
        await self.consumer.start()
        await assign_from_start(self.consumer, self.topics)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self.consumer is not None
        s = self.seen
        while True:
            batch = await self.consumer.getmany(timeout_ms=50, max_records=5000)
            now = time.time()
            for records in batch.values():
                for r in records:
                    s.messages += 1
                    e = json.loads(r.value)
                    kind = e["event_type"]
                    if kind not in ("TppRecomputed", "AttendanceDayClosed", "FingerprintRecorded"):
                        continue
                    t = datetime.fromisoformat(e["occurred_at"]).timestamp()
                    if kind == "TppRecomputed":
                        s.tpp.append((e.get("cause_event_id"), e["nip"], now, t))
                    elif kind == "AttendanceDayClosed":
                        s.adc[e["event_id"]] = (e.get("causation_id"), t, now)
                    else:
                        s.fr[e["event_id"]] = (e["scan_id"], t, now)

    async def wait(self, done: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done(self.seen):
            if self.task is not None and self.task.done():
                self.task.result()
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        if self.consumer is not None:
            await self.consumer.stop()


# --- services ---------------------------------------------------------------------------


def start_services(env: dict[str, str], logs: Path) -> dict[str, subprocess.Popen[bytes]]:
    procs = {}
    for name in SERVICES:
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "sikerja_cli.main", "serve", name],
            cwd=REPO,
            env=env,
            stdout=(logs / f"{name}.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return procs


def stop_services(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def wait_ready(
    client: httpx.AsyncClient, url: str, procs: dict[str, Any], logs: Path, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                tail = (logs / f"{name}.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"{name} stopped while starting:\n{tail}")
        try:
            if (await client.get(url + "/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.3)
    raise SystemExit(f"{url} not ready after {timeout:.0f}s")


async def wait_consumed(
    client: httpx.AsyncClient, url: str, service: str, event_type: str, n: int, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        text = (await client.get(url + "/metrics")).text
        labels = {"service": service, "event_type": event_type}
        # consumed counts redelivered duplicates too; only first sights are progress
        got = counter(text, "sikerja_events_consumed_total", **labels) - counter(
            text, "sikerja_events_duplicate_total", **labels
        )
        if got >= n:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{service} consumed {got:.0f} of {n} {event_type} in {timeout}s")
        await asyncio.sleep(0.3)


async def wait_quiet(watcher: Watcher, quiet: float, timeout: float) -> None:
    """Until no TppRecomputed has arrived for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    last, since = len(watcher.seen.tpp), time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise SystemExit(f"TppRecomputed still arriving after {timeout:.0f}s")
        await asyncio.sleep(0.1)
        if len(watcher.seen.tpp) != last:
            last, since = len(watcher.seen.tpp), time.monotonic()


# --- the run ----------------------------------------------------------------------------


@dataclass
class Posted:
    due: dict[str, float] = field(default_factory=dict)  # scan_id -> wall time the POST was due
    answered: list[float] = field(default_factory=list)  # wall times of the answers
    refused: int = 0
    post_seconds: list[float] = field(default_factory=list)


def scan_batches(
    nips: list[str], day: date, per_batch: int, seed: int
) -> list[list[dict[str, str]]]:
    """Check-ins of everyone (random order), then check-outs; one scan per item."""
    rng = random.Random(seed)
    order = nips[:]
    rng.shuffle(order)
    scans: list[dict[str, str]] = []
    for hour, spread in ((7, 29), (16, 59)):
        for nip in order:
            when = datetime(day.year, day.month, day.day, hour, rng.randint(0, spread))
            when += timedelta(seconds=rng.randint(0, 59))
            scans.append({"nip": nip, "waktu": when.strftime("%Y-%m-%d %H:%M:%S")})
    return [scans[i : i + per_batch] for i in range(0, len(scans), per_batch)]


async def send_open_loop(
    client: httpx.AsyncClient, url: str, batches: list[list[dict[str, str]]], tick: float
) -> Posted:
    posted = Posted()

    async def post(batch: list[dict[str, str]], due: float) -> None:
        started = time.time()
        r = await client.post(url + "/api/v1/scans", json={"scans": batch})
        now = time.time()
        posted.post_seconds.append(now - started)
        posted.answered.append(now)
        if r.status_code != 200:
            posted.refused += len(batch)
            print(f"POST /scans -> {r.status_code} {r.text[:300]}", file=sys.stderr)
            return
        for line in r.json():
            if line["status"] == "accepted":
                posted.due[line["scan_id"]] = due
            else:
                posted.refused += 1

    loop = asyncio.get_running_loop()
    start_mono, start_wall = loop.time() + 0.2, time.time() + 0.2
    tasks = []
    for k, batch in enumerate(batches):
        await asyncio.sleep(max(0.0, start_mono + k * tick - loop.time()))
        tasks.append(asyncio.create_task(post(batch, start_wall + k * tick)))
    await asyncio.gather(*tasks)
    return posted


def pg_databases(admin_url: str, create: Sequence[str] = (), drop: Sequence[str] = ()) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for name in [*drop, *create]:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        for name in create:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


async def bench_pipeline(args: argparse.Namespace, bootstrap: str) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    prefix, suffix = f"benchtpp{run}.", f"-bt{run}"
    topics = [prefix + t.value for t in Topic]
    await create_topics(bootstrap, topics)
    tmp = Path(tempfile.mkdtemp(prefix="bench-tpp-"))
    ports = {name: args.base_port + i for i, name in enumerate(SERVICES)}
    env = {
        **os.environ,
        "SIKERJA_DATA_DIR": str(tmp),
        "SIKERJA_TOPIC_PREFIX": prefix,
        "SIKERJA_GROUP_SUFFIX": suffix,
        "SIKERJA_PORTS": json.dumps(ports),
        "SIKERJA_KAFKA_BOOTSTRAP": bootstrap,
        "SIKERJA_ATTENDANCE_SCHEDULER_ENABLED": "false",
        "SIKERJA_LOG_LEVEL": "WARNING",
        **keys_env(tmp),  # the services verify tokens signed with the bench's own key
    }
    databases: list[str] = []
    if args.db_url:
        env["SIKERJA_DATABASE_URL"] = args.db_url
        if "{service}" in args.db_url and "postgres" in args.db_url:
            # fresh databases per run: a reused one already knows the employees, and siasn
            # emits nothing for unchanged rows
            databases = [f"bt{run}_{name}" for name in SERVICES]
            admin = args.db_url.replace("{service}", "sikerja")
            pg_databases(admin, create=databases)
            env["SIKERJA_DATABASE_URL"] = args.db_url.replace("{service}", f"bt{run}_{{service}}")
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    per_batch = max(1, round(args.rate * args.tick))
    n = args.employees or max(1, round(args.rate * args.duration / 2))
    day = last_working_day(datetime.now(WIB).date())
    body, nips = employees_csv(n, args.seed)
    watcher = Watcher(bootstrap, [prefix + Topic.ATTENDANCE.value, prefix + Topic.TPP.value])
    procs = start_services(env, tmp)
    out: dict[str, Any] = {"employees": n, "day": day, "per_batch": per_batch, "data": tmp}
    try:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        # BKPSDM's token on every request: the import, the scans, the day closing
        bkpsdm = who(tmp, BKPSDM_NIP, "bkpsdm")
        async with httpx.AsyncClient(timeout=300, limits=limits, headers=bkpsdm) as client:
            for name in SERVICES:
                await wait_ready(client, url[name], procs, tmp)
            await watcher.start()
            t0 = time.monotonic()
            r = await client.post(
                url["siasn"] + "/api/v1/employees/import",
                content=body,
                headers={"content-type": "text/csv"},
            )
            r.raise_for_status()
            if r.json()["accepted"] != n:
                raise SystemExit(f"siasn accepted {r.json()['accepted']} of {n}: {r.text[:500]}")
            for name in ("attendance", "tpp"):
                await wait_consumed(client, url[name], name, "EmployeeUpserted", n, args.timeout)
            out["setup_employees_s"] = time.monotonic() - t0
            t0 = time.monotonic()
            r = await client.post(url["attendance"] + f"/api/v1/days/close?date={day}")
            r.raise_for_status()
            closed = r.json()
            if not closed["working_day"] or closed["emitted"] != n:
                raise SystemExit(f"closing {day} did not give {n} TK days: {closed}")
            # The employees' own first statements already give n TppRecomputed: wait until
            # tpp has handled every day closed, then for its relay to go quiet, so that the
            # measured phase starts on an idle pipeline and `baseline_tpp` counts them all.
            await wait_consumed(client, url["tpp"], "tpp", "AttendanceDayClosed", n, args.timeout)
            await watcher.wait(lambda s: len(s.tpp) >= n, args.timeout, f"{n} first statements")
            await wait_quiet(watcher, 1.0, args.timeout)
            out["setup_close_s"] = time.monotonic() - t0
            baseline_tpp = len(watcher.seen.tpp)

            batches = scan_batches(nips, day, per_batch, args.seed)
            scans = sum(len(b) for b in batches)
            print(
                f"set-up: {n} employees in {out['setup_employees_s']:.1f}s, {day} closed "
                f"(TK for all) and {n} statements in {out['setup_close_s']:.1f}s; sending "
                f"{scans} scans, {per_batch} per POST every {args.tick}s",
                file=sys.stderr,
            )
            first_wall = time.time()
            posted = await send_open_loop(client, url["attendance"], batches, args.tick)
            sent_done = time.time()
            expected = baseline_tpp + len(posted.due)
            await watcher.wait(
                lambda s: len(s.tpp) >= expected,
                args.drain,
                f"{len(posted.due)} TppRecomputed caused by the scans",
            )
            # A straggler duplicate would show here; give the pipeline a moment.
            await asyncio.sleep(1.0)
    finally:
        await watcher.stop()
        stop_services(procs)
        if databases:
            pg_databases(args.db_url.replace("{service}", "sikerja"), drop=databases)
    s = watcher.seen
    from_fr: list[float] = []
    from_post: list[float] = []
    hops: dict[str, list[float]] = {name: [] for name in HOPS}
    unlinked = 0
    matched: set[str] = set()
    for cause, _nip, arrived, tpp_at in s.tpp[baseline_tpp:]:
        adc = s.adc.get(cause or "")
        hit = s.fr.get(adc[0] or "") if adc is not None else None
        if adc is None or hit is None or hit[0] not in posted.due:
            unlinked += 1
            continue
        scan_id, occurred, _fr_seen = hit
        _, adc_at, adc_seen = adc
        due = posted.due[scan_id]
        matched.add(scan_id)
        from_fr.append(arrived - occurred)
        from_post.append(arrived - due)
        for name, value in zip(
            HOPS,
            (
                occurred - due,
                adc_at - occurred,
                adc_seen - adc_at,
                tpp_at - adc_seen,
                arrived - tpp_at,
            ),
            strict=True,
        ):
            hops[name].append(value)
    last_answer = max(posted.answered)
    last_result = max((t[2] for t in s.tpp[baseline_tpp:]), default=math.nan)
    out.update(
        scans=scans,
        accepted=len(posted.due),
        refused=posted.refused,
        input_rate=len(posted.due) / (last_answer - first_wall),
        send_s=sent_done - first_wall,
        # what the whole chain delivered: results per second from the first POST to the last
        output_rate=len(matched) / (last_result - first_wall),
        linked=len(matched),
        unlinked=unlinked,
        fr=summary(from_fr),
        post=summary(from_post),
        http=summary(posted.post_seconds),
        hops={name: summary(values) for name, values in hops.items()},
        messages=s.messages,
    )
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    await delete_topics(bootstrap, [prefix, suffix])
    return out


async def bench_raw(
    bootstrap: str, rate: float, tick: float, duration: float, timeout: float
) -> dict[str, Any]:
    """Raw aiokafka at the same rate and batching: FingerprintRecorded-sized messages with
    the kit's producer settings; latency from the send call to arrival at the consumer."""
    topic = f"sikerja.bench.rawlat.{uuid.uuid4().hex[:8]}"
    await create_topics(bootstrap, [topic])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
    )
    await consumer.start()
    await assign_from_start(consumer, [topic])
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    per_batch = max(1, round(rate * tick))
    total = per_batch * max(1, round(duration / tick))
    filler = "x" * 300  # about FingerprintRecorded's JSON size
    latencies: list[float] = []

    async def consume() -> None:
        while len(latencies) < total:
            batch = await consumer.getmany(timeout_ms=50, max_records=5000)
            now = time.time()
            for records in batch.values():
                for r in records:
                    latencies.append(now - json.loads(r.value)["t"])

    reader = asyncio.create_task(consume())
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    first = time.time()
    try:
        futures = []
        for k in range(total // per_batch):
            await asyncio.sleep(max(0.0, start + k * tick - loop.time()))
            for i in range(per_batch):
                key = f"{199001012015011001 + (k * per_batch + i) % 15000}".encode()
                value = json.dumps({"t": time.time(), "pad": filler}).encode()
                futures.append(await producer.send(topic, value, key=key))
        await asyncio.gather(*futures)
        sent = time.time()
        await asyncio.wait_for(reader, timeout)
    finally:
        reader.cancel()
        await producer.stop()
        await consumer.stop()
        await delete_topics(bootstrap, [topic])
    return {"messages": total, "rate": total / (sent - first), **summary(latencies)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000, help="scans per second")
    parser.add_argument("--duration", type=float, default=30, help="seconds of scans")
    parser.add_argument("--tick", type=float, default=0.1, help="seconds between POSTs")
    parser.add_argument("--employees", type=int, default=0, help="default rate*duration/2")
    parser.add_argument("--quick", action="store_true", help="3 s of scans")
    parser.add_argument("--base-port", type=int, default=18310)
    parser.add_argument("--db-url", default=None, help="SIKERJA_DATABASE_URL (default SQLite)")
    parser.add_argument("--timeout", type=float, default=600, help="set-up steps")
    parser.add_argument("--drain", type=float, default=600, help="wait for the last result")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    args = parser.parse_args()
    if args.quick:
        args.duration = 3
    bootstrap = os.environ.get("SIKERJA_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    live = await bench_pipeline(args, bootstrap)
    raw = await bench_raw(bootstrap, args.rate, args.tick, args.duration, args.timeout)
    fr, post, http = live["fr"], live["post"], live["http"]
    store = "PostgreSQL" if args.db_url and "postgres" in args.db_url else "SQLite"
    print(
        f"{live['employees']} employees, {live['day']}: {live['accepted']} scans accepted "
        f"({live['refused']} refused), {live['linked']} TppRecomputed linked by causation "
        f"(TppRecomputed -> AttendanceDayClosed -> FingerprintRecorded -> scan), "
        f"{live['unlinked']} not linked; POST ({live['per_batch']} scans) p50 "
        f"{ms(http['p50'])} p99 {ms(http['p99'])}; sending took {live['send_s']:.1f}s; "
        f"the chain delivered {live['output_rate']:,.0f} TppRecomputed/s"
    )
    print("| hop | p50 | p95 | p99 | max |\n|---|---|---|---|---|")
    for name, h in live["hops"].items():
        print(f"| {name} | {ms(h['p50'])} | {ms(h['p95'])} | {ms(h['p99'])} | {ms(h['max'])} |")
    print(
        "| date | machine | store | offered | achieved input | scans | "
        "FR→TppRecomputed p50 / p95 / p99 / max | POST due→TppRecomputed p99 / max | "
        "raw aiokafka p50 / p95 / p99 / max (rate) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {datetime.now(UTC):%Y-%m-%d} | {platform.machine()} {os.cpu_count()} cores | {store} "
        f"| {args.rate:,.0f}/s | {live['input_rate']:,.0f}/s | {live['accepted']:,} "
        f"| {ms(fr['p50'])} / {ms(fr['p95'])} / {ms(fr['p99'])} / {ms(fr['max'])} "
        f"| {ms(post['p99'])} / {ms(post['max'])} "
        f"| {ms(raw['p50'])} / {ms(raw['p95'])} / {ms(raw['p99'])} / {ms(raw['max'])} "
        f"({raw['rate']:,.0f}/s) |"
    )


if __name__ == "__main__":
    asyncio.run(main())
