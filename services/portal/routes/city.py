"""BKPSDM's and the auditor's pages: the work calendar, the TPP month (close, reopen, payroll
download), role grants, and the portal's audit log with its CSV export. Service data comes
through `Backend` (a token minted for the logged-in person); grants go straight to the
portal's own command layer (accounts.Portal), the audit log straight to its store."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from services.kernel.calendar import WIB
from services.portal import domain, store
from services.portal.backend import ServiceError
from services.portal.models import AuditEntry, RoleGrant
from services.portal.routes.deps import portal_of
from services.portal.routes.work import (
    CSRF_REFUSED,
    Ctx,
    _caller,
    _go,
    _period,
    csrf_ok,
    page_ctx,
    today,
)
from services.shared.http import Problem

router = APIRouter(include_in_schema=False)
AUDIT_LIMIT = 500  # rows on the page; the CSV carries up to CSV_LIMIT
CSV_LIMIT = 10_000
GRANT_ROLES = ("operator", "bkpsdm", "auditor")
# What people call the audit actions (the raw name stays in the CSV).
ACTION_WORDS = {
    "login": "Masuk",
    "login_failed": "Gagal masuk",
    "login_limited_ip": "Masuk dibatasi (terlalu banyak percobaan dari satu IP)",
    "login_while_locked": "Mencoba masuk saat terkunci",
    "lockout": "Akun terkunci",
    "first_password_set": "Kata sandi pertama dibuat",
    "password_changed": "Kata sandi diganti",
    "password_change_failed": "Gagal mengganti kata sandi",
    "logout": "Keluar",
    "logout_everywhere": "Keluar dari semua perangkat",
    "setup_code_issued": "Kode kata sandi pertama dibuat",
    "password_reset": "Kata sandi diatur ulang",
    "setup_code_failed": "Kode kata sandi salah",
    "totp_enrolled": "Autentikator dipasang",
    "totp_failed": "Kode autentikator salah",
    "totp_reset": "Autentikator dihapus",
    "role_granted": "Peran diberikan",
    "role_revoked": "Peran dicabut",
    "account_created": "Akun dibuat",
    "account_deactivated": "Akun dinonaktifkan",
    "token_issued": "Akses layanan",
    "period_closed": "Periode TPP ditutup",
    "period_reopened": "Periode TPP dibuka kembali",
}


async def _delete(ctx: Ctx, service: str, path: str) -> Any:
    return await ctx.backend.call(ctx.session, ctx.ip, "DELETE", service, path)


# -- work calendar -------------------------------------------------------------------------------
def _year(value: str | None, request: Request) -> int:
    if value and value.isdigit() and len(value) == 4:
        return int(value)
    return today(request).year


@router.get("/kalender")
async def calendar_page(request: Request, tahun: str | None = None) -> Response:
    ctx = page_ctx(request, "bkpsdm")
    year = _year(tahun, request)
    calendar, error = None, None
    try:
        calendar = await ctx.get("attendance", "/calendar", year=year)
    except ServiceError as err:
        error = err.message
    return ctx.page("kalender.html", "Kalender kerja", calendar=calendar, year=year, error=error)


@router.post("/kalender/tambah")
async def calendar_add(
    request: Request,
    tanggal: str = Form(""),
    nama: str = Form(""),
    jenis: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    ctx = page_ctx(request, "bkpsdm")
    back = f"/kalender?tahun={tanggal[:4]}" if tanggal[:4].isdigit() else "/kalender"
    if not csrf_ok(ctx, csrf_token):
        return _go(back, error=CSRF_REFUSED)
    try:
        day = date.fromisoformat(tanggal)
    except ValueError:
        return _go(back, error="Pilih tanggalnya dulu (misalnya 24-12-2026), lalu simpan lagi.")
    paths = {"libur": "/calendar/holidays", "kerja": "/calendar/working-days"}
    if jenis not in paths:
        return _go(back, error="Pilih jenisnya: hari libur atau hari kerja pengganti.")
    try:
        await ctx.post("attendance", paths[jenis], {"tanggal": day.isoformat(), "nama": nama})
    except ServiceError as err:
        return _go(back, error=err.message)
    what = "hari libur" if jenis == "libur" else "hari kerja"
    return _go(back, f"{day:%d-%m-%Y} ditetapkan sebagai {what}. Rekap presensi ikut disesuaikan.")


@router.post("/kalender/{tanggal}/hapus")
async def calendar_remove(request: Request, tanggal: str, csrf_token: str = Form("")) -> Response:
    ctx = page_ctx(request, "bkpsdm")
    back = f"/kalender?tahun={tanggal[:4]}" if tanggal[:4].isdigit() else "/kalender"
    if not csrf_ok(ctx, csrf_token):
        return _go(back, error=CSRF_REFUSED)
    try:
        await _delete(ctx, "attendance", f"/calendar/overrides/{tanggal}")
    except ServiceError as err:
        return _go(back, error=err.message)
    return _go(back, f"Perubahan tanggal {tanggal} dibatalkan; tanggal itu kembali mengikuti "
                     "kalender nasional.")  # fmt: skip


# -- TPP period ----------------------------------------------------------------------------------
async def _summary(ctx: Ctx, period: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return await ctx.get("tpp", f"/periods/{period}"), None
    except ServiceError as err:
        return None, err.message


@router.get("/periode")
async def period_page(request: Request, periode: str | None = None) -> Response:
    ctx = page_ctx(request, "bkpsdm")
    period = _period(periode, request)
    summary, error = await _summary(ctx, period)
    return ctx.page("periode.html", "Periode TPP", summary=summary, period=period, error=error)


@router.get("/periode/{period}/yakin/{step}")
async def period_confirm(request: Request, period: str, step: str) -> Response:
    """The confirmation step before a close or a reopen."""
    ctx = page_ctx(request, "bkpsdm")
    if step not in ("tutup", "buka"):
        return _go("/periode", error="Pilih Tutup atau Buka kembali dari halaman periode.")
    period = _period(period, request)
    summary, error = await _summary(ctx, period)
    return ctx.page("periode_yakin.html", "Yakin?", summary=summary, period=period, step=step,
                    error=error)  # fmt: skip


@router.post("/periode/{period}/{step}")
async def period_act(
    request: Request, period: str, step: str, csrf_token: str = Form("")
) -> Response:
    ctx = page_ctx(request, "bkpsdm")
    period = _period(period, request)
    back = f"/periode?periode={period}"
    if not csrf_ok(ctx, csrf_token):
        return _go(back, error=CSRF_REFUSED)
    actions = {"tutup": ("close", "period_closed"), "buka": ("reopen", "period_reopened")}
    if step not in actions:
        return _go(back, error="Pilih Tutup atau Buka kembali dari halaman periode.")
    verb, action = actions[step]
    try:
        result = await ctx.post("tpp", f"/periods/{period}/{verb}")
    except ServiceError as err:
        return _go(back, error=err.message)
    await to_thread.run_sync(
        portal_of(request).record_forwarded, _caller(ctx.session), action, period, ctx.ip
    )
    if step == "tutup":
        info = (f"Periode ditutup: {result.get('statements', 0)} rincian TPP dibekukan. "
                "Daftar pembayaran (XLSX) siap diunduh.")  # fmt: skip
    else:
        info = (f"Periode dibuka kembali: {result.get('applied_corrections', 0)} koreksi "
                "diterapkan. Tutup lagi setelah selesai.")  # fmt: skip
    return _go(back, info)


@router.get("/periode/{period}/unduh.xlsx")
async def payroll_download(request: Request, period: str) -> Response:
    """tpp's XLSX, fetched with the person's token: the browser needs none."""
    ctx = page_ctx(request, "bkpsdm")
    period = _period(period, request)
    draft = request.query_params.get("draf") == "1"
    try:
        response = await ctx.backend.request(
            ctx.session, ctx.ip, "GET", "tpp", f"/periods/{period}/export.xlsx",
            params={"draft": "true"} if draft else None,
        )  # fmt: skip
    except ServiceError as err:
        return _go(f"/periode?periode={period}", error=err.message)
    return Response(
        response.content,
        media_type=response.headers.get("content-type", "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="tpp-{period}.xlsx"'},
    )


# -- role grants ---------------------------------------------------------------------------------
@router.get("/peran")
async def roles_page(request: Request) -> Response:
    ctx = page_ctx(request, "bkpsdm")
    portal = portal_of(request)

    def read() -> list[RoleGrant]:
        with portal.kit.uow() as uow:
            return store.all_active_grants(uow)

    grants = await to_thread.run_sync(read)
    return ctx.page("peran.html", "Peran", grants=grants, roles=GRANT_ROLES,
                    role_names=domain.ROLE_NAMES)  # fmt: skip


@router.post("/peran/beri")
async def grant_role(
    request: Request,
    nip: str = Form(""),
    role: str = Form(""),
    opd: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    ctx = page_ctx(request, "bkpsdm")
    if not csrf_ok(ctx, csrf_token):
        return _go("/peran", error=CSRF_REFUSED)
    nip = nip.strip()
    if not nip:
        return _go("/peran", error="Isi NIP pegawai yang akan diberi peran.")
    if role not in GRANT_ROLES:
        return _go("/peran", error="Pilih perannya: operator OPD, BKPSDM atau auditor.")
    if role == "operator" and not opd.strip():
        return _go("/peran", error="Peran operator OPD memerlukan nama OPD-nya. Isi OPD lalu "
                                   "kirim lagi.")  # fmt: skip
    try:
        await to_thread.run_sync(
            portal_of(request).grant, _caller(ctx.session), nip, role, opd.strip() or None, ctx.ip
        )
    except Problem as exc:
        return _go("/peran", error=str(exc.detail))
    name = domain.ROLE_NAMES.get(role, role)
    return _go("/peran", f"NIP {nip} sekarang memegang peran {name}. Saat masuk berikutnya ia "
                         "diminta memasang aplikasi autentikator.")  # fmt: skip


@router.post("/peran/{nip}/{role}/cabut")
async def revoke_role(
    request: Request, nip: str, role: str, csrf_token: str = Form("")
) -> Response:
    ctx = page_ctx(request, "bkpsdm")
    if not csrf_ok(ctx, csrf_token):
        return _go("/peran", error=CSRF_REFUSED)
    try:
        await to_thread.run_sync(portal_of(request).revoke, _caller(ctx.session), nip, role, ctx.ip)
    except Problem as exc:
        return _go("/peran", error=str(exc.detail))
    name = domain.ROLE_NAMES.get(role, role)
    return _go("/peran", f"Peran {name} NIP {nip} dicabut; sesinya dengan peran itu berakhir.")


# -- audit log -----------------------------------------------------------------------------------
def _day_or_none(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _audit_rows(
    portal: Any, action: str, nip: str, since: date | None, until: date | None, limit: int
) -> list[AuditEntry]:
    """Newest first; the dates are WIB days, both ends included."""
    first = datetime.combine(since, time(), WIB) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), WIB) if until else None
    with portal.kit.uow() as uow:
        return store.audit_entries(
            uow, nip=nip or None, action=action or None, limit=limit, since=first, until=end
        )


def _filters(request: Request) -> dict[str, str]:
    q = request.query_params
    return {key: (q.get(key) or "").strip() for key in ("aksi", "nip", "dari", "sampai")}


@router.get("/audit")
async def audit_page(request: Request) -> Response:
    ctx = page_ctx(request, "bkpsdm", "auditor")
    f = _filters(request)
    since, until = _day_or_none(f["dari"]), _day_or_none(f["sampai"])
    error = None
    if (f["dari"] and since is None) or (f["sampai"] and until is None):
        error = "Tanggal tidak dikenali. Pilih tanggal dari kalender isian, lalu tampilkan lagi."
    rows = await to_thread.run_sync(
        _audit_rows, portal_of(request), f["aksi"], f["nip"], since, until, AUDIT_LIMIT
    )
    query = urlencode({k: v for k, v in f.items() if v})
    return ctx.page("audit.html", "Log audit", rows=rows, f=f, actions=ACTION_WORDS,
                    limit=AUDIT_LIMIT, query=query, error=error)  # fmt: skip


@router.get("/audit/unduh.csv")
async def audit_csv(request: Request) -> Response:
    page_ctx(request, "bkpsdm", "auditor")  # may this session read the log at all
    f = _filters(request)
    rows = await to_thread.run_sync(
        _audit_rows, portal_of(request), f["aksi"], f["nip"], _day_or_none(f["dari"]),
        _day_or_none(f["sampai"]), CSV_LIMIT,
    )  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["waktu_wib", "aksi", "nip_pelaku", "peran_pelaku", "sasaran", "ip", "rincian"])
    for r in rows:
        detail = json.dumps(json.loads(r.detail), ensure_ascii=False) if r.detail else ""
        at = r.at.astimezone(WIB).isoformat(timespec="seconds")
        who = [r.actor_nip or "", r.actor_role or "", r.target or ""]
        writer.writerow([at, r.action, *who, r.ip, detail])
    return Response(
        out.getvalue().encode("utf-8-sig"),  # with a BOM: Excel reads it as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="log-audit.csv"'},
    )
