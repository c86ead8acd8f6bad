"""Opening routes: BKPSDM opens a date for an employee (the fingerprint device or the
network failed...) until a time, by default the filing deadline counted from today."""

from __future__ import annotations

from fastapi import APIRouter, Query

from contracts.nip import nip_problem
from services.activity import commands, domain, gate, queries
from services.activity.routes.deps import Rules, ensure_view, today
from services.activity.schemas import OpeningIn, OpeningOut, opening_out
from services.shared import scope
from services.shared.employees import find_employee
from services.shared.http import Kit, Now, Problem, Who

router = APIRouter()


@router.post(
    "/employees/{nip}/openings",
    status_code=201,
    response_model=OpeningOut,
    summary="Buka tanggal untuk dilaporkan",
    description=(
        "BKPSDM atau operator OPD pegawai membuka tanggal bagi seorang pegawai (mesin sidik "
        "jari atau jaringan gagal)."
    ),
    tags=["Pembukaan tanggal"],
)
def open_date(nip: str, body: OpeningIn, who: Who, now: Now, kit: Kit, rules: Rules) -> OpeningOut:
    """BKPSDM or the operator of the employee's OPD opens a date for them (the fingerprint
    device or network failed...)."""
    what = "membuka tanggal laporan pegawai ini (hanya BKPSDM atau operator OPD-nya, dengan NIP)"
    # an opening names who opened it: a person, not a service account
    scope.require_roles(who, ("bkpsdm", "operator"), what)
    if not who.nip:
        raise scope.forbidden(what)
    if who.role == "operator":  # the employee's OPD as the projection says; unknown: refused
        with kit.uow() as uow:
            employee = find_employee(uow, nip)
        scope.require_opd_staff(who, employee.opd if employee else None, what)
    if problem := nip_problem(nip):
        raise Problem(422, problem, code="invalid_nip")
    days, at = rules.deadline_days, rules.deadline_at
    day = today(now)
    until = body.until or gate.filing_deadline(day, rules.calendar_for(day.year), days, at)
    if until.tzinfo is None:
        raise Problem(422, "Batas akhir pembukaan harus memuat zona waktu.", code="validation")
    opening = gate.Opening(nip, body.work_date, who.nip, body.reason, now, until)
    try:
        gate.validate_opening(opening)
    except domain.DomainError as err:
        raise Problem(422, err.message, code=err.code) from None
    with kit.uow() as uow:
        row = commands.open_date(uow, opening)
        uow.commit()
    return opening_out(row)


@router.get(
    "/employees/{nip}/openings",
    response_model=list[OpeningOut],
    summary="Daftar tanggal yang dibuka",
    tags=["Pembukaan tanggal"],
)
def list_openings(nip: str, who: Who, now: Now, kit: Kit) -> list[OpeningOut]:
    with kit.uow() as uow:
        ensure_view(uow, who, nip, now)
        rows = queries.openings_of(uow, nip)
    return [opening_out(r) for r in rows]


@router.get(
    "/openings",
    response_model=list[OpeningOut],
    summary="Tanggal yang dibuka di seluruh kota",
    description="Terbaru lebih dulu, dengan siapa yang membuka dan alasannya (BKPSDM, auditor).",
    tags=["Pembukaan tanggal"],
)
def recent_openings(who: Who, kit: Kit, limit: int = Query(200, ge=1, le=2000)) -> list[OpeningOut]:
    scope.require_roles(who, scope.CITY_READERS, "melihat semua tanggal yang dibuka")
    with kit.uow() as uow:
        rows = queries.recent_openings(uow, limit)
    return [opening_out(r) for r in rows]
