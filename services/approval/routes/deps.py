"""What approval's routes share: `Annotated` dependency aliases (the caller, the clock's
now, the kit) and the edge helpers that turn roles and domain refusals into problem+json."""

from __future__ import annotations

from datetime import date, datetime

from services.approval import domain
from services.kernel.calendar import WIB
from services.shared.http import Actor, Kit, Now, Problem, Who, period_key

__all__ = ["Kit", "Now", "Who", "period_key"]

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
    "self_penilai": 422,
    "nama_required": 422,
    "penilai_overlap": 409,
}


def today(now: datetime) -> date:
    return now.astimezone(WIB).date()


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


def decider(who: Actor) -> tuple[str, bool]:
    """The caller's NIP and whether they are a BKPSDM officer (who decides where BKPSDM is
    the penilai of an employee without atasan); the domain checks the rest."""
    if who.is_("bkpsdm") and who.nip:
        return who.nip, True
    if who.is_("bkpsdm"):
        raise forbidden(
            "Keputusan BKPSDM sebagai penilai dicatat atas nama petugasnya: token tanpa NIP "
            "tidak dapat memutuskan laporan."
        )
    return person(who), False
