"""Account routes (JSON): one account as the portal knows it, one-time codes (first password
or reset) from the OPD operator or BKPSDM, BKPSDM's role grants, and the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.portal import store
from services.portal.routes.deps import Ip, PortalDep, Who, forbidden
from services.shared.http import Problem

router = APIRouter()


class GrantOut(BaseModel):
    role: str
    opd: str | None
    granted_by: str
    granted_at: datetime


class AccountOut(BaseModel):
    nip: str
    nama: str
    opd: str
    active: bool
    roles: list[str]
    grants: list[GrantOut]
    has_password: bool
    must_change: bool
    totp_enrolled: bool


class AccountItem(BaseModel):
    nip: str
    nama: str
    opd: str
    has_password: bool


@router.get(
    "/accounts",
    response_model=list[AccountItem],
    summary="Daftar akun",
    description="BKPSDM dan auditor (semua OPD), operator (OPD-nya sendiri).",
    tags=["Akun"],
)
def list_accounts(
    who: Who,
    portal: PortalDep,
    opd: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[AccountItem]:
    """Active accounts by NIP: BKPSDM and auditors (any OPD), an operator (their own OPD)."""
    if who.is_("operator"):
        if opd not in (None, who.opd):
            raise forbidden("operator OPD itu, BKPSDM atau auditor")
        opd = who.opd
    elif not who.is_("bkpsdm", "auditor"):
        raise forbidden("operator OPD, BKPSDM atau auditor")
    with portal.kit.uow() as uow:
        return [
            AccountItem(nip=a.nip, nama=a.nama, opd=a.opd, has_password=a.password_hash is not None)
            for a in store.accounts(uow, opd, limit)
        ]


@router.get(
    "/accounts/{nip}",
    response_model=AccountOut,
    summary="Satu akun",
    description="Orangnya sendiri, operator OPD-nya, BKPSDM, dan auditor.",
    tags=["Akun"],
)
def get_account(nip: str, who: Who, portal: PortalDep) -> AccountOut:
    """The person themself, their OPD's operator, BKPSDM and auditors."""
    with portal.kit.uow() as uow:
        account = store.account(uow, nip)
        city = who.is_("bkpsdm", "auditor")
        allowed = (
            city
            or who.nip == nip
            or (who.is_("operator") and account is not None and who.opd == account.opd)
        )
        if not allowed:  # an unknown NIP as a foreign one: no probing for accounts
            raise forbidden("pemilik akun, operator OPD-nya, BKPSDM atau auditor")
        if account is None:
            raise Problem(404, f"Akun ASN dengan NIP {nip} tidak ditemukan.", code="no_account")
        roles, _ = portal.roles(uow, nip)
        grants = [
            GrantOut(role=g.role, opd=g.opd, granted_by=g.granted_by, granted_at=g.granted_at)
            for g in store.active_grants(uow, nip)
        ]
        return AccountOut(
            nip=account.nip,
            nama=account.nama,
            opd=account.opd,
            active=account.active,
            roles=roles,
            grants=grants,
            has_password=account.password_hash is not None,
            must_change=account.must_change,
            totp_enrolled=account.totp_enrolled,
        )


class SetupCodeOut(BaseModel):
    nip: str
    code: str
    expires_at: datetime
    message: str = (
        "Serahkan kode ini langsung kepada pegawai; kode hanya berlaku sekali untuk membuat "
        "kata sandi di halaman /kata-sandi-pertama."
    )


@router.post(
    "/accounts/{nip}/setup-code",
    response_model=SetupCodeOut,
    status_code=201,
    summary="Terbitkan kode sekali pakai",
    description=(
        "Untuk kata sandi pertama atau setel ulang (kata sandi lama berhenti berlaku dan semua "
        "sesi berakhir). Tidak pernah dikirim lewat surel."
    ),
    tags=["Akun"],
)
def issue_setup_code(nip: str, who: Who, portal: PortalDep, ip: Ip) -> SetupCodeOut:
    """A one-time code for the first password, or a reset (the old password stops working
    and every session ends): the OPD's operator or BKPSDM. Never sent by mail."""
    code, expires = portal.issue_setup_code(who, nip, ip)
    return SetupCodeOut(nip=nip, code=code, expires_at=expires)


class GrantIn(BaseModel):
    role: str = Field(description="operator, bkpsdm or auditor")
    opd: str | None = Field(None, description="the OPD of an operator")


@router.post(
    "/accounts/{nip}/grants",
    response_model=GrantOut,
    status_code=201,
    summary="Berikan peran",
    description="BKPSDM memberikan operator (satu OPD), bkpsdm, atau auditor; tercatat di audit.",
    tags=["Akun"],
)
def grant_role(nip: str, body: GrantIn, who: Who, portal: PortalDep, ip: Ip) -> GrantOut:
    """BKPSDM grants operator (of one OPD), bkpsdm or auditor; audited."""
    if not who.is_("bkpsdm"):
        raise forbidden("BKPSDM")
    g = portal.grant(who, nip, body.role, body.opd, ip)
    return GrantOut(role=g.role, opd=g.opd, granted_by=g.granted_by, granted_at=g.granted_at)


@router.delete(
    "/accounts/{nip}/grants/{role}",
    status_code=204,
    summary="Cabut peran",
    description="Sesi yang memakai peran itu langsung berakhir; tercatat di audit.",
    tags=["Akun"],
)
def revoke_role(nip: str, role: str, who: Who, portal: PortalDep, ip: Ip) -> None:
    """BKPSDM revokes a granted role; sessions acting in it end at once; audited."""
    if not who.is_("bkpsdm"):
        raise forbidden("BKPSDM")
    portal.revoke(who, nip, role, ip)


@router.delete(
    "/accounts/{nip}/totp",
    status_code=204,
    summary="Setel ulang autentikator",
    description="Menghapus autentikator yang hilang beserta kode pemulihannya; tercatat di audit.",
    tags=["Akun"],
)
def reset_totp(nip: str, who: Who, portal: PortalDep, ip: Ip) -> None:
    """BKPSDM clears a lost authenticator (and its recovery codes); audited."""
    if not who.is_("bkpsdm"):
        raise forbidden("BKPSDM")
    portal.reset_totp(who, nip, ip)


class AuditOut(BaseModel):
    at: datetime
    actor_nip: str | None
    actor_role: str | None
    action: str
    target: str | None
    ip: str
    detail: dict[str, Any]


@router.get(
    "/audit",
    response_model=list[AuditOut],
    summary="Log audit akun",
    description="Terbaru lebih dulu: BKPSDM dan auditor (baca saja).",
    tags=["Audit"],
)
def audit_log(
    who: Who,
    portal: PortalDep,
    nip: str | None = Query(None, description="as actor or as target"),
    action: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[AuditOut]:
    """Newest first: BKPSDM and auditors (read-only)."""
    if not who.is_("bkpsdm", "auditor"):
        raise forbidden("BKPSDM atau auditor")
    with portal.kit.uow() as uow:
        rows = store.audit_entries(uow, nip=nip, action=action, limit=limit)
        return [
            AuditOut(
                at=r.at,
                actor_nip=r.actor_nip,
                actor_role=r.actor_role,
                action=r.action,
                target=r.target,
                ip=r.ip,
                detail=json.loads(r.detail) if r.detail else {},
            )
            for r in rows
        ]
