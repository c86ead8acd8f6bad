"""Small helpers the attendance routers share: roles, config, dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi import Request

from services.attendance.config import AttendanceConfig
from services.kernel.calendar import WIB, year_problem
from services.shared.http import Actor, Problem

# Roles allowed to record on behalf of the city; "system" is a job's token (never implied).
OPERATORS = ("operator", "bkpsdm", "system")
BKPSDM = ("bkpsdm", "system")
AUDITORS = ("auditor", "bkpsdm", "system")


def config_of(request: Request) -> AttendanceConfig:
    return getattr(request.app.state, "attendance", None) or AttendanceConfig()


def require(actor: Actor, roles: tuple[str, ...], what: str) -> None:
    if not actor.is_(*roles):
        raise Problem(
            403,
            f"Peran '{actor.role}' tidak berwenang untuk {what}",
            code="forbidden",
        )


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
