"""UnitOfWork.serialize on the real stores: a read-check-write under it cannot interleave
with another one on the same key, between threads (SQLite, PostgreSQL) and between the
processes of one service (SQLite's file lock; PostgreSQL's advisory lock)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.activity.app import build_kit
from services.shared.messaging import ServiceKit
from services.shared.settings import Settings
from tests.infra import fresh_postgres_database

NIP = "198001012005011001"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path, run_id: str) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/{{service}}.db"
    admin = request.getfixturevalue("postgres_admin_url")
    return fresh_postgres_database(admin, f"t{run_id}_activity")


def make_kit(url: str, data_dir: Path) -> ServiceKit:
    kit = build_kit(Settings(data_dir=data_dir, database_url=url, kafka_bootstrap="127.0.0.1:1"))
    kit.migrate()
    return kit


def seed(kit: ServiceKit) -> None:
    with kit.uow() as uow:
        employee = kit.base.Employee  # type: ignore[attr-defined]
        uow.session.add(employee(nip=NIP, nama="x", opd="A", kelas_jabatan=0))
        uow.commit()


def increment(kit: ServiceKit, pause: float, serialize: bool = True) -> None:
    """Read the counter, wait, write it plus one: lost updates unless serialized."""
    employee = kit.base.Employee  # type: ignore[attr-defined]
    with kit.uow() as uow:
        if serialize:
            uow.serialize("counter")
        row = uow.session.get(employee, NIP)
        value = row.kelas_jabatan
        time.sleep(pause)
        row.kelas_jabatan = value + 1
        row.updated_at = datetime.now(UTC)
        uow.session.add(row)
        uow.commit()


def counter(kit: ServiceKit) -> int:
    employee = kit.base.Employee  # type: ignore[attr-defined]
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
