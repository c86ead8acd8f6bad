"""UnitOfWork.serialize on the real stores: a read-check-write under it cannot interleave
with another one on the same key, between threads (SQLite, PostgreSQL) and between the
processes of one service (SQLite's file lock; PostgreSQL's advisory lock)."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.activity.app import build_kit
from services.shared import metrics
from services.shared.kit import ServiceKit
from services.shared.settings import Settings
from services.shared.uow import UnitOfWork

NIP = "198001012005011001"


def make_kit(url: str, data_dir: Path) -> ServiceKit:
    kit = build_kit(Settings(data_dir=data_dir, database_url=url, kafka_bootstrap="127.0.0.1:1"))
    kit.migrate()
    return kit


def seed(kit: ServiceKit) -> None:
    with kit.uow() as uow:
        employee = kit.tables.employee
        uow.session.add(employee(nip=NIP, nama="x", opd="A", kelas_jabatan=0))
        uow.commit()


def increment(
    kit: ServiceKit, pause: float, serialize: bool = True, keys: list[str] | None = None
) -> None:
    """Read the counter, wait, write it plus one: lost updates unless serialized."""
    employee = kit.tables.employee
    with kit.uow() as uow:
        if keys is not None:
            uow.serialize_many(keys)
        elif serialize:
            uow.serialize("counter")
        row = uow.session.get(employee, NIP)
        value = row.kelas_jabatan
        time.sleep(pause)
        row.kelas_jabatan = value + 1
        row.updated_at = datetime.now(UTC)
        uow.session.add(row)
        uow.commit()


def counter(kit: ServiceKit) -> int:
    employee = kit.tables.employee
    with kit.uow() as uow:
        return int(uow.session.get(employee, NIP).kelas_jabatan)


def run_threads(kit: ServiceKit, n: int, serialize: bool) -> None:
    threads = [threading.Thread(target=increment, args=(kit, 0.2, serialize)) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_serialized_read_check_write_loses_no_update(store_url: str, tmp_path: Path) -> None:
    kit = make_kit(store_url, tmp_path)
    seed(kit)
    run_threads(kit, 3, serialize=True)
    assert counter(kit) == 3
    kit.engine.dispose()


def test_serialize_many_takes_overlapping_keys_without_deadlock(
    store_url: str, tmp_path: Path
) -> None:
    """A batch of filings locks all its person-days at once; batches sharing a day wait for
    each other (no lost update) and, taking keys in one order, never deadlock."""
    kit = make_kit(store_url, tmp_path)
    seed(kit)
    key_sets = [["z", "counter", "a"], ["counter", "b"], ["b", "counter", "z"]]
    threads = [
        threading.Thread(target=increment, args=(kit, 0.2), kwargs={"keys": keys})
        for keys in key_sets
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert counter(kit) == 3
    kit.engine.dispose()


def test_without_serialize_the_check_races(tmp_path: Path, store_url: str) -> None:
    """The control: the same work unserialized loses updates, so the test above can fail."""
    kit = make_kit(store_url, tmp_path)
    seed(kit)
    run_threads(kit, 3, serialize=False)
    assert counter(kit) < 3
    kit.engine.dispose()


def _worker(url: str, data_dir: str, times: int) -> None:
    kit = build_kit(Settings(data_dir=Path(data_dir), database_url=url))
    for _ in range(times):
        increment(kit, 0.0)
    kit.engine.dispose()


def test_two_processes_of_one_service_serialize_too(store_url: str, tmp_path: Path) -> None:
    """uvicorn --workers: two processes on one store, 100 read-check-writes each."""
    kit = make_kit(store_url, tmp_path)
    seed(kit)
    spawn = multiprocessing.get_context("spawn")
    procs = [spawn.Process(target=_worker, args=(store_url, str(tmp_path), 100)) for _ in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    assert counter(kit) == 200
    kit.engine.dispose()


async def test_run_store_commits_and_rolls_back(store_url: str, tmp_path: Path) -> None:
    """The hot path's runner (event loop on SQLite, async driver on PostgreSQL): its work
    commits, and work that fails leaves nothing behind."""
    kit = make_kit(store_url, tmp_path)
    seed(kit)
    employee = kit.tables.employee

    def bump(uow: UnitOfWork, fail: bool = False) -> int:
        uow.serialize("counter")
        row = uow.session.get(employee, NIP)
        row.kelas_jabatan += 1
        uow.session.add(row)
        uow.session.flush()
        if fail:
            raise RuntimeError("refused after the write")
        uow.commit()
        return int(row.kelas_jabatan)

    assert await kit.run_store(bump) == 1
    with pytest.raises(RuntimeError):
        await kit.run_store(lambda uow: bump(uow, fail=True))
    results = await asyncio.gather(*(kit.run_store(bump) for _ in range(5)))
    assert sorted(results) == [2, 3, 4, 5, 6]  # each saw the one before it
    assert counter(kit) == 6
    await kit.stop()
    kit.engine.dispose()


async def test_run_store_waits_in_a_thread_when_the_sqlite_writer_is_busy(
    tmp_path: Path,
) -> None:
    """A consumer's transaction holds SQLite's writer: the request does not block the event
    loop waiting for it, it retries in a worker thread and completes after the release."""
    kit = make_kit(f"sqlite:///{tmp_path}/{{service}}.db", tmp_path)
    seed(kit)
    held, release = threading.Event(), threading.Event()

    def hold_writer() -> None:
        with kit.uow() as uow:
            uow.serialize("anything")  # BEGIN IMMEDIATE: the writer slot
            held.set()
            release.wait(5)
            uow.commit()

    holder = threading.Thread(target=hold_writer)
    holder.start()
    assert held.wait(5)
    loop_thread = threading.get_ident()
    ran_in: list[int] = []

    def work(uow: UnitOfWork) -> None:
        ran_in.append(threading.get_ident())
        uow.serialize("counter")
        row = uow.session.get(kit.tables.employee, NIP)  # type: ignore[attr-defined]
        row.kelas_jabatan += 1
        uow.session.add(row)
        uow.commit()

    busy = metrics.STORE_WRITER_BUSY.labels(kit.name)
    before = busy._value.get()
    task = asyncio.create_task(kit.run_store(work))
    await asyncio.sleep(0.2)
    assert not task.done()  # waiting, in a thread: this coroutine still runs
    release.set()
    await asyncio.wait_for(task, 5)
    holder.join()
    assert ran_in[0] == loop_thread and ran_in[-1] != loop_thread
    assert busy._value.get() == before + 1
    assert counter(kit) == 1
    kit.engine.dispose()
