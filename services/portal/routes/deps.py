"""What the portal's routes share: the Portal, the caller's IP, the session cookie, CSRF
checks, and the caller (a session, or a signed token for scripts and the first BKPSDM)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request, Response

from services.portal import domain
from services.portal.accounts import Caller, Portal
from services.portal.credentials import same
from services.portal.models import LoginSession
from services.shared.http import Problem, kit_of
from services.shared.identity import IdentityError, bearer, jwks_of, verify

SESSION_COOKIE = "sikerja_session"
CSRF_COOKIE = "sikerja_csrf"  # before a session exists (login form): double-submit
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def set_session_cookie(response: Response, token: str, policy: domain.SessionPolicy) -> None:
    # Secure + HttpOnly + SameSite=Strict: never sent over plain HTTP (localhost excepted by
    # browsers), never read by scripts, never sent with another site's requests.
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(policy.absolute.total_seconds()),
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")


def check_csrf(session: LoginSession, submitted: str | None) -> None:
    if not same(session.csrf, submitted):
        raise Problem(
            403,
            "Token CSRF tidak ada atau tidak cocok. Muat ulang halaman lalu coba lagi.",
            code="csrf",
        )


def _session_of(request: Request) -> LoginSession | None:
    return portal_of(request).session_of(request.cookies.get(SESSION_COOKIE))


def _require(session: LoginSession | None, states: tuple[str, ...]) -> LoginSession:
    if session is None:
        raise Problem(
            401, "Belum masuk atau sesi sudah berakhir. Silakan masuk.", code="no_session"
        )
    if session.state not in states:
        raise Problem(
            409, domain.STATE_MESSAGES[session.state], code="wrong_step", state=session.state
        )
    return session


def _token_is_no_session(request: Request) -> None:
    """A session route called with a valid token and no session: the caller is known but a
    token opens no session (403, as any valid token without the right); a bad token is 401."""
    authorization = request.headers.get("authorization")
    if not authorization:
        return
    try:
        verify(bearer(authorization), "portal", jwks_of(kit_of(request).settings))
    except IdentityError as exc:
        raise Problem(401, exc.detail, code=exc.code) from exc
    raise Problem(
        403,
        "Langkah ini hanya untuk sesi masuk di portal; token layanan tidak membuka sesi.",
        code="session_required",
    )


def session_in(*states: str):
    """A dependency: the cookie's session in one of `states`, with the CSRF header checked
    on unsafe methods (the JSON API's forms are scripts: they send the header)."""

    def dependency(
        request: Request, x_csrf_token: str | None = Header(default=None)
    ) -> LoginSession:
        session = _session_of(request)
        if session is None:
            _token_is_no_session(request)
        session = _require(session, states)
        if request.method in UNSAFE:
            check_csrf(session, x_csrf_token)
        return session

    return dependency


AnySession = Annotated[
    LoginSession,
    Depends(session_in(domain.MUST_CHANGE, domain.ENROL_TOTP, domain.TOTP, domain.ACTIVE)),
]
ActiveSession = Annotated[LoginSession, Depends(session_in(domain.ACTIVE))]


def caller(
    request: Request,
    authorization: str | None = Header(default=None),
    x_csrf_token: str | None = Header(default=None),
) -> Caller:
    """A Bearer token (aud portal: scripts, `sikerja token`) or an active session."""
    if authorization:
        try:
            who = verify(bearer(authorization), "portal", jwks_of(kit_of(request).settings))
        except IdentityError as exc:
            raise Problem(401, exc.detail, code=exc.code) from exc
        return Caller(nip=who.nip, role=who.role, opd=who.opd)
    session = _require(_session_of(request), (domain.ACTIVE,))
    if request.method in UNSAFE:
        check_csrf(session, x_csrf_token)
    return Caller(nip=session.nip, role=session.role, opd=session.opd, session=session)


Who = Annotated[Caller, Depends(caller)]
Ip = Annotated[str, Depends(client_ip)]
PortalDep = Annotated[Portal, Depends(portal_of)]


def forbidden(roles: str) -> Problem:
    return Problem(403, f"Hanya {roles} yang berwenang untuk tindakan ini.", code="forbidden")
