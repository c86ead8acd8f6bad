"""Approval's subscribers: activity's reports fill the queues, employee events keep the
supervisor relation (a transfer moves open reports), tpp's closes lock periods.

Per batch, not per event: the kit hands a consumed batch to these handlers in one
transaction. ActivityReported (one per filing, the bulk of the traffic) is only collected by
its handler and written with a few Core statements (ReportedBatch); every other handler first
writes what was collected so far, so it sees the queue exactly as if the events had been
handled one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert
from sqlalchemy import select as core_select
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
from services.approval.models import KIT, DecisionLog, PeriodClose, QueueEntry
from services.shared.calendar_book import calendar_handlers
from services.shared.employees import apply_employee_event, employee_handlers, find_employee
from services.shared.uow import UnitOfWork

TOPICS = [Topic.ACTIVITY.value, Topic.EMPLOYEES.value, Topic.TPP.value, Topic.CALENDAR.value]
PRODUCER = "approval"
IMPORTED_REJECTION = "Keputusan historis (ditolak) dari impor data migrasi BKPSDM."
OPEN = tuple(s.value for s in domain.OPEN_STATUSES)

# Built once: building and compiling a statement per batch would cost more than running it.
_QUEUE = QueueEntry.__table__
_EMPLOYEE = KIT.employee.__table__
_INSERT_ENTRIES = insert(_QUEUE)
_KNOWN_REPORTS = core_select(_QUEUE.c.report_id).where(
    _QUEUE.c.report_id.in_(bindparam("keys", expanding=True))
)
_ATASAN_OF = core_select(_EMPLOYEE.c.nip, _EMPLOYEE.c.atasan_nip).where(
    _EMPLOYEE.c.nip.in_(bindparam("keys", expanding=True))
)
_IN_CHUNK = 900  # SQLite before 3.32 takes at most 999 parameters per statement
_REPORTED_KEY = "approval.reported"


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


def _select_in(conn: Connection, statement: Any, keys: Sequence[str]) -> list[Row[Any]]:
    rows: list[Row[Any]] = []
    for i in range(0, len(keys), _IN_CHUNK):
        rows.extend(conn.execute(statement, {"keys": keys[i : i + _IN_CHUNK]}))
    return rows


class ReportedBatch:
    """The ActivityReported events of one transaction not written yet. Per event, the ORM's
    get, employee lookup and flush cost several times what three statements per batch do:
    one SELECT of the report ids already known, one of the owners' atasan, one INSERT."""

    def __init__(self) -> None:
        self.pending: dict[str, ActivityReported] = {}

    def add(self, event: ActivityReported) -> None:
        self.pending.setdefault(event.report_id, event)  # a second copy: the first one wins

    def __call__(self, uow: UnitOfWork) -> None:
        self.write(uow)

    def write(self, uow: UnitOfWork) -> None:
        if not self.pending:
            return
        events = list(self.pending.values())
        self.pending = {}
        # The ORM's pending rows (a revision that overtook its report, an employee upserted
        # earlier in the batch) must be in the database for the SELECTs below to see them.
        uow.session.flush()
        conn = uow.connection
        known = {r[0] for r in _select_in(conn, _KNOWN_REPORTS, [e.report_id for e in events])}
        fresh = [e for e in events if e.report_id not in known]
        if not fresh:
            return  # already known (a revision may even have overtaken them): keep them
        owners = list({e.nip for e in fresh})
        atasan: dict[str, str | None] = {
            r.nip: r.atasan_nip for r in _select_in(conn, _ATASAN_OF, owners)
        }
        conn.execute(
            _INSERT_ENTRIES,
            [
                {
                    "report_id": e.report_id,
                    "owner_nip": e.nip,
                    "work_date": e.work_date,
                    "atasan_nip": atasan.get(e.nip),
                    "status": domain.QueueStatus.PENDING.value,
                    "revision": 0,
                    "description": e.description,
                    "output": e.output,
                    "quantity": e.quantity,
                    "minutes": e.minutes,
                    "skp_target_id": e.skp_target_id,
                    "filed_at": e.occurred_at,
                    "updated_at": e.occurred_at,
                    "imported_decision": None,
                    "reported_event_id": str(e.event_id),
                }
                for e in fresh
            ],
        )


def _reported(uow: UnitOfWork) -> ReportedBatch:
    return uow.once(_REPORTED_KEY, ReportedBatch)


def write_reported(uow: UnitOfWork) -> None:
    """Write the reports collected so far in this transaction. Every handler other than
    on_reported calls it first: the queue it reads must hold the reports that came before."""
    _reported(uow).write(uow)


def on_reported(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, ActivityReported)
    if event.imported_decision is None:
        _reported(uow).add(event)
        return
    # A migration import's decision (rare) needs the ORM row, a DecisionLog and an event:
    # one by one, after the reports that came before it.
    write_reported(uow)
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
    write_reported(uow)
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
    write_reported(uow)
    row = uow.session.get(QueueEntry, event.report_id)
    if row is None or row.status not in OPEN:
        return  # decided before the withdrawal arrived: the decision stands
    row.status = domain.QueueStatus.WITHDRAWN.value
    row.updated_at = event.occurred_at
    uow.session.add(row)


def on_employee(uow: UnitOfWork, event: Event) -> None:
    """The projection, then a transfer: open reports follow the employee to the new atasan."""
    write_reported(uow)  # with the atasan of before this event, then moved below
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
    write_reported(uow)  # reads no queue row, but keeps the rule for every handler simple
    row = uow.session.get(PeriodClose, (event.nip, event.period))
    if row is None:
        row = PeriodClose(nip=event.nip, period=event.period, closed_at=event.occurred_at)
    elif event.occurred_at <= row.closed_at:
        return  # an older close replayed: the latest one decides
    row.closed_at = event.occurred_at
    row.closed_by = event.closed_by
    uow.session.add(row)


def handlers() -> dict[str, Any]:
    # Every handler that reads the queue calls write_reported first (see ReportedBatch); the
    # calendar's does not read it.
    return {
        **employee_handlers(),
        **calendar_handlers(),
        "EmployeeUpserted": on_employee,
        "EmployeeDeactivated": on_employee,
        "ActivityReported": on_reported,
        "ActivityRevised": on_revised,
        "ActivityWithdrawn": on_withdrawn,
        "TppPeriodClosed": on_period_closed,
    }
