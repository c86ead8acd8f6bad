"""Report routes: the filing gate's answer, filing (through the app's FilingBatcher), an
edit, a revision, a withdrawal, one report, an employee's month and their unlocked days."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.activity import commands, domain, queries
from services.activity.commands import Filing
from services.activity.routes.deps import (
    VIEW_REFUSED,
    Rules,
    domain_problem,
    ensure_view,
    filings_of,
    forbidden,
    own_report,
    require_person,
    rules_of,
    today,
)
from services.activity.schemas import ReportIn, ReportOut, report_out
from services.shared import scope
from services.shared.http import (
    Day,
    Kit,
    Now,
    Problem,
    Who,
    model_response,
    now_of,
    period_bounds_or_422,
    period_or_422,
)

router = APIRouter()


@router.get(
    "/employees/{nip}/filing-status",
    summary="Bolehkah melapor untuk tanggal ini",
    description="Jawaban yang sama dengan yang akan diberikan `POST /reports`.",
    tags=["Laporan kegiatan"],
)
def filing_status(
    nip: str, work_date: Day, who: Who, now: Now, kit: Kit, rules: Rules
) -> dict[str, Any]:
    """May `nip` file for `work_date` now? The same answer POST /reports would give."""
    with kit.uow() as uow:
        ensure_view(uow, who, nip, now)
        decision, _ = queries.gate(uow, rules, nip, work_date, now)
    return {
        "allowed": decision.allowed,
        "code": str(decision.code),
        "message": decision.message,
        "deadline": decision.deadline.isoformat() if decision.deadline else None,
        "counts_for_tpp": decision.counts_for_tpp,
    }


@router.post(
    "/reports",
    status_code=201,
    response_model=ReportOut,
    summary="Kirim laporan kegiatan harian",
    description="Untuk `work_date`; beberapa laporan sehari boleh.",
    tags=["Laporan kegiatan"],
)
async def file_report(body: ReportIn, who: Who, request: Request) -> Response:
    """File a daily report for `work_date` (several per day are allowed)."""
    nip = require_person(who)
    # The month-end crush's route: its values are resolved here and not as three more
    # dependencies, which cost a tenth of a filing's CPU (~60 us of ~700 us in-process).
    filing = Filing(body, nip, now_of(request), rules_of(request))
    try:
        out = await filings_of(request).file(filing)
    except domain.DomainError as err:
        raise domain_problem(err) from None
    return model_response(out, 201)


@router.get(
    "/reports/{report_id}",
    response_model=ReportOut,
    summary="Satu laporan kegiatan",
    tags=["Laporan kegiatan"],
)
def get_report(report_id: str, who: Who, now: Now, kit: Kit) -> ReportOut:
    with kit.uow() as uow:
        row = queries.report(uow, report_id)
        if row is None:
            raise Problem(404, "Laporan tidak ditemukan.", code="not_found")
        ensure_view(uow, who, row.nip, now, row.work_date)
    return report_out(row)


@router.put(
    "/reports/{report_id}",
    response_model=ReportOut,
    summary="Ubah laporan yang masih menunggu atasan",
    description="Selama gerbang pelaporan tanggalnya masih terbuka.",
    tags=["Laporan kegiatan"],
)
def edit_report(
    report_id: str, body: ReportIn, who: Who, now: Now, kit: Kit, rules: Rules
) -> ReportOut:
    """Change a report still waiting for the atasan (under its date's filing gate)."""
    nip = require_person(who)
    with kit.uow() as uow:
        row = own_report(uow, report_id, nip)
        decision, _ = queries.gate(uow, rules, nip, row.work_date, now)
        try:
            commands.change_report(uow, row, body, decision, now, rules.limits, domain.edit_report)
        except domain.DomainError as err:
            raise domain_problem(err) from None
    return report_out(row, decision.message)


@router.post(
    "/reports/{report_id}/revise",
    response_model=ReportOut,
    summary="Kirim perbaikan yang diminta atasan",
    description="Laporan kembali ke atasan.",
    tags=["Laporan kegiatan"],
)
def revise_report(
    report_id: str, body: ReportIn, who: Who, now: Now, kit: Kit, rules: Rules
) -> ReportOut:
    """Send the revision the atasan asked for: the report goes back to the atasan."""
    nip = require_person(who)
    with kit.uow() as uow:
        row = own_report(uow, report_id, nip)
        decision = queries.revision_gate(uow, rules, row, now)
        try:
            commands.change_report(
                uow, row, body, decision, now, rules.limits, domain.revise_report
            )
        except domain.DomainError as err:
            raise domain_problem(err) from None
    return report_out(row, decision.message)


@router.post(
    "/reports/{report_id}/withdraw",
    response_model=ReportOut,
    summary="Tarik laporan",
    tags=["Laporan kegiatan"],
)
def withdraw_report(report_id: str, who: Who, now: Now, kit: Kit) -> ReportOut:
    nip = require_person(who)
    with kit.uow() as uow:
        row = own_report(uow, report_id, nip)
        try:
            commands.withdraw_report(uow, row, now)
        except domain.DomainError as err:
            raise domain_problem(err) from None
        uow.commit()
    return report_out(row)


@router.get(
    "/employees/{nip}/reports",
    response_model=list[ReportOut],
    summary="Laporan sebulan seorang pegawai",
    description="Menurut tanggal lalu waktu pengiriman.",
    tags=["Laporan kegiatan"],
)
def employee_reports(
    nip: str,
    who: Who,
    now: Now,
    kit: Kit,
    period: str = Query(description="YYYY-MM"),
) -> list[ReportOut]:
    """An employee's reports of one month, by date then filing time."""
    year, month = period_or_422(period)
    first = date(year, month, 1)
    after = date(year + month // 12, month % 12 + 1, 1)
    with kit.uow() as uow:
        rows = queries.reports_between(uow, nip, first, after)
        # each report by the atasan and OPD of its date: a month with a transfer shows the
        # old atasan the days before it, the new one the days from it
        seen = queries.viewable(uow, who, nip, today(now), [None, *(r.work_date for r in rows)])
        if not seen:
            raise forbidden(VIEW_REFUSED)
    return [report_out(r) for r in rows if r.work_date in seen]


@router.get(
    "/employees/{nip}/unlocked-days",
    summary="Tanggal yang boleh dilaporkan",
    description="Tanggal dengan pindaian atau dinas luar.",
    tags=["Laporan kegiatan"],
)
def unlocked_days(
    nip: str, who: Who, now: Now, kit: Kit, period: str | None = None
) -> list[dict[str, str]]:
    """Days on which the employee may file a report (a scan or dinas luar arrived)."""
    with kit.uow() as uow:
        ensure_view(uow, who, nip, now)
        rows = queries.unlocked_days(uow, nip)
    return [
        {"date": str(r.work_date), "source": r.source, "ref": r.ref}
        for r in rows
        if period is None or r.work_date.strftime("%Y-%m") == period
    ]


@router.get(
    "/opds/filing",
    summary="Ketepatan waktu laporan sebulan per OPD",
    description=(
        "Untuk BKPSDM dan auditor: per OPD, hari wajib lapor (hari kerja saat pegawai aktif, "
        "yang batas waktunya sudah lewat) dan laporan pertamanya: dikirim pada hari itu, "
        "sesudahnya tetapi sebelum batas waktu, lewat batas, diimpor, atau tidak ada. Tepat "
        "waktu = sebelum batas waktu aturan (pukul 23.59 WIB hari kerja berikutnya)."
    ),
    tags=["Laporan kegiatan"],
)
def opds_filing(
    who: Who, now: Now, kit: Kit, rules: Rules, period: str = Query(description="YYYY-MM")
) -> dict[str, Any]:
    """The month's filing per OPD for the city's readers (queries.opds_filing)."""
    scope.require_roles(who, scope.CITY_READERS, "melihat ketepatan laporan seluruh kota")
    first, last = period_bounds_or_422(period)
    with kit.uow() as uow:
        found = queries.opds_filing(uow, rules, first, last, now)
    return {"periode": period, **found}
