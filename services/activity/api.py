"""Activity's HTTP API: daily reports, evidence, BKPSDM openings, SKP targets, the migration
import. The caller is the person in X-Actor-Nip / X-Actor-Role (forwarded by the portal)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import time as _time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import bindparam, func, null, true, tuple_, union_all
from sqlalchemy import select as core_select
from sqlmodel import col, select

from contracts.events import ActivityReported, ActivityRevised, ActivityWithdrawn, Event
from contracts.nip import nip_problem
from services.activity import domain
from services.activity.models import (
    DayUnlock,
    Evidence,
    Opening,
    PltDelegation,
    Report,
    SkpTarget,
)
from services.kernel.calendar import YEAR_MAX, YEAR_MIN, parse_period, year_problem
from services.kernel.uploads import csv_lines, not_text_reason
from services.shared.calendar_book import calendar_of
from services.shared.documents import document_response, read_body
from services.shared.employees import find_employee
from services.shared.http import (
    QUANTITY_MAX,
    Actor,
    Day,
    Moment,
    Problem,
    actor,
    kit_of,
    model_response,
    now_of,
)
from services.shared.kit import ServiceKit
from services.shared.uow import UnitOfWork

router = APIRouter(tags=["activity"])

PRODUCER = "activity"
PERSON_ROLES = ("asn", "atasan")  # employees acting for themselves
OVERSIGHT_ROLES = ("bkpsdm", "auditor")
IMPORTED_DESCRIPTION = "Data migrasi: laporan kegiatan harian dari sistem sebelumnya"
_UPLOAD_CHUNK = 64 * 1024
MAX_IMPORT_BYTES = 25 * 1024 * 1024  # migration CSV, ~50 bytes a line: room for 500,000 lines
# Refusals of the filing gate: waiting or lateness is a conflict with the state of the day,
# a date that has not come yet is an invalid request.
_GATE_STATUS = {
    domain.FilingCode.FUTURE_DATE: 422,
    domain.FilingCode.NO_SCAN_YET: 409,
    domain.FilingCode.DEADLINE_PASSED: 409,
}
_GATE_CODES = frozenset(c.value for c in domain.FilingCode)
_ERROR_STATUS = {"invalid_report": 422, "date_change": 422, "invalid_transition": 409}
# Magic numbers of the allowed evidence types: the name and the declared type can lie.
_MAGIC = {
    "application/pdf": (b"%PDF",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
}


# --------------------------------------------------------------------------- edges


def _today(request: Request) -> date:
    """The request's business date (WIB)."""
    return now_of(request).astimezone(domain.WIB).date()


def _deadline_rule(request: Request) -> tuple[int, time]:
    rules = request.app.state.ruleset
    return rules.filing_deadline_working_days, rules.filing_deadline_time


def _limits(request: Request) -> domain.ReportLimits:
    return request.app.state.limits


def _domain_problem(err: domain.DomainError) -> Problem:
    extra: dict[str, Any] = {}
    if err.problems:
        extra["errors"] = [
            {"field": p.field, "code": p.code, "message": p.message} for p in err.problems
        ]
    if err.code in _ERROR_STATUS:
        status = _ERROR_STATUS[err.code]
    elif err.code in _GATE_CODES:
        status = _GATE_STATUS.get(domain.FilingCode(err.code), 409)
    else:
        status = 422
    detail = err.message
    if err.problems:
        detail += " " + " ".join(p.message for p in err.problems)
    return Problem(status, detail, code=err.code, **extra)


def _forbidden(detail: str) -> Problem:
    return Problem(403, detail, code="forbidden")


def _require_person(who: Actor) -> str:
    if not who.is_(*PERSON_ROLES) or not who.nip:
        raise _forbidden("Hanya pegawai yang bersangkutan yang dapat melakukan tindakan ini.")
    return who.nip


def _atasan_of(uow: UnitOfWork, nip: str) -> str | None:
    row = find_employee(uow, nip)
    return row.atasan_nip if row is not None else None


def _is_plt_of(uow: UnitOfWork, plt_nip: str, atasan_nip: str, today: date) -> bool:
    """`plt_nip` holds an unrevoked delegation from `atasan_nip` whose window covers today."""
    found = uow.session.exec(
        select(PltDelegation.id).where(
            PltDelegation.plt_nip == plt_nip,
            PltDelegation.atasan_nip == atasan_nip,
            col(PltDelegation.revoked_at).is_(None),
            col(PltDelegation.start) <= today,
            col(PltDelegation.end) >= today,
        )
    ).first()
    return found is not None


def may_view(uow: UnitOfWork, who: Actor, owner_nip: str, today: date) -> bool:
    """Who may see an employee's reports and evidence (and the rest of their file here:
    filing status, unlocked days, openings, SKP targets and realisation). Every read route
    asks this one rule:

    * the owner; their direct atasan (as the employee master says now);
    * a Plt of that atasan: a delegation from the owner's *current* direct atasan (projected
      from approval's DelegationGranted / DelegationRevoked), not revoked, whose window
      (inclusive) covers `today`, the WIB date of the request. Like approval, where the Plt
      window is checked on the decision date and not on the report's date: while the
      mandate runs the Plt opens every report they may decide, including those dated before
      it began; once it ends or is revoked they see none, even those dated inside it. A Plt
      of another atasan sees nothing; a Plt only reads (SKP changes stay with the atasan);
    * BKPSDM, auditors and trusted system callers.
    """
    if who.is_(*OVERSIGHT_ROLES, "system"):
        return True
    if not who.is_(*PERSON_ROLES) or not who.nip:
        return False
    if who.nip == owner_nip:
        return True
    atasan = _atasan_of(uow, owner_nip)
    if atasan is None:
        return False  # no atasan recorded: nobody but the owner and oversight
    return who.nip == atasan or _is_plt_of(uow, who.nip, atasan, today)


