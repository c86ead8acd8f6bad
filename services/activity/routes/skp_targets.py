"""SKP target routes: an employee's targets of a year (drafted by the employee, corrected
by the atasan or BKPSDM) and the monthly realisation of each from approved reports."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query

from contracts.nip import nip_problem
from services.activity import commands, domain, queries, skp
from services.activity.queries import PERSON_ROLES
from services.activity.routes.deps import VIEW_REFUSED, ensure_view, forbidden, today
from services.activity.schemas import SkpTargetIn, SkpTargetOut, target_out
from services.kernel.calendar import YEAR_MAX, YEAR_MIN
from services.shared import scope
from services.shared.employees import find_employee, periods_of
from services.shared.http import Actor, Kit, Now, Problem, Who, period_or_422
from services.shared.uow import UnitOfWork

router = APIRouter()


def _ensure_skp_writer(uow: UnitOfWork, who: Actor, nip: str, *years: int) -> str | None:
    """The employee drafts their SKP; the atasan of a period in each year concerned (a
    target's year; both when a change moves it) and BKPSDM may correct it. A year without
    any period here falls back to the latest period's atasan."""
    if who.is_("bkpsdm"):
        return who.nip
    if who.is_(*PERSON_ROLES) and who.nip:
        if who.nip == nip:
            return who.nip
        # a direct atasan only (a Plt only reads SKP)
        periods = periods_of(uow, nip)
        latest = find_employee(uow, nip)
        now_atasan = {latest.atasan_nip} if latest and latest.atasan_nip else set()
        if who.is_("atasan") and all(
            who.nip in (skp.atasan_in_year(periods, y) or now_atasan) for y in years
        ):
            return who.nip
    raise forbidden(
        "Target SKP hanya dapat diubah oleh pegawai yang bersangkutan, atasan langsungnya atau "
        "BKPSDM."
    )


def _readable_years(
    uow: UnitOfWork, who: Actor, nip: str, now: datetime, years: set[int]
) -> set[int]:
    """Those of `years` whose SKP `who` may read: may_view's rule on some day of the year
    the person was employed (the file as a whole for a year without any period here)."""
    periods = periods_of(uow, nip)
    asked: dict[date | None, set[int]] = {}
    for year in years:
        days: list[date | None] = [*skp.employed_days(periods, year)] or [None]
        for day in days:
            asked.setdefault(day, set()).add(year)
    seen = queries.viewable(uow, who, nip, today(now), asked)
    return {year for day in seen for year in asked[day]}


def _ensure_year_view(uow: UnitOfWork, who: Actor, nip: str, now: datetime, year: int) -> None:
    if not _readable_years(uow, who, nip, now, {year}):
        raise forbidden(VIEW_REFUSED)


def _validate_target(target: domain.SkpTarget) -> None:
    problems = skp.validate_skp_target(target)
    if problems:
        raise Problem(
            422,
            " ".join(p.message for p in problems),
            code="invalid_skp_target",
            errors=[{"field": p.field, "code": p.code, "message": p.message} for p in problems],
        )


@router.post(
    "/employees/{nip}/skp-targets",
    status_code=201,
    response_model=SkpTargetOut,
    summary="Tambah target SKP",
    tags=["Target SKP"],
)
def create_target(nip: str, body: SkpTargetIn, who: Who, now: Now, kit: Kit) -> SkpTargetOut:
    if problem := nip_problem(nip):
        raise Problem(422, problem, code="invalid_nip")
    with kit.uow() as uow:
        by = _ensure_skp_writer(uow, who, nip, body.year)
        target = domain.SkpTarget(
            str(uuid.uuid4()), nip, body.year, body.activity, body.indicator, body.target_quantity
        )
        _validate_target(target)
        row = commands.create_target(uow, target, by, now)
        uow.commit()
    return target_out(row)


@router.get(
    "/employees/{nip}/skp-targets",
    response_model=list[SkpTargetOut],
    summary="Daftar target SKP",
    tags=["Target SKP"],
)
def list_targets(
    nip: str,
    who: Who,
    now: Now,
    kit: Kit,
    year: int | None = Query(None, ge=YEAR_MIN, le=YEAR_MAX),
) -> list[SkpTargetOut]:
    """An employee's targets of `year` (refused unless the caller may read that year), or of
    every year the caller may read (refused when they may read none, nor the file)."""
    with kit.uow() as uow:
        if year is not None:
            _ensure_year_view(uow, who, nip, now, year)
        rows = queries.skp_targets_of(uow, nip, year)
        readable = _readable_years(uow, who, nip, now, {r.year for r in rows})
        if not readable:
            ensure_view(uow, who, nip, now)  # nothing of theirs to show: the file as a whole
    return [target_out(r) for r in rows if r.year in readable]


@router.put(
    "/skp-targets/{target_id}",
    response_model=SkpTargetOut,
    summary="Ubah target SKP",
    tags=["Target SKP"],
)
def update_target(target_id: str, body: SkpTargetIn, who: Who, now: Now, kit: Kit) -> SkpTargetOut:
    with kit.uow() as uow:
        row = queries.skp_target(uow, target_id)
        if row is None:
            raise Problem(404, "Target SKP tidak ditemukan.", code="not_found")
        _ensure_skp_writer(uow, who, row.nip, row.year, body.year)
        if body.year != row.year and queries.linked(uow, target_id):
            raise Problem(
                409,
                "Tahun target SKP tidak dapat diubah karena sudah ada laporan yang terkait.",
                code="target_in_use",
            )
        target = domain.SkpTarget(
            row.id, row.nip, body.year, body.activity, body.indicator, body.target_quantity
        )
        _validate_target(target)
        commands.update_target(uow, row, target, now)
        uow.commit()
    return target_out(row)


@router.post(
    "/skp-targets/announce",
    summary="Umumkan ulang semua target SKP",
    description=(
        "Untuk layanan persetujuan yang baru menyimpannya atau dipulihkan dari cadangan (usulan "
        "hasil kinerja bulanan membaca target SKP)."
    ),
    tags=["Target SKP"],
)
def announce_targets(who: Who, now: Now, kit: Kit) -> dict[str, int]:
    """BKPSDM (or a job's service account) announces every SKP target again."""
    scope.require_roles(who, scope.CITY_WRITERS, "mengumumkan ulang target SKP")
    with kit.uow() as uow:
        announced = commands.announce_targets(uow, now)
        uow.commit()
    return {"announced": announced}


@router.delete(
    "/skp-targets/{target_id}", status_code=204, summary="Hapus target SKP", tags=["Target SKP"]
)
def delete_target(target_id: str, who: Who, kit: Kit) -> None:
    with kit.uow() as uow:
        row = queries.skp_target(uow, target_id)
        if row is None:
            raise Problem(404, "Target SKP tidak ditemukan.", code="not_found")
        _ensure_skp_writer(uow, who, row.nip, row.year)
        if queries.linked(uow, target_id):
            raise Problem(
                409,
                "Target SKP tidak dapat dihapus karena sudah ada laporan yang terkait.",
                code="target_in_use",
            )
        commands.delete_target(uow, row)
        uow.commit()


@router.get(
    "/employees/{nip}/skp-realisation",
    summary="Realisasi SKP per bulan",
    description="Rekap per target: jumlah yang disetujui bulan itu dan kumulatifnya.",
    tags=["Target SKP"],
)
def skp_realisation(
    nip: str,
    who: Who,
    now: Now,
    kit: Kit,
    period: str = Query(description="YYYY-MM"),
) -> list[dict[str, Any]]:
    """Monthly recap per SKP target: approved quantity in the month and cumulative."""
    year, month = period_or_422(period)
    with kit.uow() as uow:
        _ensure_year_view(uow, who, nip, now, year)
        targets = list(queries.targets(uow, nip, year).values())
        rows = queries.approved_on(uow, nip, [t.id for t in targets])
    recap = skp.monthly_realisation(
        sorted(targets, key=lambda t: t.id),
        [queries.to_daily_report(r) for r in rows],
        year,
        month,
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
