"""The pages people work in, in Bahasa Indonesia: an ASN's day, reports, TPP statement and
notifications; an atasan's approval queue; an operator's employees and accounts; BKPSDM's
dashboard. Every page calls the services' HTTP APIs through `Backend` (a token minted for the
logged-in person); a service's refusal is shown on the page as what to do next."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.kernel import bahasa
from services.kernel.calendar import WIB
from services.portal import charts, credentials, domain, store
from services.portal.accounts import Caller
from services.portal.backend import Backend, ServiceError
from services.portal.models import LoginSession
from services.portal.routes.deps import SESSION_COOKIE, client_ip, portal_of
from services.shared.http import Problem, now_of

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
PERSONS = ("asn", "atasan")
MAX_EVIDENCE = 10 * 1024 * 1024
FLASH_COOKIE = "sikerja_pesan"
CSRF_REFUSED = "Formulir kedaluwarsa (token CSRF). Muat ulang halaman lalu kirim lagi."

REPORT_STATUS = {
    "pending": "Menunggu persetujuan atasan",
    "approved": "Disetujui",
    "rejected": "Ditolak",
    "revision_requested": "Diminta revisi",
    "withdrawn": "Ditarik",
}
# What a TPP line's code means, in words (the rule's article is on the line itself).
LINE_WORDS = {
    "TL": "Terlambat masuk kerja",
    "PSW": "Pulang sebelum waktunya",
    "TK": "Tidak masuk kerja tanpa keterangan",
    "ITS": "Izin tidak sah",
    "LKH": "Laporan kegiatan harian hari itu belum disetujui",
}


def line_words(code: str) -> str:
    for prefix in sorted(LINE_WORDS, key=len, reverse=True):
        if code.startswith(prefix):
            level = code[len(prefix) :]
            return LINE_WORDS[prefix] + (f" (tingkat {level})" if level else "")
    return code


def _day(value: str | date | None) -> str:
    if not value:
        return "-"
    return bahasa.tanggal(value if isinstance(value, date) else date.fromisoformat(value[:10]))


def _moment(value: str | datetime | None) -> str:
    """'Senin, 5 Oktober 2026 pukul 16.00 WIB'."""
    if not value:
        return "-"
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    local = moment.astimezone(WIB)
    return f"{bahasa.tanggal(local.date())} pukul {local:%H.%M} WIB"


def _clock(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(WIB).strftime("%H.%M")


def annulled_total(lines: list[dict[str, Any]] | None) -> int:
    """What the statement's annulled lines would have cost (RULES.md "Annulled cuts")."""
    return sum(int(ln.get("annulled_amount") or 0) for ln in lines or ())


templates.env.filters.update(
    dibatalkan=annulled_total,
    tanggal=_day,
    waktu=_moment,
    jam=_clock,
    rupiah=bahasa.rupiah,
    ribuan=bahasa.ribuan,
    periode=bahasa.periode,
    status_laporan=lambda s: REPORT_STATUS.get(s, s),
    kode_tpp=line_words,
)


@dataclass
class Ctx:
    """One page request: who (an active session), from where, and the backend."""

    request: Request
    session: LoginSession
    backend: Backend

    @property
    def ip(self) -> str:
        return client_ip(self.request)

    @property
    def nip(self) -> str:
        return self.session.nip

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return await self.backend.get(self.session, self.ip, service, path, **params)

    async def post(self, service: str, path: str, json: Any = None, **kw: Any) -> Any:
        return await self.backend.post(self.session, self.ip, service, path, json, **kw)

    def page(self, name: str, title: str, http_status: int = 200, /, **context: Any) -> Response:
        info, error = _flash(self.request)
        context.setdefault("info", None)
        context.setdefault("error", None)
        context["info"] = " ".join(x for x in (info, context["info"]) if x) or None
        context["error"] = " ".join(x for x in (error, context["error"]) if x) or None
        response = templates.TemplateResponse(
            self.request,
            name,
            {
                "title": title,
                "session": self.session,
                "csrf_token": self.session.csrf,
                "role_name": domain.ROLE_NAMES.get(self.session.role, self.session.role),
                "nav": nav_of(self.session.role),
                "nav_groups": nav_groups(self.session.role),
                "path": self.request.url.path,
                **context,
            },
            status_code=http_status,
        )
        if FLASH_COOKIE in self.request.cookies:
            response.delete_cookie(FLASH_COOKIE, path="/", secure=True, httponly=True,
                                   samesite="strict")  # fmt: skip
        return response


