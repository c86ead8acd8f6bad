"""Delegation routes: an atasan (or BKPSDM) names a Plt for a date range, lists and revokes
delegations; BKPSDM announces the running ones again (DelegationGranted) for activity."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from contracts.nip import nip_problem
from services.approval import commands, domain, queries
from services.approval.models import Delegation
from services.approval.routes.deps import (
    OVERSIGHT_ROLES,
    PERSON_ROLES,
    Kit,
    Now,
    Who,
    forbidden,
    problem,
)
from services.shared import scope
from services.shared.http import Day, Problem

router = APIRouter()


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


@router.post(
    "/delegations",
    status_code=201,
    response_model=DelegationOut,
    summary="Tunjuk Plt",
    description="Atasan menunjuk Plt untuk rentang tanggal (BKPSDM boleh untuk atasan mana pun).",
    tags=["Pelimpahan (Plt)"],
)
def create_delegation(body: DelegationIn, who: Who, now: Now, kit: Kit) -> DelegationOut:
    """An atasan names a Plt for a date range (BKPSDM may do it for any atasan). Announced
    as DelegationGranted so activity lets the Plt open the reports they decide on."""
    if not (
        who.is_("bkpsdm") or (who.is_(*PERSON_ROLES) and who.nip and who.nip == body.atasan_nip)
    ):
        raise forbidden("Plt hanya dapat ditunjuk oleh atasan yang bersangkutan atau BKPSDM.")
    for nip in (body.atasan_nip, body.plt_nip):
        if nip_problem_text := nip_problem(nip):
            raise Problem(422, f"{nip_problem_text} ({nip})", code="invalid_nip")
    plan = domain.Delegation(body.atasan_nip, body.plt_nip, body.start, body.end)
    try:
        domain.validate_delegation(plan)
    except domain.DomainError as err:
        raise problem(err) from None
    with kit.uow() as uow:
        row = commands.grant_delegation(uow, plan, who.nip, now)
        uow.commit()
    return _delegation_out(row)


@router.post(
    "/delegations/announce",
    summary="Umumkan ulang pelimpahan yang berlaku",
    description=(
        "Untuk layanan kegiatan yang baru menyimpannya atau dipulihkan dari cadangan; yang sudah "
        "dicabut tetap dicabut."
    ),
    tags=["Pelimpahan (Plt)"],
)
def announce_delegations(who: Who, now: Now, kit: Kit) -> dict[str, int]:
    """BKPSDM (or a job's service account) announces every delegation still running or to
    come again (DelegationGranted): for activity's store when it started keeping them after
    they were made, or was restored from a backup. A grant activity already has changes
    nothing; revoked ones stay revoked."""
    # BKPSDM, or the service account of the job that restores activity's store
    scope.require_roles(who, scope.CITY_WRITERS, "mengumumkan ulang penunjukan Plt")
    with kit.uow() as uow:
        announced = commands.announce_delegations(uow, now)
        uow.commit()
    return {"announced": announced}


@router.get(
    "/delegations",
    response_model=list[DelegationOut],
    summary="Daftar pelimpahan",
    description="BKPSDM dan auditor melihat semua; yang lain hanya yang menyebut dirinya.",
    tags=["Pelimpahan (Plt)"],
)
def list_delegations(
    who: Who,
    kit: Kit,
    atasan_nip: str | None = None,
    plt_nip: str | None = None,
) -> list[DelegationOut]:
    """BKPSDM and auditors see every delegation; others only those naming them."""
    naming = None
    if not who.is_(*OVERSIGHT_ROLES, "system"):
        if not who.is_(*PERSON_ROLES) or not who.nip:
            raise forbidden("Anda tidak berwenang melihat penunjukan Plt.")
        naming = who.nip
    with kit.uow() as uow:
        rows = queries.delegations(uow, atasan_nip=atasan_nip, plt_nip=plt_nip, naming=naming)
    return [_delegation_out(r) for r in rows]


@router.delete(
    "/delegations/{delegation_id}",
    response_model=DelegationOut,
    summary="Cabut pelimpahan",
    tags=["Pelimpahan (Plt)"],
)
def revoke_delegation(delegation_id: str, who: Who, now: Now, kit: Kit) -> DelegationOut:
    with kit.uow() as uow:
        row = queries.delegation(uow, delegation_id)
        if row is None:
            raise Problem(404, "Penunjukan Plt tidak ditemukan.", code="not_found")
        if not (who.is_("bkpsdm") or (who.is_(*PERSON_ROLES) and who.nip == row.atasan_nip)):
            raise forbidden(
                "Penunjukan Plt hanya dapat dicabut oleh atasan yang bersangkutan atau BKPSDM."
            )
        if commands.revoke_delegation(uow, row, who.nip, now):
            uow.commit()
    return _delegation_out(row)
