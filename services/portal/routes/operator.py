"""The OPD operator's pages, in Bahasa Indonesia: the OPD's absences of a month (record one,
with its document), its fingerprint devices, the CSV/XLSX import with its per-line report,
and the OPD's recap of a day. Each page calls attendance's API as the operator (the token
carries the operator's OPD, so attendance itself keeps the operator inside it)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response

from services.kernel.vocabulary import ABSENCE_KINDS, label
from services.portal.backend import ServiceError
from services.portal.routes.work import CSRF_REFUSED, Ctx, _go, _period, csrf_ok, page_ctx, today

router = APIRouter(include_in_schema=False)
OPERATOR = "operator"
MAX_DOCUMENT = 10 * 1024 * 1024
MAX_IMPORT = 25 * 1024 * 1024
KINDS = [(k, label(k)) for k in ABSENCE_KINDS]
# What the import page offers: (form value, attendance path, words).
IMPORTS = {
    "pindaian": ("/scans/import", "Pindaian sidik jari (CSV atau XLSX: kolom nip, waktu)"),
    "ketidakhadiran": (
        "/absences/import",
        "Ketidakhadiran (CSV: kolom nip, mulai, selesai, jenis)",
    ),
}
DEVICE_STATE = {
    "online": "Terhubung",
    "offline": "Terputus",
    "belum_pernah": "Belum pernah terhubung",
}


async def _raw(
    ctx: Ctx,
    method: str,
    path: str,
    *,
    data: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> httpx.Response:
    """A call to attendance whose answer is not JSON (a document), or whose body is a form
    with fields and a file; a failure is a ServiceError as with Ctx.get/post."""
    return await ctx.backend.request(
        ctx.session, ctx.ip, method, "attendance", path, data=data, files=files
    )


async def _upload(upload: UploadFile | None, limit: int) -> tuple[str, bytes] | str | None:
    """(name, bytes) of a chosen file, None when none was chosen, or what to do when too big."""
    if upload is None or not upload.filename:
        return None
    data = await upload.read(limit + 1)
    if not data:
        return None
    if len(data) > limit:
        return (
            f"Berkas lebih dari {limit // (1024 * 1024)} MB. Perkecil atau pecah berkasnya, "
            "lalu kirim lagi."
        )
    return upload.filename, data


# -- Ketidakhadiran -------------------------------------------------------------------------------
async def _absences_page(
    ctx: Ctx, period: str, http_status: int = 200, form: dict[str, str] | None = None,
    error: str | None = None,
) -> Response:  # fmt: skip
    absences: list[dict[str, Any]] = []
    try:
        absences = await ctx.get("attendance", "/absences", period=period)
    except ServiceError as err:
        error = " ".join(x for x in (error, err.message) if x)
    absences.sort(key=lambda a: (a["mulai"], a["nip"]), reverse=True)
    day = today(ctx.request).isoformat()
    form = form or {"nip": "", "mulai": day, "selesai": day, "jenis": "", "keterangan": ""}
    return ctx.page(
        "op_ketidakhadiran.html", "Ketidakhadiran pegawai", http_status, absences=absences,
        period=period, form=form, kinds=KINDS, error=error,
    )  # fmt: skip


@router.get("/ketidakhadiran")
async def absences_page(request: Request, periode: str | None = None) -> Response:
    ctx = page_ctx(request, OPERATOR)
    return await _absences_page(ctx, _period(periode, request))


@router.post("/ketidakhadiran")
async def record_absence(
    request: Request,
    nip: str = Form(""),
    mulai: str = Form(""),
    selesai: str = Form(""),
    jenis: str = Form(""),
    keterangan: str = Form(""),
    csrf_token: str = Form(""),
    dokumen: UploadFile | None = None,
) -> Response:
    ctx = page_ctx(request, OPERATOR)
    form = {"nip": nip.strip(), "mulai": mulai, "selesai": selesai or mulai, "jenis": jenis,
            "keterangan": keterangan.strip()}  # fmt: skip
    period = _period(mulai[:7], request)
    if not csrf_ok(ctx, csrf_token):
        return await _absences_page(ctx, period, 403, form, CSRF_REFUSED)
    chosen = await _upload(dokumen, MAX_DOCUMENT)
    if isinstance(chosen, str):
        return await _absences_page(ctx, period, 413, form, chosen)
    try:
        if chosen is None:
            answer = await ctx.post("attendance", "/absences", form)
        else:
            files = {"dokumen": (chosen[0], chosen[1], "application/octet-stream")}
            answer = (await _raw(ctx, "POST", "/absences", data=form, files=files)).json()
    except ServiceError as err:
        return await _absences_page(ctx, period, err.status, form, err.message)
    info = f"Ketidakhadiran NIP {answer['nip']} tercatat ({answer['jenis_label']})."
    if answer.get("hari_ditutup_ulang"):
        info += f" {answer['hari_ditutup_ulang']} hari yang sudah ditutup dihitung ulang."
    return _go(f"/ketidakhadiran?periode={answer['mulai'][:7]}", info)


@router.get("/ketidakhadiran/{absence_id}/dokumen")
async def absence_document(request: Request, absence_id: str) -> Response:
    ctx = page_ctx(request, OPERATOR)
    try:
        answer = await _raw(ctx, "GET", f"/absences/{quote(absence_id, safe='')}/document")
    except ServiceError as err:
        return _go("/ketidakhadiran", error=err.message)
    headers = {
        key: answer.headers[key]
        for key in ("content-type", "content-disposition")
        if key in answer.headers
    }
    headers["X-Content-Type-Options"] = "nosniff"
    return Response(answer.content, headers=headers)


# -- Mesin ----------------------------------------------------------------------------------------
@router.get("/mesin")
async def devices_page(request: Request) -> Response:
    ctx = page_ctx(request, OPERATOR)
    devices, error = [], None
    try:
        devices = await ctx.get("attendance", "/devices")
    except ServiceError as err:
        error = err.message
    # the ones that need a visit first
    devices.sort(key=lambda d: (d["status"] == "online", d["sn"]))
    return ctx.page("op_mesin.html", "Mesin sidik jari", devices=devices, states=DEVICE_STATE,
                    error=error)  # fmt: skip


# -- Impor ----------------------------------------------------------------------------------------
@router.get("/impor")
async def import_page(request: Request) -> Response:
    ctx = page_ctx(request, OPERATOR)
    return ctx.page("op_impor.html", "Impor berkas", imports=IMPORTS, kind="pindaian",
                    report=None)  # fmt: skip


def _report_of(kind: str, answer: dict[str, Any]) -> dict[str, Any]:
    """Both importers' answers as one shape: counts, bad lines, waiting lines."""
    if kind == "pindaian":
        return {
            "accepted": answer["accepted"],
            "duplicate": answer["duplicate"],
            "rejected": answer["rejected"],
            "waiting_count": answer.get("menunggu_pegawai", 0),
            "errors": answer.get("errors", []),
            "waiting": answer.get("waiting", []),
            "flagged": answer.get("flagged", []),
        }
    lines = answer.get("lines", [])
    return {
        "accepted": answer.get("accepted", 0),
        "duplicate": answer.get("duplicate", 0),
        "rejected": answer.get("rejected", 0),
        "waiting_count": 0,
        "errors": [x for x in lines if x.get("status") == "rejected"],
        "waiting": [],
        "flagged": [],
    }


