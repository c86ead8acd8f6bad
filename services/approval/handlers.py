"""Approval's subscribers: activity's reports fill the queues, employee events keep the
supervisor relation (a transfer moves open reports), tpp's closes lock periods."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from contracts import Topic
from contracts.events import (
    ActivityReported,
    ActivityRevised,
    ActivityWithdrawn,
    EmployeeUpserted,
    Event,
    ReportApproved,
    ReportRejected,
    TppPeriodClosed,
)
from services.approval import domain
from services.approval.models import DecisionLog, PeriodClose, QueueEntry
from services.shared.employees import apply_employee_event, employee_handlers, find_employee
from services.shared.messaging import UnitOfWork

TOPICS = [Topic.ACTIVITY.value, Topic.EMPLOYEES.value, Topic.TPP.value]
PRODUCER = "approval"
IMPORTED_REJECTION = "Keputusan historis (ditolak) dari impor data migrasi BKPSDM."
OPEN = tuple(s.value for s in domain.OPEN_STATUSES)


def _atasan_of(uow: UnitOfWork, nip: str) -> str | None:
    row = find_employee(uow, nip)
    return row.atasan_nip if row is not None else None


def to_item(row: QueueEntry) -> domain.QueueItem:
    return domain.QueueItem(
        row.report_id,
        row.owner_nip,
        row.work_date,
        row.filed_at,
        row.atasan_nip,
        domain.QueueStatus(row.status),
    )


def _content(row: QueueEntry, event: ActivityReported | ActivityRevised) -> None:
    row.description = event.description
    row.output = event.output
    row.quantity = event.quantity
    row.minutes = event.minutes
    row.skp_target_id = event.skp_target_id


def record_imported_decision(uow: UnitOfWork, row: QueueEntry, cause_id: str) -> None:
    """A migration import's historical decision, taken in the name of the employee's atasan
    at the time of the import (the audit log says `import`), announced like any decision so
    activity and tpp learn it from the one place decisions come from."""
    assert row.atasan_nip is not None and row.imported_decision is not None
    approved = row.imported_decision == "approved"
    at = row.filed_at
    common = {
        "occurred_at": at,
        "producer": PRODUCER,
        "nip": row.owner_nip,
        "report_id": row.report_id,
        "work_date": row.work_date,
        "decided_by": row.atasan_nip,
        "causation_id": cause_id,
    }
    event: ReportApproved | ReportRejected
    if approved:
        event = ReportApproved(**common)
    else:
        event = ReportRejected(reason=IMPORTED_REJECTION, **common)
    row.status = (domain.QueueStatus.APPROVED if approved else domain.QueueStatus.REJECTED).value
    row.imported_decision = None
    row.updated_at = at
    uow.session.add(row)
    uow.session.add(
        DecisionLog(
            report_id=row.report_id,
            owner_nip=row.owner_nip,
            work_date=row.work_date,
            actor_nip=row.atasan_nip,
            action=(domain.DecisionKind.APPROVE if approved else domain.DecisionKind.REJECT).value,
            reason=None if approved else IMPORTED_REJECTION,
            source="import",
            event_id=str(event.event_id),
            at=at,
        )
    )
    uow.emit(event)


def on_reported(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, ActivityReported)
    if uow.session.get(QueueEntry, event.report_id) is not None:
        return  # already known (a revision may even have overtaken it): keep what we have
    row = QueueEntry(
        report_id=event.report_id,
        owner_nip=event.nip,
        work_date=event.work_date,
        atasan_nip=_atasan_of(uow, event.nip),
        status=domain.QueueStatus.PENDING.value,
        filed_at=event.occurred_at,
        updated_at=event.occurred_at,
        imported_decision=event.imported_decision,
        reported_event_id=str(event.event_id),
    )
    _content(row, event)
    uow.session.add(row)
    if row.imported_decision is not None and row.atasan_nip is not None:
        record_imported_decision(uow, row, str(event.event_id))


def on_revised(uow: UnitOfWork, event: Event) -> None:
    """Keep the latest revision only; a revision of a decided or withdrawn report (it raced
    the decision) changes its text here but not its status: the decision stands."""
    assert isinstance(event, ActivityRevised)
    row = uow.session.get(QueueEntry, event.report_id)
    if row is None:
        row = QueueEntry(
            report_id=event.report_id,
            owner_nip=event.nip,
            work_date=event.work_date,
            atasan_nip=_atasan_of(uow, event.nip),
            status=domain.QueueStatus.PENDING.value,
            filed_at=event.occurred_at,
            updated_at=event.occurred_at,
        )
    elif event.revision <= row.revision:
        return
    _content(row, event)
    row.revision = event.revision
    row.updated_at = event.occurred_at
    if row.status == domain.QueueStatus.REVISION_REQUESTED.value:
        row.status = domain.QueueStatus.PENDING.value
        row.filed_at = event.occurred_at  # back in the queue: its age counts from now
    uow.session.add(row)


def on_withdrawn(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, ActivityWithdrawn)
    row = uow.session.get(QueueEntry, event.report_id)
    if row is None or row.status not in OPEN:
        return  # decided before the withdrawal arrived: the decision stands
    row.status = domain.QueueStatus.WITHDRAWN.value
    row.updated_at = event.occurred_at
    uow.session.add(row)


def on_employee(uow: UnitOfWork, event: Event) -> None:
    """The projection, then a transfer: open reports follow the employee to the new atasan."""
    apply_employee_event(uow, event)
    if not isinstance(event, EmployeeUpserted):
        return
    rows = uow.session.exec(
        select(QueueEntry).where(
            QueueEntry.owner_nip == event.nip, col(QueueEntry.status).in_(OPEN)
        )
    ).all()
    if not rows:
        return
    try:
        moved = domain.transfer_pending([to_item(r) for r in rows], event.nip, event.atasan_nip)
    except domain.DomainError:
        return  # a master record naming the employee as their own atasan: keep the queue
    ids = set(moved.moved)
    for row in rows:
        if row.report_id in ids:
            row.atasan_nip = event.atasan_nip
            uow.session.add(row)
        if row.imported_decision is not None and row.atasan_nip is not None:
            record_imported_decision(uow, row, row.reported_event_id or str(event.event_id))


def on_period_closed(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, TppPeriodClosed)
    row = uow.session.get(PeriodClose, (event.nip, event.period))
    if row is None:
        row = PeriodClose(nip=event.nip, period=event.period, closed_at=event.occurred_at)
    elif event.occurred_at <= row.closed_at:
        return  # an older close replayed: the latest one decides
    row.closed_at = event.occurred_at
    row.closed_by = event.closed_by
    uow.session.add(row)


def handlers() -> dict[str, Any]:
    return {
        **employee_handlers(),
        "EmployeeUpserted": on_employee,
        "EmployeeDeactivated": on_employee,
        "ActivityReported": on_reported,
        "ActivityRevised": on_revised,
        "ActivityWithdrawn": on_withdrawn,
        "TppPeriodClosed": on_period_closed,
    }
