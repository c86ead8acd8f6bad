"""Two notifier replicas (two processes on one store) run the 15:00 batch; one is killed
with SIGKILL in the middle of sending it. Every due person is warned once: the survivor takes
the job over under the lease, and re-sends what the dead one had claimed with the same
idempotency key, which the gateway drops if it already has it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, select

from services.notifier.app import create
from services.notifier.cache import DayCache
from services.notifier.domain import WIB
from services.notifier.models import ChannelConfig, Message, ScanDay
from services.shared.settings import REPO_ROOT, Settings
from tests import factories
from tests.receivers import WebhookReceiver

MON = date(2026, 10, 5)
SECRET = "rahasia-replika"
PEOPLE = 60
HANG_GUARD_S = 120  # not a measurement: the replicas finish in seconds


def _prepare_store(database_url: str, data: Path, nips: list[str]) -> None:
    """What the handlers left by 15:00: a scan each, no report, a WhatsApp number each."""
    settings = Settings(kafka_bootstrap="127.0.0.1:1", database_url=database_url, data_dir=data)
    app = create(settings, cache=DayCache("redis://127.0.0.1:1/0"), scheduler=False)
    kit = app.state.notifier.kit
    kit.migrate()
    with Session(kit.engine) as session:
        for i, nip in enumerate(nips):
            session.add(ScanDay(nip=nip, work_date=MON))
            session.add(
                ChannelConfig(
                    nip=nip,
                    channel="whatsapp",
                    address=f"+62811{i:07d}",
                    updated_at=datetime(2026, 10, 1, tzinfo=WIB),
                )
            )
        session.commit()
    kit.engine.dispose()


def _replica(database_url: str, gateway: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.faults.notifier_replica",
            "--database-url",
            database_url,
            "--at",
            datetime(2026, 10, 5, 15, 0, tzinfo=WIB).isoformat(),
            "--gateway",
            gateway,
            "--secret",
            SECRET,
        ],
        cwd=REPO_ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


async def test_a_replica_killed_mid_batch_leaves_everyone_warned_once(
    tmp_path: Path, store_url: str
) -> None:
    database_url = store_url  # SQLite (one file, two processes) or PostgreSQL
    nips = [factories.nip() for _ in range(PEOPLE)]
    _prepare_store(database_url, tmp_path, nips)
    async with WebhookReceiver(SECRET, delay_s=0.1) as gateway:
        doomed = _replica(database_url, gateway.url, tmp_path / "a.log")
        survivor: subprocess.Popen[bytes] | None = None
        try:
            deadline = time.monotonic() + HANG_GUARD_S
            # the first replica is sending the batch (it took the lease)...
            while len(gateway.arrivals) < 5:
                assert time.monotonic() < deadline, (tmp_path / "a.log").read_text()[-2000:]
                await asyncio.sleep(0.01)
            # ...when the second one comes up beside it
            survivor = _replica(database_url, gateway.url, tmp_path / "b.log")
            while "replica running" not in (tmp_path / "b.log").read_text():
                assert time.monotonic() < deadline, (tmp_path / "b.log").read_text()[-2000:]
                assert survivor.poll() is None, (tmp_path / "b.log").read_text()[-2000:]
                await asyncio.sleep(0.01)
            assert doomed.poll() is None, "the replica to kill finished too early"
            os.kill(doomed.pid, signal.SIGKILL)
            killed_at = len(gateway.arrivals)
            while survivor.poll() is None:
                assert time.monotonic() < deadline, (tmp_path / "b.log").read_text()[-2000:]
                await asyncio.sleep(0.05)
            assert doomed.wait() == -signal.SIGKILL
            assert survivor.returncode == 0, (tmp_path / "b.log").read_text()[-2000:]
        finally:
            for proc in (doomed, survivor):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait()

    assert killed_at < PEOPLE  # it died in the middle of the batch
    # every due person: exactly one message at the gateway, one in the inbox
    addresses = {f"+62811{i:07d}" for i in range(PEOPLE)}
    assert set(gateway.per_address()) == addresses
    assert set(gateway.per_address().values()) == {1}
    # a re-send repeats a key (the gateway dropped it); never a second key for one person
    assert len(set(gateway.arrivals)) == PEOPLE
    engine = create(
        Settings(kafka_bootstrap="127.0.0.1:1", database_url=database_url, data_dir=tmp_path),
        cache=DayCache("redis://127.0.0.1:1/0"),
        scheduler=False,
    ).state.notifier.kit.engine
    with Session(engine) as session:
        messages = session.exec(select(Message)).all()
    assert sorted(m.nip for m in messages) == sorted(nips)
    assert {m.channel_state for m in messages} == {"sent"}
