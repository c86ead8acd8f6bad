"""BKPSDM's pages for cuts that were not the employee's fault (RULES.md "Annulled cuts"), in
Bahasa Indonesia: the annulments (list, record one with its document, detail with history,
revoke after a confirmation), the device-outage proposals from attendance that lead to the
form pre-filled, and the penilai of employees without atasan with the reports nobody can
decide yet. An operator reads their OPD's annulments, the auditor the city's and the log.
The services decide who may do what; the pages keep other roles away from forms."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response

from services.portal.backend import ServiceError
from services.portal.routes.operator import _upload
from services.portal.routes.work import CSRF_REFUSED, Ctx, _go, _period, csrf_ok, page_ctx

router = APIRouter(include_in_schema=False)
BKPSDM = "bkpsdm"
READERS = ("bkpsdm", "auditor", "operator")
MAX_DOCUMENT = 2 * 1024 * 1024  # tpp's own limit for an annulment's document
OUTAGE_REASON = "Mesin sidik jari OPD tidak mengirim data"
STATUS_WORDS = {"aktif": "Berlaku", "dicabut": "Dicabut"}
ACTION_WORDS = {"dibuat": "Dicatat", "dicabut": "Dicabut"}
FIELDS = ("tanggal", "sasaran", "nip", "opd", "kode", "alasan", "usulan")


def _q(value: str) -> str:
    return quote(value, safe="")


def _rule_codes(catalogue: dict[str, Any]) -> list[str]:
    """Every line code of the rule set in force (what an annulment may name)."""
    rules = next((r for r in catalogue["rulesets"] if r["in_force"]), None)
    if rules is None:
        return []
    codes = [b["code"] for b in (*rules["late_bands"], *rules["early_bands"]) if b.get("code")]
    for key in ("missing_checkin", "missing_checkout", "tk", "its", "lkh"):
        if (rules.get(key) or {}).get("code"):
            codes.append(rules[key]["code"])
    return sorted(set(codes))


# -- the list -------------------------------------------------------------------------------------
@router.get("/pembatalan")
async def annulments_page(
    request: Request,
    periode: str | None = None,
    opd: str = "",
    nip: str = "",
    status: str = "",
) -> Response:
    ctx = page_ctx(request, *READERS)
    period = _period(periode, request)
    own_opd = ctx.session.opd if ctx.session.role == "operator" else None
    filters = {"periode": period, "opd": own_opd or opd.strip(), "nip": nip.strip(),
               "status": status if status in STATUS_WORDS else ""}  # fmt: skip
    params = {"period": period, "opd": filters["opd"] or None, "nip": filters["nip"] or None,
              "status": filters["status"] or None}  # fmt: skip
    rows: list[dict[str, Any]] = []
    log: list[dict[str, Any]] = []
    error = None
    try:
        rows = await ctx.get("tpp", "/annulments", **{k: v for k, v in params.items() if v})
        if ctx.session.role in ("bkpsdm", "auditor"):
            log = await ctx.get("tpp", "/annulment-log", period=period)
    except ServiceError as err:
        error = err.message
    rows.sort(key=lambda a: (a["tanggal"], a["dibuat_pada"]), reverse=True)
    return ctx.page("pembatalan.html", "Pembatalan potongan", rows=rows, log=log,
                    filters=filters, own_opd=own_opd, status_words=STATUS_WORDS,
                    action_words=ACTION_WORDS, error=error)  # fmt: skip


# -- record one -----------------------------------------------------------------------------------
async def _form_page(
    ctx: Ctx, form: dict[str, str], http_status: int = 200, error: str | None = None
) -> Response:
    codes: list[str] = []
    problems = [error] if error else []
    try:
        catalogue = await ctx.get("tpp", "/rulesets", period=(form["tanggal"] or "")[:7] or None)
        codes = _rule_codes(catalogue)
    except ServiceError as err:
        problems.append(err.message)
    return ctx.page("pembatalan_form.html", "Catat pembatalan potongan", http_status, form=form,
                    codes=codes, error=" ".join(problems) or None)  # fmt: skip


@router.get("/pembatalan/baru")
async def new_annulment_page(
    request: Request,
    tanggal: str = "",
    nip: str = "",
    opd: str = "",
    kode: str = "",
    alasan: str = "",
    usulan: str = "",
) -> Response:
    ctx = page_ctx(request, BKPSDM)
    form = {"tanggal": tanggal, "sasaran": "opd" if opd and not nip else "nip", "nip": nip,
            "opd": opd, "kode": kode, "alasan": alasan, "usulan": usulan}  # fmt: skip
    return await _form_page(ctx, form)


@router.post("/pembatalan/baru")
async def record_annulment(
    request: Request,
    tanggal: str = Form(""),
    sasaran: str = Form("nip"),
    nip: str = Form(""),
    opd: str = Form(""),
    kode: str = Form(""),
    alasan: str = Form(""),
    usulan: str = Form(""),
    csrf_token: str = Form(""),
    dokumen: UploadFile | None = None,
) -> Response:
    ctx = page_ctx(request, BKPSDM)
    form = {"tanggal": tanggal.strip(), "sasaran": "opd" if sasaran == "opd" else "nip",
            "nip": nip.strip(), "opd": opd.strip(), "kode": kode.strip(),
            "alasan": alasan.strip(), "usulan": usulan.strip()}  # fmt: skip
    if not csrf_ok(ctx, csrf_token):
        return await _form_page(ctx, form, 403, CSRF_REFUSED)
    target = form["sasaran"]
    missing = [words for key, words in (("tanggal", "tanggal"), (target, target.upper()),
               ("alasan", "alasan")) if not form[key]]  # fmt: skip
    chosen = await _upload(dokumen, MAX_DOCUMENT)
    if chosen is None:
        missing.append("dokumen pendukung (PDF, JPG atau PNG)")
    if missing or chosen is None:
        text = f"Isi {', '.join(missing)}, lalu kirim lagi."
        if chosen is not None and not isinstance(chosen, str):
            text += " Berkas yang tadi dipilih perlu dipilih lagi."
        return await _form_page(ctx, form, 422, text)
    if isinstance(chosen, str):
        return await _form_page(ctx, form, 413, chosen)
    data = {"tanggal": form["tanggal"], target: form[target], "kode": form["kode"],
            "alasan": form["alasan"], "usulan": form["usulan"]}  # fmt: skip
    files = {"dokumen": (chosen[0], chosen[1], "application/octet-stream")}
    try:
        response = await ctx.backend.request(ctx.session, ctx.ip, "POST", "tpp", "/annulments",
                                             data=data, files=files)  # fmt: skip
    except ServiceError as err:
        return await _form_page(
            ctx, form, err.status, err.message + " Pilih lagi berkas dokumennya sebelum mengirim."
        )
    made = response.json()
    return _go(f"/pembatalan/{_q(made['id'])}", _effect("Pembatalan potongan tercatat.", made))


def _effect(done: str, answer: dict[str, Any]) -> str:
    """What the action did to the statements, in words."""
    parts = [done]
    if answer.get("dihitung_ulang"):
        parts.append(f"{answer['dihitung_ulang']} rincian TPP dihitung ulang.")
    if answer.get("koreksi_tertunda"):
        parts.append(
            f"{answer['koreksi_tertunda']} rincian dari bulan yang sudah ditutup menunggu "
            "sebagai koreksi."
        )
    return " ".join(parts)


# -- one annulment --------------------------------------------------------------------------------
@router.get("/pembatalan/{annulment_id}")
async def annulment_page(request: Request, annulment_id: str) -> Response:
    ctx = page_ctx(request, *READERS)
    try:
        row = await ctx.get("tpp", f"/annulments/{_q(annulment_id)}")
    except ServiceError as err:
        return _go("/pembatalan", error=err.message)
    return ctx.page("pembatalan_rinci.html", "Rincian pembatalan potongan", a=row,
                    status_words=STATUS_WORDS, action_words=ACTION_WORDS)  # fmt: skip


@router.get("/pembatalan/{annulment_id}/dokumen")
async def annulment_document(request: Request, annulment_id: str) -> Response:
    ctx = page_ctx(request, *READERS)
    try:
        answer = await ctx.backend.request(
            ctx.session, ctx.ip, "GET", "tpp", f"/annulments/{_q(annulment_id)}/document"
        )
    except ServiceError as err:
        return _go(f"/pembatalan/{_q(annulment_id)}", error=err.message)
    headers = {k: answer.headers[k] for k in ("content-type", "content-disposition")
               if k in answer.headers}  # fmt: skip
    headers["X-Content-Type-Options"] = "nosniff"
    return Response(answer.content, headers=headers)


@router.get("/pembatalan/{annulment_id}/cabut")
async def revoke_page(request: Request, annulment_id: str) -> Response:
    """The confirmation step: what will come back, and the reason to write."""
    ctx = page_ctx(request, BKPSDM)
    try:
        row = await ctx.get("tpp", f"/annulments/{_q(annulment_id)}")
    except ServiceError as err:
        return _go("/pembatalan", error=err.message)
    if row["status"] != "aktif":
        return _go(f"/pembatalan/{_q(annulment_id)}", error="Pembatalan ini sudah dicabut.")
    return ctx.page("pembatalan_cabut.html", "Cabut pembatalan potongan", a=row, alasan="")


@router.post("/pembatalan/{annulment_id}/cabut")
async def revoke(
    request: Request, annulment_id: str, alasan: str = Form(""), csrf_token: str = Form("")
) -> Response:
    ctx = page_ctx(request, BKPSDM)
    back = f"/pembatalan/{_q(annulment_id)}"
    if not csrf_ok(ctx, csrf_token):
        return _go(back, error=CSRF_REFUSED)
    reason = alasan.strip()
    if not reason:
        try:
            row = await ctx.get("tpp", f"/annulments/{_q(annulment_id)}")
        except ServiceError as err:
            return _go("/pembatalan", error=err.message)
        return ctx.page("pembatalan_cabut.html", "Cabut pembatalan potongan", 422, a=row,
                        alasan="", error="Tulis alasan pencabutan, lalu tekan Cabut lagi. "
                        "Alasan ini tercatat di log.")  # fmt: skip
    try:
        answer = await ctx.post("tpp", f"/annulments/{_q(annulment_id)}/revoke", {"alasan": reason})
    except ServiceError as err:
        return _go(back, error=err.message)
    return _go(back, _effect("Pembatalan dicabut; potongannya berlaku lagi.", answer))


# -- device-outage proposals ----------------------------------------------------------------------
@router.get("/gangguan-mesin")
async def outages_page(request: Request, periode: str | None = None, opd: str = "") -> Response:
    ctx = page_ctx(request, BKPSDM)
    period = _period(periode, request)
    outages: list[dict[str, Any]] = []
    confirmed: dict[str, str] = {}
    problems = []
    params = {"period": period, **({"opd": opd.strip()} if opd.strip() else {})}
    try:
        outages = await ctx.get("attendance", "/device-outages", **params)
    except ServiceError as err:
        problems.append(err.message)
    try:  # which proposals BKPSDM already confirmed: their annulment, still in force
        for a in await ctx.get("tpp", "/annulments", period=period, status="aktif"):
            if a.get("usulan"):
                confirmed[a["usulan"]] = a["id"]
    except ServiceError as err:
        problems.append(err.message)
    for o in outages:
        o["annulment_id"] = confirmed.get(o["usulan"])
        prefill = {"opd": o["opd"], "tanggal": o["tanggal"], "usulan": o["usulan"]}
        o["form"] = "/pembatalan/baru?" + urlencode({**prefill, "alasan": OUTAGE_REASON})
    outages.sort(key=lambda o: (o["tanggal"], o["opd"]))
    return ctx.page("gangguan_mesin.html", "Usulan gangguan mesin", outages=outages,
                    period=period, opd=opd.strip(), error=" ".join(problems) or None)  # fmt: skip


# -- penilai of employees without atasan ----------------------------------------------------------
async def _penilai_page(
    ctx: Ctx, form: dict[str, str], http_status: int = 200, error: str | None = None
) -> Response:
    heads: list[dict[str, Any]] = []
    penilai: list[dict[str, Any]] = []
    undecidable: list[dict[str, Any]] = []
    problems = [error] if error else []
    for path, into in (("/without-atasan", heads), ("/penilai", penilai),
                       ("/undecidable", undecidable)):  # fmt: skip
        try:
            into.extend(await ctx.get("approval", path))
        except ServiceError as err:
            problems.append(err.message)
    by_nip: dict[str, list[dict[str, Any]]] = {}
    for p in penilai:
        by_nip.setdefault(p["nip"], []).append(p)
    known = {h["nip"] for h in heads}
    # a penilai named for someone who now has an atasan (or is not known yet) stays visible
    others = [p for p in penilai if p["nip"] not in known]
    return ctx.page("penilai.html", "Penilai pegawai tanpa atasan", http_status, heads=heads,
                    by_nip=by_nip, others=others, undecidable=undecidable, form=form,
                    error=" ".join(dict.fromkeys(problems)) or None)  # fmt: skip


def _blank(nip: str = "") -> dict[str, str]:
    return {"nip": nip, "jenis": "pejabat", "penilai": "", "nama": "", "jabatan": "",
            "mulai": "", "sampai": ""}  # fmt: skip


@router.get("/penilai")
async def penilai_page(request: Request, nip: str = "") -> Response:
    ctx = page_ctx(request, BKPSDM)
    return await _penilai_page(ctx, _blank(nip.strip()))


@router.post("/penilai")
async def set_penilai(
    request: Request,
    nip: str = Form(""),
    jenis: str = Form("pejabat"),
    penilai: str = Form(""),
    nama: str = Form(""),
    jabatan: str = Form(""),
    mulai: str = Form(""),
    sampai: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    ctx = page_ctx(request, BKPSDM)
    form = {"nip": nip.strip(), "jenis": "bkpsdm" if jenis == "bkpsdm" else "pejabat",
            "penilai": penilai.strip(), "nama": nama.strip(), "jabatan": jabatan.strip(),
            "mulai": mulai, "sampai": sampai}  # fmt: skip
    if not csrf_ok(ctx, csrf_token):
        return await _penilai_page(ctx, form, 403, CSRF_REFUSED)
    official = form["jenis"] == "pejabat"
    missing = [words for key, words in (("nip", "NIP pegawai yang dinilai"),
               *((("penilai", "NIP pejabat penilai"), ("nama", "nama pejabat penilai"))
                 if official else ())) if not form[key]]  # fmt: skip
    if missing:
        return await _penilai_page(ctx, form, 422, f"Isi {', '.join(missing)}, lalu kirim lagi.")
    if form["mulai"] and form["sampai"] and form["sampai"] < form["mulai"]:
        return await _penilai_page(ctx, form, 422, "Tanggal 'sampai' sebelum tanggal 'mulai'. "
                                   "Perbaiki tanggalnya, lalu kirim lagi.")  # fmt: skip
    body = {"nip": form["nip"], "penilai": form["penilai"] if official else "BKPSDM",
            "nama": form["nama"] if official else "", "jabatan": form["jabatan"] if official
            else "", "mulai": form["mulai"] or None, "sampai": form["sampai"] or None}  # fmt: skip
    try:
        await ctx.post("approval", "/penilai", body)
    except ServiceError as err:
        return await _penilai_page(ctx, form, err.status, err.message)
    who = "BKPSDM" if not official else f"{form['nama']} (NIP {form['penilai']})"
    return _go("/penilai", f"Penilai NIP {form['nip']} ditetapkan: {who}. Laporan yang "
                           "menunggu dapat diputuskan penilai itu.")  # fmt: skip


@router.post("/penilai/{penilai_id}/hapus")
async def remove_penilai(request: Request, penilai_id: str, csrf_token: str = Form("")) -> Response:
    ctx = page_ctx(request, BKPSDM)
    if not csrf_ok(ctx, csrf_token):
        return _go("/penilai", error=CSRF_REFUSED)
    try:
        row = await ctx.backend.call(ctx.session, ctx.ip, "DELETE", "approval",
                                     f"/penilai/{_q(penilai_id)}")  # fmt: skip
    except ServiceError as err:
        return _go("/penilai", error=err.message)
    return _go("/penilai", f"Penilai NIP {row['nip']} dihapus. Keputusan yang sudah diambil "
                           "tetap berlaku.")  # fmt: skip
