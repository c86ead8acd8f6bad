"""Attendance's subscribers: the employee projection (PIN → NIP, OPD), and the scans that
were waiting in quarantine for the employee an EmployeeUpserted brings."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from contracts.events import EmployeeUpserted
from services.attendance import quarantine
from services.attendance.config import AttendanceConfig
from services.shared.employees import apply_employee_event, find_employee, on_employee
from services.shared.handlers import Handlers
from services.shared.uow import UnitOfWork


@lru_cache(maxsize=1)
def _max_future() -> timedelta:
    return timedelta(minutes=AttendanceConfig().max_future_minutes)


class Release:
    """The owners (PIN or NIP → NIP) the EmployeeUpserted of one transaction brought; their
    waiting scans are released once before its commit, as one set (one record_scans, one
    re-closing per date), not once per event."""

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}
        self.arrived: set[str] = set()  # NIPs new to the projection in this transaction

    def __call__(self, uow: UnitOfWork) -> None:
        uow.session.flush()  # the closing of released scans reads the projection
        now = uow.clock()  # the kit's clock: the processing time, set by tests
        quarantine.release(uow, self.owners, now=now, max_future=_max_future())
        if self.arrived:
            quarantine.close_absent_arrivals(uow, self.arrived, now=now)


def employee_upserted(uow: UnitOfWork, event: EmployeeUpserted) -> None:
    """Upsert the employee, then release what waited for them: scans pushed with their
    device PIN, and scans imported or pushed with their NIP before they were known; and for
    a new employee, the closed days their absences cover. In the event's own transaction
    (with its inbox claim), so a redelivery releases nothing twice."""
    new = find_employee(uow, event.nip) is None
    apply_employee_event(uow, event)
    release: Release = uow.once("attendance.quarantine", Release)
    if new:
        release.arrived.add(event.nip)
    release.owners[event.nip] = event.nip
    if event.pin:
        release.owners[event.pin] = event.nip


def handlers() -> Handlers:
    # the shared projection for EmployeeDeactivated, this one (later) for EmployeeUpserted
    return Handlers(on_employee, employee_upserted)
