"""Approval's penilai as other services keep it: the official BKPSDM named to decide the
reports of an employee without atasan (PenilaiAssigned / PenilaiRemoved). activity lets them
read what they decide; the notifier sends them the 09:00 reminder. A service keeps it with
`kit_tables(Base, penilai=True)` and registers the two handlers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import col, select

from contracts.events import PenilaiAssigned, PenilaiRemoved
from services.shared.db import PenilaiRow
from services.shared.uow import UnitOfWork


def _table(uow: UnitOfWork) -> type[PenilaiRow]:
    table = uow.tables.penilai
    assert table is not None, "the service keeps no penilai: kit_tables(Base, penilai=True)"
    return table


def on_penilai_assigned(uow: UnitOfWork, event: PenilaiAssigned) -> None:
    """Approval never changes a penilai once set (a change is a removal and a new one): a
    copy changes nothing, and a removal that came first stays in force."""
    table = _table(uow)
    row = uow.session.get(table, event.penilai_id)
    if row is not None and row.assigned_at is not None:
        return
    row = row or table(id=event.penilai_id, nip=event.nip, penilai_nip=event.penilai_nip)
    row.nip, row.penilai_nip = event.nip, event.penilai_nip
    row.first_day, row.last_day, row.assigned_at = event.first, event.last, event.occurred_at
    uow.session.add(row)


def on_penilai_removed(uow: UnitOfWork, event: PenilaiRemoved) -> None:
    """Removed for good; remembered when it overtakes its assignment (the earliest removal
    stands, whatever order the copies come in)."""
    table = _table(uow)
    row = uow.session.get(table, event.penilai_id)
    row = row or table(id=event.penilai_id, nip=event.nip, penilai_nip=event.penilai_nip)
    if row.removed_at is None or event.occurred_at < row.removed_at:
        row.removed_at = event.occurred_at
    uow.session.add(row)


def standing(
    table: type[PenilaiRow], *, nips: Iterable[str] | None = None, penilai_nip: str | None = None
) -> Any:
    """The statement selecting the penilai in force (assigned, not removed), of `nips`
    and/or named `penilai_nip`."""
    query = select(table).where(
        col(table.assigned_at).is_not(None), col(table.removed_at).is_(None)
    )
    if nips is not None:
        query = query.where(col(table.nip).in_(list(nips)))
    if penilai_nip is not None:
        query = query.where(col(table.penilai_nip) == penilai_nip)
    return query
