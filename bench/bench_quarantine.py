"""Quarantine release: scans waiting for their employees (a month imported before the
employee import was consumed) applied when the EmployeeUpserted arrive, in-process on
attendance's store (no broker: the outbox rows are the FingerprintRecorded to publish).

N scans of E employees (two a working day each) are held, their dates marked closed (the
worst case: every released scan re-closes its day), then the E EmployeeUpserted go
through the kit's consumer path (one transaction per poll of `consumer_batch` events,
inbox claims included) and the clock runs until the last one is committed.

    uv run python -m bench.bench_quarantine [--scans 10000 --employees 200]
    uv run python -m bench.bench_quarantine --db-url postgresql+psycopg://u:p@host:port/db
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlmodel import col

from bench.bench_ingest import drop_database, fresh_database
from contracts.events import Event
from services.attendance import quarantine, store
from services.attendance.app import build_kit
from services.attendance.domain import WIB
from services.attendance.models import ClosedDate, Scan
from services.shared.settings import Settings
from tests import factories


def working_days(first: date, n: int) -> list[date]:
    days: list[date] = []
    d = first
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


def held_scans(nips: list[str], per_employee: int) -> list[quarantine.Held]:
    days = working_days(date(2026, 10, 1), (per_employee + 1) // 2)
    out = []
    for i, nip in enumerate(nips):
        for k in range(per_employee):
            day = days[k // 2]
            hh, mm = (7, 10 + i % 40) if k % 2 == 0 else (16, 5 + i % 50)
            ts = datetime(day.year, day.month, day.day, hh, mm, i % 60, tzinfo=WIB)
            out.append(quarantine.Held(nip, ts, None, "csv", f"{nip},{ts:%F %T}", "x"))
    return out


def run(db_url: str, tmp: Path, n_scans: int, n_employees: int, closed: bool) -> dict[str, float]:
    settings = Settings(kafka_bootstrap="127.0.0.1:1", data_dir=tmp, database_url=db_url)
    kit = build_kit(settings)
    kit.migrate()
    rng = random.Random(11)
    nips = sorted({factories.nip(rng) for _ in range(n_employees * 2)})[:n_employees]
    items = held_scans(nips, n_scans // n_employees)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    with kit.uow() as uow:
        quarantine.hold(uow, items, received_at=now)
        if closed:
            days = sorted({it.ts.astimezone(WIB).date() for it in items})
            uow.session.execute(
                insert(ClosedDate.__table__),
                [{"day": d, "closed_at": now} for d in days],
            )
        uow.commit()
    hold_s = time.perf_counter() - t0
    events: list[Event] = [
        factories.employee(
            nip,
            at=now,
            producer="bench",
            nama=f"Pegawai {nip[-4:]}",
            opd="BENCH",
            tpp_pagu=5_000_000,
        )
        for nip in nips
    ]
    for year in (2025, 2026, 2027):
        store.seeded_holidays(year)  # a running service has its calendar loaded (0.8 s cold)
    batch = settings.consumer_batch
    t0 = time.perf_counter()
    for i in range(0, len(events), batch):
        kit.consumer._apply_sync(events[i : i + batch])  # the consumer's path for one poll
    release_s = time.perf_counter() - t0
    with kit.uow() as uow:
        scans = uow.session.execute(select(func.count()).select_from(Scan)).scalar_one()
        outbox = uow.tables.outbox
        emitted: dict[str, int] = {
            event_type: n
            for event_type, n in uow.session.execute(
                select(col(outbox.event_type), func.count()).group_by(col(outbox.event_type))
            ).all()
        }
        waiting = quarantine.listing(uow, limit=1)["jumlah"][quarantine.WAITING]
    kit.engine.dispose()
    if scans != len(items) or waiting or emitted.get("FingerprintRecorded") != len(items):
        raise SystemExit(f"wrong outcome: {scans} scans, {waiting} waiting, {emitted}")
    return {
        "scans": float(len(items)),
        "hold_s": hold_s,
        "release_s": release_s,
        "day_closed": float(emitted.get("AttendanceDayClosed", 0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=10_000)
    parser.add_argument("--employees", type=int, default=200)
    parser.add_argument("--open-days", action="store_true", help="dates not closed yet")
    parser.add_argument("--db-url", default=None, help="PostgreSQL (default SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pg_name = None
        db_url = f"sqlite:///{tmp}/{{service}}.db"
        if args.db_url:
            pg_name = f"bench_quarantine_{uuid.uuid4().hex[:8]}"
            db_url = fresh_database(args.db_url, pg_name)
        try:
            r = run(db_url, Path(tmp), args.scans, args.employees, not args.open_days)
        finally:
            if pg_name is not None:
                drop_database(args.db_url, pg_name)
    kind = "PostgreSQL" if args.db_url else "SQLite"
    load = os.getloadavg()[0]
    print(
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {platform.machine()} {os.cpu_count()} cores "
        f"(load {load:.1f}) | {kind} | {r['scans']:,.0f} scans of {args.employees} employees "
        f"| held in {r['hold_s']:.2f} s | released in {r['release_s']:.2f} s "
        f"({r['scans'] / r['release_s']:,.0f} scans/s) | {r['day_closed']:,.0f} "
        "AttendanceDayClosed |"
    )


if __name__ == "__main__":
    main()