def _ensure_view(request: Request, uow: UnitOfWork, who: Actor, owner_nip: str) -> None:
    if not may_view(uow, who, owner_nip, _today(request)):
        raise _forbidden(
            "Data laporan hanya dapat dilihat oleh pegawai yang bersangkutan, atasan "
            "langsungnya, Plt yang ditunjuk atasan tersebut untuk hari ini, BKPSDM dan auditor."
        )


def _period(period: str) -> tuple[int, int]:
    try:
        return parse_period(period)
    except ValueError as exc:
        raise Problem(422, str(exc), code="invalid_period") from None


# --------------------------------------------------------------------------- projections


# The filing gate's queries, built once: building a statement and its cache key on every
# request cost more CPU than SQLite spent running it. The day's unlocks (scan, dinas luar)
# and BKPSDM's openings come in one round trip: rows with an `opened_by` are openings,
# rows without are unlocks (their `id` column carries the unlock's source).
_OPENING_TABLE = Opening.__table__
_UNLOCK_TABLE = DayUnlock.__table__
_o, _u = _OPENING_TABLE.c, _UNLOCK_TABLE.c
_DAY_FACTS = union_all(
    core_select(_o.nip, _o.work_date, _o.id, _o.opened_by, _o.reason, _o.opened_at, _o.until).where(
        tuple_(_o.nip, _o.work_date).in_(bindparam("days", expanding=True))
    ),
    core_select(_u.nip, _u.work_date, _u.source, null(), null(), null(), null()).where(
        tuple_(_u.nip, _u.work_date).in_(bindparam("days", expanding=True)), _u.active == true()
    ),
)
# a report whose minutes count in its day: not withdrawn, not rejected
_LIVE = col(Report.status).not_in(
    [domain.ReportStatus.WITHDRAWN.value, domain.ReportStatus.REJECTED.value]
)
# the day's minutes of the other live reports (an edit or revision replaces its own)
_OTHER_LIVE_MINUTES = select(func.coalesce(func.sum(Report.minutes), 0)).where(
    Report.nip == bindparam("nip"),
    Report.work_date == bindparam("day"),
    Report.id != bindparam("except_id"),
    _LIVE,
)


DayFacts = tuple[domain.Unlock | None, list[tuple[str, domain.Opening]]]


def day_facts(uow: UnitOfWork, nip: str, day: date) -> DayFacts:
    """The scan (preferred) or dinas luar that opens `day` for `nip`, and BKPSDM's openings
    of that day as (opening id, domain value) pairs."""
    return day_facts_many(uow, [(nip, day)]).get((nip, day), (None, []))


def day_facts_many(
    uow: UnitOfWork, days: list[tuple[str, date]]
) -> dict[tuple[str, date], DayFacts]:
    """`day_facts` of several (nip, date) pairs in one query."""
    sources: dict[tuple[str, date], list[str]] = {}
    openings: dict[tuple[str, date], list[tuple[str, domain.Opening]]] = {}
    for row in uow.connection.execute(_DAY_FACTS, {"days": days}):
        key = (row.nip, row.work_date)
        if row.opened_by is None:
            sources.setdefault(key, []).append(row.id)
        else:
            opening = domain.Opening(
                row.nip, row.work_date, row.opened_by, row.reason, row.opened_at, row.until
            )
            openings.setdefault(key, []).append((row.id, opening))
    out: dict[tuple[str, date], DayFacts] = {}
    for key in set(sources) | set(openings):
        unlock = None
        if key in sources:
            best = min(sources[key], key=lambda source: 0 if source == "scan" else 1)
            unlock = domain.Unlock(key[0], key[1], domain.UnlockSource(best))
        out[key] = (unlock, openings.get(key, []))
    return out


def _opening_id(
    pairs: Iterable[tuple[str, domain.Opening]], used: domain.Opening | None
) -> str | None:
    for opening_id, value in pairs:
        if value == used:
            return opening_id
    return None


def _to_target(row: SkpTarget) -> domain.SkpTarget:
    return domain.SkpTarget(
        row.id, row.nip, row.year, row.activity, row.indicator, row.target_quantity
    )


def _targets(uow: UnitOfWork, nip: str, year: int) -> dict[str, domain.SkpTarget]:
    rows = uow.session.exec(
        select(SkpTarget).where(SkpTarget.nip == nip, SkpTarget.year == year)
    ).all()
    return {r.id: _to_target(r) for r in rows}


_LIVE_MINUTES_MANY = (
    select(col(Report.nip), col(Report.work_date), func.sum(Report.minutes))
    .where(tuple_(Report.nip, Report.work_date).in_(bindparam("days", expanding=True)), _LIVE)
    .group_by(col(Report.nip), col(Report.work_date))
)


def _minutes_many(uow: UnitOfWork, days: list[tuple[str, date]]) -> dict[tuple[str, date], int]:
    """The minutes of live reports on each (nip, date), in one query."""
    rows = uow.connection.execute(_LIVE_MINUTES_MANY, {"days": days})
    return {(nip, day): int(total or 0) for nip, day, total in rows}


def _minutes_other(uow: UnitOfWork, nip: str, day: date, except_id: str) -> int:
    params = {"nip": nip, "day": day, "except_id": except_id}
    return int(uow.connection.execute(_OTHER_LIVE_MINUTES, params).scalar_one())


def to_daily_report(row: Report) -> domain.DailyReport:
    content = domain.ReportContent(
        row.work_date, row.description, row.output, row.quantity, row.minutes, row.skp_target_id
    )
    return domain.DailyReport(
        row.id, row.nip, content, domain.ReportStatus(row.status), row.filed_at, row.revision
    )


# --------------------------------------------------------------------------- schemas


