"""The atasan's pages, in Bahasa Indonesia: the month's recap of their direct subordinates
(attendance, reports, TPP) and their Plt delegations (name one for a date range, revoke one).
The subordinates come from the portal's own employee projection (the same one that makes a
person an atasan at login); their numbers from the services' APIs, called as the atasan."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from anyio import to_thread
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from contracts.nip import nip_problem
from services.portal import store
from services.portal.backend import ServiceError
from services.portal.routes.deps import portal_of
from services.portal.routes.work import (
    CSRF_REFUSED,
    Ctx,
    _go,
    _period,
    annulled_total,
    csrf_ok,
    page_ctx,
    today,
)
from services.shared.employees import find_employee

router = APIRouter(include_in_schema=False)
ATASAN = "atasan"
NOT_ATASAN = (
    "Halaman itu hanya untuk atasan, yaitu pegawai yang mempunyai bawahan langsung menurut data "
    "kepegawaian. Jika menurut Anda data itu keliru, hubungi operator OPD Anda."
)
# Calls in flight at once for the recap: 3 per subordinate, all concurrent but bounded so one
# atasan with a large team does not take every connection of the pool.
PARALLEL = 16
STATEMENT_MISSING = "statement_not_found"  # no TPP statement yet this month: not an error
T = TypeVar("T")


def atasan_ctx(request: Request) -> Ctx:
    """The atasan's session, or (raised) home with the reason (an ASN, an operator...)."""
    return page_ctx(request, ATASAN, refusal=NOT_ATASAN)


# -- the subordinates' month --------------------------------------------------------------------
@dataclass
class Row:
    """One subordinate's month, as the page shows it (None: not known, see `problems`)."""

    nip: str
    nama: str
    present: int | None = None
    late: int | None = None
    absent: int | None = None  # TK: tanpa keterangan
    filed: int | None = None
    approved: int | None = None
    waiting: int | None = None
    net: int | None = None
    annulled: int = 0  # what BKPSDM's annulled lines would have cost
    problems: list[str] = field(default_factory=list)


def attendance_counts(month: dict[str, Any]) -> tuple[int, int, int]:
    """(present, late, TK) days of attendance's month view."""
    days = month.get("hari", [])
    present = sum(1 for d in days if d.get("status") == "present")
    late = sum(1 for d in days if d.get("status") == "present" and d.get("menit_terlambat"))
    absent = sum(1 for d in days if d.get("status") == "tanpa_keterangan")
    return present, late, absent


