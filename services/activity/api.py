"""Activity's HTTP API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlmodel import select

from services.activity.models import DayUnlock
from services.shared.messaging import ServiceKit

router = APIRouter(tags=["activity"])


@router.get("/employees/{nip}/unlocked-days")
def unlocked_days(nip: str, request: Request, period: str | None = None) -> list[dict[str, str]]:
    """Days on which the employee may file a report (a scan or dinas luar arrived)."""
    kit: ServiceKit = request.app.state.kit
    with kit.uow() as uow:
        rows = uow.session.exec(
            select(DayUnlock)
            .where(DayUnlock.nip == nip, DayUnlock.active == True)  # noqa: E712
            .order_by(DayUnlock.work_date)  # type: ignore[arg-type]
        ).all()
    return [
        {"date": str(r.work_date), "source": r.source, "ref": r.ref}
        for r in rows
        if period is None or r.work_date.strftime("%Y-%m") == period
    ]
