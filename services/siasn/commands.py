"""Siasn's writes for the routes: the employee master import (every changed line announced
as EmployeeUpserted through the outbox), BKPSDM's unit-to-OPD and pagu tables. Each runs in
the caller's unit of work and commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from contracts.events import EmployeeUpserted
from services.shared.uow import UnitOfWork
from services.siasn.domain import EmployeeRow
from services.siasn.models import PaguVersion, UnitOpd


def upsert_employees(uow: UnitOfWork, rows: Iterable[EmployeeRow], now: datetime) -> int:
    """Store the accepted lines; unchanged active ones emit nothing. Returns how many
    changed."""
    changed = 0
    employee = uow.tables.employee
    for row in rows:
        current = uow.session.get(employee, row.nip)
        fields: dict[str, Any] = {
            "nama": row.nama,
            "opd": row.opd,
            "jabatan": row.jabatan,
            "kelas_jabatan": row.kelas_jabatan,
            "atasan_nip": row.atasan_nip,
            "tpp_pagu": row.tpp_pagu,
            "pin": row.pin,
        }
        if (
            current is not None
            and current.active
            and all(getattr(current, k) == v for k, v in fields.items())
        ):
            continue
        if current is None:
            current = employee(nip=row.nip, **fields)
        for key, value in fields.items():
            setattr(current, key, value)
        current.active, current.updated_at = True, now
        uow.session.add(current)
        uow.emit(EmployeeUpserted(occurred_at=now, producer="siasn", nip=row.nip, **fields))
        changed += 1
    uow.commit()
    return changed


def put_unit(
    uow: UnitOfWork, unor_id: str, opd: str, unor_nama: str, by: str, now: datetime
) -> None:
    row = uow.session.get(UnitOpd, unor_id) or UnitOpd(unor_id=unor_id, opd=opd, updated_at=now)
    row.opd, row.unor_nama = opd.strip(), unor_nama.strip()
    row.updated_at, row.updated_by = now, by
    uow.session.add(row)
    uow.commit()


def put_pagu(
    uow: UnitOfWork, berlaku_mulai: date, pagu: dict[int, int], by: str, now: datetime
) -> None:
    for kelas, amount in pagu.items():
        row = uow.session.get(PaguVersion, (kelas, berlaku_mulai)) or PaguVersion(
            kelas_jabatan=kelas, berlaku_mulai=berlaku_mulai, pagu=amount, created_at=now,
        )  # fmt: skip
        row.pagu, row.created_by = amount, by
        uow.session.add(row)
    uow.commit()