def report_counts(reports: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(filed, approved, waiting) of activity's month of reports (a withdrawn one not filed)."""
    filed = [r for r in reports if r.get("status") != "withdrawn"]
    return (
        len(filed),
        sum(1 for r in filed if r.get("status") == "approved"),
        sum(1 for r in filed if r.get("status") == "pending"),
    )


async def _bounded(gate: asyncio.Semaphore, call: Awaitable[T]) -> T | ServiceError:
    async with gate:
        try:
            return await call
        except ServiceError as err:
            return err


async def recap(ctx: Ctx, people: list[tuple[str, str]], period: str) -> list[Row]:
    """Each subordinate's month from attendance, activity and tpp: 3 calls per person, run
    concurrently (30 subordinates: 90 calls in flight 16 at a time, not one after another)."""
    # one token per service before the fan-out (else each concurrent first call mints one)
    await asyncio.gather(
        *(ctx.backend.token(ctx.session, s, ctx.ip) for s in ("attendance", "activity", "tpp"))
    )
    gate = asyncio.Semaphore(PARALLEL)
    calls: list[Awaitable[Any]] = []
    for nip, _ in people:
        calls += [
            _bounded(gate, ctx.get("attendance", f"/employees/{nip}/month", period=period)),
            _bounded(gate, ctx.get("activity", f"/employees/{nip}/reports", period=period)),
            _bounded(gate, ctx.get("tpp", f"/employees/{nip}/statements/{period}")),
        ]
    answers = await asyncio.gather(*calls)
    rows = []
    for i, (nip, nama) in enumerate(people):
        row = Row(nip, nama)
        month, reports, statement = answers[3 * i : 3 * i + 3]
        if isinstance(month, ServiceError):
            row.problems.append(month.message)
        else:
            row.present, row.late, row.absent = attendance_counts(month)
        if isinstance(reports, ServiceError):
            row.problems.append(reports.message)
        else:
            row.filed, row.approved, row.waiting = report_counts(reports)
        if isinstance(statement, ServiceError):
            if statement.code != STATEMENT_MISSING:
                row.problems.append(statement.message)
        else:
            row.net = statement["net"]
            row.annulled = annulled_total(statement.get("lines"))
        rows.append(row)
    return rows


def totals(rows: list[Row]) -> dict[str, int]:
    keys = ("present", "late", "absent", "filed", "approved", "waiting", "net")
    return {k: sum(getattr(r, k) or 0 for r in rows) for k in keys}


@router.get("/bawahan")
async def team_recap(request: Request, periode: str | None = None) -> Response:
    ctx = atasan_ctx(request)
    period = _period(periode, request)
    portal = portal_of(request)

    def read() -> list[tuple[str, str]]:
        with portal.kit.uow() as uow:
            return store.subordinates(uow, ctx.nip)

    people = await to_thread.run_sync(read)  # the store is synchronous: off the loop
    rows = await recap(ctx, people, period)
    # each distinct refusal once, with the people it concerns
    problems: dict[str, list[str]] = {}
    for r in rows:
        for p in r.problems:
            problems.setdefault(p, []).append(r.nama or r.nip)
    return ctx.page(
        "bawahan.html", "Rekap bawahan", rows=rows, totals=totals(rows), period=period,
        problems=problems,
    )  # fmt: skip


# -- Plt delegations ----------------------------------------------------------------------------
def state_of(delegation: dict[str, Any], day: date) -> str:
    if delegation.get("revoked_at"):
        return "Dicabut"
    start, end = date.fromisoformat(delegation["start"]), date.fromisoformat(delegation["end"])
    if day < start:
        return "Akan berlaku"
    if day > end:
        return "Sudah berakhir"
    return "Sedang berlaku"


async def _names(request: Request, nips: set[str]) -> dict[str, str]:
    portal = portal_of(request)

    def read() -> dict[str, str]:
        with portal.kit.uow() as uow:
            rows = {n: find_employee(uow, n) for n in nips}
        return {n: row.nama for n, row in rows.items() if row is not None}

    return await to_thread.run_sync(read)


async def _plt_page(
    ctx: Ctx, http_status: int = 200, form: dict[str, str] | None = None, error: str | None = None
) -> Response:
    day = today(ctx.request)
    delegations: list[dict[str, Any]] = []
    try:  # every delegation naming the caller: as the atasan who named, or as the Plt
        delegations = await ctx.get("approval", "/delegations")
    except ServiceError as err:
        error = " ".join(x for x in (error, err.message) if x)
    for d in delegations:
        d["state"] = state_of(d, day)
        d["revocable"] = d["state"] in ("Akan berlaku", "Sedang berlaku")
    delegations.sort(key=lambda d: (not d["revocable"], d["start"]))  # running ones first
    names = await _names(ctx.request, {d["plt_nip"] for d in delegations}
                         | {d["atasan_nip"] for d in delegations})  # fmt: skip
    mine = [d for d in delegations if d["atasan_nip"] == ctx.nip]
    for_me = [d for d in delegations if d["plt_nip"] == ctx.nip and d["atasan_nip"] != ctx.nip]
    form = form or {"plt_nip": "", "start": day.isoformat(), "end": day.isoformat()}
    return ctx.page(
        "plt.html", "Tunjuk Plt", http_status, mine=mine, for_me=for_me, names=names, form=form,
        error=error,
    )  # fmt: skip


@router.get("/plt")
async def delegations_page(request: Request) -> Response:
    ctx = atasan_ctx(request)
    return await _plt_page(ctx)


@router.post("/plt")
async def grant(
    request: Request,
    plt_nip: str = Form(""),
    start: str = Form(""),
    end: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    ctx = atasan_ctx(request)
    form = {"plt_nip": plt_nip.strip(), "start": start, "end": end}
    if not csrf_ok(ctx, csrf_token):
        return await _plt_page(ctx, 403, form, CSRF_REFUSED)
    nip = form["plt_nip"]
    if problem := nip_problem(nip):
        return await _plt_page(ctx, 422, form, f"NIP Plt belum benar: {problem}. Periksa lagi.")
    if nip not in await _names(request, {nip}):
        return await _plt_page(
            ctx, 422, form,
            f"NIP {nip} tidak ada dalam data kepegawaian. Periksa NIP Plt lalu kirim lagi.",
        )  # fmt: skip
    if not start or not end:
        return await _plt_page(ctx, 422, form, "Isi tanggal mulai dan tanggal selesai.")
    body = {"atasan_nip": ctx.nip, "plt_nip": nip, "start": start, "end": end}
    try:
        await ctx.post("approval", "/delegations", body)
    except ServiceError as err:
        return await _plt_page(ctx, err.status, form, err.message)
    names = await _names(request, {nip})
    return _go("/plt", f"{names.get(nip, nip)} (NIP {nip}) ditunjuk sebagai Plt Anda.")


@router.post("/plt/{delegation_id}/cabut")
async def revoke(request: Request, delegation_id: str, csrf_token: str = Form("")) -> Response:
    ctx = atasan_ctx(request)
    if not csrf_ok(ctx, csrf_token):
        return _go("/plt", error=CSRF_REFUSED)
    try:
        await ctx.backend.call(ctx.session, ctx.ip, "DELETE", "approval",
                               f"/delegations/{delegation_id}")  # fmt: skip
    except ServiceError as err:
        return _go("/plt", error=err.message)
    return _go("/plt", "Penunjukan Plt dicabut; laporan bawahan kembali hanya kepada Anda.")