class ReportIn(BaseModel):
    work_date: Day
    description: str = Field(max_length=10_000)
    output: str = Field(default="", max_length=1_000)
    quantity: int = Field(1, le=QUANTITY_MAX)  # below 1: the domain refuses it, per field
    minutes: int = Field(description="time spent, in minutes")
    skp_target_id: str | None = None

    def content(self, day: date | None = None) -> domain.ReportContent:
        return domain.ReportContent(
            day or self.work_date,
            self.description,
            self.output,
            self.quantity,
            self.minutes,
            self.skp_target_id,
        )


class ReportOut(BaseModel):
    id: str
    nip: str
    work_date: date
    description: str
    output: str
    quantity: int
    minutes: int
    skp_target_id: str | None
    status: str
    revision: int
    counts_for_tpp: bool
    imported: bool
    filed_at: datetime
    updated_at: datetime
    decided_by: str | None
    decided_as_plt_for: str | None
    decided_at: datetime | None
    decision_note: str | None
    message: str | None = None  # the gate's message at filing (deadline, TPP note)


def report_out(row: Report, message: str | None = None) -> ReportOut:
    data = {name: getattr(row, name) for name in ReportOut.model_fields if name != "message"}
    return ReportOut(**data, message=message)


def _event_body(row: Report) -> dict[str, Any]:
    return {
        "producer": PRODUCER,
        "nip": row.nip,
        "report_id": row.id,
        "work_date": row.work_date,
        "description": row.description,
        "output": row.output,
        "quantity": row.quantity,
        "minutes": row.minutes,
        "skp_target_id": row.skp_target_id,
    }


# --------------------------------------------------------------------------- filing


def _gate(
    request: Request, uow: UnitOfWork, nip: str, day: date, now: datetime
) -> tuple[domain.FilingDecision, str | None]:
    unlock, pairs = day_facts(uow, nip, day)
    return _decide(request, nip, day, now, unlock, pairs)


def _decide(
    request: Request,
    nip: str,
    day: date,
    now: datetime,
    unlock: domain.Unlock | None,
    pairs: list[tuple[str, domain.Opening]],
) -> tuple[domain.FilingDecision, str | None]:
    """The gate's decision from the day's facts, and the opening that allowed it (if any)."""
    days, at = _deadline_rule(request)
    decision = domain.check_filing(
        day,
        now,
        unlock,
        [o for _, o in pairs],
        calendar_of(request, day.year),
        days,
        at,
        nip=nip,
    )
    return decision, _opening_id(pairs, decision.opening)


@router.get("/employees/{nip}/filing-status")
def filing_status(
    nip: str, request: Request, work_date: Day, who: Actor = Depends(actor)
) -> dict[str, Any]:
    """May `nip` file for `work_date` now? The same answer POST /reports would give."""
    kit = kit_of(request)
    with kit.uow() as uow:
        _ensure_view(request, uow, who, nip)
        decision, _ = _gate(request, uow, nip, work_date, now_of(request))
    return {
        "allowed": decision.allowed,
        "code": str(decision.code),
        "message": decision.message,
        "deadline": decision.deadline.isoformat() if decision.deadline else None,
        "counts_for_tpp": decision.counts_for_tpp,
    }


def _day_key(nip: str, day: date) -> str:
    """What filings serialize on: the minutes of one person's day are checked, then added."""
    return f"report-day:{nip}:{day.isoformat()}"


_REPORT_TABLE = Report.__table__
_INSERT_REPORT = _REPORT_TABLE.insert()


@router.post("/reports", status_code=201, response_model=ReportOut)
async def file_report(body: ReportIn, request: Request, who: Actor = Depends(actor)) -> Response:
    """File a daily report for `work_date` (several per day are allowed)."""
    nip = _require_person(who)
    batcher: FilingBatcher = request.app.state.filings
    out = await batcher.file(_Filing(request, body, nip, now_of(request)))
    return model_response(out, 201)


@dataclass
class _Filing:
    request: Request
    body: ReportIn
    nip: str
    now: datetime


class FilingBatcher:
    """Group commit of one process's filings: the filings that arrive while a transaction
    is running are filed together in the next one (one gate query, one lock statement, one
    minutes query, one INSERT each for reports and outbox, one commit). At the month-end
    crush a store round trip was the larger part of a filing's cost; when filings come one
    at a time a batch holds one and nothing waits. Each filing gets its own answer: a
    refusal refuses only that one; a store failure fails the batch's filings (500)."""

    MAX_BATCH = 100

    def __init__(self, kit: ServiceKit) -> None:
        self._kit = kit
        self._waiting: list[tuple[_Filing, asyncio.Future[ReportOut]]] = []
        self._draining: asyncio.Task[None] | None = None  # held: a bare task may be collected

    async def file(self, filing: _Filing) -> ReportOut:
        future: asyncio.Future[ReportOut] = asyncio.get_running_loop().create_future()
        self._waiting.append((filing, future))
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self.MAX_BATCH]
                del self._waiting[: self.MAX_BATCH]
                filings = [f for f, _ in batch]
                try:
                    results = await self._kit.run_store(
                        functools.partial(_file_many, filings=filings)
                    )
                except Exception as exc:  # noqa: BLE001 - every filing of the batch learns it
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue  # its client went away
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._draining = None


