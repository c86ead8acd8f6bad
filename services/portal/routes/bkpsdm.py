"""More of BKPSDM's and the auditor's pages, in Bahasa Indonesia: the TPP rule sets with a
what-if preview of a month under another one (result page and CSV), openings of a date for
late filing, the employee import and SIASN's sync state, and the Inspektorat's anomaly report
(with CSV). Each page calls the services' APIs as the logged-in person; the services decide
who may do what, the page only keeps other roles away from forms they cannot use."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response

from services.portal.backend import ServiceError
from services.portal.routes.operator import _upload
from services.portal.routes.work import CSRF_REFUSED, Ctx, _go, _period, csrf_ok, page_ctx

router = APIRouter(include_in_schema=False)
BKPSDM = "bkpsdm"
READERS = ("bkpsdm", "auditor")
PREVIEW_ROWS = 500  # rows on the result page; the CSV carries them all
MAX_EMPLOYEES = 25 * 1024 * 1024  # siasn's own limit


def _csv(name: str, header: list[str], rows: list[list[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue().encode("utf-8-sig"),  # with a BOM: Excel reads it as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- rule sets and the what-if preview ------------------------------------------------------------
@router.get("/aturan")
async def rules_page(request: Request, periode: str | None = None) -> Response:
    ctx = page_ctx(request, BKPSDM)
    period = _period(periode, request)
    catalogue, error = None, None
    try:
        catalogue = await ctx.get("tpp", "/rulesets", period=period)
    except ServiceError as err:
        error = err.message
    return ctx.page("aturan.html", "Aturan TPP", catalogue=catalogue, period=period, error=error)


async def _preview(ctx: Ctx, period: str, rules: str) -> dict[str, Any]:
    preview: dict[str, Any] = await ctx.backend.call(
        ctx.session, ctx.ip, "POST", "tpp", f"/periods/{period}/recompute", params={"rules": rules}
    )
    for row in preview["differences"]:
        row["delta"] = row["new_net"] - row["old_net"]
        row["notes"] = [c["message"] for c in row["changes"] if c["kind"] != "rules_changed"]
    # the largest change first: what BKPSDM wants to look at
    preview["differences"].sort(key=lambda r: (-abs(r["delta"]), r["opd"], r["nip"]))
    return preview


@router.get("/aturan/pratinjau")
async def rules_preview(request: Request, periode: str | None = None, aturan: str = "") -> Response:
    """A month recomputed under another rule set, never stored: totals and each difference."""
    ctx = page_ctx(request, BKPSDM)
    period = _period(periode, request)
    if not aturan:
        return _go(f"/aturan?periode={period}", error="Pilih rule set pembandingnya, lalu "
                                                      "tampilkan lagi.")  # fmt: skip
    try:
        preview = await _preview(ctx, period, aturan)
    except ServiceError as err:
        return _go(f"/aturan?periode={period}", error=err.message)
    query = urlencode({"periode": period, "aturan": aturan})
    return ctx.page("aturan_hasil.html", "Hasil pratinjau aturan", preview=preview, period=period,
                    limit=PREVIEW_ROWS, query=query)  # fmt: skip


@router.get("/aturan/pratinjau.csv")
async def rules_preview_csv(
    request: Request, periode: str | None = None, aturan: str = ""
) -> Response:
    ctx = page_ctx(request, BKPSDM)
    period = _period(periode, request)
    try:
        preview = await _preview(ctx, period, aturan)
    except ServiceError as err:
        return _go(f"/aturan?periode={period}", error=err.message)
    rows = [
        [r["opd"], r["nip"], r["nama"], r["old_rules"], r["old_net"], r["new_net"], r["delta"],
         "; ".join(r["notes"])]
        for r in preview["differences"]
    ]  # fmt: skip
    header = ["opd", "nip", "nama", "aturan_lama", "tpp_bersih_lama",
              f"tpp_bersih_{preview['rules']}", "selisih", "perubahan"]  # fmt: skip
    return _csv(f"pratinjau-{period}-{preview['rules']}.csv", header, rows)


# -- openings for late filing ---------------------------------------------------------------------
async def _openings_page(
    ctx: Ctx, http_status: int = 200, form: dict[str, str] | None = None,
    error: str | None = None,
) -> Response:  # fmt: skip
    rows: list[dict[str, Any]] = []
    try:
        rows = await ctx.get("activity", "/openings")
    except ServiceError as err:
        error = " ".join(x for x in (error, err.message) if x)
    form = form or {"nip": "", "tanggal": "", "alasan": "", "batas": ""}
    return ctx.page("pembukaan.html", "Pembukaan tanggal laporan", http_status, rows=rows,
                    form=form, error=error)  # fmt: skip


@router.get("/pembukaan")
async def openings_page(request: Request) -> Response:
    ctx = page_ctx(request, BKPSDM)
    return await _openings_page(ctx)


@router.post("/pembukaan")
async def open_date(
    request: Request,
    nip: str = Form(""),
    tanggal: str = Form(""),
    alasan: str = Form(""),
    batas: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    ctx = page_ctx(request, BKPSDM)
    form = {"nip": nip.strip(), "tanggal": tanggal, "alasan": alasan.strip(), "batas": batas}
    if not csrf_ok(ctx, csrf_token):
        return await _openings_page(ctx, 403, form, CSRF_REFUSED)
    missing = [words for key, words in (("nip", "NIP"), ("tanggal", "tanggal yang dibuka"),
               ("alasan", "alasan")) if not form[key]]  # fmt: skip
    if missing:
        return await _openings_page(ctx, 422, form, f"Isi {', '.join(missing)}, lalu kirim lagi.")
    body: dict[str, Any] = {"work_date": form["tanggal"], "reason": form["alasan"]}
    if batas:  # to the end of that day, WIB
        body["until"] = f"{batas}T23:59:00+07:00"
    try:
        answer = await ctx.post("activity", f"/employees/{quote(form['nip'], safe='')}/openings",
                                body)  # fmt: skip
    except ServiceError as err:
        return await _openings_page(ctx, err.status, form, err.message)
    return _go("/pembukaan", f"Tanggal {answer['work_date']} dibuka untuk NIP {answer['nip']}. "
                             "Pegawai itu bisa mengirim laporannya sampai batas yang tercantum "
                             "di daftar.")  # fmt: skip


# -- monthly kinerja results and their delivery to SIASN -------------------------------------------
RESULT_READERS = ("bkpsdm", "auditor", "operator")
RESULT_STATES = {  # siasn's delivery states (services/siasn/models.py)
    "": "Semua keadaan",
    "menunggu": "Menunggu penetapan atasan atau penutupan bulan",
    "siap": "Siap dikirim",
    "mengirim": "Sedang dikirim",
    "terkirim": "Terkirim ke SIASN",
    "gagal_sementara": "Gagal sementara",
    "ditolak": "Ditolak SIASN",
}


@router.get("/siasn/hasil")
async def siasn_results_page(
    request: Request, periode: str | None = None, opd: str = "", keadaan: str = ""
) -> Response:
    """Each ASN's monthly kinerja result, its predikat, its delivery state and its ids at
    SIASN: BKPSDM and the auditor for the city (an OPD filter), an operator for their OPD
    (siasn scopes the answer)."""
    ctx = page_ctx(request, *RESULT_READERS)
    period = _period(periode, request)
    params: dict[str, Any] = {"period": period, "limit": PREVIEW_ROWS}
    if opd.strip() and ctx.session.role != "operator":
        params["opd"] = opd.strip()
    if keadaan in RESULT_STATES and keadaan:
        params["state"] = keadaan
    rows: list[dict[str, Any]] = []
    error = None
    try:
        rows = await ctx.get("siasn", "/siasn/results", **params)
    except ServiceError as err:
        error = err.message
    by_state = Counter(str(r.get("state_label") or r.get("state")) for r in rows)
    return ctx.page(
        "siasn_hasil.html", "Hasil kinerja ke SIASN", rows=rows, period=period,
        opd=opd.strip(), keadaan=keadaan, states=RESULT_STATES, by_state=by_state,
        limit=PREVIEW_ROWS, city=ctx.session.role != "operator", error=error,
    )  # fmt: skip


# -- employee import and SIASN --------------------------------------------------------------------
BACKLOG_WORDS = {
    "siap": "Siap dikirim",
    "mengirim": "Sedang dikirim",
    "gagal_sementara": "Gagal sementara, dicoba lagi otomatis",
}
RUN_WORDS = {"berjalan": "Sedang berjalan", "selesai": "Selesai", "gagal": "Gagal"}


async def _siasn_page(
    ctx: Ctx, http_status: int = 200, error: str | None = None,
    report: dict[str, Any] | None = None, name: str = "",
) -> Response:  # fmt: skip
    runs: list[dict[str, Any]] = []
    backlog: dict[str, Any] | None = None
    problems = [error] if error else []
    try:
        runs = await ctx.get("siasn", "/siasn/sync", limit=5)
    except ServiceError as err:
        problems.append(err.message)
    try:
        backlog = await ctx.get("siasn", "/siasn/backlog")
    except ServiceError as err:
        problems.append(err.message)
    return ctx.page("siasn.html", "Data pegawai dan SIASN", http_status, runs=runs,
                    backlog=backlog, report=report, name=name, run_words=RUN_WORDS,
                    backlog_words=BACKLOG_WORDS, error=" ".join(dict.fromkeys(problems)) or None,
                    )  # fmt: skip


@router.get("/siasn")
async def siasn_page(request: Request) -> Response:
    ctx = page_ctx(request, BKPSDM)
    return await _siasn_page(ctx)


@router.post("/siasn/impor")
async def import_employees(
    request: Request, csrf_token: str = Form(""), berkas: UploadFile | None = None
) -> Response:
    ctx = page_ctx(request, BKPSDM)
    if not csrf_ok(ctx, csrf_token):
        return await _siasn_page(ctx, 403, CSRF_REFUSED)
    chosen = await _upload(berkas, MAX_EMPLOYEES)
    if chosen is None:
        return await _siasn_page(ctx, 422, "Belum ada berkas yang dipilih. Pilih berkas data "
                                 "pegawai (CSV atau XLSX) lalu kirim.")  # fmt: skip
    if isinstance(chosen, str):
        return await _siasn_page(ctx, 413, chosen)
    name, data = chosen
    xlsx = name.lower().endswith((".xlsx", ".xlsm"))
    kind = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if xlsx else "text/csv"
    )
    try:
        answer = (
            await ctx.backend.request(
                ctx.session, ctx.ip, "POST", "siasn", "/employees/import", content=(data, kind)
            )
        ).json()
    except ServiceError as err:
        return await _siasn_page(ctx, err.status, err.message)
    out = io.StringIO()
    csv.writer(out).writerows([["baris", "alasan"], *((e["line"], e["reason"])
                                                      for e in answer["rejected"])])  # fmt: skip
    report = {
        "accepted": answer["accepted"],
        "changed": answer["changed"],
        "rejected": answer["rejected"],
        "csv": out.getvalue(),  # the rejected lines, downloaded from the page itself
    }
    return await _siasn_page(ctx, report=report, name=name)


@router.post("/siasn/sinkron")
async def sync_now(request: Request, csrf_token: str = Form("")) -> Response:
    ctx = page_ctx(request, BKPSDM)
    if not csrf_ok(ctx, csrf_token):
        return _go("/siasn", error=CSRF_REFUSED)
    try:
        answer = await ctx.post("siasn", "/siasn/sync")
    except ServiceError as err:
        return _go("/siasn", error=err.message)
    return _go("/siasn", f"Sinkronisasi SIASN nomor {answer['id']} dimulai. Muat ulang halaman ini "
                         "beberapa saat lagi untuk melihat hasilnya.")  # fmt: skip


# -- anomalies for the Inspektorat ----------------------------------------------------------------
ANOMALY_WORDS = {
    "foreign_device": "Memindai di mesin OPD lain",
    "device_hop": "Dua mesin berjauhan dalam beberapa menit",
    "holiday_bridge_absence": "Tidak hadir tak wajar di sekitar hari libur",
    "device_clock": "Jam mesin salah",
}


async def _anomalies(ctx: Ctx, period: str, opd: str, kind: str) -> tuple[list[Any], list[str]]:
    """The month's anomalies of `opd` and `kind` (empty: all), and every OPD seen in them."""
    answer = await ctx.get("attendance", "/anomalies", period=period)
    found: list[dict[str, Any]] = answer["anomali"]
    opds = sorted({a["opd"] for a in found if a.get("opd")})
    rows = [
        a for a in found if (not opd or a.get("opd") == opd) and (not kind or a["jenis"] == kind)
    ]
    rows.sort(key=lambda a: (a.get("tanggal") or "", a.get("opd") or "", a["jenis"]))
    return rows, opds


