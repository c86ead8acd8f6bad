"""Approval's subscribers: activity's reports fill the queues, employee events keep the
supervisor relation (a transfer moves each open report to the atasan of its date), tpp's
closes lock periods and bring the month's summary for the kinerja proposal, activity's SKP
targets are kept for it too. Each maps its event to a call of commands.py, where the writes
are.

Per batch, not per event: the kit hands a consumed batch to these handlers in one
transaction. ActivityReported (one per filing, the bulk of the traffic) is only collected by
its handler and written with a few Core statements (commands.ReportedBatch); every other
handler first writes what was collected so far, so it sees the queue exactly as if the
events had been handled one by one.
"""

from __future__ import annotations

from contracts.events import (
    ActivityReported,
    ActivityRevised,
    ActivityWithdrawn,
    EmployeeDeactivated,
    EmployeeUpserted,
    SkpTargetChanged,
    TppPeriodClosed,
)
from services.approval import commands
from services.approval.commands import write_reported
from services.shared.calendar_book import CalendarBook, calendar_handler
from services.shared.employees import apply_employee_event
from services.shared.handlers import Handlers
from services.shared.uow import UnitOfWork


def on_reported(uow: UnitOfWork, event: ActivityReported) -> None:
    if event.imported_decision is None:
        commands.collect_reported(uow, event)
        return
    # A migration import's decision (rare) needs the ORM row, a DecisionLog and an event:
    # one by one, after the reports that came before it.
    write_reported(uow)
    commands.add_imported_report(uow, event)


def on_revised(uow: UnitOfWork, event: ActivityRevised) -> None:
    write_reported(uow)
    commands.revise(uow, event)


def on_withdrawn(uow: UnitOfWork, event: ActivityWithdrawn) -> None:
    write_reported(uow)
    commands.withdraw(uow, event.report_id, event.occurred_at)


def on_employee(uow: UnitOfWork, event: EmployeeUpserted | EmployeeDeactivated) -> None:
    """The projection, then a transfer: each open report goes to the atasan of its date."""
    write_reported(uow)  # with the periods of before this event, then rerouted below
    apply_employee_event(uow, event)
    uow.session.flush()  # the new periods, for follow_employee's reads
    commands.follow_employee(uow, event.nip, str(event.event_id))


def on_period_closed(uow: UnitOfWork, event: TppPeriodClosed) -> None:
    write_reported(uow)  # reads no queue row, but keeps the rule for every handler simple
    commands.close_period(uow, event.nip, event.period, event.occurred_at, event.closed_by)
    commands.record_month(uow, event)  # the month's summary: the kinerja proposal reads it


def on_skp_target(uow: UnitOfWork, event: SkpTargetChanged) -> None:
    """Activity's SKP targets, kept for the kinerja proposal ("every SKP target of the month
    is realised").

    Why targets and not a monthly realisation from activity: the realisation is a sum of
    approved reports, and the decisions are approval's own. Activity learns them only from
    approval's events, so a realisation activity announced at tpp's close (another topic)
    could miss the last decisions before it; approval sums its own queue instead, exactly,
    and needs from activity only the targets (few, rarely changed, ordered with the reports
    that link to them on activity's topic by NIP)."""
    write_reported(uow)  # the proposal sums the queue's approved quantities per target
    commands.record_skp_target(uow, event)


def handlers(book: CalendarBook) -> Handlers:
    # Every handler that reads the queue calls write_reported first (see ReportedBatch); the
    # calendar's does not read it.
    return Handlers(
        calendar_handler(book),
        on_employee,
        on_reported,
        on_revised,
        on_withdrawn,
        on_period_closed,
        on_skp_target,
    )
