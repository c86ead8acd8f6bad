"""An OPD-wide annulment recomputed live (issue 14): BKPSDM annuls every cut of one date for
an OPD of N ASN (default 2,000); the route recomputes all their statements of that month
and emits a TppRecomputed for each (outbox) in the same transaction. Then the revocation.

    uv run python -m bench.bench_annulment                    # 2,000 ASN, SQLite
    uv run python -m bench.bench_annulment --asn 5000
    uv run python -m bench.bench_annulment --db-url postgresql+psycopg://...   (a fresh db)

Set-up (not measured): the tpp app in-process (its real routes over ASGI, its real store),
N employees of one OPD through the employee projection, their closed days of October 2026
(22 working days: present and on time, late 37 minutes on the 5th, tanpa keterangan on the
12th) written in bulk, every report approved except the 12th's, and their first statements
computed (the consumer's batch path).

Measured: POST /api/v1/annulments for the OPD and the 12th (every line: TK and LKH), from the
request to the committed answer; then POST .../revoke. The count of TppRecomputed in the
outbox caused by each is checked to be N. Prints one JSON line. No test asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert
from sqlmodel import Session, select

from bench.tokens import keys_env, who
from contracts.events import EmployeeUpserted
from services.kernel.calendar import WorkCalendar
from services.shared.employees import apply_employee_event
from services.shared.settings import Settings
from services.tpp import statements
from services.tpp.app import create
from services.tpp.models import DayFact, ReportDecision

OPD = "Dinas Bench"
PERIOD = "2026-10"
LATE_DAY = date(2026, 10, 5)
ANNULLED_DAY = date(2026, 10, 12)
NOW = datetime(2026, 10, 31, 10, 0, tzinfo=UTC)


def nips(n: int) -> list[str]:
    """N valid NIPs: born 1980-01-01, TMT 2005-01 onwards, sex 1, sequence 001-999."""
    return [
        f"19800101{2005 + i // 11_988}{i // 999 % 12 + 1:02d}1{i % 999 + 1:03d}" for i in range(n)
    ]


def upsert(nip: str) -> EmployeeUpserted:
    return EmployeeUpserted(
        occurred_at=NOW,
        producer="siasn",
        nip=nip,
        nama=f"ASN {nip[-4:]}",
        opd=OPD,
        jabatan="Analis",
        kelas_jabatan=9,
        tpp_pagu=5_000_000,
    )


def seed(app: Any, n: int) -> list[str]:
    kit = app.state.kit
    people = nips(n)
    assert len(set(people)) == n
    cal = WorkCalendar.indonesia([2026])
    days = [
        d for d in (date(2026, 10, 1) + timedelta(k) for k in range(31)) if cal.is_working_day(d)
    ]
    with kit.uow() as uow:
        for nip in people:
            apply_employee_event(uow, upsert(nip))
        uow.session.flush()
        facts, decisions = [], []
        for nip in people:
            for d in days:
                status = "tanpa_keterangan" if d == ANNULLED_DAY else "present"
                minutes = None if status != "present" else 0
                facts.append(
                    {
                        "nip": nip,
                        "work_date": d,
                        "revision": 1,
                        "status": status,
                        "minutes_late": 37 if d == LATE_DAY else minutes,
                        "minutes_early": minutes,
                        "scans_seen": 0,
                    }
                )
                if d != ANNULLED_DAY:
                    decisions.append(
                        {
                            "report_id": f"r-{nip}-{d}",
                            "nip": nip,
                            "work_date": d,
                            "status": "approved",
                            "decided_at": NOW,
                            "event_id": f"e-{nip[-8:]}-{d:%m%d}",
                        }
                    )
        uow.session.execute(insert(DayFact), facts)
        uow.session.execute(insert(ReportDecision), decisions)
        cause = upsert(people[0])
        statements.recompute_many(uow, {(nip, PERIOD): cause for nip in people})
        uow.commit()
    return people


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="sikerja-bench-annul-"))
    env = keys_env(data)
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1",  # never dialled: the route writes the outbox only
        data_dir=data,
        database_url=args.db_url or f"sqlite:///{data}/{{service}}.db",
        jwks=env["SIKERJA_JWKS"],
        signing_key=Path(env["SIKERJA_SIGNING_KEY"]),
    )
    app = create(settings)
    kit = app.state.kit
    kit.migrate()
    started = time.perf_counter()
    people = seed(app, args.asn)
    seed_s = time.perf_counter() - started
    outbox = kit.tables.outbox

    def caused(kind: str) -> int:
        with Session(kit.engine) as s:
            return int(
                s.exec(
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.event_type == "TppRecomputed")
                    .where(outbox.payload.contains(f'"cause_event_type":"{kind}"'))
                ).one()
            )

    headers = who(data, "197001011995031001", "bkpsdm")
    pdf = b"%PDF-1.4\n% berita acara gangguan listrik\n"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tpp", headers=headers, timeout=600
    ) as http:
        t0 = time.perf_counter()
        made = await http.post(
            "/api/v1/annulments",
            data={"tanggal": ANNULLED_DAY.isoformat(), "opd": OPD, "alasan": "Listrik padam"},
            files={"dokumen": ("ba.pdf", pdf, "application/pdf")},
        )
        annul_s = time.perf_counter() - t0
        assert made.status_code == 201, made.text
        t1 = time.perf_counter()
        revoked = await http.post(
            f"/api/v1/annulments/{made.json()['id']}/revoke", json={"alasan": "uji bench"}
        )
        revoke_s = time.perf_counter() - t1
        assert revoked.status_code == 200, revoked.text
        sample = (await http.get(f"/api/v1/employees/{people[-1]}/statements/{PERIOD}")).json()
    recorded, back = caused("AnnulmentRecorded"), caused("AnnulmentRevoked")
    assert recorded == args.asn and back == args.asn, (recorded, back)
    # by hand: 5.000.000 - TL1 12.500 - TK 250.000 - LKH 3.000.000 / 22 (= 136.364)
    assert sample["net"] == 4_601_136, sample["net"]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.node()} ({len(os.sched_getaffinity(0))} cores)",
        "load": round(os.getloadavg()[0], 1),
        "store": "postgresql" if args.db_url else "sqlite",
        "asn": args.asn,
        "seed_s": round(seed_s, 1),
        "annul_s": round(annul_s, 2),
        "annul_recomputed": made.json()["dihitung_ulang"],
        "tpp_recomputed_annul": recorded,
        "revoke_s": round(revoke_s, 2),
        "tpp_recomputed_revoke": back,
        "net_after_revoke": sample["net"],
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--asn", type=int, default=2_000)
    parser.add_argument("--db-url", default=None, help="tpp store (default SQLite); a fresh db")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
