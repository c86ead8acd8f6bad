"""Activity's subscribers: fingerprints and dinas luar open days for filing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from contracts import Topic
from contracts.events import AbsenceRecorded, Event, FingerprintRecorded
from services.activity.models import DayUnlock
from services.shared.employees import employee_handlers
from services.shared.messaging import UnitOfWork

TOPICS = [Topic.ATTENDANCE.value, Topic.APPROVAL.value, Topic.EMPLOYEES.value]


def on_fingerprint(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, FingerprintRecorded)
    if uow.session.get(DayUnlock, (event.nip, event.work_date, "scan")) is None:
        uow.session.add(
            DayUnlock(
                nip=event.nip,
                work_date=event.work_date,
                source="scan",
                ref=event.scan_id,
                recorded_at=event.occurred_at,
            )
        )


def on_absence(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, AbsenceRecorded)
    if event.kind != "dinas_luar":
        return
    day = event.start
    while day <= event.end:
        row = uow.session.get(DayUnlock, (event.nip, day, "dinas_luar"))
        if row is None:
            row = DayUnlock(
                nip=event.nip,
                work_date=day,
                source="dinas_luar",
                ref=event.absence_id,
                recorded_at=event.occurred_at,
            )
        row.active = not event.cancelled
        uow.session.add(row)
        day += timedelta(days=1)


def handlers() -> dict[str, Any]:
    return {
        **employee_handlers(),
        "FingerprintRecorded": on_fingerprint,
        "AbsenceRecorded": on_absence,
    }