def nav_of(role: str) -> list[tuple[str, str]]:
    items = [("/", "Hari ini")]
    if role in PERSONS:
        items += [("/laporan", "Laporan saya"), ("/tpp", "TPP saya"), ("/skp", "Target SKP saya")]
    if role == "atasan":  # a Plt who is an asn finds the queue from "Hari ini"
        items.append(("/persetujuan", "Persetujuan"))
        items.append(("/kinerja", "Penilaian kinerja"))
        items += [("/bawahan", "Rekap bawahan"), ("/plt", "Tunjuk Plt")]  # routes/team.py
    if role == "operator":
        items += [("/ketidakhadiran", "Ketidakhadiran"), ("/mesin", "Mesin"),
                  ("/impor", "Impor"), ("/rekap", "Rekap hari")]  # fmt: skip
        items.append(("/tpp-opd", "TPP OPD"))
    if role in ("operator", "bkpsdm"):
        items.append(("/pegawai", "Pegawai & akun"))
    if role in ("bkpsdm", "auditor"):
        items.append(("/dasbor", "Dasbor kota"))
    if role == "bkpsdm":
        items += [("/kalender", "Kalender kerja"), ("/periode", "Periode TPP"), ("/peran", "Peran")]
        items += [("/aturan", "Aturan TPP"), ("/pembukaan", "Buka tanggal"), ("/siasn", "SIASN")]
        items += [("/gangguan-mesin", "Gangguan mesin"), ("/penilai", "Penilai")]
    if role in ("bkpsdm", "auditor", "operator"):
        items.append(("/pembatalan", "Pembatalan potongan"))  # routes/annulments.py
        items.append(("/siasn/hasil", "Hasil ke SIASN"))  # routes/bkpsdm.py
    if role in ("bkpsdm", "auditor"):
        items += [("/anomali", "Anomali"), ("/audit", "Log audit")]
    items.append(("/pemberitahuan", "Pemberitahuan"))
    return items


# The menu's groups (base.html: one "Menu" disclosure on a phone, so the page comes first).
# Each link of `nav_of` belongs to one; a link without one goes to OTHER_GROUP.
NAV_GROUPS: dict[str, tuple[str, ...]] = {
    "Saya": ("/", "/laporan", "/tpp", "/skp", "/pemberitahuan"),
    "Tim": ("/persetujuan", "/kinerja", "/bawahan", "/plt"),
    "Pegawai": ("/pegawai", "/peran", "/penilai"),
    "Dasbor & audit": ("/dasbor", "/anomali", "/audit"),
    "Kehadiran": ("/ketidakhadiran", "/mesin", "/impor", "/rekap", "/kalender",
                  "/pembukaan", "/gangguan-mesin"),
    "TPP": ("/tpp-opd", "/periode", "/aturan", "/pembatalan"),
    "SIASN": ("/siasn", "/siasn/hasil"),
}  # fmt: skip
OTHER_GROUP = "Lainnya"
_GROUP_OF = {href: group for group, hrefs in NAV_GROUPS.items() for href in hrefs}


