"""Siasn's writes for the routes: the employee master import (every changed line announced
as EmployeeUpserted through the outbox), BKPSDM's unit-to-OPD and pagu tables. Each runs in
the caller's unit of work and commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlmodel import col, select

from contracts.events import EmployeeDeactivated
from services.kernel.employment import end_employment, merge_period
from services.shared.db import chunked
from services.shared.employees import apply_employee_event, periods_by_nip
from services.shared.uow import UnitOfWork
from services.siasn.domain import EmployeeRow
from services.siasn.models import PaguVersion, UnitOpd

LEFT_REASON = "masa kerja berakhir (aktif_sampai di berkas pegawai)"


def upsert_employees(uow: UnitOfWork, rows: Iterable[EmployeeRow], now: datetime) -> int:
    """Store the accepted lines, each one period of its NIP (rows dated by the parse: see
    domain.undated_first); a line that changes neither the NIP's periods nor its PIN emits
    nothing. Each change is one EmployeeUpserted with the period's dates, applied to siasn's
    own projection the way every consumer applies it. A line with `aktif_sampai` and no
    later period of its NIP ends the employment: EmployeeDeactivated with that day follows.
    Returns how many lines changed."""
    rows = list(rows)
    employee = uow.tables.employee
    nips = sorted({r.nip for r in rows})
    # read once, kept up to date below: a file of 15,000 unchanged lines costs two queries
    known_all = periods_by_nip(uow, nips)
    pins: dict[str, str | None] = {}
    for part in chunked(nips):
        found = uow.session.exec(
            select(col(employee.nip), col(employee.pin)).where(col(employee.nip).in_(part))
        )
        pins.update(dict(found.all()))
    changed = 0
    for row in rows:
        known = known_all.get(row.nip, [])
        merged = merge_period(known, row.period())
        if row.nip in pins and pins[row.nip] == row.pin and merged == known:
            continue
        event = row.upserted(now)
        apply_employee_event(uow, event)
        uow.emit(event)
        known_all[row.nip], pins[row.nip] = merged, row.pin
        changed += 1
        end = row.aktif_sampai
        if end is not None and not any(p.first is not None and p.first > end for p in known):
            # The NIP's last period ends: a dated upsert restates only its own days (the
            # rest of an open period would stay), so the leave is announced too.
            if any(p.last is None or p.last > end for p in merged):
                left = EmployeeDeactivated(
                    occurred_at=now, producer="siasn", nip=row.nip, reason=LEFT_REASON,
                    aktif_sampai=end,
                )  # fmt: skip
                apply_employee_event(uow, left)
                uow.emit(left)
                known_all[row.nip] = end_employment(merged, end)
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
