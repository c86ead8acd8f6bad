"""Server-rendered pages in Bahasa Indonesia: log in, first password with a one-time code,
change password, TOTP enrolment (QR as inline SVG) and the TOTP step. Every form carries a
CSRF token: the session's, or before a session exists a double-submit cookie's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.portal import credentials, domain
from services.portal.models import LoginSession
from services.portal.routes import work
from services.portal.routes.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    clear_session_cookie,
    client_ip,
    portal_of,
    set_session_cookie,
)
from services.shared.http import Problem

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
STEP_PAGE = {
    domain.MUST_CHANGE: "/ganti-kata-sandi",
    domain.ENROL_TOTP: "/totp/daftar",
    domain.TOTP: "/totp",
    domain.ACTIVE: "/",
}
CSRF_REFUSED = (
    "Formulir kedaluwarsa atau tidak sah (token CSRF). Muat ulang halaman lalu coba lagi."
)


def _page(request: Request, name: str, title: str, status: int = 200, **context: Any) -> Response:
    return templates.TemplateResponse(
        request, name, {"title": title, **context}, status_code=status
    )


def _go(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _session(request: Request) -> LoginSession | None:
    return portal_of(request).session_of(request.cookies.get(SESSION_COOKIE))


# -- before a session: double-submit CSRF cookie -------------------------------------------------
def _pre_csrf(request: Request) -> str:
    return request.cookies.get(CSRF_COOKIE) or credentials.new_token()


def _with_pre_csrf(response: Response, token: str) -> Response:
    response.set_cookie(CSRF_COOKIE, token, path="/", secure=True, httponly=True, samesite="strict")
    return response


def _pre_csrf_ok(request: Request, submitted: str) -> bool:
    return credentials.same(request.cookies.get(CSRF_COOKIE), submitted)


@router.get("/masuk", summary="Halaman masuk")
def login_page(request: Request) -> Response:
    token = _pre_csrf(request)
    return _with_pre_csrf(_page(request, "masuk.html", "Masuk", csrf_token=token), token)


@router.post("/masuk", summary="Kirim formulir masuk")
def login_form(
    request: Request,
    nip: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    token = _pre_csrf(request)
    if not _pre_csrf_ok(request, csrf_token):
        page = _page(request, "masuk.html", "Masuk", 403, error=CSRF_REFUSED, csrf_token=token)
        return _with_pre_csrf(page, token)
    portal = portal_of(request)
    try:
        opened = portal.login(nip.strip(), password, client_ip(request))
    except Problem as exc:
        page = _page(
            request, "masuk.html", "Masuk", exc.status, error=exc.detail, csrf_token=token, nip=nip
        )
        return _with_pre_csrf(page, token)
    response = _go(STEP_PAGE[opened.session.state])
    set_session_cookie(response, opened.token, portal.session_policy)
    return response


@router.get("/kata-sandi-pertama", summary="Halaman kata sandi pertama")
def first_password_page(request: Request) -> Response:
    token = _pre_csrf(request)
    page = _page(request, "kata_sandi_pertama.html", "Kata sandi pertama", csrf_token=token)
    return _with_pre_csrf(page, token)


@router.post("/kata-sandi-pertama", summary="Kirim kata sandi pertama")
def first_password_form(
    request: Request,
    nip: str = Form(""),
    code: str = Form(""),
    new_password: str = Form(""),
    repeat: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    token = _pre_csrf(request)
    error, status = None, 200
    if not _pre_csrf_ok(request, csrf_token):
        error, status = CSRF_REFUSED, 403
    elif new_password != repeat:
        error, status = "Kedua isian kata sandi baru tidak sama.", 422
    else:
        try:
            portal_of(request).first_password(nip.strip(), code, new_password, client_ip(request))
        except Problem as exc:
            error, status = exc.detail, exc.status
    if error is None:
        info = "Kata sandi tersimpan. Silakan masuk dengan NIP dan kata sandi baru Anda."
        page = _page(request, "masuk.html", "Masuk", info=info, csrf_token=token, nip=nip)
        return _with_pre_csrf(page, token)
    page = _page(
        request, "kata_sandi_pertama.html", "Kata sandi pertama", status,
        error=error, csrf_token=token, nip=nip,
    )  # fmt: skip
    return _with_pre_csrf(page, token)


# -- with a session: the session's CSRF token --------------------------------------------------
def _in_step(request: Request, *states: str) -> LoginSession | Response:
    session = _session(request)
    if session is None:
        return _go("/masuk")
    if session.state not in states:
        return _go(STEP_PAGE[session.state])
    return session


def _refused(request: Request, template: str, title: str, session: LoginSession) -> Response:
    return _page(request, template, title, 403, error=CSRF_REFUSED, csrf_token=session.csrf)


@router.get("/", summary="Beranda")
async def home(request: Request) -> Response:
    """'Hari ini' for an ASN or atasan, the role's pages for the others (routes/work.py)."""
    return await work.home_page(request)


