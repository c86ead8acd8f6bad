"""Approval's HTTP API: queues with their age, decisions (single and bulk), Plt
delegations, the audit log and the BKPSDM reopening of closed periods."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import or_, update
from sqlmodel import col, select

from contracts.events import (
    DelegationGranted,
    DelegationRevoked,
    ReportApproved,
    ReportRejected,
    RevisionRequested,
)
from contracts.nip import nip_problem
from services.approval import domain
from services.approval.handlers import PRODUCER, to_item
from services.approval.models import (
    DecisionLog,
    Delegation,
    PeriodClose,
    PeriodReopen,
    QueueEntry,
)
from services.shared.calendar import WorkCalendar, parse_period
from services.shared.calendar_book import calendar_of
from services.shared.employees import find_employee
from services.shared.http import Actor, Day, Problem, actor, kit_of, model_response, now_of
from services.shared.messaging import UnitOfWork

router = APIRouter(tags=["approval"])

PERSON_ROLES = ("asn", "atasan")
OVERSIGHT_ROLES = ("bkpsdm", "auditor")
MAX_BULK = 500
OVERDUE_THRESHOLD_MAX = 260  # working days: about a year
_STATUS = {
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
_EVENTS = {
    domain.DecisionKind.APPROVE: ReportApproved,
    domain.DecisionKind.REJECT: ReportRejected,
    domain.DecisionKind.REQUEST_REVISION: RevisionRequested,
}
_STATUS_AFTER = {
    domain.DecisionKind.APPROVE: domain.QueueStatus.APPROVED,
    domain.DecisionKind.REJECT: domain.QueueStatus.REJECTED,
    domain.DecisionKind.REQUEST_REVISION: domain.QueueStatus.REVISION_REQUESTED,
}


# --------------------------------------------------------------------------- edges


def _today(now: datetime) -> date:
    return now.astimezone(domain.WIB).date()


def _problem(err: domain.DomainError) -> Problem:
    return Problem(_STATUS.get(err.code, 422), err.message, code=err.code)


def _forbidden(detail: str) -> Problem:
    return Problem(403, detail, code="forbidden")


def _person(who: Actor) -> str:
    if not who.is_(*PERSON_ROLES) or not who.nip:
        raise _forbidden(
            "Hanya atasan langsung pegawai atau Plt yang ditunjuk yang dapat memutuskan laporan."
        )
    return who.nip


def _atasan_of(uow: UnitOfWork, nip: str) -> str | None:
    row = find_employee(uow, nip)
    return row.atasan_nip if row is not None else None


def _active_delegations(
    uow: UnitOfWork, *, atasan: Sequence[str] = (), plt: str | None = None
) -> list[domain.Delegation]:
    query = select(Delegation).where(col(Delegation.revoked_at).is_(None))
    if atasan:
        query = query.where(col(Delegation.atasan_nip).in_(list(atasan)))
    if plt is not None:
        query = query.where(Delegation.plt_nip == plt)
    return [
        domain.Delegation(r.atasan_nip, r.plt_nip, r.start, r.end)
        for r in uow.session.exec(query).all()
    ]


def locks_of(uow: UnitOfWork, owner_nip: str, period: str) -> tuple[list[str], list[str]]:
    """(closed, reopened) periods of `owner_nip` for the domain: a reopening counts only if
    it came after the latest close."""
    close = uow.session.get(PeriodClose, (owner_nip, period))
    if close is None:
        return [], []
    reopened = uow.session.exec(
        select(PeriodReopen.id).where(
            PeriodReopen.period == period,
            or_(col(PeriodReopen.nip).is_(None), PeriodReopen.nip == owner_nip),
            col(PeriodReopen.at) >= close.closed_at,
        )
    ).first()
    return [period], [period] if reopened is not None else []


def _period(period: str) -> str:
    try:
        year, month = parse_period(period)
    except ValueError as exc:
        raise Problem(422, str(exc), code="invalid_period") from None
    return f"{year:04d}-{month:02d}"


# --------------------------------------------------------------------------- queue


class QueueItemOut(BaseModel):
    report_id: str
    nip: str
    nama: str | None
    work_date: date
    description: str
    output: str
    quantity: int
    minutes: int
    skp_target_id: str | None
    status: str
    revision: int
    atasan_nip: str | None
    filed_at: datetime
    age_working_days: int
    as_plt_for: str | None = None


def _queue_out(
    uow: UnitOfWork,
    row: QueueEntry,
    today: date,
    calendar: WorkCalendar,
    as_plt_for: str | None = None,
) -> QueueItemOut:
    employee = find_employee(uow, row.owner_nip)
    item = to_item(row)
    return QueueItemOut(
        report_id=row.report_id,
        nip=row.owner_nip,
        nama=employee.nama if employee is not None else None,
        work_date=row.work_date,
        description=row.description,
        output=row.output,
        quantity=row.quantity,
        minutes=row.minutes,
        skp_target_id=row.skp_target_id,
        status=row.status,
        revision=row.revision,
        atasan_nip=row.atasan_nip,
        filed_at=row.filed_at,
        age_working_days=domain.age_in_working_days(item.filed_on, today, calendar),
        as_plt_for=as_plt_for,
    )


def _pending_of(uow: UnitOfWork, atasan_nip: str) -> list[QueueEntry]:
    rows = uow.session.exec(
        select(QueueEntry).where(
            QueueEntry.atasan_nip == atasan_nip,
            QueueEntry.status == domain.QueueStatus.PENDING.value,
        )
    ).all()
    ordered = domain.queue_of([to_item(r) for r in rows], atasan_nip)
    by_id = {r.report_id: r for r in rows}
    return [by_id[i.report_id] for i in ordered]


@router.get("/queue", response_model=list[QueueItemOut])
def my_queue(request: Request, who: Actor = Depends(actor)) -> list[QueueItemOut]:
    """The caller's queue: their subordinates' waiting reports, and those of every atasan
    who delegated to them as Plt for today; oldest first."""
    me = _person(who)
    now = now_of(request)
    today = _today(now)
    cal = calendar_of(request, today.year)
    with kit_of(request).uow() as uow:
        out = [_queue_out(uow, r, today, cal) for r in _pending_of(uow, me)]
        for d in _active_delegations(uow, plt=me):
            if d.covers(today):
                out += [
                    _queue_out(uow, r, today, cal, d.atasan_nip)
                    for r in _pending_of(uow, d.atasan_nip)
                ]
    return out


@router.get("/atasan/{atasan_nip}/queue", response_model=list[QueueItemOut])
def atasan_queue(
    atasan_nip: str, request: Request, who: Actor = Depends(actor)
) -> list[QueueItemOut]:
    """One atasan's waiting reports with their age (the atasan, BKPSDM, auditors, notifier)."""
    if not (
        who.is_(*OVERSIGHT_ROLES, "system") or (who.is_(*PERSON_ROLES) and who.nip == atasan_nip)
    ):
        raise _forbidden(
            "Antrean ini hanya dapat dilihat oleh atasan yang bersangkutan, BKPSDM dan auditor."
        )
    today = _today(now_of(request))
    cal = calendar_of(request, today.year)
    with kit_of(request).uow() as uow:
        return [_queue_out(uow, r, today, cal) for r in _pending_of(uow, atasan_nip)]


