"""Audit and period routes: the decisions' audit log (auditors, BKPSDM), BKPSDM's reopening
of a month closed by tpp, and which employees' month is locked."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from contracts.nip import nip_problem
from services.approval import commands, domain, queries
from services.approval.routes.deps import (
    OVERSIGHT_ROLES,
    Kit,
    Now,
    Who,
    forbidden,
    period_key,
)
from services.shared.http import Problem, period_or_422

router = APIRouter()


@router.get(
    "/audit",
    summary="Jejak keputusan",
    description=(
        "Setiap keputusan: siapa, kapan, apa, mengapa, atas nama siapa (auditor dan BKPSDM)."
    ),
    tags=["Audit dan periode"],
)
def audit_log(
    who: Who,
    kit: Kit,
    report_id: str | None = None,
    nip: str | None = None,
    actor_nip: str | None = None,
    period: str | None = None,
    limit: int = Query(500, ge=1, le=5_000),
) -> list[dict[str, Any]]:
    """Every decision: who, when, what, why, on whose behalf (auditors and BKPSDM)."""
    if not who.is_(*OVERSIGHT_ROLES):
        raise forbidden("Log audit keputusan hanya dapat dilihat oleh auditor dan BKPSDM.")
    work_dates = None
    if period:
        year, month = period_or_422(period)
        work_dates = (date(year, month, 1), date(year + month // 12, month % 12 + 1, 1))
    with kit.uow() as uow:
        rows = queries.decision_log(
            uow,
            report_id=report_id,
            nip=nip,
            actor_nip=actor_nip,
            work_dates=work_dates,
            limit=limit,
        )
    out = []
    for r in rows:
        entry = domain.AuditEntry(
            r.report_id,
            r.actor_nip,
            r.at,
            domain.DecisionKind(r.action),
            r.reason,
            r.as_plt_for,
            r.as_penilai,
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
                "as_penilai": r.as_penilai,
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


@router.post(
    "/periods/{period}/reopen",
    status_code=201,
    summary="Buka kembali bulan yang ditutup TPP",
    description="Oleh BKPSDM, agar laporannya dapat diputuskan lagi.",
    tags=["Audit dan periode"],
)
def reopen_period(period: str, body: ReopenIn, who: Who, now: Now, kit: Kit) -> dict[str, Any]:
    """BKPSDM reopens a month closed by tpp, so its reports can be decided again."""
    if not who.is_("bkpsdm") or not who.nip:
        raise forbidden("Hanya petugas BKPSDM (dengan NIP) yang dapat membuka kembali periode.")
    key = period_key(period)
    if not body.reason.strip():
        raise Problem(422, "Alasan pembukaan kembali periode wajib diisi.", code="reason_required")
    if body.nip and (problem := nip_problem(body.nip)):
        raise Problem(422, problem, code="invalid_nip")
    with kit.uow() as uow:
        row = commands.reopen_period(uow, key, body.nip, who.nip, body.reason.strip(), now)
        uow.commit()
    return {
        "id": row.id,
        "period": row.period,
        "nip": row.nip,
        "reopened_by": row.reopened_by,
        "reason": row.reason,
        "at": row.at.isoformat(),
    }


@router.get(
    "/periods/{period}/locks",
    summary="Kunci periode per pegawai",
    description="Bulan pegawai mana yang ditutup TPP, dan apakah BKPSDM membukanya kembali.",
    tags=["Audit dan periode"],
)
def period_locks(period: str, who: Who, kit: Kit, nip: str | None = None) -> dict[str, Any]:
    """Which employees' month is closed by tpp, and whether BKPSDM reopened it since."""
    if not who.is_(*OVERSIGHT_ROLES, "system"):
        raise forbidden("Status kunci periode hanya untuk BKPSDM dan auditor.")
    key = period_key(period)
    with kit.uow() as uow:
        employees = []
        for c in queries.period_closes(uow, key, nip):
            closed, reopened = queries.locks_of(uow, c.nip, key)
            employees.append(
                {
                    "nip": c.nip,
                    "closed_at": c.closed_at.isoformat(),
                    "locked": domain.is_period_locked(key, closed, reopened),
                }
            )
    return {"period": key, "employees": employees}
