"""What activity's routes share: `Annotated` dependency aliases (the shared caller, clock's
now and kit; the filing rules, the filing batcher, the evidence folder) and the edge
helpers that turn roles, domain refusals and missing rows into problem+json."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request

from services.activity import domain, gate, queries
from services.activity.commands import FilingBatcher
from services.activity.models import Report
from services.activity.queries import PERSON_ROLES, FilingRules
from services.kernel.calendar import WIB
from services.shared.http import Actor, Problem
from services.shared.uow import UnitOfWork

# Refusals of the filing gate: waiting or lateness is a conflict with the state of the day,
# a date that has not come yet is an invalid request.
_GATE_STATUS = {
    gate.FilingCode.FUTURE_DATE: 422,
    gate.FilingCode.NO_SCAN_YET: 409,
    gate.FilingCode.DEADLINE_PASSED: 409,
    gate.FilingCode.NOT_ACTIVE: 409,
}
_GATE_CODES = frozenset(c.value for c in gate.FilingCode)
_ERROR_STATUS = {"invalid_report": 422, "date_change": 422, "invalid_transition": 409}


def rules_of(request: Request) -> FilingRules:
    """The app's filing rules: the rule set's deadline, the limits, the calendar book."""
    state = request.app.state
    ruleset = state.ruleset
    return FilingRules(
        ruleset.filing_deadline_working_days,
        ruleset.filing_deadline_time,
        state.limits,
        state.calendar_for,
    )


def filings_of(request: Request) -> FilingBatcher:
    filings: FilingBatcher = request.app.state.filings
    return filings


# async: a sync dependency costs a trip through the thread pool on every request
async def _rules(request: Request) -> FilingRules:
    return rules_of(request)


async def _evidence_dir(request: Request) -> Path:
    evidence_dir: Path = request.app.state.evidence_dir
    return evidence_dir


Rules = Annotated[FilingRules, Depends(_rules)]
EvidenceDir = Annotated[Path, Depends(_evidence_dir)]


def today(now: datetime) -> date:
    """The request's business date (WIB)."""
    return now.astimezone(WIB).date()


def domain_problem(err: domain.DomainError) -> Problem:
    extra: dict[str, Any] = {}
    if err.problems:
        extra["errors"] = [
            {"field": p.field, "code": p.code, "message": p.message} for p in err.problems
        ]
    if err.code in _ERROR_STATUS:
        status = _ERROR_STATUS[err.code]
    elif err.code in _GATE_CODES:
        status = _GATE_STATUS.get(gate.FilingCode(err.code), 409)
    else:
        status = 422
    detail = err.message
    if err.problems:
        detail += " " + " ".join(p.message for p in err.problems)
    return Problem(status, detail, code=err.code, **extra)


def forbidden(detail: str) -> Problem:
    return Problem(403, detail, code="forbidden")


def require_person(who: Actor) -> str:
    if not who.is_(*PERSON_ROLES) or not who.nip:
        raise forbidden("Hanya pegawai yang bersangkutan yang dapat melakukan tindakan ini.")
    return who.nip


VIEW_REFUSED = (
    "Data laporan hanya dapat dilihat oleh pegawai yang bersangkutan, atasan "
    "langsungnya, Plt yang ditunjuk atasan tersebut untuk hari ini, operator OPD-nya, "
    "BKPSDM dan auditor."
)


def ensure_view(
    uow: UnitOfWork, who: Actor, owner_nip: str, now: datetime, on: date | None = None
) -> None:
    """`who` may see `owner_nip`'s file, or (`on`) their report of that date."""
    if not queries.may_view(uow, who, owner_nip, today(now), on):
        raise forbidden(VIEW_REFUSED)


def own_report(uow: UnitOfWork, report_id: str, nip: str) -> Report:
    row = queries.report(uow, report_id)
    if row is None:
        raise Problem(404, "Laporan tidak ditemukan.", code="not_found")
    if row.nip != nip:
        raise forbidden("Hanya pemilik laporan yang dapat mengubah laporan ini.")
    return row