def nav_groups(role: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """`nav_of(role)` in groups: a group comes where its most important link does, and
    keeps its links in `nav_of`'s order (of importance)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for href, label in nav_of(role):
        groups.setdefault(_GROUP_OF.get(href, OTHER_GROUP), []).append((href, label))
    return list(groups.items())


def _go(path: str, info: str = "", error: str = "") -> RedirectResponse:
    """See other; `info` and `error` ride along in a one-read cookie (never in the URL,
    where anyone could put words on our page)."""
    response = RedirectResponse(path, status_code=303)
    if info or error:
        flash = base64.urlsafe_b64encode(json.dumps([info, error]).encode()).decode()
        response.set_cookie(FLASH_COOKIE, flash, max_age=60, path="/", secure=True,
                            httponly=True, samesite="strict")  # fmt: skip
    return response


def _flash(request: Request) -> tuple[str | None, str | None]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None, None
    try:
        info, error = json.loads(base64.urlsafe_b64decode(raw.encode()))
        return str(info) or None, str(error) or None
    except (ValueError, TypeError):
        return None, None


NOT_YOUR_ROLE = "Halaman itu bukan untuk peran Anda."


class Elsewhere(Exception):
    """A page this session may not see: where it goes instead (the portal's app answers
    with `response`, see app.py). Raised by `page_ctx`, so a route reads as what it shows."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.headers.get("location", ""))
        self.response = response


def ctx_of(request: Request, *roles: str, refusal: str = NOT_YOUR_ROLE) -> Ctx | Response:
    """The active session, or where to go instead (log in, the next login step, home)."""
    from services.portal.routes.pages import STEP_PAGE  # the login steps' pages

    session = portal_of(request).session_of(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return _go("/masuk")
    if session.state != domain.ACTIVE:
        return _go(STEP_PAGE[session.state])
    if roles and session.role not in roles:
        return _go("/", error=refusal)
    return Ctx(request, session, request.app.state.backend)


def page_ctx(request: Request, *roles: str, refusal: str = NOT_YOUR_ROLE) -> Ctx:
    """`ctx_of`, raising `Elsewhere` instead of returning where to go."""
    found = ctx_of(request, *roles, refusal=refusal)
    if isinstance(found, Response):
        raise Elsewhere(found)
    return found


def csrf_ok(ctx: Ctx, submitted: str) -> bool:
    return credentials.same(ctx.session.csrf, submitted)


def today(request: Request) -> date:
    return now_of(request).astimezone(WIB).date()


# -- home: "Hari ini" ----------------------------------------------------------------------------
async def today_of(ctx: Ctx) -> dict[str, Any]:
    day = today(ctx.request)
    out: dict[str, Any] = {"today": day, "scans": [], "gate": None, "problems": []}
    # three services, asked at once: the page waits for the slowest, not for the sum
    answers: tuple[Any, ...] = await asyncio.gather(
        ctx.get("attendance", f"/employees/{ctx.nip}/scans", period=f"{day:%Y-%m}"),
        ctx.get("activity", f"/employees/{ctx.nip}/filing-status", work_date=day.isoformat()),
        ctx.get("approval", "/queue"),  # an atasan's, or a Plt's (maybe no subordinates)
        return_exceptions=True,
    )
    for answer in answers:
        if isinstance(answer, ServiceError):
            out["problems"].append(answer.message)
        elif isinstance(answer, BaseException):
            raise answer
    scans, gate, queue = answers
    if not isinstance(scans, ServiceError):
        out["scans"] = [s for s in scans if s["work_date"] == day.isoformat()]
    if not isinstance(gate, ServiceError):
        out["gate"] = gate
    if not isinstance(queue, ServiceError):
        out["waiting"] = len(queue)
    return out


async def home_page(request: Request) -> Response:
    ctx = page_ctx(request)
    context: dict[str, Any] = {}
    if ctx.session.role in PERSONS:
        context.update(await today_of(ctx))
    return ctx.page("beranda.html", "Hari ini", **context)


# -- reports -------------------------------------------------------------------------------------
def _period(value: str | None, request: Request) -> str:
    if value and len(value) == 7 and value[4] == "-" and value.replace("-", "").isdigit():
        return value
    return f"{today(request):%Y-%m}"


@router.get("/laporan")
async def my_reports(request: Request, periode: str | None = None) -> Response:
    ctx = page_ctx(request, *PERSONS)
    period = _period(periode, request)
    error, reports = None, []
    try:
        reports = await ctx.get("activity", f"/employees/{ctx.nip}/reports", period=period)
    except ServiceError as err:
        error = err.message
    reports.sort(key=lambda r: (r["work_date"], r["filed_at"]), reverse=True)
    return ctx.page(
        "laporan.html", "Laporan saya", reports=reports, period=period, error=error,
    )  # fmt: skip


def _form_values(report: dict[str, Any] | None, work_date: str) -> dict[str, Any]:
    report = report or {}
    return {
        "work_date": report.get("work_date", work_date),
        "description": report.get("description", ""),
        "output": report.get("output", ""),
        "quantity": report.get("quantity", 1),
        "minutes": report.get("minutes", ""),
        "skp_target_id": report.get("skp_target_id") or "",
    }


async def _targets(ctx: Ctx, work_date: str) -> list[dict[str, Any]]:
    """The person's SKP targets of the work date's year, for the form's choice. Optional: when
    activity cannot say, the form goes without the choice (a report needs no target)."""
    try:
        year = int(work_date[:4])
        found: list[dict[str, Any]] = await ctx.get(
            "activity", f"/employees/{ctx.nip}/skp-targets", year=year
        )
    except (ValueError, ServiceError):
        return []
    return found


@router.get("/laporan/baru")
async def new_report_page(request: Request, tanggal: str | None = None) -> Response:
    ctx = page_ctx(request, *PERSONS)
    day = tanggal or today(request).isoformat()
    gate, error = None, None
    try:
        gate = await ctx.get("activity", f"/employees/{ctx.nip}/filing-status", work_date=day)
    except ServiceError as err:
        error = err.message
    return ctx.page(
        "laporan_form.html", "Isi laporan kegiatan", form=_form_values(None, day),
        gate=gate, error=error, action="/laporan/baru", targets=await _targets(ctx, day),
    )  # fmt: skip


async def _evidence(ctx: Ctx, report_id: str, upload: UploadFile | None) -> str | None:
    """Attach the photo or document, if one was chosen; a message when it was refused."""
    if upload is None or not upload.filename:
        return None
    data = await upload.read(MAX_EVIDENCE + 1)
    if not data:
        return None
    if len(data) > MAX_EVIDENCE:
        return (
            "Berkas bukti lebih dari 10 MB, jadi tidak dilampirkan. Perkecil foto lalu "
            "lampirkan lagi."
        )
    files = {"file": (upload.filename, data, upload.content_type or "application/octet-stream")}
    try:
        await ctx.post("activity", f"/reports/{report_id}/evidence", files=files)
    except ServiceError as err:
        return "Laporan tersimpan, tetapi bukti tidak dapat dilampirkan: " + err.message
    return None


def _report_body(
    work_date: str, description: str, output: str, quantity: str, minutes: str, skp_target: str
) -> dict[str, Any] | str:
    """The JSON body, or what to fix (in words) when a number is not a number."""
    try:
        qty, mins = int(quantity or "1"), int(minutes)
    except ValueError:
        return "Isi jumlah hasil dan lama kerja (menit) dengan angka, misalnya 1 dan 90."
    return {
        "work_date": work_date,
        "description": description.strip(),
        "output": output.strip(),
        "quantity": qty,
        "minutes": mins,
        "skp_target_id": skp_target or None,
    }


@router.post("/laporan/baru")
async def new_report_form(
    request: Request,
    work_date: str = Form(""),
    description: str = Form(""),
    output: str = Form(""),
    quantity: str = Form("1"),
    minutes: str = Form(""),
    skp_target_id: str = Form(""),
    csrf_token: str = Form(""),
    bukti: UploadFile | None = None,
) -> Response:
    async def file(ctx: Ctx, body: dict[str, Any]) -> tuple[str, str]:
        report = await ctx.post("activity", "/reports", body)
        info = "Laporan terkirim ke atasan."
        return report["id"], f"{info} {report['message']}" if report.get("message") else info

    return await _submit_report(
        request, "Isi laporan kegiatan", "/laporan/baru", file, csrf_token, bukti,
        work_date, description, output, quantity, minutes, skp_target_id,
    )  # fmt: skip


@router.get("/laporan/{report_id}/perbaiki")
async def revise_page(request: Request, report_id: str) -> Response:
    ctx = page_ctx(request, *PERSONS)
    try:
        report = await ctx.get("activity", f"/reports/{report_id}")
    except ServiceError as err:
        return _go("/laporan", error=err.message)
    return ctx.page(
        "laporan_form.html", "Perbaiki laporan", form=_form_values(report, ""), report=report,
        action=f"/laporan/{report_id}/perbaiki", targets=await _targets(ctx, report["work_date"]),
    )  # fmt: skip


@router.post("/laporan/{report_id}/perbaiki")
async def revise_form(
    request: Request,
    report_id: str,
    work_date: str = Form(""),
    description: str = Form(""),
    output: str = Form(""),
    quantity: str = Form("1"),
    minutes: str = Form(""),
    skp_target_id: str = Form(""),
    csrf_token: str = Form(""),
    bukti: UploadFile | None = None,
) -> Response:
    async def revise(ctx: Ctx, body: dict[str, Any]) -> tuple[str, str]:
        await ctx.post("activity", f"/reports/{report_id}/revise", body)
        return report_id, "Perbaikan terkirim; laporan kembali menunggu persetujuan atasan."

    return await _submit_report(
        request, "Perbaiki laporan", f"/laporan/{report_id}/perbaiki", revise, csrf_token, bukti,
        work_date, description, output, quantity, minutes, skp_target_id,
    )  # fmt: skip


async def _submit_report(
    request: Request,
    title: str,
    action: str,
    send: Callable[[Ctx, dict[str, Any]], Awaitable[tuple[str, str]]],
    csrf_token: str,
    bukti: UploadFile | None,
    *fields: str,
) -> Response:
    """The steps a new report and a revision share: the person, the CSRF token, the body,
    the call (`send` returns the report's id and what to tell the person), the evidence."""
    ctx = page_ctx(request, *PERSONS)
    work_date, description, output, quantity, minutes, skp_target = fields
    form = {"work_date": work_date, "description": description, "output": output,
            "quantity": quantity, "minutes": minutes, "skp_target_id": skp_target}  # fmt: skip
    if not csrf_ok(ctx, csrf_token):
        return ctx.page("laporan_form.html", title, 403, form=form, error=CSRF_REFUSED,
                        action=action, targets=await _targets(ctx, work_date))  # fmt: skip
    body = _report_body(work_date, description, output, quantity, minutes, skp_target)
    try:
        if isinstance(body, str):
            raise ServiceError(422, body)
        report_id, info = await send(ctx, body)
    except ServiceError as err:
        return ctx.page("laporan_form.html", title, err.status, form=form, error=err.message,
                        action=action, targets=await _targets(ctx, work_date))  # fmt: skip
    problem = await _evidence(ctx, report_id, bukti)
    return _go(f"/laporan?periode={work_date[:7]}", info, problem or "")


# -- TPP statement -------------------------------------------------------------------------------
def _span(first: str, last: str) -> str:
    """'10–30 April' (both days of one month: the statement's)."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    month = bahasa.BULAN[end.month - 1]
    return f"{end.day} {month}" if start == end else f"{start.day}–{end.day} {month}"


def _and(items: list[str]) -> str:
    """'a', 'a dan b', 'a, b dan c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " dan " + items[-1]


def pagu_story(basis: dict[str, Any] | None) -> list[str]:
    """Why the month's pagu is not the ASN's pagu, in plain Bahasa (RULES.md "Employment
    within a month", tpp's `pagu_basis`): the periods with their working days, OPD and pagu,
    the pro-rata sum, and the days outside the employment period. Empty when one pagu
    covered every working day (nothing to explain)."""
    if not basis or not basis.get("prorated") or not basis.get("working_days"):
        return []
    total = int(basis["working_days"])
    # a statement exists only with an active working day: `parts` is never empty
    parts = [p for p in basis["periods"] if p["working_days"]]
    where = [
        f"{p['working_days']} {'dari ' + str(total) + ' hari kerja' if not i else 'hari'} di "
        f"{p['opd']} ({_span(p['first'], p['last'])}, pagu {bahasa.rupiah(p['tpp_pagu'])})"
        for i, p in enumerate(parts)
    ]
    sum_of = " + ".join(f"{p['working_days']} × {bahasa.ribuan(p['tpp_pagu'])}" for p in parts)
    story = [
        f"Bulan ini Anda aktif {_and(where)}: pagu bulan ini ({sum_of}) ÷ {total} = "
        f"{bahasa.rupiah(basis['pagu'])} (dibulatkan ke rupiah terdekat)."
    ]
    for out in basis.get("outside") or ():
        days = out["working_days"]
        story.append(
            f"Tanggal {_span(out['first'], out['last'])} di luar masa kerja Anda"
            + (
                f" ({days} hari kerja): hari itu tidak dihitung."
                if days
                else " (bukan hari kerja)."
            )
        )
    return story


@router.get("/tpp")
async def my_statement(request: Request, periode: str | None = None) -> Response:
    ctx = page_ctx(request, *PERSONS)
    period = _period(periode, request)
    statement, error = None, None
    try:
        statement = await ctx.get("tpp", f"/employees/{ctx.nip}/statements/{period}")
    except ServiceError as err:
        error = err.message
    story = pagu_story(statement.get("pagu_basis")) if statement else []
    return ctx.page("tpp.html", "Rincian TPP saya", statement=statement, period=period,
                    error=error, pagu_story=story)  # fmt: skip


# -- notifications -------------------------------------------------------------------------------
@router.get("/pemberitahuan")
async def notifications(request: Request) -> Response:
    ctx = page_ctx(request)
    inbox, error = {"messages": [], "unread": 0}, None
    try:
        inbox = await ctx.get("notifier", f"/inbox/{ctx.nip}", limit=100)
    except ServiceError as err:
        error = err.message
    return ctx.page("pemberitahuan.html", "Pemberitahuan", inbox=inbox, error=error)


@router.post("/pemberitahuan/{message_id}/dibaca")
async def mark_read(request: Request, message_id: int, csrf_token: str = Form("")) -> Response:
    ctx = page_ctx(request)
    if not csrf_ok(ctx, csrf_token):
        return ctx.page("pesan.html", "", 403, m=None, error=CSRF_REFUSED)
    try:
        message = await ctx.post("notifier", f"/inbox/{ctx.nip}/{message_id}/read")
    except ServiceError as err:
        return ctx.page("pesan.html", "", err.status, m=None, error=err.message)
    if request.headers.get("HX-Request"):
        return ctx.page("pesan.html", "", m=message)  # htmx swaps the one message
    return _go("/pemberitahuan")


# -- atasan: approval queue ----------------------------------------------------------------------
@router.get("/persetujuan")
async def approval_queue(request: Request) -> Response:
    ctx = page_ctx(request, *PERSONS)
    items, error = [], None
    try:
        items = await ctx.get("approval", "/queue")
    except ServiceError as err:
        error = err.message
    items.sort(key=lambda i: i["filed_at"])  # oldest first
    return ctx.page("persetujuan.html", "Persetujuan laporan", items=items, error=error,
)  # fmt: skip


def _back(info: str = "", error: str = "") -> Response:
    return _go("/persetujuan", info, error)


@router.post("/persetujuan/setujui")
async def approve_selected(
    request: Request, report_ids: list[str] = Form(default_factory=list), csrf_token: str = Form("")
) -> Response:
    ctx = page_ctx(request, *PERSONS)
    if not csrf_ok(ctx, csrf_token):
        return _back(error=CSRF_REFUSED)
    if not report_ids:
        return _back(error="Belum ada laporan yang dipilih. Centang laporan lalu tekan Setujui.")
    try:
        result = await ctx.post("approval", "/reports/bulk-approve", {"report_ids": report_ids})
    except ServiceError as err:
        return _back(error=err.message)
    done = [r for r in result["results"] if r["ok"]]
    refused = [r["message"] for r in result["results"] if not r["ok"]]
    return _back(f"{len(done)} laporan disetujui.", " ".join(refused))


@router.post("/persetujuan/{report_id}/keputusan")
async def decide(
    request: Request,
    report_id: str,
    kind: str = Form(""),
    reason: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    ctx = page_ctx(request, *PERSONS)
    if not csrf_ok(ctx, csrf_token):
        return _back(error=CSRF_REFUSED)
    reason = reason.strip()
    try:
        if kind == "setujui":
            await ctx.post("approval", f"/reports/{report_id}/approve")
            return _back("Laporan disetujui.")
        if not reason:
            return _back(error="Tulis alasannya dulu, agar pegawai tahu apa yang harus diperbaiki.")
        if kind == "tolak":
            await ctx.post("approval", f"/reports/{report_id}/reject", {"reason": reason})
            return _back("Laporan ditolak; pegawai menerima alasan Anda.")
        if kind == "revisi":
            await ctx.post("approval", f"/reports/{report_id}/request-revision", {"note": reason})
            return _back("Permintaan revisi terkirim ke pegawai.")
    except ServiceError as err:
        return _back(error=err.message)
    return _back(error="Pilih keputusan: setujui, tolak atau minta revisi.")


# -- operator and BKPSDM: employees and their accounts --------------------------------------------
def _caller(session: LoginSession) -> Caller:
    return Caller(nip=session.nip, role=session.role, opd=session.opd, session=session)


@router.get("/pegawai")
async def employees(request: Request, opd: str | None = None) -> Response:
    ctx = page_ctx(request, "operator", "bkpsdm")
    portal = portal_of(request)
    which = ctx.session.opd if ctx.session.role == "operator" else (opd or None)

    def read() -> list[Any]:
        with portal.kit.uow() as uow:
            return list(store.accounts(uow, which, 1000))

    accounts = await to_thread.run_sync(read)  # the store is synchronous: off the loop
    return ctx.page("pegawai.html", "Pegawai dan akun", accounts=accounts, opd=which)


@router.post("/pegawai/{nip}/kode")
async def setup_code(request: Request, nip: str, csrf_token: str = Form("")) -> Response:
    ctx = page_ctx(request, "operator", "bkpsdm")
    if not csrf_ok(ctx, csrf_token):
        return ctx.page("kode.html", "Kode kata sandi", 403, error=CSRF_REFUSED, nip=nip)
    try:
        code, expires = await to_thread.run_sync(
            portal_of(request).issue_setup_code, _caller(ctx.session), nip, ctx.ip
        )
    except Problem as exc:
        return ctx.page("kode.html", "Kode kata sandi", exc.status, error=exc.detail, nip=nip)
    return ctx.page("kode.html", "Kode kata sandi", nip=nip, code=code, expires=expires)


# -- BKPSDM: city dashboard ----------------------------------------------------------------------
BAR_HEIGHT, CHART_WIDTH, LABEL_WIDTH = 28, 720, 270


def bar_chart(rows: list[tuple[str, int]]) -> dict[str, Any]:
    """A horizontal bar chart's geometry (rendered as SVG by the template)."""
    top = max((v for _, v in rows), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 110
    bars = [
        {"label": label, "value": value, "y": i * BAR_HEIGHT, "width": round(span * value / top)}
        for i, (label, value) in enumerate(rows)
    ]
    return {"bars": bars, "height": max(len(rows), 1) * BAR_HEIGHT, "width": CHART_WIDTH,
            "label_width": LABEL_WIDTH}  # fmt: skip


TREND_MONTHS = 6


def months_back(period: str, count: int) -> list[str]:
    """The `count` months ending with `period`, oldest first ('2026-10', 3 -> 2026-08..10)."""
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


async def _attempt(call: Awaitable[Any]) -> tuple[Any, str | None]:
    """(answer, None) or (None, the service's message): one section's failure is that
    section's message, the rest of the page still renders."""
    try:
        return await call, None
    except ServiceError as err:
        return None, err.message


def _offline_devices(devices: list[dict[str, Any]]) -> dict[str, Any]:
    """Attendance's device list per OPD: how many, how many not online (offline, or never
    connected), and the offline ones themselves (longest silent first)."""
    per_opd: dict[str, dict[str, Any]] = {}
    for d in devices:
        row = per_opd.setdefault(d["opd"], {"opd": d["opd"], "total": 0, "offline": 0})
        row["total"] += 1
        row["offline"] += d["status"] != "online"
    down = [d for d in devices if d["status"] != "online"]
    down.sort(key=lambda d: (d["terakhir_terhubung"] or "", d["opd"], d["sn"]))
    return {
        "opds": sorted(per_opd.values(), key=lambda r: (-r["offline"], r["opd"])),
        "offline": down,
        "total": len(devices),
        "total_offline": len(down),
    }


@router.get("/dasbor")
async def dashboard(request: Request, periode: str | None = None) -> Response:
    """BKPSDM's city dashboard: TPP per OPD and per line code, six months of city totals,
    attendance and on-time filing per OPD, devices offline. Every service is asked at once;
    a service that fails shows its message in its own section."""
    ctx = page_ctx(request, "bkpsdm", "auditor")
    period = _period(periode, request)
    months = months_back(period, TREND_MONTHS)
    # one token per service first: the seven calls below would otherwise each mint (and
    # audit) their own for the same service
    await asyncio.gather(
        *(ctx.backend.token(ctx.session, s, ctx.ip) for s in ("tpp", "attendance", "activity"))
    )
    answers = await asyncio.gather(
        _attempt(ctx.get("tpp", f"/periods/{period}")),
        _attempt(ctx.get("attendance", "/opds/attendance", period=period)),
        _attempt(ctx.get("activity", "/opds/filing", period=period)),
        _attempt(ctx.get("attendance", "/devices")),
        *(_attempt(ctx.get("tpp", f"/periods/{m}")) for m in months[:-1]),
    )
    (summary, error), (attendance, attendance_error), (filing, filing_error) = answers[:3]
    devices, devices_error = answers[3]
    earlier = answers[4:]
    opds = sorted(summary["opds"], key=lambda o: -o["attendance_deduction"]) if summary else []
    chart = bar_chart(
        [(o["opd"], o["attendance_deduction"] + o["productivity_deduction"]) for o in opds]
    )
    codes = summary.get("by_code", []) if summary else []
    code_chart = charts.hbars([(c["code"], c["amount"]) for c in codes], label_width=80)
    # the trend: the earlier months, then this one (already asked for above)
    monthly = [*earlier, (summary, error)]
    trend_error = next((e for _, e in monthly if e), None)
    trend = [
        {"period": m, **{k: (a or {}).get("totals", {}).get(k, 0) for k in TREND_FIELDS}}
        for m, (a, _) in zip(months, monthly, strict=True)
    ]
    labels = [bahasa.periode(m).replace(" 20", " ’") for m in months]
    trend_paid = charts.lines(labels, [("Dibayar", [t["net"] for t in trend])])
    trend_cuts = charts.lines(labels, [
        ("Potongan presensi", [t["attendance_deduction"] for t in trend]),
        ("Potongan produktivitas", [t["productivity_deduction"] for t in trend]),
    ])  # fmt: skip
    present = attendance["opds"] if attendance else []
    attendance_chart = charts.hbars(
        [(o["opd"], o["tingkat_kehadiran"] or 0) for o in present], top=100
    )
    filed = filing["opds"] if filing else []
    filing_chart = charts.hbars([(o["opd"], o["persen_tepat_waktu"] or 0) for o in filed], top=100)
    return ctx.page(
        "dasbor.html", "Dasbor kota", summary=summary, opds=opds, chart=chart, period=period,
        tpp_error=error, codes=codes, code_chart=code_chart, trend=trend, trend_error=trend_error,
        trend_paid=trend_paid, trend_cuts=trend_cuts, attendance=attendance,
        attendance_error=attendance_error, attendance_chart=attendance_chart, filing=filing,
        filing_error=filing_error, filing_chart=filing_chart, devices_error=devices_error,
        devices=_offline_devices(devices) if devices is not None else None,
        persen=bahasa.persen, rupiah_of=bahasa.rupiah, kode_tpp=line_words,
    )  # fmt: skip


TREND_FIELDS = ("net", "attendance_deduction", "productivity_deduction", "employees")
