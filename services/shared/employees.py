"""The employee projection every service keeps (EmployeeUpserted / EmployeeDeactivated)."""

from __future__ import annotations

from sqlmodel import col, select

from contracts.events import EmployeeDeactivated, EmployeeUpserted
from services.shared.db import EmployeeRow
from services.shared.uow import UnitOfWork


def apply_employee_event(
    uow: UnitOfWork, event: EmployeeUpserted | EmployeeDeactivated
) -> str | None:
    """Upsert or deactivate; returns the previous row's atasan_nip (for transfers) or None."""
    employee = uow.tables.employee
    row = uow.session.get(employee, event.nip)
    previous_atasan = row.atasan_nip if row is not None else None
    if isinstance(event, EmployeeUpserted):
        fields = event.model_dump(
            include={"nama", "opd", "jabatan", "kelas_jabatan", "atasan_nip", "tpp_pagu", "pin"}
        )
        if row is None:
            row = employee(nip=event.nip, **fields)
        else:
            for key, value in fields.items():
                setattr(row, key, value)
        row.active = True
        row.updated_at = event.occurred_at
        uow.session.add(row)
    elif row is not None:
        row.active = False
        row.updated_at = event.occurred_at
        uow.session.add(row)
    return previous_atasan


def on_employee(uow: UnitOfWork, event: EmployeeUpserted | EmployeeDeactivated) -> None:
    """The shared projection's handler, for a service that keeps nothing more of employees."""
    apply_employee_event(uow, event)


def find_employee(uow: UnitOfWork, nip: str) -> EmployeeRow | None:
    return uow.session.get(uow.tables.employee, nip)


def atasan_of(uow: UnitOfWork, nip: str) -> str | None:
    """The employee's direct atasan as the employee master says now (None: unknown/none)."""
    row = find_employee(uow, nip)
    return row.atasan_nip if row is not None else None


def employees_by_pin(uow: UnitOfWork) -> dict[str, str]:
    employee = uow.tables.employee
    rows = uow.session.exec(
        select(col(employee.pin), col(employee.nip)).where(col(employee.pin).is_not(None))
    )
    return {pin: nip for pin, nip in rows.all() if pin is not None}
