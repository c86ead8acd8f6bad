"""TPP's subscribers: day facts, report decisions and employees feed the statements."""

from __future__ import annotations

from typing import Any

from contracts import Topic
from contracts.events import AttendanceDayClosed, Event, FingerprintRecorded
from services.shared.employees import employee_handlers
from services.shared.messaging import UnitOfWork
from services.tpp.models import DayFact

TOPICS = [Topic.ATTENDANCE.value, Topic.APPROVAL.value, Topic.EMPLOYEES.value]


def on_fingerprint(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, FingerprintRecorded)
    row = uow.session.get(DayFact, (event.nip, event.work_date))
    if row is None:
        row = DayFact(nip=event.nip, work_date=event.work_date)
    row.scans_seen += 1
    if row.first_scan_at is None or event.scanned_at < row.first_scan_at:
        row.first_scan_at = event.scanned_at
    if row.last_scan_at is None or event.scanned_at > row.last_scan_at:
        row.last_scan_at = event.scanned_at
    uow.session.add(row)


def on_day_closed(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, AttendanceDayClosed)
    row = uow.session.get(DayFact, (event.nip, event.work_date))
    if row is None:
        row = DayFact(nip=event.nip, work_date=event.work_date)
    if event.revision <= row.revision:
        return  # an older revision arriving late changes nothing
    row.revision = event.revision
    row.status = event.status
    row.minutes_late = event.minutes_late
    row.minutes_early = event.minutes_early
    uow.session.add(row)


def handlers() -> dict[str, Any]:
    return {
        **employee_handlers(),
        "FingerprintRecorded": on_fingerprint,
        "AttendanceDayClosed": on_day_closed,
    }
