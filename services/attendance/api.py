"""Attendance's HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlmodel import select

from contracts.events import FingerprintRecorded
from contracts.nip import nip_problem
from services.attendance import domain
from services.attendance.models import Scan
from services.shared.messaging import ServiceKit, UnitOfWork

router = APIRouter(tags=["attendance"])


class ScanIn(BaseModel):
    nip: str
    waktu: str = Field(description="'YYYY-MM-DD HH:MM:SS' WIB or ISO 8601 with offset")
    device_sn: str | None = None


class ScanBatch(BaseModel):
    scans: list[ScanIn] = Field(min_length=1, max_length=10_000)


class LineResult(BaseModel):
    line: int
    nip: str
    status: str  # accepted, duplicate, rejected
    reason: str | None = None
    scan_id: str | None = None


def record_scan(
    uow: UnitOfWork,
    nip: str,
    ts: datetime,
    *,
    source: str,
    device_sn: str | None,
    received_at: datetime,
) -> tuple[str, bool]:
    """Store one scan and emit FingerprintRecorded; (scan_id, False) when already known."""
    scan_id = domain.scan_key(nip, ts)
    if uow.session.get(Scan, scan_id) is not None:
        return scan_id, False
    flag = domain.flag_scan(ts, received_at)
    day = domain.wib_date(ts)
    uow.session.add(
        Scan(
            scan_id=scan_id,
            nip=nip,
            ts=ts,
            work_date=day,
            device_sn=device_sn,
            source=source,
            flag=flag,
            received_at=received_at,
        )
    )
    uow.emit(
        FingerprintRecorded(
            occurred_at=received_at,
            producer="attendance",
            nip=nip,
            scan_id=scan_id,
            scanned_at=ts,
            work_date=day,
            device_sn=device_sn,
            source=source,
            flag=flag,
        )
    )
    return scan_id, True


@router.post("/scans", response_model=list[LineResult])
def post_scans(batch: ScanBatch, request: Request) -> list[LineResult]:
    """Scans pushed by a system (bridges, tests). Bad lines are reported, good lines kept."""
    kit: ServiceKit = request.app.state.kit
    now = datetime.now(UTC)
    results: list[LineResult] = []
    with kit.uow() as uow:
        for i, item in enumerate(batch.scans, start=1):
            problem = nip_problem(item.nip)
            if problem:
                results.append(LineResult(line=i, nip=item.nip, status="rejected", reason=problem))
                continue
            try:
                ts = domain.parse_scan_time(item.waktu)
            except ValueError as exc:
                results.append(LineResult(line=i, nip=item.nip, status="rejected", reason=str(exc)))
                continue
            scan_id, new = record_scan(
                uow, item.nip, ts, source="api", device_sn=item.device_sn, received_at=now
            )
            results.append(
                LineResult(
                    line=i, nip=item.nip, status="accepted" if new else "duplicate", scan_id=scan_id
                )
            )
        uow.commit()
    return results


@router.get("/employees/{nip}/scans")
def employee_scans(
    nip: str, request: Request, period: str | None = None
) -> list[dict[str, object]]:
    kit: ServiceKit = request.app.state.kit
    with kit.uow() as uow:
        query = select(Scan).where(Scan.nip == nip).order_by(Scan.ts)  # type: ignore[arg-type]
        rows = uow.session.exec(query).all()
    out = []
    for row in rows:
        if period and row.work_date.strftime("%Y-%m") != period:
            continue
        out.append(
            {
                "scan_id": row.scan_id,
                "ts": row.ts.isoformat(),
                "work_date": str(row.work_date),
                "device_sn": row.device_sn,
                "source": row.source,
                "flag": row.flag,
            }
        )
    return out
