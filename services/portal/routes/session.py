"""Session routes (JSON): log in, the steps a login owes (new password, TOTP enrolment or
code), log out (here or everywhere), a service token for the session's identity, and the
first password with an operator's one-time code."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from services.portal import credentials, domain
from services.portal.models import LoginSession
from services.portal.routes.deps import (
    ActiveSession,
    AnySession,
    Ip,
    PortalDep,
    clear_session_cookie,
    session_in,
    set_session_cookie,
)

router = APIRouter()
ChangingSession = Annotated[LoginSession, Depends(session_in(domain.MUST_CHANGE, domain.ACTIVE))]
EnrollingSession = Annotated[LoginSession, Depends(session_in(domain.ENROL_TOTP))]
TotpSession = Annotated[LoginSession, Depends(session_in(domain.TOTP))]
NipField = Field(pattern=r"^\d{18}$", description="NIP (18 angka)")


class LoginIn(BaseModel):
    nip: str = NipField
    password: str = Field(min_length=1, max_length=domain.MAX_PASSWORD)
    role: str | None = Field(None, description="the role to act in (default: the highest held)")


class SessionOut(BaseModel):
    nip: str
    role: str
    opd: str | None
    state: str
    message: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime


def _out(session: LoginSession) -> SessionOut:
    return SessionOut(
        nip=session.nip,
        role=session.role,
        opd=session.opd,
        state=session.state,
        message=domain.STATE_MESSAGES[session.state],
        csrf_token=session.csrf,
        created_at=session.created_at,
        last_seen_at=session.last_seen_at,
    )


@router.post(
    "/session",
    response_model=SessionOut,
    summary="Masuk",
    description=(
        "Dengan NIP dan kata sandi (atau kode sekali pakai dari operator, yang lalu meminta kata "
        "sandi baru)."
    ),
    tags=["Sesi"],
)
def login(body: LoginIn, response: Response, portal: PortalDep, ip: Ip) -> SessionOut:
    """Log in with NIP and password (or the operator's one-time code, which then demands a
    new password). The session cookie is Secure, HttpOnly, SameSite=Strict."""
    opened = portal.login(body.nip, body.password, ip, body.role)
    set_session_cookie(response, opened.token, portal.session_policy)
    return _out(opened.session)


@router.get("/session", response_model=SessionOut, summary="Sesi saat ini", tags=["Sesi"])
def current(session: AnySession) -> SessionOut:
    return _out(session)


@router.delete("/session", status_code=204, summary="Keluar", tags=["Sesi"])
def logout(session: AnySession, response: Response, portal: PortalDep, ip: Ip) -> None:
    portal.logout(session, ip)
    clear_session_cookie(response)


@router.post(
    "/session/logout-all",
    summary="Keluar dari semua perangkat",
    description="Semua sesi NIP ini, di semua perangkat, berakhir.",
    tags=["Sesi"],
)
def logout_everywhere(
    session: AnySession, response: Response, portal: PortalDep, ip: Ip
) -> dict[str, int]:
    """End every session of this NIP, on every device."""
    ended = portal.logout(session, ip, everywhere=True)
    clear_session_cookie(response)
    return {"sessions_ended": ended}


class PasswordIn(BaseModel):
    current_password: str | None = Field(None, max_length=domain.MAX_PASSWORD)
    new_password: str = Field(min_length=1, max_length=domain.MAX_PASSWORD)


@router.post(
    "/session/password",
    response_model=SessionOut,
    summary="Ganti kata sandi",
    description=(
        "Setelah kode sekali pakai (tanpa kata sandi lama) atau kapan saja (dengan kata sandi "
        "lama). Sesi lain NIP ini berakhir."
    ),
    tags=["Sesi"],
)
def change_password(
    body: PasswordIn, session: ChangingSession, portal: PortalDep, ip: Ip
) -> SessionOut:
    """A new password: after a one-time code (no current password asked) or any time
    (the current one asked). Every other session of this NIP ends."""
    return _out(portal.change_password(session, body.current_password, body.new_password, ip))


class EnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str


@router.get(
    "/session/totp/enrolment",
    response_model=EnrolmentOut,
    summary="Data pendaftaran aplikasi autentikator",
    description="Rahasia, URI otpauth, dan kode QR-nya (SVG).",
    tags=["Sesi"],
)
def totp_enrolment(session: EnrollingSession, portal: PortalDep) -> EnrolmentOut:
    """The authenticator's secret, its otpauth URI and that URI as an inline SVG QR code."""
    secret, uri = portal.totp_enrolment(session)
    return EnrolmentOut(secret=secret, otpauth_uri=uri, qr_svg=credentials.qr_svg(uri))


class CodeIn(BaseModel):
    code: str = Field(min_length=1, max_length=32)


class EnrolledOut(BaseModel):
    state: str
    recovery_codes: list[str]
    message: str = "Simpan kode pemulihan ini di tempat aman; masing-masing hanya berlaku sekali."


@router.post(
    "/session/totp/enrolment",
    response_model=EnrolledOut,
    summary="Konfirmasi aplikasi autentikator",
    tags=["Sesi"],
)
def confirm_totp(body: CodeIn, session: EnrollingSession, portal: PortalDep, ip: Ip) -> EnrolledOut:
    codes = portal.confirm_totp(session, body.code, ip)
    return EnrolledOut(state=domain.ACTIVE, recovery_codes=codes)


@router.post(
    "/session/totp",
    response_model=SessionOut,
    summary="Langkah kedua masuk (TOTP)",
    description="Kode TOTP atau kode pemulihan.",
    tags=["Sesi"],
)
def second_factor(body: CodeIn, session: TotpSession, portal: PortalDep, ip: Ip) -> SessionOut:
    """The second step of a privileged login: a TOTP code or a recovery code."""
    return _out(portal.second_factor(session, body.code, ip))


class TokenOut(BaseModel):
    token: str
    token_type: str = "Bearer"
    audience: str
    expires_at: datetime


@router.post(
    "/session/token",
    response_model=TokenOut,
    summary="Token layanan untuk sesi ini",
    description="Token bertanda tangan berumur 5 menit berisi nip, peran, dan OPD sesi ini.",
    tags=["Sesi"],
)
def service_token(
    session: ActiveSession,
    portal: PortalDep,
    ip: Ip,
    aud: str = Query(description="the service the token is for, e.g. tpp"),
) -> TokenOut:
    """A short-lived (5 minutes) signed token carrying this session's nip, role and opd."""
    token, expires = portal.service_token(session, aud, ip)
    return TokenOut(token=token, audience=aud, expires_at=expires)


class FirstPasswordIn(BaseModel):
    nip: str = NipField
    code: str = Field(min_length=1, max_length=32)
    new_password: str = Field(min_length=1, max_length=domain.MAX_PASSWORD)


@router.post(
    "/first-password",
    status_code=204,
    summary="Tetapkan kata sandi pertama",
    description="Dengan kode sekali pakai dari operator OPD (pertama kali atau setel ulang).",
    tags=["Sesi"],
)
def first_password(body: FirstPasswordIn, portal: PortalDep, ip: Ip) -> None:
    """Set a password with the one-time code the OPD operator gave (first time or reset)."""
    portal.first_password(body.nip, body.code, body.new_password, ip)