def _file_many(uow: UnitOfWork, *, filings: list[_Filing]) -> list[ReportOut | Exception]:
    """File a batch: the gate and the content of each, then the minutes of each person-day
    read, checked and added under the lock of that day (filings of the same day in one
    batch count each other's minutes)."""
    request = filings[0].request  # the app's state (rule set, limits, calendar) is shared
    days = sorted({(f.nip, f.body.work_date) for f in filings})
    facts = day_facts_many(uow, days)
    gates = []
    for f in filings:
        unlock, pairs = facts.get((f.nip, f.body.work_date), (None, []))
        gates.append(_decide(request, f.nip, f.body.work_date, f.now, unlock, pairs))
    uow.serialize_many([_day_key(nip, day) for nip, day in days])
    minutes = _minutes_many(uow, days)
    results: list[ReportOut | Exception] = []
    rows: list[dict[str, Any]] = []
    events: list[Event] = []
    for f, (decision, opening_id) in zip(filings, gates, strict=True):
        body, nip, now = f.body, f.nip, f.now
        targets = _targets(uow, nip, body.work_date.year) if body.skp_target_id else None
        try:
            report = domain.file_report(
                str(uuid.uuid4()),
                nip,
                body.content(),
                now,
                decision,
                _limits(request),
                targets=targets,
                minutes_already_reported=minutes.get((nip, body.work_date), 0),
            )
        except domain.DomainError as err:
            results.append(_domain_problem(err))
            continue
        content = report.content
        minutes[(nip, body.work_date)] = minutes.get((nip, body.work_date), 0) + (
            content.minutes_spent
        )
        values: dict[str, Any] = {
            "id": report.id,
            "nip": nip,
            "work_date": body.work_date,
            "description": content.description,
            "output": content.output,
            "quantity": content.quantity,
            "minutes": content.minutes_spent,
            "skp_target_id": content.skp_target_id,
            "status": report.status.value,
            "revision": 0,
            "counts_for_tpp": decision.counts_for_tpp,
            "opening_id": opening_id,
            "imported": False,
            "filed_at": now,
            "updated_at": now,
        }
        rows.append(values)
        events.append(
            ActivityReported(
                occurred_at=now,
                producer=PRODUCER,
                nip=nip,
                report_id=report.id,
                work_date=body.work_date,
                description=content.description,
                output=content.output,
                quantity=content.quantity,
                minutes=content.minutes_spent,
                skp_target_id=content.skp_target_id,
            )
        )
        results.append(
            ReportOut(
                **{k: v for k, v in values.items() if k != "opening_id"},
                decided_by=None,
                decided_as_plt_for=None,
                decided_at=None,
                decision_note=None,
                message=decision.message,
            )
        )
    if rows:
        uow.connection.execute(_INSERT_REPORT, rows)
        uow.emit_many(events)
    uow.commit()
    return results


def _own_report(uow: UnitOfWork, report_id: str, nip: str) -> Report:
    row = uow.session.get(Report, report_id)
    if row is None:
        raise Problem(404, "Laporan tidak ditemukan.", code="not_found")
    if row.nip != nip:
        raise _forbidden("Hanya pemilik laporan yang dapat mengubah laporan ini.")
    return row


def _apply_content(row: Report, report: domain.DailyReport, now: datetime) -> None:
    row.description = report.content.description
    row.output = report.content.output
    row.quantity = report.content.quantity
    row.minutes = report.content.minutes_spent
    row.skp_target_id = report.content.skp_target_id
    row.status = report.status.value
    row.revision = report.revision
    row.updated_at = now


@router.get("/reports/{report_id}", response_model=ReportOut)
def get_report(report_id: str, request: Request, who: Actor = Depends(actor)) -> ReportOut:
    with kit_of(request).uow() as uow:
        row = uow.session.get(Report, report_id)
        if row is None:
            raise Problem(404, "Laporan tidak ditemukan.", code="not_found")
        _ensure_view(request, uow, who, row.nip)
    return report_out(row)


@router.put("/reports/{report_id}", response_model=ReportOut)
def edit_report(
    report_id: str, body: ReportIn, request: Request, who: Actor = Depends(actor)
) -> ReportOut:
    """Change a report still waiting for the atasan (under its date's filing gate)."""
    nip = _require_person(who)
    now = now_of(request)
    with kit_of(request).uow() as uow:
        row = _own_report(uow, report_id, nip)
        decision, _ = _gate(request, uow, nip, row.work_date, now)
        _store_change(request, uow, row, body, decision, now, domain.edit_report)
    return report_out(row, decision.message)


@router.post("/reports/{report_id}/revise", response_model=ReportOut)
def revise_report(
    report_id: str, body: ReportIn, request: Request, who: Actor = Depends(actor)
) -> ReportOut:
    """Send the revision the atasan asked for: the report goes back to the atasan."""
    nip = _require_person(who)
    now = now_of(request)
    with kit_of(request).uow() as uow:
        row = _own_report(uow, report_id, nip)
        days, at = _deadline_rule(request)
        requested_at = row.revision_requested_at or row.updated_at
        decision = domain.check_revision(
            requested_at,
            now,
            calendar_of(request, requested_at.year),
            days,
            at,
            report_date=row.work_date,
        )
        if not decision.allowed:
            opened, _ = _gate(request, uow, nip, row.work_date, now)
            if opened.code is domain.FilingCode.OPENED:
                decision = opened  # BKPSDM opened the date again: the opening rules
        _store_change(request, uow, row, body, decision, now, domain.revise_report)
    return report_out(row, decision.message)


def _store_change(
    request: Request,
    uow: UnitOfWork,
    row: Report,
    body: ReportIn,
    decision: domain.FilingDecision,
    now: datetime,
    change: Callable[..., domain.DailyReport],
) -> None:
    """Apply an edit or a revision through the domain, store it, emit ActivityRevised."""
    nip = row.nip
    uow.serialize(_day_key(nip, row.work_date))
    uow.session.refresh(row)  # as it stands now that this transaction holds the day
    try:
        report = change(
            to_daily_report(row),
            body.content(),
            decision,
            _limits(request),
            targets=_targets(uow, nip, row.work_date.year) if body.skp_target_id else None,
            minutes_already_reported=_minutes_other(uow, nip, row.work_date, row.id),
        )
    except domain.DomainError as err:
        raise _domain_problem(err) from None
    _apply_content(row, report, now)
    uow.session.add(row)
    uow.emit(ActivityRevised(occurred_at=now, revision=row.revision, **_event_body(row)))
    uow.commit()


