"""`sikerja serve NAME` joins the local instance `up` made for its data folder: a service
restarted by hand reads and publishes on that instance's topics, under its consumer groups
(issue 10: it used the unprefixed topics, its outbox marked the events sent and the rest of
the system never saw them)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from contracts import Topic, parse_event
from sikerja_cli.main import instance_env
from tests import factories
from tests.infra import ROOT, Kafka, drop_topics
from tests.support import eventually, free_port, key_env, topic_records, who

pytestmark = pytest.mark.integration


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path


@pytest.fixture
def instance(
    kafka: Kafka, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A data folder with the instance `up` would make for it (the same function)."""
    monkeypatch.delenv("SIKERJA_TOPIC_PREFIX", raising=False)
    monkeypatch.delenv("SIKERJA_GROUP_SUFFIX", raising=False)
    env = instance_env(tmp_path, create=True)
    yield env
    asyncio.run(
        drop_topics(kafka.bootstrap, env["SIKERJA_TOPIC_PREFIX"], env["SIKERJA_GROUP_SUFFIX"])
    )


def outbox_unsent(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from outbox where sent_at is null").fetchone()[0])


@pytest.fixture
def served(kafka: Kafka, tmp_path: Path, instance: dict[str, str]) -> Iterator[Served]:
    """`sikerja serve attendance` on that data folder, in a subprocess, as a person runs it:
    no SIKERJA_TOPIC_PREFIX / SIKERJA_GROUP_SUFFIX in its environment."""
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SIKERJA_TOPIC_PREFIX", "SIKERJA_GROUP_SUFFIX")
    }
    env.update(
        SIKERJA_DATA_DIR=str(tmp_path),
        SIKERJA_DATABASE_URL=f"sqlite:///{tmp_path}/{{service}}.db",
        SIKERJA_KAFKA_BOOTSTRAP=kafka.bootstrap,
        SIKERJA_PORTS=f'{{"attendance": {port}}}',
        SIKERJA_ATTENDANCE_SCHEDULER_ENABLED="false",
        SIKERJA_RELAY_INTERVAL_S="0.1",
        SIKERJA_LOG_LEVEL="WARNING",
        **key_env(),  # it verifies tokens of the test key
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sikerja_cli.main", "serve", "attendance"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Served(proc, port, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def test_serve_joins_the_instance_of_its_data_folder(
    kafka: Kafka, tmp_path: Path, instance: dict[str, str], served: Served
) -> None:
    prefix, suffix = instance["SIKERJA_TOPIC_PREFIX"], instance["SIKERJA_GROUP_SUFFIX"]
    proc, port = served.proc, served.port
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    try:
        base, system = f"http://127.0.0.1:{port}", who(None, "system")
        async with httpx.AsyncClient(base_url=base, timeout=10, headers=system) as client:

            async def ready() -> int:
                assert proc.poll() is None, served.log.read_text()[-2000:]
                try:
                    return (await client.get("/readyz")).status_code
                except httpx.TransportError:
                    return 0

            await eventually(ready, lambda s: s == 200, timeout=60)
            # It reads the instance's topics: an employee published there becomes known (a
            # scan of an employee attendance does not know waits in quarantine, unpublished).
            nip = factories.nip()
            employee = factories.employee(nip, at=datetime.now(UTC), opd="X", pin="4242")
            await producer.send_and_wait(
                prefix + Topic.EMPLOYEES.value, employee.to_bytes(), key=nip.encode()
            )

            async def known() -> int:
                return (
                    await client.get(f"/api/v1/employees/{nip}/month?period=2026-10")
                ).status_code

            await eventually(known, lambda s: s == 200, timeout=30)
            # a device is registered only to an OPD someone belongs to: after the employee
            sn = f"SERVE{int(time.time())}"
            assert (await client.post("/api/v1/devices", json={"sn": sn, "opd": "X"})).is_success

            # It publishes on the instance's topic: a scan of that employee's PIN, once sent,
            # is there.
            push = await client.post(
                f"/iclock/cdata?SN={sn}&table=ATTLOG",
                content="4242\t2026-10-05 07:50:30\t0\t1\t0\t0\t0\r\n",
            )
            assert push.text == "OK"
            db = tmp_path / "attendance.db"

            async def unsent() -> int:
                return outbox_unsent(db)

            await eventually(unsent, lambda n: n == 0, timeout=30)
            events = [
                parse_event(v)
                for v in await topic_records(kafka.bootstrap, prefix + "sikerja.attendance")
            ]
            assert [(e.event_type, e.nip) for e in events] == [("FingerprintRecorded", nip)]

        # ... in the instance's consumer group.
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
        await admin.start()
        try:
            groups = {g[0] for g in await admin.list_consumer_groups()}
        finally:
            await admin.close()
        assert "attendance" + suffix in groups
    finally:
        await producer.stop()