@router.get("/overdue")
def overdue(
    request: Request,
    threshold: int = Query(domain.DEFAULT_OVERDUE_THRESHOLD, ge=0, le=OVERDUE_THRESHOLD_MAX),
    who: Actor = Depends(actor),
) -> list[dict[str, Any]]:
    """Atasan with reports waiting more than `threshold` working days (the 09:00 reminder)."""
    if not who.is_(*OVERSIGHT_ROLES, "system"):
        raise _forbidden(
            "Daftar laporan terlambat diputuskan hanya untuk BKPSDM, auditor dan sistem."
        )
    today = _today(now_of(request))
    with kit_of(request).uow() as uow:
        rows = uow.session.exec(
            select(QueueEntry).where(QueueEntry.status == domain.QueueStatus.PENDING.value)
        ).all()
    found = domain.overdue(
        [to_item(r) for r in rows], today, calendar_of(request, today.year), threshold
    )
    return [
        {
            "atasan_nip": atasan,
            "reports": [
                {"report_id": o.item.report_id, "nip": o.item.owner_nip, "age_working_days": o.age}
                for o in waiting
            ],
        }
        for atasan, waiting in sorted(found.items())
    ]


@router.get("/reports/{report_id}", response_model=QueueItemOut)
def get_item(report_id: str, request: Request, who: Actor = Depends(actor)) -> QueueItemOut:
    now = now_of(request)
    with kit_of(request).uow() as uow:
        row = uow.session.get(QueueEntry, report_id)
        if row is None:
            raise Problem(404, "Laporan tidak ditemukan di antrean persetujuan.", code="not_found")
        allowed = who.is_(*OVERSIGHT_ROLES, "system")
        if not allowed and who.is_(*PERSON_ROLES) and who.nip:
            allowed = who.nip in (row.owner_nip, row.atasan_nip) or (
                domain.may_decide(
                    who.nip,
                    row.owner_nip,
                    row.work_date,
                    {row.owner_nip: _atasan_of(uow, row.owner_nip)},
                    _active_delegations(uow, plt=who.nip),
                    _today(now),
                )
                is not None
            )
        if not allowed:
            raise _forbidden("Anda tidak berwenang melihat laporan ini.")
        return _queue_out(uow, row, _today(now), calendar_of(request, _today(now).year))