@router.post("/impor")
async def import_file(
    request: Request,
    jenis: str = Form("pindaian"),
    csrf_token: str = Form(""),
    berkas: UploadFile | None = None,
) -> Response:
    ctx = page_ctx(request, OPERATOR)
    kind = jenis if jenis in IMPORTS else "pindaian"

    def again(status: int, error: str) -> Response:
        return ctx.page("op_impor.html", "Impor berkas", status, imports=IMPORTS, kind=kind,
                        report=None, error=error)  # fmt: skip

    if not csrf_ok(ctx, csrf_token):
        return again(403, CSRF_REFUSED)
    chosen = await _upload(berkas, MAX_IMPORT)
    if chosen is None:
        return again(422, "Belum ada berkas yang dipilih. Pilih berkas CSV atau XLSX lalu kirim.")
    if isinstance(chosen, str):
        return again(413, chosen)
    name, data = chosen
    try:
        files = {"file": (name, data, "application/octet-stream")}
        answer = (await _raw(ctx, "POST", IMPORTS[kind][0], files=files)).json()
    except ServiceError as err:
        return again(err.status, err.message)
    report = _report_of(kind, answer)
    return ctx.page("op_impor.html", "Impor berkas", imports=IMPORTS, kind=kind, report=report,
                    name=name)  # fmt: skip


