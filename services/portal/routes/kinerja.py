"""The atasan's page "Penilaian kinerja bulanan" (docs/rules.md "Monthly kinerja result"):
each subordinate's month (and, for a Plt, the subordinates of the atasan they stand in for
today) with SIKERJA's proposal and its predikat; confirm every open proposal at once, or
change one with a reason. The page calls approval's API as the logged-in person; approval
decides who may confirm whom and refuses a change without a reason, in words shown here."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from services.kernel.kinerja import RATING_LABEL, RATINGS
from services.portal.backend import ServiceError
from services.portal.routes.work import CSRF_REFUSED, PERSONS, _go, csrf_ok, page_ctx, today

router = APIRouter(include_in_schema=False)
PAGE = "/kinerja"


def _month(value: str | None, day: date) -> str:
    """`value` if it is a YYYY-MM, else last month (the month an atasan assesses)."""
    if value and len(value) == 7 and value[4] == "-" and value.replace("-", "").isdigit():
        return value
    return f"{day.replace(day=1) - timedelta(days=1):%Y-%m}"


def _back(period: str, info: str = "", error: str = "") -> Response:
    return _go(f"{PAGE}?periode={period}", info, error)


@router.get(PAGE)
async def kinerja_page(request: Request, periode: str | None = None) -> Response:
    ctx = page_ctx(request, *PERSONS)
    period = _month(periode, today(request))
    items: list[dict[str, Any]] = []
    error = None
    try:
        items = await ctx.get("approval", "/kinerja", period=period)
    except ServiceError as err:
        error = err.message
    waiting = [i["nip"] for i in items if i["status"] == "menunggu_penetapan"]
    return ctx.page(
        "kinerja.html", "Penilaian kinerja bulanan", items=items, period=period,
        waiting=waiting, ratings=[(r, RATING_LABEL[r]) for r in RATINGS], error=error,
    )  # fmt: skip


@router.post(f"{PAGE}/tetapkan")
async def confirm_all(
    request: Request,
    period: str = Form(""),
    nips: list[str] = Form(default_factory=list),
    csrf_token: str = Form(""),
) -> Response:
    ctx = page_ctx(request, *PERSONS)
    period = _month(period, today(request))
    if not csrf_ok(ctx, csrf_token):
        return _back(period, error=CSRF_REFUSED)
    if not nips:
        return _back(period, error="Tidak ada usulan yang menunggu penetapan.")
    try:
        done = await ctx.post("approval", f"/kinerja/{period}/confirm-proposals", {"nips": nips})
    except ServiceError as err:
        return _back(period, error=err.message)
    ok = [r for r in done["results"] if r["ok"]]
    refused = [f"NIP {r['nip']}: {r['message']}" for r in done["results"] if not r["ok"]]
    return _back(period, f"{len(ok)} penilaian ditetapkan sesuai usulan.", " ".join(refused))


@router.post(PAGE + "/{nip}/ubah")
async def change_one(
    request: Request,
    nip: str,
    period: str = Form(""),
    hasil_kerja: str = Form(""),
    perilaku_kerja: str = Form(""),
    reason: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    ctx = page_ctx(request, *PERSONS)
    period = _month(period, today(request))
    if not csrf_ok(ctx, csrf_token):
        return _back(period, error=CSRF_REFUSED)
    if hasil_kerja not in RATING_LABEL or perilaku_kerja not in RATING_LABEL:
        return _back(period, error="Pilih hasil kerja dan perilaku kerja.")
    body = {"hasil_kerja": hasil_kerja, "perilaku_kerja": perilaku_kerja, "reason": reason}
    try:
        await ctx.backend.call(
            ctx.session, ctx.ip, "PUT", "approval", f"/kinerja/{nip}/{period}", json=body
        )
    except ServiceError as err:
        return _back(period, error=err.message)
    return _back(period, f"Penilaian NIP {nip} ditetapkan.")