# --------------------------------------------------------------------------- decisions


class DecisionOut(BaseModel):
    report_id: str
    status: str
    decided_by: str
    as_plt_for: str | None
    decided_at: datetime
    event_id: str


class ReasonIn(BaseModel):
    reason: str = Field(default="", max_length=5_000)


class NoteIn(BaseModel):
    note: str = Field(default="", max_length=5_000)


def _apply(
    uow: UnitOfWork,
    row: QueueEntry,
    result: domain.DecisionResult,
    now: datetime,
    source: str,
) -> DecisionOut:
    """Write the decision if nobody else decided meanwhile; audit it; emit its event."""
    audit = result.audit
    changed = uow.session.execute(
        update(QueueEntry)
        .where(
            col(QueueEntry.report_id) == row.report_id,
            col(QueueEntry.status) == domain.QueueStatus.PENDING.value,
            col(QueueEntry.revision) == row.revision,
        )
        .values(status=result.item.status.value, updated_at=now)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise domain.DomainError(
            "conflict",
            "Laporan ini baru saja diubah atau diputuskan; muat ulang antrean lalu coba lagi.",
        )
    fields: dict[str, Any] = {
        "occurred_at": now,
        "producer": PRODUCER,
        "nip": row.owner_nip,
        "report_id": row.report_id,
        "work_date": row.work_date,
        "decided_by": audit.actor_nip,
        "as_plt_for": audit.as_plt_for,
    }
    if audit.action is domain.DecisionKind.REJECT:
        fields["reason"] = audit.reason
    elif audit.action is domain.DecisionKind.REQUEST_REVISION:
        fields["note"] = audit.reason
    event = _EVENTS[audit.action](**fields)
    uow.session.add(
        DecisionLog(
            report_id=row.report_id,
            owner_nip=row.owner_nip,
            work_date=row.work_date,
            actor_nip=audit.actor_nip,
            action=audit.action.value,
            reason=audit.reason,
            as_plt_for=audit.as_plt_for,
            source=source,
            event_id=str(event.event_id),
            at=now,
        )
    )
    uow.emit(event)
    return DecisionOut(
        report_id=row.report_id,
        status=result.item.status.value,
        decided_by=audit.actor_nip,
        as_plt_for=audit.as_plt_for,
        decided_at=now,
        event_id=str(event.event_id),
    )


async def _decide_one(
    request: Request, who: Actor, report_id: str, kind: domain.DecisionKind, text: str | None
) -> Response:
    """An atasan's decision on one report: on the event loop or the async driver, not in a
    worker thread (see ServiceKit.run_store), since an atasan with 30 subordinates clicks
    through the queue at month end while the filings pour in."""
    me = _person(who)
    now = now_of(request)
    out = await kit_of(request).run_store(
        lambda uow: _decide_in(uow, request, me, report_id, kind, text, now)
    )
    return model_response(out)


def _decide_in(
    uow: UnitOfWork,
    request: Request,
    me: str,
    report_id: str,
    kind: domain.DecisionKind,
    text: str | None,
    now: datetime,
) -> DecisionOut:
    row = uow.session.get(QueueEntry, report_id)
    if row is None:
        raise Problem(404, "Laporan tidak ditemukan di antrean persetujuan.", code="not_found")
    atasan_of = {row.owner_nip: _atasan_of(uow, row.owner_nip)}
    delegations = _active_delegations(uow, plt=me)
    # Authority first: someone without it learns nothing else about the report.
    if (
        domain.may_decide(me, row.owner_nip, row.work_date, atasan_of, delegations, _today(now))
        is None
    ):
        raise _problem(
            domain.DomainError(
                "forbidden",
                "Anda tidak berwenang memutuskan laporan ini: hanya atasan langsung pegawai "
                "atau Plt yang ditunjuk atasan tersebut untuk tanggal hari ini.",
            )
        )
    try:
        decision = domain.make_decision(kind, text)
        closed, reopened = locks_of(uow, row.owner_nip, domain.period_of(row.work_date))
        result = domain.decide(
            to_item(row), me, decision, now, atasan_of, delegations, closed, reopened
        )
        out = _apply(uow, row, result, now, "api")
    except domain.DomainError as err:
        raise _problem(err) from None
    uow.commit()
    return out


@router.post("/reports/{report_id}/approve", response_model=DecisionOut)
async def approve(report_id: str, request: Request, who: Actor = Depends(actor)) -> Response:
    return await _decide_one(request, who, report_id, domain.DecisionKind.APPROVE, None)


@router.post("/reports/{report_id}/reject", response_model=DecisionOut)
async def reject(
    report_id: str, body: ReasonIn, request: Request, who: Actor = Depends(actor)
) -> Response:
    return await _decide_one(request, who, report_id, domain.DecisionKind.REJECT, body.reason)


@router.post("/reports/{report_id}/request-revision", response_model=DecisionOut)
async def request_revision(
    report_id: str, body: NoteIn, request: Request, who: Actor = Depends(actor)
) -> Response:
    return await _decide_one(
        request, who, report_id, domain.DecisionKind.REQUEST_REVISION, body.note
    )


class BulkIn(BaseModel):
    report_ids: list[str] = Field(min_length=1, max_length=MAX_BULK)


@router.post("/reports/bulk-approve")
async def bulk_approve(
    body: BulkIn, request: Request, who: Actor = Depends(actor)
) -> dict[str, Any]:
    """Approve a selection; one result per selected report, in order. Refused items (not
    yours, already decided, locked period) are reported and do not stop the others. Like a
    single decision it runs through run_store: an atasan of 30 clears the month in one go."""
    me = _person(who)
    now = now_of(request)
    return await kit_of(request).run_store(lambda uow: _bulk_approve_in(uow, body, me, now))


def _bulk_approve_in(uow: UnitOfWork, body: BulkIn, me: str, now: datetime) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    rows = {
        r.report_id: r
        for r in uow.session.exec(
            select(QueueEntry).where(col(QueueEntry.report_id).in_(body.report_ids))
        ).all()
    }
    owners = sorted({r.owner_nip for r in rows.values()})
    atasan_of = {nip: _atasan_of(uow, nip) for nip in owners}
    delegations = _active_delegations(uow, plt=me)
    lock_cache: dict[tuple[str, str], tuple[list[str], list[str]]] = {}

    def item_locks(item: domain.QueueItem) -> tuple[list[str], list[str]]:
        key = (item.owner_nip, domain.period_of(item.report_date))
        if key not in lock_cache:
            lock_cache[key] = locks_of(uow, *key)
        return lock_cache[key]

    known = [to_item(rows[i]) for i in body.report_ids if i in rows]
    outcomes = iter(
        domain.bulk_approve(known, me, now, atasan_of, delegations, locks_of=item_locks)
    )
    for report_id in body.report_ids:
        if report_id not in rows:
            results.append(
                {
                    "report_id": report_id,
                    "ok": False,
                    "code": "not_found",
                    "message": "Laporan tidak ditemukan di antrean persetujuan.",
                }
            )
            continue
        outcome = next(outcomes)
        entry: dict[str, Any] = {
            "report_id": report_id,
            "ok": outcome.ok,
            "code": outcome.code,
            "message": outcome.message,
        }
        if outcome.ok and outcome.result is not None:
            try:
                entry["decision"] = _apply(
                    uow, rows[report_id], outcome.result, now, "bulk"
                ).model_dump(mode="json")
            except domain.DomainError as err:
                entry.update(ok=False, code=err.code, message=err.message)
        results.append(entry)
    uow.commit()
    approved = sum(1 for r in results if r["ok"])
    return {"approved": approved, "refused": len(results) - approved, "results": results}


# --------------------------------------------------------------------------- delegations


class DelegationIn(BaseModel):
    atasan_nip: str
    plt_nip: str
    start: Day
    end: Day


class DelegationOut(DelegationIn):
    id: str
    created_by: str | None
    created_at: datetime
    revoked_at: datetime | None


def _delegation_out(row: Delegation) -> DelegationOut:
    return DelegationOut(**{name: getattr(row, name) for name in DelegationOut.model_fields})


@router.post("/delegations", status_code=201, response_model=DelegationOut)
def create_delegation(
    body: DelegationIn, request: Request, who: Actor = Depends(actor)
) -> DelegationOut:
    """An atasan names a Plt for a date range (BKPSDM may do it for any atasan). Announced
    as DelegationGranted so activity lets the Plt open the reports they decide on."""
    if not (
        who.is_("bkpsdm") or (who.is_(*PERSON_ROLES) and who.nip and who.nip == body.atasan_nip)
    ):
        raise _forbidden("Plt hanya dapat ditunjuk oleh atasan yang bersangkutan atau BKPSDM.")
    for nip in (body.atasan_nip, body.plt_nip):
        if problem := nip_problem(nip):
            raise Problem(422, f"{problem} ({nip})", code="invalid_nip")
    try:
        domain.validate_delegation(
            domain.Delegation(body.atasan_nip, body.plt_nip, body.start, body.end)
        )
    except domain.DomainError as err:
        raise _problem(err) from None
    now = now_of(request)
    row = Delegation(
        id=str(uuid.uuid4()),
        atasan_nip=body.atasan_nip,
        plt_nip=body.plt_nip,
        start=body.start,
        end=body.end,
        created_by=who.nip,
        created_at=now,
    )
    with kit_of(request).uow() as uow:
        uow.session.add(row)
        uow.emit(_granted(row, now))
        uow.commit()
    return _delegation_out(row)


def _granted(row: Delegation, now: datetime) -> DelegationGranted:
    return DelegationGranted(
        occurred_at=now,
        producer=PRODUCER,
        nip=row.atasan_nip,  # keyed by the atasan: their grants and revokes stay in order
        delegation_id=row.id,
        plt_nip=row.plt_nip,
        start=row.start,
        end=row.end,
    )


@router.post("/delegations/announce")
def announce_delegations(request: Request, who: Actor = Depends(actor)) -> dict[str, int]:
    """BKPSDM announces every delegation still running or to come again (DelegationGranted):
    for activity's store when it started keeping them after they were made, or was restored
    from a backup. A grant activity already has changes nothing; revoked ones stay revoked."""
    if not who.is_("bkpsdm"):
        raise _forbidden("Hanya BKPSDM yang dapat mengumumkan ulang penunjukan Plt.")
    now = now_of(request)
    with kit_of(request).uow() as uow:
        rows = uow.session.exec(
            select(Delegation).where(
                col(Delegation.revoked_at).is_(None), col(Delegation.end) >= _today(now)
            )
        ).all()
        uow.emit_many([_granted(r, now) for r in rows])
        uow.commit()
    return {"announced": len(rows)}


@router.get("/delegations", response_model=list[DelegationOut])
def list_delegations(
    request: Request,
    atasan_nip: str | None = None,
    plt_nip: str | None = None,
    who: Actor = Depends(actor),
) -> list[DelegationOut]:
    """BKPSDM and auditors see every delegation; others only those naming them."""
    with kit_of(request).uow() as uow:
        query = select(Delegation)
        if atasan_nip:
            query = query.where(Delegation.atasan_nip == atasan_nip)
        if plt_nip:
            query = query.where(Delegation.plt_nip == plt_nip)
        if not who.is_(*OVERSIGHT_ROLES, "system"):
            if not who.is_(*PERSON_ROLES) or not who.nip:
                raise _forbidden("Anda tidak berwenang melihat penunjukan Plt.")
            query = query.where(
                or_(Delegation.atasan_nip == who.nip, Delegation.plt_nip == who.nip)
            )
        rows = uow.session.exec(query.order_by(col(Delegation.start))).all()
    return [_delegation_out(r) for r in rows]


@router.delete("/delegations/{delegation_id}", response_model=DelegationOut)
def revoke_delegation(
    delegation_id: str, request: Request, who: Actor = Depends(actor)
) -> DelegationOut:
    with kit_of(request).uow() as uow:
        row = uow.session.get(Delegation, delegation_id)
        if row is None:
            raise Problem(404, "Penunjukan Plt tidak ditemukan.", code="not_found")
        if not (who.is_("bkpsdm") or (who.is_(*PERSON_ROLES) and who.nip == row.atasan_nip)):
            raise _forbidden(
                "Penunjukan Plt hanya dapat dicabut oleh atasan yang bersangkutan atau BKPSDM."
            )
        if row.revoked_at is None:  # revoking twice changes (and announces) nothing
            now = now_of(request)
            row.revoked_at = now
            row.revoked_by = who.nip
            uow.session.add(row)
            uow.emit(
                DelegationRevoked(
                    occurred_at=now,
                    producer=PRODUCER,
                    nip=row.atasan_nip,
                    delegation_id=row.id,
                    plt_nip=row.plt_nip,
                )
            )
            uow.commit()
    return _delegation_out(row)


# --------------------------------------------------------------------------- audit and periods


@router.get("/audit")
def audit_log(
    request: Request,
    report_id: str | None = None,
    nip: str | None = None,
    actor_nip: str | None = None,
    period: str | None = None,
    limit: int = Query(500, ge=1, le=5_000),
    who: Actor = Depends(actor),
) -> list[dict[str, Any]]:
    """Every decision: who, when, what, why, on whose behalf (auditors and BKPSDM)."""
    if not who.is_(*OVERSIGHT_ROLES):
        raise _forbidden("Log audit keputusan hanya dapat dilihat oleh auditor dan BKPSDM.")
    query = select(DecisionLog)
    if report_id:
        query = query.where(DecisionLog.report_id == report_id)
    if nip:
        query = query.where(DecisionLog.owner_nip == nip)
    if actor_nip:
        query = query.where(DecisionLog.actor_nip == actor_nip)
    if period:
        year, month = parse_period(_period(period))
        first = date(year, month, 1)
        after = date(year + month // 12, month % 12 + 1, 1)
        query = query.where(DecisionLog.work_date >= first, DecisionLog.work_date < after)
    with kit_of(request).uow() as uow:
        rows = uow.session.exec(query.order_by(col(DecisionLog.id)).limit(limit)).all()
    out = []
    for r in rows:
        entry = domain.AuditEntry(
            r.report_id, r.actor_nip, r.at, domain.DecisionKind(r.action), r.reason, r.as_plt_for
        )
        out.append(
            {
                "report_id": r.report_id,
                "nip": r.owner_nip,
                "work_date": r.work_date.isoformat(),
                "actor_nip": r.actor_nip,
                "action": r.action,
                "reason": r.reason,
                "as_plt_for": r.as_plt_for,
                "source": r.source,
                "event_id": r.event_id,
                "at": r.at.isoformat(),
                "summary": entry.summary(),
            }
        )
    return out


class ReopenIn(BaseModel):
    reason: str = Field(max_length=2_000)
    nip: str | None = Field(None, description="one employee only; empty: everyone")


@router.post("/periods/{period}/reopen", status_code=201)
def reopen_period(
    period: str, body: ReopenIn, request: Request, who: Actor = Depends(actor)
) -> dict[str, Any]:
    """BKPSDM reopens a month closed by tpp, so its reports can be decided again."""
    if not who.is_("bkpsdm") or not who.nip:
        raise _forbidden("Hanya petugas BKPSDM (dengan NIP) yang dapat membuka kembali periode.")
    key = _period(period)
    if not body.reason.strip():
        raise Problem(422, "Alasan pembukaan kembali periode wajib diisi.", code="reason_required")
    if body.nip and (problem := nip_problem(body.nip)):
        raise Problem(422, problem, code="invalid_nip")
    row = PeriodReopen(
        id=str(uuid.uuid4()),
        period=key,
        nip=body.nip,
        reopened_by=who.nip,
        reason=body.reason.strip(),
        at=now_of(request),
    )
    with kit_of(request).uow() as uow:
        uow.session.add(row)
        uow.commit()
    return {
        "id": row.id,
        "period": row.period,
        "nip": row.nip,
        "reopened_by": row.reopened_by,
        "reason": row.reason,
        "at": row.at.isoformat(),
    }


@router.get("/periods/{period}/locks")
def period_locks(
    period: str, request: Request, nip: str | None = None, who: Actor = Depends(actor)
) -> dict[str, Any]:
    """Which employees' month is closed by tpp, and whether BKPSDM reopened it since."""
    if not who.is_(*OVERSIGHT_ROLES, "system"):
        raise _forbidden("Status kunci periode hanya untuk BKPSDM dan auditor.")
    key = _period(period)
    with kit_of(request).uow() as uow:
        query = select(PeriodClose).where(PeriodClose.period == key)
        if nip:
            query = query.where(PeriodClose.nip == nip)
        closes = uow.session.exec(query).all()
        employees = []
        for c in closes:
            closed, reopened = locks_of(uow, c.nip, key)
            employees.append(
                {
                    "nip": c.nip,
                    "closed_at": c.closed_at.isoformat(),
                    "locked": domain.is_period_locked(key, closed, reopened),
                }
            )
    return {"period": key, "employees": employees}