@router.get("/ganti-kata-sandi", summary="Halaman ganti kata sandi")
def change_page(request: Request) -> Response:
    session = _in_step(request, domain.MUST_CHANGE, domain.ACTIVE)
    if isinstance(session, Response):
        return session
    info = (
        domain.STATE_MESSAGES[domain.MUST_CHANGE] if session.state == domain.MUST_CHANGE else None
    )
    return _page(
        request, "ganti_kata_sandi.html", "Ganti kata sandi", info=info,
        csrf_token=session.csrf, ask_current=session.state == domain.ACTIVE,
    )  # fmt: skip


@router.post("/ganti-kata-sandi", summary="Kirim kata sandi baru")
def change_form(
    request: Request,
    current_password: str = Form(""),
    new_password: str = Form(""),
    repeat: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    session = _in_step(request, domain.MUST_CHANGE, domain.ACTIVE)
    if isinstance(session, Response):
        return session
    if not credentials.same(session.csrf, csrf_token):
        return _refused(request, "ganti_kata_sandi.html", "Ganti kata sandi", session)
    error, status = None, 200
    if new_password != repeat:
        error, status = "Kedua isian kata sandi baru tidak sama.", 422
    else:
        try:
            session = portal_of(request).change_password(
                session, current_password or None, new_password, client_ip(request)
            )
        except Problem as exc:
            error, status = exc.detail, exc.status
    if error is None:
        return _go(STEP_PAGE[session.state])
    return _page(
        request, "ganti_kata_sandi.html", "Ganti kata sandi", status, error=error,
        csrf_token=session.csrf, ask_current=session.state == domain.ACTIVE,
    )  # fmt: skip


@router.get("/totp/daftar", summary="Halaman pendaftaran autentikator")
def enrol_page(request: Request) -> Response:
    session = _in_step(request, domain.ENROL_TOTP)
    if isinstance(session, Response):
        return session
    secret, uri = portal_of(request).totp_enrolment(session)
    return _page(
        request, "totp_daftar.html", "Daftarkan autentikator", secret=secret,
        qr_svg=credentials.qr_svg(uri), csrf_token=session.csrf,
        info=domain.STATE_MESSAGES[domain.ENROL_TOTP],
    )  # fmt: skip


@router.post("/totp/daftar", summary="Kirim kode pendaftaran autentikator")
def enrol_form(request: Request, code: str = Form(""), csrf_token: str = Form("")) -> Response:
    session = _in_step(request, domain.ENROL_TOTP)
    if isinstance(session, Response):
        return session
    portal = portal_of(request)
    secret, uri = portal.totp_enrolment(session)
    context = {"secret": secret, "qr_svg": credentials.qr_svg(uri), "csrf_token": session.csrf}
    if not credentials.same(session.csrf, csrf_token):
        return _page(request, "totp_daftar.html", "Daftarkan autentikator", 403,
                     error=CSRF_REFUSED, **context)  # fmt: skip
    try:
        codes = portal.confirm_totp(session, code, client_ip(request))
    except Problem as exc:
        return _page(request, "totp_daftar.html", "Daftarkan autentikator", exc.status,
                     error=exc.detail, **context)  # fmt: skip
    return _page(request, "kode_pemulihan.html", "Kode pemulihan", codes=codes)


@router.get("/totp", summary="Halaman langkah kedua")
def totp_page(request: Request) -> Response:
    session = _in_step(request, domain.TOTP)
    if isinstance(session, Response):
        return session
    return _page(request, "totp.html", "Verifikasi dua langkah", csrf_token=session.csrf,
                 info=domain.STATE_MESSAGES[domain.TOTP])  # fmt: skip


@router.post("/totp", summary="Kirim kode langkah kedua")
def totp_form(request: Request, code: str = Form(""), csrf_token: str = Form("")) -> Response:
    session = _in_step(request, domain.TOTP)
    if isinstance(session, Response):
        return session
    if not credentials.same(session.csrf, csrf_token):
        return _refused(request, "totp.html", "Verifikasi dua langkah", session)
    try:
        session = portal_of(request).second_factor(session, code, client_ip(request))
    except Problem as exc:
        return _page(request, "totp.html", "Verifikasi dua langkah", exc.status,
                     error=exc.detail, csrf_token=session.csrf)  # fmt: skip
    return _go(STEP_PAGE[session.state])


def _logout(request: Request, csrf_token: str, everywhere: bool) -> Response:
    session = _session(request)
    if session is None:
        return _go("/masuk")
    if not credentials.same(session.csrf, csrf_token):
        return _page(request, "masuk.html", "Masuk", 403, error=CSRF_REFUSED,
                     csrf_token=_pre_csrf(request))  # fmt: skip
    portal_of(request).logout(session, client_ip(request), everywhere=everywhere)
    response = _go("/masuk")
    clear_session_cookie(response)
    return response


@router.post("/keluar", summary="Keluar")
def logout_form(request: Request, csrf_token: str = Form("")) -> Response:
    return _logout(request, csrf_token, everywhere=False)


@router.post("/keluar-semua", summary="Keluar dari semua perangkat")
def logout_everywhere_form(request: Request, csrf_token: str = Form("")) -> Response:
    return _logout(request, csrf_token, everywhere=True)
