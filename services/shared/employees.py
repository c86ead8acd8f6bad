"""The employee projection every service keeps (EmployeeUpserted / EmployeeDeactivated).

Two tables: `employee_period` holds the periods (services/kernel/employment.py) and answers
"who was this person on that date"; `employee` holds the latest period and the PIN, for
lists and the device PIN map."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete
from sqlmodel import col, select

from contracts.events import EmployeeDeactivated, EmployeeUpserted
from services.kernel.calendar import WIB
from services.kernel.employment import (
    Period,
    end_employment,
    latest,
    merge_period,
    period_on,
)
from services.shared.db import EmployeePeriodRow, EmployeeRow, chunked
from services.shared.uow import UnitOfWork

_DATA = ("nama", "opd", "jabatan", "kelas_jabatan", "atasan_nip", "tpp_pagu")


def _period(row: EmployeePeriodRow) -> Period:
    return Period(
        first=row.first_day,
        last=row.last_day,
        nama=row.nama,
        opd=row.opd,
        jabatan=row.jabatan,
        kelas_jabatan=row.kelas_jabatan,
        atasan_nip=row.atasan_nip,
        tpp_pagu=row.tpp_pagu,
    )


def periods_of(uow: UnitOfWork, nip: str) -> list[Period]:
    """The NIP's periods, oldest first."""
    table = uow.tables.employee_period
    rows = uow.session.exec(select(table).where(col(table.nip) == nip)).all()
    return sorted((_period(r) for r in rows), key=lambda p: p.first or date.min)


def periods_by_nip(uow: UnitOfWork, nips: Iterable[str]) -> dict[str, list[Period]]:
    """Periods of many NIPs in a few queries (missing NIPs map to nothing)."""
    table = uow.tables.employee_period
    found: dict[str, list[Period]] = defaultdict(list)
    for part in chunked(sorted(set(nips))):
        for row in uow.session.exec(select(table).where(col(table.nip).in_(part))).all():
            found[row.nip].append(_period(row))
    return {nip: sorted(ps, key=lambda p: p.first or date.min) for nip, ps in found.items()}


def all_periods(uow: UnitOfWork, opd: str | None = None) -> dict[str, list[Period]]:
    """Every NIP's periods (or those with a period in `opd`)."""
    table = uow.tables.employee_period
    query = select(table)
    if opd is not None:
        nips = select(table.nip).where(col(table.opd) == opd)
        query = query.where(col(table.nip).in_(nips))
    found: dict[str, list[Period]] = defaultdict(list)
    for row in uow.session.exec(query).all():
        found[row.nip].append(_period(row))
    return {nip: sorted(ps, key=lambda p: p.first or date.min) for nip, ps in found.items()}


def employee_on(uow: UnitOfWork, nip: str, day: date) -> Period | None:
    """Who the NIP was on `day` (None: not active then)."""
    return period_on(periods_of(uow, nip), day)


def atasan_on(uow: UnitOfWork, nip: str, day: date) -> str | None:
    period = employee_on(uow, nip, day)
    return period.atasan_nip if period is not None else None


def active_on(uow: UnitOfWork, day: date, nips: Iterable[str] | None = None) -> set[str]:
    """The NIPs (of `nips`, or all) with a period covering `day`."""
    table = uow.tables.employee_period
    query = select(col(table.nip)).where(
        (col(table.first_day).is_(None)) | (col(table.first_day) <= day),
        (col(table.last_day).is_(None)) | (col(table.last_day) >= day),
    )
    if nips is None:
        return set(uow.session.exec(query).all())
    wanted = set(nips)
    active: set[str] = set()
    for part in chunked(sorted(wanted)):
        active.update(uow.session.exec(query.where(col(table.nip).in_(part))).all())
    return active


def _store_periods(uow: UnitOfWork, nip: str, periods: list[Period]) -> None:
    table = uow.tables.employee_period
    uow.session.execute(delete(table).where(col(table.nip) == nip))
    for p in periods:
        uow.session.add(
            table(
                nip=nip,
                first_day=p.first,
                last_day=p.last,
                nama=p.nama,
                opd=p.opd,
                jabatan=p.jabatan,
                kelas_jabatan=p.kelas_jabatan,
                atasan_nip=p.atasan_nip,
                tpp_pagu=p.tpp_pagu,
            )
        )


def apply_employee_event(
    uow: UnitOfWork, event: EmployeeUpserted | EmployeeDeactivated
) -> str | None:
    """Merge the event into the NIP's periods and refresh the `employee` row (the latest
    period). Returns the previous row's atasan_nip (for transfers) or None."""
    employee = uow.tables.employee
    row = uow.session.get(employee, event.nip)
    previous_atasan = row.atasan_nip if row is not None else None
    known = periods_of(uow, event.nip)
    if isinstance(event, EmployeeUpserted):
        new = Period(
            first=event.aktif_mulai,
            last=event.aktif_sampai,
            **event.model_dump(include=set(_DATA)),
        )
        periods = merge_period(known, new)
    else:
        last_day = event.aktif_sampai or event.occurred_at.astimezone(WIB).date()
        periods = end_employment(known, last_day)
    _store_periods(uow, event.nip, periods)
    current = latest(periods)
    if current is None:  # a leave before any period: keep the row, if any, inactive
        if row is not None:
            row.active = False
            row.updated_at = event.occurred_at
            uow.session.add(row)
        return previous_atasan
    fields = {key: getattr(current, key) for key in _DATA}
    if row is None:
        row = employee(nip=event.nip, **fields)
    else:
        for key, value in fields.items():
            setattr(row, key, value)
    if isinstance(event, EmployeeUpserted):
        row.pin = event.pin
    row.active = current.last is None
    row.updated_at = event.occurred_at
    uow.session.add(row)
    return previous_atasan


def on_employee(uow: UnitOfWork, event: EmployeeUpserted | EmployeeDeactivated) -> None:
    """The shared projection's handler, for a service that keeps nothing more of employees."""
    apply_employee_event(uow, event)


def find_employee(uow: UnitOfWork, nip: str) -> EmployeeRow | None:
    """The employee's latest period (and PIN); for a date, use `employee_on`."""
    return uow.session.get(uow.tables.employee, nip)


def atasan_of(uow: UnitOfWork, nip: str) -> str | None:
    """The employee's direct atasan as the latest period says (None: unknown/none)."""
    row = find_employee(uow, nip)
    return row.atasan_nip if row is not None else None


def employees_by_pin(uow: UnitOfWork) -> dict[str, str]:
    employee = uow.tables.employee
    rows = uow.session.exec(
        select(col(employee.pin), col(employee.nip)).where(col(employee.pin).is_not(None))
    )
    return {pin: nip for pin, nip in rows.all() if pin is not None}
