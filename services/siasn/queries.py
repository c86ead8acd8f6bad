"""Siasn's reads for the routes: the active employees' atasan, the sync runs, BKPSDM's unit
and pagu tables, the monthly results and their delivery state. Each runs in the caller's
unit of work; nothing here writes."""

from __future__ import annotations

from sqlmodel import col, select

from services.kernel.employment import Period
from services.shared.employees import all_periods
from services.shared.uow import UnitOfWork
from services.siasn.models import KinerjaDelivery, PaguVersion, SiasnPerson, SyncRun, UnitOpd


def known_atasan(uow: UnitOfWork) -> dict[str, str | None]:
    """Every active employee's atasan NIP (None: none), by NIP."""
    employee = uow.tables.employee
    known = uow.session.exec(
        select(col(employee.nip), col(employee.atasan_nip)).where(col(employee.active))
    ).all()
    return dict(known)


def known_periods(uow: UnitOfWork) -> dict[str, list[Period]]:
    """Every NIP's periods (to date the import's lines without aktif_mulai)."""
    return all_periods(uow)


def sync_run(uow: UnitOfWork, run_id: int) -> SyncRun | None:
    return uow.session.get(SyncRun, run_id)


def sync_runs(uow: UnitOfWork, limit: int) -> list[SyncRun]:
    return list(uow.session.exec(select(SyncRun).order_by(col(SyncRun.id).desc()).limit(limit)))


def units(uow: UnitOfWork) -> list[UnitOpd]:
    return list(uow.session.exec(select(UnitOpd).order_by(col(UnitOpd.opd))).all())


def pagu_versions(uow: UnitOfWork) -> list[PaguVersion]:
    return list(
        uow.session.exec(
            select(PaguVersion).order_by(
                col(PaguVersion.berlaku_mulai), col(PaguVersion.kelas_jabatan)
            )
        ).all()
    )


def results(
    uow: UnitOfWork,
    period: str | None,
    opd: str | None,
    nip: str | None,
    state: str | None,
    limit: int,
) -> list[KinerjaDelivery]:
    """The monthly results (filtered by what is given), by period then NIP."""
    query = select(KinerjaDelivery)
    if period:
        query = query.where(col(KinerjaDelivery.period) == period)
    if opd:
        query = query.where(col(KinerjaDelivery.opd) == opd)
    if nip:
        query = query.where(col(KinerjaDelivery.nip) == nip)
    if state:
        query = query.where(col(KinerjaDelivery.state) == state)
    query = query.order_by(col(KinerjaDelivery.period), col(KinerjaDelivery.nip)).limit(limit)
    return list(uow.session.exec(query).all())


def siasn_ids(uow: UnitOfWork, nips: list[str]) -> dict[str, str]:
    """SIASN's id of each of `nips` the bridge read from SIASN (none for a file's employee)."""
    if not nips:
        return {}
    rows = uow.session.exec(
        select(col(SiasnPerson.nip), col(SiasnPerson.siasn_id)).where(
            col(SiasnPerson.nip).in_(list(set(nips)))
        )
    ).all()
    return dict(rows)
