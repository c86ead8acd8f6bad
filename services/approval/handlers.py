"""Approval's subscribers: activity's reports fill the queues, employee events keep the
supervisor relation (a transfer moves open reports), tpp's closes lock periods. Each maps
its event to a call of commands.py, where the writes are.

Per batch, not per event: the kit hands a consumed batch to these handlers in one
transaction. ActivityReported (one per filing, the bulk of the traffic) is only collected by
its handler and written with a few Core statements (commands.ReportedBatch); every other
handler first writes what was collected so far, so it sees the queue exactly as if the
events had been handled one by one.
"""

from __future__ import annotations

from typing import Any

from contracts import Topic
from contracts.events import (
    ActivityReported,
    ActivityRevised,
    ActivityWithdrawn,
    EmployeeUpserted,
    Event,
    TppPeriodClosed,
)
from services.approval import commands
from services.approval.commands import write_reported
from services.shared.calendar_book import calendar_handlers
from services.shared.employees import apply_employee_event, employee_handlers
from services.shared.uow import UnitOfWork

TOPICS = [Topic.ACTIVITY.value, Topic.EMPLOYEES.value, Topic.TPP.value, Topic.CALENDAR.value]


def on_reported(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, ActivityReported)
    if event.imported_decision is None:
        commands.collect_reported(uow, event)
        return
    # A migration import's decision (rare) needs the ORM row, a DecisionLog and an event:
    # one by one, after the reports that came before it.
    write_reported(uow)
    commands.add_imported_report(uow, event)


def on_revised(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, ActivityRevised)
    write_reported(uow)
    commands.revise(uow, event)


def on_withdrawn(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, ActivityWithdrawn)
    write_reported(uow)
    commands.withdraw(uow, event.report_id, event.occurred_at)


def on_employee(uow: UnitOfWork, event: Event) -> None:
    """The projection, then a transfer: open reports follow the employee to the new atasan."""
    write_reported(uow)  # with the atasan of before this event, then moved below
    apply_employee_event(uow, event)
    if isinstance(event, EmployeeUpserted):
        commands.follow_employee(uow, event.nip, event.atasan_nip, str(event.event_id))


def on_period_closed(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, TppPeriodClosed)
    write_reported(uow)  # reads no queue row, but keeps the rule for every handler simple
    commands.close_period(uow, event.nip, event.period, event.occurred_at, event.closed_by)


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