def _anomaly_filters(request: Request) -> tuple[str, str, str]:
    q = request.query_params
    kind = (q.get("jenis") or "").strip()
    return (
        _period(q.get("periode"), request),
        (q.get("opd") or "").strip(),
        (kind if kind in ANOMALY_WORDS else ""),
    )


@router.get("/anomali")
async def anomalies_page(request: Request) -> Response:
    ctx = page_ctx(request, *READERS)
    period, opd, kind = _anomaly_filters(request)
    rows: list[dict[str, Any]] = []
    opds: list[str] = []
    error = None
    try:
        rows, opds = await _anomalies(ctx, period, opd, kind)
    except ServiceError as err:
        error = err.message
    if opd and opd not in opds:
        opds = sorted([*opds, opd])
    counts = Counter(a["jenis"] for a in rows)
    query = urlencode({k: v for k, v in (("periode", period), ("opd", opd), ("jenis", kind)) if v})
    return ctx.page("anomali.html", "Laporan anomali kehadiran", rows=rows, opds=opds,
                    period=period, opd=opd, kind=kind, words=ANOMALY_WORDS, counts=counts,
                    query=query, error=error)  # fmt: skip


@router.get("/anomali/unduh.csv")
async def anomalies_csv(request: Request) -> Response:
    ctx = page_ctx(request, *READERS)
    period, opd, kind = _anomaly_filters(request)
    try:
        rows, _ = await _anomalies(ctx, period, opd, kind)
    except ServiceError as err:
        return _go(f"/anomali?periode={period}", error=err.message)
    lines = [
        [a.get("tanggal") or "", a["jenis"], ANOMALY_WORDS.get(a["jenis"], a["jenis"]),
         a.get("opd") or "", a.get("nip") or "", a.get("device_sn") or "", a.get("waktu") or "",
         a["keterangan"]]
        for a in rows
    ]  # fmt: skip
    header = ["tanggal", "jenis", "jenis_kata", "opd", "nip", "mesin", "waktu", "keterangan"]
    return _csv(f"anomali-{period}.csv", header, lines)
