"""The city dashboard's attendance month per OPD (issue 13): attendance's
GET /api/v1/opds/attendance over N ASN (default 15,000) × the 22 working days of October
2026, on SQLite; with --filing, activity's GET /api/v1/opds/filing over as many reports.

    uv run python -m bench.bench_dashboard              # 15,000 ASN
    uv run python -m bench.bench_dashboard --asn 5000
    uv run python -m bench.bench_dashboard --filing

Set-up (not measured): the attendance app in-process, N employees in 40 OPDs (one in a
hundred transferred on the 16th: a second period) and their closed days written in bulk
(present, one in five late, one in twenty TK, one in twenty cuti). Measured: the route, from
the request to the answer, three times (the best and the worst printed). Prints one JSON
line. No test asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from bench.tokens import keys_env, who
from services.activity.app import create as create_activity
from services.activity.models import Report
from services.attendance.app import create
from services.attendance.config import AttendanceConfig
from services.attendance.models import DayClosing
from services.kernel.calendar import indonesia_calendar
from services.shared.settings import Settings

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def seed(kit: Any, asn: int) -> None:
    cal = indonesia_calendar(2026)
    days = [d for d in (date(2026, 10, n) for n in range(1, 32)) if cal.is_working_day(d)]
    periods, closings = [], []
    for i in range(asn):
        nip = f"{199001012015010000 + i}"
        opd = f"OPD {i % 40:02d}"
        if i % 100 == 0:  # transferred on the 16th
            periods.append(dict(nip=nip, first_day=None, last_day=date(2026, 10, 15), nama=nip,
                                opd=opd))  # fmt: skip
            periods.append(dict(nip=nip, first_day=date(2026, 10, 16), last_day=None, nama=nip,
                                opd=f"OPD {(i + 1) % 40:02d}"))  # fmt: skip
        else:
            periods.append(dict(nip=nip, first_day=None, last_day=None, nama=nip, opd=opd))
        for j, d in enumerate(days):
            k = (i + j) % 20
            status = "tanpa_keterangan" if k == 0 else "cuti_tahunan" if k == 1 else "present"
            late = 15 if k in (2, 3, 4, 5) else 0
            closings.append(
                dict(nip=nip, work_date=d, status=status, minutes_late=late, closed_at=NOW)
            )
    with kit.engine.begin() as conn:
        conn.execute(insert(kit.tables.employee_period), periods)
        conn.execute(insert(DayClosing), closings)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="sikerja-bench-dash-"))
    env = keys_env(data)
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1",
        data_dir=data,
        database_url=f"sqlite:///{data}/{{service}}.db",
        jwks=env["SIKERJA_JWKS"],
        signing_key=Path(env["SIKERJA_SIGNING_KEY"]),
    )
    app = create(settings, AttendanceConfig(scheduler_enabled=False))
    kit = app.state.kit
    kit.migrate()
    seed(kit, args.asn)
    times = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://attendance"
    ) as client:
        for _ in range(3):
            started = time.perf_counter()
            r = await client.get(
                "/api/v1/opds/attendance",
                params={"period": "2026-10"},
                headers=who(data, None, "system"),
            )
            times.append(time.perf_counter() - started)
            assert r.status_code == 200, r.text
    body = r.json()
    return {"asn": args.asn, "employee_days": body["jumlah"]["hari_pegawai"],
            "opds": len(body["opds"]), "best_s": round(min(times), 3),
            "worst_s": round(max(times), 3)}  # fmt: skip


def seed_reports(kit: Any, asn: int) -> None:
    """A report per ASN and working day, filed at 15.00 WIB of the day (one in ten the next
    morning), none on one day in twenty."""
    cal = indonesia_calendar(2026)
    days = [d for d in (date(2026, 10, n) for n in range(1, 32)) if cal.is_working_day(d)]
    periods, reports = [], []
    for i in range(asn):
        nip = f"{199001012015010000 + i}"
        periods.append(
            dict(nip=nip, first_day=None, last_day=None, nama=nip, opd=f"OPD {i % 40:02d}")
        )
        for j, d in enumerate(days):
            if (i + j) % 20 == 0:
                continue
            at = datetime(d.year, d.month, d.day, 8, tzinfo=UTC) + timedelta(
                days=1 if (i + j) % 10 == 1 else 0
            )
            reports.append(dict(id=f"{nip}-{d}", nip=nip, work_date=d, description="x",
                                status="approved", filed_at=at, updated_at=at))  # fmt: skip
    with kit.engine.begin() as conn:
        conn.execute(insert(kit.tables.employee_period), periods)
        conn.execute(insert(Report), reports)


async def run_filing(args: argparse.Namespace) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="sikerja-bench-dash-"))
    env = keys_env(data)
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1",
        data_dir=data,
        database_url=f"sqlite:///{data}/{{service}}.db",
        jwks=env["SIKERJA_JWKS"],
        signing_key=Path(env["SIKERJA_SIGNING_KEY"]),
    )
    app = create_activity(settings, clock=lambda: NOW)
    kit = app.state.kit
    kit.migrate()
    seed_reports(kit, args.asn)
    times = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://activity"
    ) as client:
        for _ in range(3):
            started = time.perf_counter()
            r = await client.get(
                "/api/v1/opds/filing",
                params={"period": "2026-10"},
                headers=who(data, None, "system"),
            )
            times.append(time.perf_counter() - started)
            assert r.status_code == 200, r.text
    body = r.json()
    return {"asn": args.asn, "required_days": body["jumlah"]["hari_wajib"],
            "opds": len(body["opds"]), "best_s": round(min(times), 3),
            "worst_s": round(max(times), 3)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--asn", type=int, default=15_000)
    parser.add_argument("--filing", action="store_true", help="activity's /opds/filing")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run_filing(args) if args.filing else run(args))))


if __name__ == "__main__":
    main()
