"""What approval's routes share: `Annotated` dependency aliases (the caller, the clock's
now, the kit) and the edge helpers that turn roles and domain refusals into problem+json."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Depends, Request

from services.approval import domain
from services.kernel.calendar import parse_period
from services.shared.http import Actor, Problem, actor, kit_of, now_of
from services.shared.kit import ServiceKit

PERSON_ROLES = ("asn", "atasan")
OVERSIGHT_ROLES = ("bkpsdm", "auditor")
_STATUS = {
    "not_found": 404,
    "forbidden": 403,
    "not_pending": 409,
    "period_locked": 409,
    "conflict": 409,
    "reason_required": 422,
    "note_required": 422,
    "text_too_long": 422,
    "invalid_window": 422,
    "self_delegation": 422,
}


# async: a sync dependency costs a trip through the thread pool on every request
async def _now(request: Request) -> datetime:
    return now_of(request)


async def _kit(request: Request) -> ServiceKit:
    return kit_of(request)


Who = Annotated[Actor, Depends(actor)]
Now = Annotated[datetime, Depends(_now)]
Kit = Annotated[ServiceKit, Depends(_kit)]


def today(now: datetime) -> date:
    return now.astimezone(domain.WIB).date()


def problem(err: domain.DomainError) -> Problem:
    return Problem(_STATUS.get(err.code, 422), err.message, code=err.code)


def forbidden(detail: str) -> Problem:
    return Problem(403, detail, code="forbidden")


def person(who: Actor) -> str:
    """The caller's NIP if they are a person who may decide (an atasan, a Plt)."""
    if not who.is_(*PERSON_ROLES) or not who.nip:
        raise forbidden(
            "Hanya atasan langsung pegawai atau Plt yang ditunjuk yang dapat memutuskan laporan."
        )
    return who.nip


def period_key(period: str) -> str:
    """`period` as YYYY-MM, or 422 invalid_period."""
    try:
        year, month = parse_period(period)
    except ValueError as exc:
        raise Problem(422, str(exc), code="invalid_period") from None
    return f"{year:04d}-{month:02d}"
