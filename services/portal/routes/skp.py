"""An ASN's "Target SKP saya", in Bahasa Indonesia: the targets of the year with the month's
realisation (approved reports linked to each target, from activity), and a form to add a
target. A report is linked to a target on the report form (routes/work.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from services.portal.backend import ServiceError
from services.portal.routes.work import (
    CSRF_REFUSED,
    PERSONS,
    Ctx,
    _go,
    _period,
    csrf_ok,
    page_ctx,
)

router = APIRouter(include_in_schema=False)
NOT_A_PERSON = (
    "Target SKP adalah milik pegawai. Keluar lalu masuk sebagai ASN atau atasan untuk melihat "
    "target SKP Anda."
)


def person_ctx(request: Request) -> Ctx:
    return page_ctx(request, *PERSONS, refusal=NOT_A_PERSON)


def _percent(value: str) -> str:
    """'37.50' -> '37,5' (Indonesian decimal comma)."""
    number = f"{float(value):.1f}".rstrip("0").rstrip(".")
    return number.replace(".", ",")


async def _skp_page(
    ctx: Ctx,
    period: str,
    http_status: int = 200,
    form: dict[str, str] | None = None,
    error: str | None = None,
) -> Response:
    rows: list[dict[str, Any]] = []
    try:  # every target of the period's year, with that month's realisation
        rows = await ctx.get("activity", f"/employees/{ctx.nip}/skp-realisation", period=period)
    except ServiceError as err:
        error = " ".join(x for x in (error, err.message) if x)
    for r in rows:
        r["percent_text"] = _percent(r["percent"])
        r["cumulative_text"] = _percent(r["cumulative_percent"])
    form = form or {"activity": "", "indicator": "", "target_quantity": ""}
    return ctx.page("skp.html", "Target SKP saya", http_status, rows=rows, period=period,
                    year=period[:4], form=form, error=error)  # fmt: skip


@router.get("/skp")
async def my_targets(request: Request, periode: str | None = None) -> Response:
    ctx = person_ctx(request)
    return await _skp_page(ctx, _period(periode, request))


@router.post("/skp")
async def add_target(
    request: Request,
    periode: str = Form(""),
    activity: str = Form(""),
    indicator: str = Form(""),
    target_quantity: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    ctx = person_ctx(request)
    period = _period(periode, request)
    form = {"activity": activity, "indicator": indicator, "target_quantity": target_quantity}
    if not csrf_ok(ctx, csrf_token):
        return await _skp_page(ctx, period, 403, form, CSRF_REFUSED)
    try:
        quantity = int(target_quantity.strip())
    except ValueError:
        return await _skp_page(
            ctx, period, 422, form,
            "Isi target jumlah dengan angka bulat, misalnya 12 (dua belas laporan setahun).",
        )  # fmt: skip
    body = {"year": int(period[:4]), "activity": activity.strip(),
            "indicator": indicator.strip(), "target_quantity": quantity}  # fmt: skip
    try:
        await ctx.post("activity", f"/employees/{ctx.nip}/skp-targets", body)
    except ServiceError as err:
        return await _skp_page(ctx, period, err.status, form, err.message)
    return _go(
        f"/skp?periode={period}",
        "Target SKP tersimpan. Pilih target ini saat mengisi laporan kegiatan agar terhitung "
        "sebagai realisasinya.",
    )
