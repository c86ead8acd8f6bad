"""TPP's subscribers: day facts, report decisions and employees feed the statements.

Which days count: TPP knows money days only from AttendanceDayClosed (working days closed by
attendance, latest revision). FingerprintRecorded makes a provisional row (revision 0,
status "open") so people can see the scan arrived; it is not money until the day closes.

Which reports count: a report day is approved when at least one report of that date was
approved (ReportApproved) before the month was closed. Decisions on activity's terminal
states (approved, rejected) are final, as in activity; ActivityWithdrawn is not consumed
because only pending reports can be withdrawn, and a pending report never counts.

Every change recomputes that employee's month (statements.recompute), which emits
TppRecomputed when the net changes. An event for a month BKPSDM has closed is kept as a
pending correction (never applied silently, never dropped); reopening applies it.
"""

from __future__ import annotations

from typing import Any

from contracts import Topic
from contracts.events import (
    AttendanceDayClosed,
    Event,
    FingerprintRecorded,
    ReportApproved,
    ReportRejected,
    RevisionRequested,
)
from services.shared.employees import apply_employee_event
from services.shared.messaging import UnitOfWork
from services.tpp import statements
from services.tpp.domain import period_of
from services.tpp.models import DayFact, Statement

TOPICS = [Topic.ATTENDANCE.value, Topic.APPROVAL.value, Topic.EMPLOYEES.value]


def on_fingerprint(uow: UnitOfWork, event: Event) -> None:
    """Provisional only: shows that a scan arrived; costs and earns nothing until closed."""
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


def _frozen(uow: UnitOfWork, nip: str, period: str) -> bool:
    if statements.is_closed(uow.session, period):
        return True
    row = uow.session.get(Statement, (nip, period))
    return row is not None and row.frozen


def on_day_closed(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, AttendanceDayClosed)
    session = uow.session
    if not statements.day_closed_changes(session, event):
        return  # a redelivery or an older revision arriving late changes nothing
    period = period_of(event.work_date)
    if _frozen(uow, event.nip, period):
        statements.keep_as_correction(session, event, period, event.work_date)
        return
    statements.apply_day_closed(session, event)
    session.flush()
    statements.recompute(uow, event.nip, period, event)


def on_decision(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, ReportApproved | ReportRejected | RevisionRequested)
    session = uow.session
    if not statements.decision_changes(session, event):
        return
    period = period_of(event.work_date)
    if _frozen(uow, event.nip, period):
        statements.keep_as_correction(session, event, period, event.work_date)
        return
    statements.apply_decision(session, event)
    session.flush()
    statements.recompute(uow, event.nip, period, event)


def on_employee(uow: UnitOfWork, event: Event) -> None:
    """Upsert the projection, then recompute the employee's open months (pagu, OPD, name);
    closed months keep their frozen statements."""
    apply_employee_event(uow, event)
    uow.session.flush()
    for period in sorted(statements.open_periods_of(uow.session, event.nip)):
        statements.recompute(uow, event.nip, period, event)


def handlers() -> dict[str, Any]:
    return {
        "EmployeeUpserted": on_employee,
        "EmployeeDeactivated": on_employee,
        "FingerprintRecorded": on_fingerprint,
        "AttendanceDayClosed": on_day_closed,
        "ReportApproved": on_decision,
        "ReportRejected": on_decision,
        "RevisionRequested": on_decision,
    }