@router.post("/reports/{report_id}/withdraw", response_model=ReportOut)
def withdraw_report(report_id: str, request: Request, who: Actor = Depends(actor)) -> ReportOut:
    nip = _require_person(who)
    now = now_of(request)
    with kit_of(request).uow() as uow:
        row = _own_report(uow, report_id, nip)
        try:
            report = domain.withdraw_report(to_daily_report(row))
        except domain.DomainError as err:
            raise _domain_problem(err) from None
        row.status = report.status.value
        row.updated_at = now
        uow.session.add(row)
        uow.emit(
            ActivityWithdrawn(
                occurred_at=now,
                producer=PRODUCER,
                nip=nip,
                report_id=row.id,
                work_date=row.work_date,
            )
        )
        uow.commit()
    return report_out(row)


@router.get("/employees/{nip}/reports", response_model=list[ReportOut])
def employee_reports(
    nip: str,
    request: Request,
    period: str = Query(description="YYYY-MM"),
    who: Actor = Depends(actor),
) -> list[ReportOut]:
    """An employee's reports of one month, by date then filing time."""
    year, month = _period(period)
    first = date(year, month, 1)
    after = date(year + month // 12, month % 12 + 1, 1)
    with kit_of(request).uow() as uow:
        _ensure_view(request, uow, who, nip)
        rows = uow.session.exec(
            select(Report)
            .where(Report.nip == nip, Report.work_date >= first, Report.work_date < after)
            .order_by(col(Report.work_date), col(Report.filed_at))
        ).all()
    return [report_out(r) for r in rows]


@router.get("/employees/{nip}/unlocked-days")
def unlocked_days(
    nip: str, request: Request, period: str | None = None, who: Actor = Depends(actor)
) -> list[dict[str, str]]:
    """Days on which the employee may file a report (a scan or dinas luar arrived)."""
    kit = kit_of(request)
    with kit.uow() as uow:
        _ensure_view(request, uow, who, nip)
        rows = uow.session.exec(
            select(DayUnlock)
            .where(DayUnlock.nip == nip, DayUnlock.active == True)  # noqa: E712
            .order_by(col(DayUnlock.work_date))
        ).all()
    return [
        {"date": str(r.work_date), "source": r.source, "ref": r.ref}
        for r in rows
        if period is None or r.work_date.strftime("%Y-%m") == period
    ]


# --------------------------------------------------------------------------- evidence


class EvidenceOut(BaseModel):
    id: str
    report_id: str
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


def _evidence_out(row: Evidence) -> EvidenceOut:
    return EvidenceOut(**{name: getattr(row, name) for name in EvidenceOut.model_fields})


def evidence_root(request: Request) -> Path:
    return request.app.state.evidence_dir


@router.post("/reports/{report_id}/evidence", status_code=201, response_model=EvidenceOut)
async def upload_evidence(
    report_id: str,
    request: Request,
    file: UploadFile = File(...),
    who: Actor = Depends(actor),
) -> EvidenceOut:
    """Attach one evidence file (PDF, JPG, PNG, DOCX, XLSX) to a report not yet decided."""
    nip = _require_person(who)
    limits = _limits(request)
    kit = kit_of(request)

    def check_report() -> Report:
        with kit.uow() as uow:
            row = _own_report(uow, report_id, nip)
        if row.status not in (
            domain.ReportStatus.PENDING.value,
            domain.ReportStatus.REVISION_REQUESTED.value,
        ):
            raise Problem(
                409,
                "Bukti hanya dapat dilampirkan pada laporan yang menunggu persetujuan atau "
                "diminta revisi.",
                code="invalid_transition",
            )
        return row

    row = await asyncio.to_thread(check_report)
    evidence_id = str(uuid.uuid4())
    name = Path(file.filename or "").name
    folder = evidence_root(request) / nip / report_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{evidence_id}{Path(name).suffix.lower()}"
    digest, size, head = hashlib.sha256(), 0, b""
    # Stream to disk, stop reading once over the limit: the size is the evidence's, not the
    # client's word for it.
    with target.open("wb") as out:
        while chunk := await file.read(_UPLOAD_CHUNK):
            if len(head) < 16:
                head += chunk[: 16 - len(head)]
            size += len(chunk)
            if size > limits.max_evidence_bytes:
                break
            digest.update(chunk)
            out.write(chunk)
    if size > limits.max_evidence_bytes:
        # the refusal states the file's size, not the part read before the limit: the
        # multipart parser has spooled and counted it already
        if file.size is not None:
            size = file.size
        else:
            while chunk := await file.read(_UPLOAD_CHUNK):
                size += len(chunk)
    descriptor = domain.EvidenceFile(
        name, file.content_type or "", size, digest.hexdigest() if size else ""
    )
    problems = domain.validate_evidence(descriptor, limits.max_evidence_bytes, "file")
    kind = domain.evidence_type_of(descriptor)
    if kind is not None and size > 0 and not head.startswith(_MAGIC[kind.content_type]):
        problems.append(
            domain.Problem(
                "file",
                "type_not_allowed",
                f"Isi berkas '{name}' tidak sesuai dengan jenisnya ({kind.label}).",
            )
        )
    if problems:
        target.unlink(missing_ok=True)
        codes = {p.code for p in problems}
        status = 413 if "too_large" in codes else 415 if "type_not_allowed" in codes else 422
        raise Problem(
            status,
            " ".join(p.message for p in problems),
            code=problems[0].code,
            errors=[{"field": p.field, "code": p.code, "message": p.message} for p in problems],
        )

    def store() -> Evidence:
        with kit.uow() as uow:
            same = uow.session.exec(
                select(Evidence).where(
                    Evidence.report_id == report_id, Evidence.sha256 == descriptor.sha256
                )
            ).first()
            if same is not None:
                raise Problem(
                    409, f"Berkas '{name}' sudah dilampirkan pada laporan ini.", code="duplicate"
                )
            ev = Evidence(
                id=evidence_id,
                report_id=report_id,
                nip=row.nip,
                name=name,
                content_type=kind.content_type if kind else descriptor.content_type,
                size=size,
                sha256=descriptor.sha256,
                path=str(target.relative_to(evidence_root(request))),
                uploaded_at=now_of(request),
            )
            uow.session.add(ev)
            uow.commit()
            return ev

    try:
        ev = await asyncio.to_thread(store)
    except BaseException:  # refused, or the store failed: no orphan file either way
        target.unlink(missing_ok=True)
        raise
    return _evidence_out(ev)


@router.get("/reports/{report_id}/evidence", response_model=list[EvidenceOut])
def list_evidence(
    report_id: str, request: Request, who: Actor = Depends(actor)
) -> list[EvidenceOut]:
    with kit_of(request).uow() as uow:
        row = uow.session.get(Report, report_id)
        if row is None:
            raise Problem(404, "Laporan tidak ditemukan.", code="not_found")
        _ensure_view(request, uow, who, row.nip)
        rows = uow.session.exec(
            select(Evidence)
            .where(Evidence.report_id == report_id)
            .order_by(col(Evidence.uploaded_at))
        ).all()
    return [_evidence_out(r) for r in rows]


@router.get("/evidence/{evidence_id}")
def download_evidence(
    evidence_id: str, request: Request, who: Actor = Depends(actor)
) -> FileResponse:
    with kit_of(request).uow() as uow:
        row = uow.session.get(Evidence, evidence_id)
        if row is None:
            raise Problem(404, "Berkas bukti tidak ditemukan.", code="not_found")
        _ensure_view(request, uow, who, row.nip)
    path = evidence_root(request) / row.path
    if not path.is_file():
        raise Problem(404, "Berkas bukti tidak ditemukan di penyimpanan.", code="not_found")
    return document_response(
        path, row.content_type, row.name, headers={"X-Content-SHA256": row.sha256}
    )


# --------------------------------------------------------------------------- openings


class OpeningIn(BaseModel):
    work_date: Day
    reason: str = Field(max_length=2_000)
    until: Moment | None = Field(
        None,
        description="end of the opening (with offset); default: the filing deadline "
        "counted from today",
    )


class OpeningOut(BaseModel):
    id: str
    nip: str
    work_date: date
    opened_by: str
    reason: str
    opened_at: datetime
    until: datetime


def _opening_out(row: Opening) -> OpeningOut:
    return OpeningOut(**{name: getattr(row, name) for name in OpeningOut.model_fields})


@router.post("/employees/{nip}/openings", status_code=201, response_model=OpeningOut)
def open_date(
    nip: str, body: OpeningIn, request: Request, who: Actor = Depends(actor)
) -> OpeningOut:
    """BKPSDM opens a date for an employee (the fingerprint device or network failed...)."""
    if not who.is_("bkpsdm") or not who.nip:
        raise _forbidden("Hanya petugas BKPSDM (dengan NIP) yang dapat membuka tanggal laporan.")
    if problem := nip_problem(nip):
        raise Problem(422, problem, code="invalid_nip")
    now = now_of(request)
    days, at = _deadline_rule(request)
    today = now.astimezone(domain.WIB).date()
    until = body.until or domain.filing_deadline(today, calendar_of(request, today.year), days, at)
    if until.tzinfo is None:
        raise Problem(422, "Batas akhir pembukaan harus memuat zona waktu.", code="validation")
    opening = domain.Opening(nip, body.work_date, who.nip, body.reason, now, until)
    try:
        domain.validate_opening(opening)
    except domain.DomainError as err:
        raise Problem(422, err.message, code=err.code) from None
    row = Opening(
        id=str(uuid.uuid4()),
        nip=nip,
        work_date=body.work_date,
        opened_by=who.nip,
        reason=body.reason.strip(),
        opened_at=now,
        until=until,
    )
    with kit_of(request).uow() as uow:
        uow.session.add(row)
        uow.commit()
    return _opening_out(row)


@router.get("/employees/{nip}/openings", response_model=list[OpeningOut])
def list_openings(nip: str, request: Request, who: Actor = Depends(actor)) -> list[OpeningOut]:
    with kit_of(request).uow() as uow:
        _ensure_view(request, uow, who, nip)
        rows = uow.session.exec(
            select(Opening).where(Opening.nip == nip).order_by(col(Opening.opened_at))
        ).all()
    return [_opening_out(r) for r in rows]


# --------------------------------------------------------------------------- SKP targets


class SkpTargetIn(BaseModel):
    year: int = Field(ge=YEAR_MIN, le=YEAR_MAX)
    activity: str = Field(max_length=2_000)
    indicator: str = Field(max_length=2_000)
    target_quantity: int = Field(le=QUANTITY_MAX)


class SkpTargetOut(SkpTargetIn):
    id: str
    nip: str


def _target_out(row: SkpTarget) -> SkpTargetOut:
    return SkpTargetOut(**{name: getattr(row, name) for name in SkpTargetOut.model_fields})


def _ensure_skp_writer(uow: UnitOfWork, who: Actor, nip: str) -> str | None:
    """The employee drafts their SKP; the atasan and BKPSDM may correct it."""
    if who.is_("bkpsdm"):
        return who.nip
    if who.is_(*PERSON_ROLES) and who.nip and who.nip in (nip, _atasan_of(uow, nip)):
        return who.nip
    raise _forbidden(
        "Target SKP hanya dapat diubah oleh pegawai yang bersangkutan, atasan langsungnya atau "
        "BKPSDM."
    )


def _validate_target(target: domain.SkpTarget) -> None:
    problems = domain.validate_skp_target(target)
    if problems:
        raise Problem(
            422,
            " ".join(p.message for p in problems),
            code="invalid_skp_target",
            errors=[{"field": p.field, "code": p.code, "message": p.message} for p in problems],
        )


@router.post("/employees/{nip}/skp-targets", status_code=201, response_model=SkpTargetOut)
def create_target(
    nip: str, body: SkpTargetIn, request: Request, who: Actor = Depends(actor)
) -> SkpTargetOut:
    if problem := nip_problem(nip):
        raise Problem(422, problem, code="invalid_nip")
    with kit_of(request).uow() as uow:
        by = _ensure_skp_writer(uow, who, nip)
        target = domain.SkpTarget(
            str(uuid.uuid4()), nip, body.year, body.activity, body.indicator, body.target_quantity
        )
        _validate_target(target)
        row = SkpTarget(
            id=target.id,
            nip=nip,
            year=body.year,
            activity=body.activity.strip(),
            indicator=body.indicator.strip(),
            target_quantity=body.target_quantity,
            created_by=by,
            updated_at=now_of(request),
        )
        uow.session.add(row)
        uow.commit()
    return _target_out(row)


@router.get("/employees/{nip}/skp-targets", response_model=list[SkpTargetOut])
def list_targets(
    nip: str,
    request: Request,
    year: int | None = Query(None, ge=YEAR_MIN, le=YEAR_MAX),
    who: Actor = Depends(actor),
) -> list[SkpTargetOut]:
    with kit_of(request).uow() as uow:
        _ensure_view(request, uow, who, nip)
        query = select(SkpTarget).where(SkpTarget.nip == nip)
        if year is not None:
            query = query.where(SkpTarget.year == year)
        rows = uow.session.exec(query.order_by(col(SkpTarget.year), col(SkpTarget.id))).all()
    return [_target_out(r) for r in rows]


@router.put("/skp-targets/{target_id}", response_model=SkpTargetOut)
def update_target(
    target_id: str, body: SkpTargetIn, request: Request, who: Actor = Depends(actor)
) -> SkpTargetOut:
    with kit_of(request).uow() as uow:
        row = uow.session.get(SkpTarget, target_id)
        if row is None:
            raise Problem(404, "Target SKP tidak ditemukan.", code="not_found")
        _ensure_skp_writer(uow, who, row.nip)
        if body.year != row.year and _linked(uow, target_id):
            raise Problem(
                409,
                "Tahun target SKP tidak dapat diubah karena sudah ada laporan yang terkait.",
                code="target_in_use",
            )
        _validate_target(
            domain.SkpTarget(
                row.id, row.nip, body.year, body.activity, body.indicator, body.target_quantity
            )
        )
        row.year, row.activity, row.indicator = body.year, body.activity.strip(), body.indicator
        row.target_quantity = body.target_quantity
        row.updated_at = now_of(request)
        uow.session.add(row)
        uow.commit()
    return _target_out(row)


def _linked(uow: UnitOfWork, target_id: str) -> bool:
    return (
        uow.session.exec(select(Report.id).where(Report.skp_target_id == target_id)).first()
        is not None
    )


@router.delete("/skp-targets/{target_id}", status_code=204)
def delete_target(target_id: str, request: Request, who: Actor = Depends(actor)) -> None:
    with kit_of(request).uow() as uow:
        row = uow.session.get(SkpTarget, target_id)
        if row is None:
            raise Problem(404, "Target SKP tidak ditemukan.", code="not_found")
        _ensure_skp_writer(uow, who, row.nip)
        if _linked(uow, target_id):
            raise Problem(
                409,
                "Target SKP tidak dapat dihapus karena sudah ada laporan yang terkait.",
                code="target_in_use",
            )
        uow.session.delete(row)
        uow.commit()


@router.get("/employees/{nip}/skp-realisation")
def skp_realisation(
    nip: str,
    request: Request,
    period: str = Query(description="YYYY-MM"),
    who: Actor = Depends(actor),
) -> list[dict[str, Any]]:
    """Monthly recap per SKP target: approved quantity in the month and cumulative."""
    year, month = _period(period)
    with kit_of(request).uow() as uow:
        _ensure_view(request, uow, who, nip)
        targets = list(_targets(uow, nip, year).values())
        rows = uow.session.exec(
            select(Report).where(
                Report.nip == nip,
                col(Report.skp_target_id).in_([t.id for t in targets]),
                Report.status == domain.ReportStatus.APPROVED.value,
            )
        ).all()
    recap = domain.monthly_realisation(
        sorted(targets, key=lambda t: t.id), [to_daily_report(r) for r in rows], year, month
    )
    return [
        {
            "target_id": r.target.id,
            "activity": r.target.activity,
            "indicator": r.target.indicator,
            "target_quantity": r.target.target_quantity,
            "quantity": r.quantity,
            "percent": str(r.percent),
            "cumulative_quantity": r.cumulative_quantity,
            "cumulative_percent": str(r.cumulative_percent),
        }
        for r in recap
    ]


# --------------------------------------------------------------------------- migration import

_IMPORT_STATUSES = {"approved": "approved", "rejected": "rejected", "pending": None}
_CHUNK = 500


def import_report_id(nip: str, day: date) -> str:
    """Deterministic: importing the same file twice creates each report once."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sikerja:import:{nip}:{day.isoformat()}"))


def _unlocked_set(uow: UnitOfWork, nips: list[str]) -> set[tuple[str, date]]:
    found: set[tuple[str, date]] = set()
    for i in range(0, len(nips), _CHUNK):
        rows = uow.session.exec(
            select(col(DayUnlock.nip), col(DayUnlock.work_date)).where(
                col(DayUnlock.nip).in_(nips[i : i + _CHUNK]),
                DayUnlock.active == True,  # noqa: E712
            )
        ).all()
        found.update((n, d) for n, d in rows)
    return found


def _existing_ids(uow: UnitOfWork, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        found.update(
            uow.session.exec(select(Report.id).where(col(Report.id).in_(ids[i : i + _CHUNK])))
        )
    return found


def _parse_import(
    text: str, today: date
) -> tuple[list[tuple[int, str, date, str]], list[dict[str, Any]]]:
    good: list[tuple[int, str, date, str]] = []
    bad: list[dict[str, Any]] = []
    # line by line: a quote left open spoils its own line, not the ones after it
    lines = csv_lines(text)
    first = next((ln for ln in lines if ln.error or any(f.strip() for f in ln.fields)), None)
    fieldnames = first.fields if first is not None and first.error is None else []
    missing = {"nip", "tanggal", "status"} - set(fieldnames)
    if missing:
        raise Problem(
            422,
            "Kepala berkas CSV harus memuat kolom nip,tanggal,status (kurang: "
            + ", ".join(sorted(missing))
            + ").",
            code="invalid_header",
        )
    for csv_line in lines:
        line = csv_line.line_no
        if csv_line.error is not None:
            bad.append({"line": line, "code": "unreadable_line", "reason": csv_line.error})
            continue
        if not any(f.strip() for f in csv_line.fields):
            continue
        rec = dict(zip(fieldnames, csv_line.fields, strict=False))
        nip = (rec.get("nip") or "").strip()
        raw_date = (rec.get("tanggal") or "").strip()
        status = (rec.get("status") or "").strip().lower()
        refusal: tuple[str, str] | None = None
        day: date | None = None
        if problem := nip_problem(nip):
            refusal = ("invalid_nip", problem)
        else:
            try:
                day = date.fromisoformat(raw_date)
            except ValueError:
                refusal = ("invalid_date", "tanggal harus berformat YYYY-MM-DD")
            if day is not None and (problem := year_problem(day.year)):
                refusal = ("invalid_date", problem)
        if refusal is None and status not in _IMPORT_STATUSES:
            refusal = ("invalid_status", "status harus approved, pending atau rejected")
        if refusal is None and day is not None and day > today:
            refusal = ("future_date", "tanggal belum tiba")
        if refusal is not None or day is None:
            code, reason = refusal or ("invalid_date", "tanggal tidak valid")
            bad.append(
                {"line": line, "nip": nip, "tanggal": raw_date, "code": code, "reason": reason}
            )
            continue
        good.append((line, nip, day, status))
    return good, bad


async def _settle(kit: ServiceKit, wait_s: float) -> None:
    """Wait while the day-unlock projection is still growing (the scans of the same migration
    were posted to attendance moments ago and may still be on their way), at most wait_s."""

    def count() -> int:
        with kit.uow() as uow:
            return int(uow.session.exec(select(func.count()).select_from(DayUnlock)).one())

    deadline = _time.monotonic() + wait_s
    last, stable = await asyncio.to_thread(count), 0
    while _time.monotonic() < deadline and stable < 3:
        await asyncio.sleep(0.5)
        now_count = await asyncio.to_thread(count)
        stable = stable + 1 if now_count == last else 0
        last = now_count


@router.post("/reports/import")
async def import_reports(
    request: Request,
    wait_s: float = Query(15.0, ge=0, le=120, description="wait for scans still on their way"),
    who: Actor = Depends(actor),
) -> dict[str, Any]:
    """BKPSDM migration import (text/csv `nip,tanggal,status`). A line becomes a report when
    activity's projection unlocks that date; `approved`/`rejected` is the historical decision,
    carried on ActivityReported (`imported_decision`) so approval records it and announces it
    to tpp like any decision. The filing deadline does not apply to history."""
    if not who.is_("bkpsdm"):
        raise _forbidden("Impor data migrasi laporan hanya dapat dilakukan oleh BKPSDM.")
    kit = kit_of(request)
    raw = await read_body(request, MAX_IMPORT_BYTES, "berkas impor")
    if reason := not_text_reason(raw[:8192]):
        raise Problem(422, reason, code="not_csv")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(422, "Berkas harus berupa teks CSV UTF-8.", code="invalid_encoding") from None
    now = now_of(request)
    good, bad = _parse_import(text, now.astimezone(domain.WIB).date())
    nips = sorted({nip for _, nip, _, _ in good})

    def missing() -> int:
        with kit.uow() as uow:
            unlocked = _unlocked_set(uow, nips)
        return sum(1 for _, nip, day, _ in good if (nip, day) not in unlocked)

    if good and wait_s > 0 and await asyncio.to_thread(missing) > 0:
        await _settle(kit, wait_s)

    def apply() -> dict[str, Any]:
        accepted = duplicate = 0
        with kit.uow() as uow:
            unlocked = _unlocked_set(uow, nips)
            ids = [import_report_id(nip, day) for _, nip, day, _ in good]
            existing = _existing_ids(uow, ids)
            for (line, nip, day, status), report_id in zip(good, ids, strict=True):
                if report_id in existing:
                    duplicate += 1
                    continue
                if (nip, day) not in unlocked:
                    bad.append(
                        {
                            "line": line,
                            "nip": nip,
                            "tanggal": day.isoformat(),
                            "code": domain.FilingCode.NO_SCAN_YET.value,
                            "reason": "tidak ada sidik jari atau dinas luar pada tanggal itu",
                        }
                    )
                    continue
                existing.add(report_id)
                row = Report(
                    id=report_id,
                    nip=nip,
                    work_date=day,
                    description=IMPORTED_DESCRIPTION,
                    output="laporan kegiatan harian",
                    quantity=1,
                    minutes=0,
                    status=domain.ReportStatus.PENDING.value,
                    counts_for_tpp=calendar_of(request, day.year).is_working_day(day),
                    imported=True,
                    filed_at=now,
                    updated_at=now,
                )
                uow.session.add(row)
                uow.emit(
                    ActivityReported(
                        occurred_at=now,
                        imported_decision=_IMPORT_STATUSES[status],
                        **_event_body(row),
                    )
                )
                accepted += 1
            uow.commit()
        bad.sort(key=lambda b: b["line"])
        return {"accepted": accepted, "duplicate": duplicate, "rejected": len(bad), "errors": bad}

    return await asyncio.to_thread(apply)