# -- Rekap hari -----------------------------------------------------------------------------------
def _date(value: str | None, request: Request) -> date:
    try:
        return date.fromisoformat(value) if value else today(request)
    except ValueError:
        return today(request)


@router.get("/rekap")
async def day_recap(request: Request, tanggal: str | None = None) -> Response:
    ctx = page_ctx(request, OPERATOR)
    day = _date(tanggal, request)
    recap, error = None, None
    opd = ctx.session.opd or ""
    if not opd:
        error = "Akun operator Anda belum terhubung ke OPD mana pun. Hubungi BKPSDM."
    else:
        try:
            recap = await ctx.get(
                "attendance", f"/opds/{quote(opd, safe='')}/days/{day.isoformat()}"
            )
        except ServiceError as err:
            error = err.message
    counts = [(label(status), n) for status, n in (recap or {}).get("rekap", {}).items()]
    return ctx.page("op_rekap.html", "Rekap kehadiran hari ini" if day == today(request)
                    else "Rekap kehadiran", recap=recap, day=day, counts=counts,
                    error=error)  # fmt: skip


# -- TPP OPD --------------------------------------------------------------------------------------
def _own_opd(ctx: Ctx) -> str | None:
    return ctx.session.opd or None


NO_OPD = "Akun operator Anda belum terhubung ke OPD mana pun. Hubungi BKPSDM."


@router.get("/tpp-opd")
async def opd_tpp_page(request: Request, periode: str | None = None) -> Response:
    """The OPD's TPP month: its status, totals, each ASN's net and the payroll download."""
    ctx = page_ctx(request, OPERATOR)
    period = _period(periode, request)
    sheet, error, opd = None, None, _own_opd(ctx)
    if opd is None:
        error = NO_OPD
    else:
        try:
            sheet = await ctx.get("tpp", f"/periods/{period}/opds/{quote(opd, safe='')}")
        except ServiceError as err:
            error = err.message
            if err.status == 404:
                error = (f"Belum ada rincian TPP {opd} untuk bulan ini: belum ada hari kerja yang "
                         "direkap. Pilih bulan lain.")  # fmt: skip
    return ctx.page("op_tpp.html", "TPP OPD", sheet=sheet, period=period, opd=opd, error=error)


@router.get("/tpp-opd/{period}/unduh.xlsx")
async def opd_payroll_download(request: Request, period: str) -> Response:
    """The OPD's payroll sheet from tpp, always of the operator's own OPD (the session's):
    tpp refuses any other OPD to this token anyway."""
    ctx = page_ctx(request, OPERATOR)
    period = _period(period, request)
    back = f"/tpp-opd?periode={period}"
    opd = _own_opd(ctx)
    if opd is None:
        return _go(back, error=NO_OPD)
    draft = request.query_params.get("draf") == "1"
    try:
        answer = await ctx.backend.request(
            ctx.session, ctx.ip, "GET", "tpp",
            f"/periods/{period}/opds/{quote(opd, safe='')}/export.xlsx",
            params={"draft": "true"} if draft else None,
        )  # fmt: skip
    except ServiceError as err:
        return _go(back, error=err.message)
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", "application/octet-stream"),
        headers={
            "Content-Disposition": answer.headers.get(
                "content-disposition", f'attachment; filename="tpp-{period}.xlsx"'
            )
        },
    )


# -- Perintah mesin -------------------------------------------------------------------------------
# What the operator may ask of a device, in words (the ZKTeco ADMS command the device runs).
COMMANDS = {
    "kirim_ulang": "Kirim ulang pindaian tanggal tertentu",
    "periksa": "Periksa dan kirim pindaian yang belum terkirim",
    "nyalakan_ulang": "Nyalakan ulang mesin",
}
COMMAND_STATE = {
    "menunggu": "Menunggu mesin terhubung",
    "terkirim": "Sudah diambil mesin, menunggu hasil",
    "selesai": "Selesai",
}


