"""TPP's subscribers: day facts, report decisions and employees feed the statements.

Which days count: TPP knows money days only from AttendanceDayClosed (working days closed by
attendance, latest revision). FingerprintRecorded makes a provisional row (revision 0,
status "open") so people can see the scan arrived; it is not money until the day closes.

Which reports count: a report day is approved when at least one report of that date was
approved (ReportApproved) before the month was closed. Decisions on activity's terminal
states (approved, rejected) are final, as in activity; ActivityWithdrawn is not consumed
because only pending reports can be withdrawn, and a pending report never counts.

Every change recomputes that employee's month, which emits TppRecomputed when the net
changes. An event for a month BKPSDM has closed is kept as a pending correction (never
applied silently, never dropped); reopening applies it.

Per batch, not per event: the kit hands a consumed batch to these handlers in one
transaction. Scans and day closes are only collected by their handlers and applied together
just before the commit (`uow.once`, statements.apply_days); each employee-month the batch
changed is then recomputed once, from the batch's final state (statements.recompute_many),
its TppRecomputed caused by the last event of the batch that changed it. Results are those
of handling the events one by one, except that a month changed twice in one batch emits one
TppRecomputed (old net before the batch -> net after it) instead of two.

Employment periods: an EmployeeUpserted/EmployeeDeactivated recomputes the NIP's open months
(a transfer on the 16th recomputes that month, its TppRecomputed caused by the employee
event). TPP keeps attendance's work calendar (WorkCalendarChanged): the month's working days
divide the pagu of an employee active only part of it, so a change of them recomputes such
employees' open statements (the others follow attendance's re-closed days).
"""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import col, select

from contracts.events import (
    AttendanceDayClosed,
    EmployeeDeactivated,
    EmployeeUpserted,
    Event,
    FingerprintRecorded,
    ReportApproved,
    ReportRejected,
    RevisionRequested,
    WorkCalendarChanged,
)
from services.kernel.calendar import month_days
from services.shared.calendar_book import save_snapshot
from services.shared.employees import apply_employee_event, periods_by_nip
from services.shared.handlers import Handlers
from services.shared.uow import UnitOfWork
from services.tpp import periods, projections, statements
from services.tpp.domain import period_of
from services.tpp.models import Statement


class Batch:
    """What the handlers of one transaction collected; run once before its commit."""

    def __init__(self) -> None:
        self.seq = 0  # arrival order, to name the last cause of a change
        self.scans: list[FingerprintRecorded] = []
        self.closes: list[tuple[int, AttendanceDayClosed]] = []
        self.dirty: dict[tuple[str, str], tuple[int, Event]] = {}

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def recompute(self, nip: str, period: str, cause: Event) -> None:
        self.dirty[(nip, period)] = (self.next_seq(), cause)

    def __call__(self, uow: UnitOfWork) -> None:
        uow.session.flush()  # decisions, employees, corrections of this batch first
        for key, (seq, cause) in statements.apply_days(uow, self.scans, self.closes).items():
            if key not in self.dirty or self.dirty[key][0] < seq:
                self.dirty[key] = (seq, cause)
        causes = {key: cause for key, (_, cause) in self.dirty.items()}
        statements.recompute_many(uow, causes)


def batch(uow: UnitOfWork) -> Batch:
    return uow.once("tpp.batch", Batch)


def on_fingerprint(uow: UnitOfWork, event: FingerprintRecorded) -> None:
    """Provisional only: shows that a scan arrived; costs and earns nothing until closed."""
    batch(uow).scans.append(event)


def _frozen(uow: UnitOfWork, nip: str, period: str) -> bool:
    if periods.is_closed(uow.session, period):
        return True
    row = uow.session.get(Statement, (nip, period))
    return row is not None and row.frozen


def on_day_closed(uow: UnitOfWork, event: AttendanceDayClosed) -> None:
    """Applied with the batch's other days (statements.apply_days): latest revision only,
    a frozen month keeps it as a pending correction."""
    b = batch(uow)
    b.closes.append((b.next_seq(), event))


def on_decision(
    uow: UnitOfWork, event: ReportApproved | ReportRejected | RevisionRequested
) -> None:
    session = uow.session
    if not projections.decision_changes(session, event):
        return
    period = period_of(event.work_date)
    if _frozen(uow, event.nip, period):
        projections.keep_as_correction(session, event, period, event.work_date, uow.clock())
        return
    projections.apply_decision(session, event)
    batch(uow).recompute(event.nip, period, event)


def on_employee(uow: UnitOfWork, event: EmployeeUpserted | EmployeeDeactivated) -> None:
    """Upsert the projection, then recompute the employee's open months (pagu, OPD, name);
    closed months keep their frozen statements."""
    apply_employee_event(uow, event)
    uow.session.flush()
    b = batch(uow)
    for period in sorted(statements.open_periods_of(uow.session, event.nip)):
        b.recompute(event.nip, period, event)


def _overrides(uow: UnitOfWork, year: int) -> set[date]:
    """The dates BKPSDM's snapshot of `year` overrides (made holidays or working days)."""
    model = uow.tables.calendar_year
    assert model is not None
    row = uow.session.get(model, year)
    if row is None:
        return set()
    made = {date.fromisoformat(h["tanggal"]) for h in json.loads(row.holidays)}
    return made | {date.fromisoformat(d) for d in json.loads(row.working_days)}


def on_calendar_changed(uow: UnitOfWork, event: WorkCalendarChanged) -> None:
    """Keep the newest snapshot of the year; recompute the open statements whose pagu is pro
    rata (periods not covering the whole month) in the months whose working days changed."""
    before = _overrides(uow, event.year)
    if not save_snapshot(uow, event):
        return  # older or repeated
    uow.session.flush()
    changed = before ^ _overrides(uow, event.year)
    months = sorted({period_of(day) for day in changed if day.year == event.year})
    b = batch(uow)
    for period in months:
        if periods.is_closed(uow.session, period):
            continue
        nips = uow.session.exec(
            select(Statement.nip)
            .where(Statement.period == period)
            .where(col(Statement.frozen).is_(False))
        ).all()
        year, month = int(period[:4]), int(period[5:])
        days = list(month_days(year, month))
        for nip, own in periods_by_nip(uow, nips).items():
            if not all(any(p.covers(day) for p in own) for day in days):
                b.recompute(nip, period, event)


def handlers() -> Handlers:
    return Handlers(on_calendar_changed, on_employee, on_fingerprint, on_day_closed, on_decision)
