"""TPP's HTTP API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlmodel import select

from services.shared.messaging import ServiceKit
from services.tpp.models import DayFact

router = APIRouter(tags=["tpp"])


@router.get("/employees/{nip}/days")
def employee_days(nip: str, request: Request, period: str | None = None) -> list[dict[str, object]]:
    """The day facts TPP knows of an employee (provisional until the day is closed)."""
    kit: ServiceKit = request.app.state.kit
    with kit.uow() as uow:
        rows = uow.session.exec(
            select(DayFact).where(DayFact.nip == nip).order_by(DayFact.work_date)  # type: ignore[arg-type]
        ).all()
    return [
        {
            "date": str(r.work_date),
            "revision": r.revision,
            "status": r.status,
            "minutes_late": r.minutes_late,
            "minutes_early": r.minutes_early,
            "scans_seen": r.scans_seen,
            "first_scan_at": r.first_scan_at.isoformat() if r.first_scan_at else None,
            "last_scan_at": r.last_scan_at.isoformat() if r.last_scan_at else None,
        }
        for r in rows
        if period is None or r.work_date.strftime("%Y-%m") == period
    ]