def command_text(kind: str, start: str, end: str) -> str | None:
    """The ADMS command of a choice, or None when the choice or its dates are wrong.
    Re-upload asks the device for the scans of whole days, in the device's own time."""
    if kind == "periksa":
        return "CHECK"
    if kind == "nyalakan_ulang":
        return "REBOOT"
    if kind != "kirim_ulang":
        return None
    try:
        first = date.fromisoformat(start)
        last = date.fromisoformat(end or start)
    except ValueError:
        return None
    if last < first:
        return None
    return (f"DATA QUERY ATTLOG StartTime={first.isoformat()} 00:00:00\t"
            f"EndTime={last.isoformat()} 23:59:59")  # fmt: skip


def command_words(text: str) -> str:
    """A queued command in words, for the list."""
    if text == "CHECK":
        return COMMANDS["periksa"]
    if text == "REBOOT":
        return COMMANDS["nyalakan_ulang"]
    if text.startswith("DATA QUERY ATTLOG"):
        days = [part.split("=", 1)[1][:10] for part in text.split("\t") if "Time=" in part]
        if len(days) == 2:
            span = days[0] if days[0] == days[1] else f"{days[0]} s.d. {days[1]}"
            return f"Kirim ulang pindaian {span}"
    return text


async def _commands_page(
    ctx: Ctx, sn: str, http_status: int = 200, error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    device, rows = None, []
    try:
        devices = await ctx.get("attendance", "/devices")
        device = next((d for d in devices if d["sn"] == sn), None)
        if device is None:
            error = " ".join(x for x in (error, f"Mesin {sn} tidak ada di daftar mesin OPD Anda. "
                             "Pilih mesin dari halaman Mesin.") if x)  # fmt: skip
        else:
            rows = await ctx.get("attendance", f"/devices/{quote(sn, safe='')}/commands")
    except ServiceError as err:
        error = " ".join(x for x in (error, err.message) if x)
    day = today(ctx.request).isoformat()
    form = form or {"jenis": "kirim_ulang", "dari": day, "sampai": day}
    for row in rows:
        row["words"] = command_words(row["perintah"])
    return ctx.page("op_perintah.html", f"Perintah mesin {sn}", http_status, device=device,
                    sn=sn, rows=rows, commands=COMMANDS, states=COMMAND_STATE, form=form,
                    error=error)  # fmt: skip


@router.get("/mesin/{sn}/perintah")
async def device_commands_page(request: Request, sn: str) -> Response:
    ctx = page_ctx(request, OPERATOR)
    return await _commands_page(ctx, sn)


@router.post("/mesin/{sn}/perintah")
async def queue_device_command(
    request: Request,
    sn: str,
    jenis: str = Form(""),
    dari: str = Form(""),
    sampai: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    ctx = page_ctx(request, OPERATOR)
    form = {"jenis": jenis, "dari": dari, "sampai": sampai}
    if not csrf_ok(ctx, csrf_token):
        return await _commands_page(ctx, sn, 403, CSRF_REFUSED, form)
    text = command_text(jenis, dari, sampai)
    if text is None:
        return await _commands_page(ctx, sn, 422, "Pilih perintahnya; untuk kirim ulang isi "
                                    "tanggal mulai dan tanggal akhir (tidak sebelum tanggal "
                                    "mulai), lalu kirim lagi.", form)  # fmt: skip
    try:
        await ctx.post("attendance", f"/devices/{quote(sn, safe='')}/commands", {"perintah": text})
    except ServiceError as err:
        return await _commands_page(ctx, sn, err.status, err.message, form)
    return _go(f"/mesin/{quote(sn, safe='')}/perintah",
               f"Perintah \"{command_words(text)}\" menunggu mesin. Mesin menjalankannya saat "
               "terhubung berikutnya (biasanya dalam satu menit); muat ulang halaman ini untuk "
               "melihat hasilnya.")  # fmt: skip
