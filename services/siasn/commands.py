"""Siasn's writes for the routes: the employee master import (every changed line announced
as EmployeeUpserted through the outbox), BKPSDM's unit-to-OPD and pagu tables. Each runs in
the caller's unit of work and commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from contracts.events import EmployeeDeactivated, EmployeeUpserted
from services.kernel.employment import merge_period
from services.shared.employees import apply_employee_event, periods_of
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
    changed = 0
    employee = uow.tables.employee
    for row in rows:
        known = periods_of(uow, row.nip)
        current = uow.session.get(employee, row.nip)
        same_pin = current is not None and current.pin == row.pin
        if same_pin and merge_period(known, row.period()) == known:
            continue
        event = EmployeeUpserted(
            occurred_at=now,
            producer="siasn",
            nip=row.nip,
            nama=row.nama,
            opd=row.opd,
            jabatan=row.jabatan,
            kelas_jabatan=row.kelas_jabatan,
            atasan_nip=row.atasan_nip,
            tpp_pagu=row.tpp_pagu,
            pin=row.pin,
            aktif_mulai=row.aktif_mulai,
            aktif_sampai=row.aktif_sampai,
        )
        apply_employee_event(uow, event)
        uow.emit(event)
        changed += 1
        end = row.aktif_sampai
        if end is not None and not any(p.first is not None and p.first > end for p in known):
            # The NIP's last period ends: a dated upsert restates only its own days (the
            # rest of an open period would stay), so the leave is announced too.
            after = [p for p in periods_of(uow, row.nip) if p.last is None or p.last > end]
            if after:
                left = EmployeeDeactivated(
                    occurred_at=now, producer="siasn", nip=row.nip, reason=LEFT_REASON,
                    aktif_sampai=end,
                )  # fmt: skip
                apply_employee_event(uow, left)
                uow.emit(left)
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
