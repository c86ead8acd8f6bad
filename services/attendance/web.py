"""Small helpers the attendance routers share: roles, config, dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi import Request

from services.attendance.config import AttendanceConfig
from services.kernel.calendar import WIB, year_problem
from services.shared.employees import find_employee, periods_of
from services.shared.http import Actor, Problem
from services.shared.scope import (
    Placement,
    forbidden,
    in_opd,
    may_see_person,
    require_person,
    require_roles,
)
from services.shared.uow import UnitOfWork

# Roles allowed to record on behalf of the city; "system" is a job's token (never implied).
OPERATORS = ("operator", "bkpsdm", "system")
BKPSDM = ("bkpsdm", "system")
AUDITORS = ("auditor", "bkpsdm", "system")


def config_of(request: Request) -> AttendanceConfig:
    return getattr(request.app.state, "attendance", None) or AttendanceConfig()


def require(actor: Actor, roles: tuple[str, ...], what: str) -> None:
    """The roles check every service shares (one wording of the refusal)."""
    require_roles(actor, roles, what)


def require_employee(uow: UnitOfWork, who: Actor, nip: str, what: str) -> None:
    """What belongs to employee `nip`: themself, their atasan, their OPD's operator, the
    city's readers (attendance knows no Plt delegations: a Plt reads at approval)."""
    require_person(who, nip, find_employee(uow, nip), what)


def may_see_between(
    uow: UnitOfWork, who: Actor, nip: str, first: date | None, last: date | None
) -> bool:
    """What belongs to employee `nip` on the dates `first`..`last` (an absence; None = any
    date): the reach of any of their periods touching those dates (their OPD's operator,
    their atasan then), the latest period's when none does."""
    placements: list[Placement | None] = [
        p for p in periods_of(uow, nip) if p.overlaps(first, last)
    ]
    if not placements:
        placements = [find_employee(uow, nip)]
    return any(may_see_person(who, nip, p) for p in placements)


def require_employee_between(
    uow: UnitOfWork, who: Actor, nip: str, first: date, last: date, what: str
) -> None:
    if not may_see_between(uow, who, nip, first, last):
        raise forbidden(what)


def in_callers_opd(uow: UnitOfWork, who: Actor, nip: str) -> bool:
    """An operator's reach over one NIP: an employee of their OPD (unknown: no)."""
    row = find_employee(uow, nip)
    return row is not None and in_opd(who, row.opd)


def day_has_ended(day: date, now: datetime) -> bool:
    """True once midnight WIB after `day` has passed."""
    return now >= datetime.combine(day + timedelta(days=1), time(0), tzinfo=WIB)


def parse_day(value: str, field: str = "tanggal") -> date:
    try:
        day = date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise Problem(
            422, f"{field} '{value}' tidak valid; gunakan format YYYY-MM-DD", code="bad_date"
        ) from None
    if problem := year_problem(day.year):
        raise Problem(422, f"{field} '{value}' tidak valid: {problem}", code="bad_date")
    return day
