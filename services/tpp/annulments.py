"""Reading BKPSDM's annulments (RULES.md "Annulled cuts") for the statements: the active
annulments of a month, resolved per NIP with the employee's period on each date (an OPD
annulment names whoever was in that OPD on that date, not who is there now).

Used by statements.py (every recomputation) and periods.py (close, what-if); recording and
revoking are in annul.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlmodel import col, select

from services.kernel.calendar import period_bounds
from services.kernel.employment import Period, period_on
from services.shared.employees import periods_by_nip
from services.shared.uow import UnitOfWork
from services.tpp import domain
from services.tpp.models import ANNULMENT_ACTIVE, Annulment

RECORDED = "AnnulmentRecorded"  # TppRecomputed.cause_event_type of an annulment
REVOKED = "AnnulmentRevoked"  # ... and of its revocation
CAUSES = frozenset({RECORDED, REVOKED})


@dataclass(frozen=True)
class AnnulmentCause:
    """An annulment recorded or revoked: the cause of a recomputation (in place of an event)."""

    event_type: str  # RECORDED | REVOKED
    event_id: UUID  # the audit log entry of the action (AnnulmentLog.action_id)
    annulment_id: str


def to_domain(row: Annulment) -> domain.Annulment:
    return domain.Annulment(row.id, row.work_date, row.nip, row.opd, row.code, row.reason)


def active_between(uow: UnitOfWork, first: date, last: date) -> list[domain.Annulment]:
    """The active annulments of [first, last], oldest first (the first one names a line)."""
    rows = uow.session.exec(
        select(Annulment)
        .where(Annulment.status == ANNULMENT_ACTIVE)
        .where(col(Annulment.work_date) >= first)
        .where(col(Annulment.work_date) <= last)
        .order_by(col(Annulment.created_at), col(Annulment.id))
    ).all()
    return [to_domain(r) for r in rows]


def for_nips(
    uow: UnitOfWork, nips: Iterable[str], period: str
) -> dict[str, list[domain.Annulment]]:
    """The active annulments of `period` that name each NIP (NIPs named by none are left out)."""
    first, last = period_bounds(period)
    active = active_between(uow, first, last)
    if not active:
        return {}
    wanted = list(nips)
    by_opd = any(a.nip is None for a in active)
    periods = periods_by_nip(uow, wanted) if by_opd else {}
    out: dict[str, list[domain.Annulment]] = {}
    for nip in wanted:
        own = periods.get(nip, [])

        def opd_on(day: date, own: list[Period] = own) -> str | None:
            found = period_on(own, day)
            return found.opd if found is not None else None

        named = domain.annulments_for(nip, active, opd_on)
        if named:
            out[nip] = named
    return out
