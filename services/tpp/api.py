"""TPP's HTTP API: explained statements (per ASN, per OPD, city), BKPSDM's period close,
reopen, pending corrections, what-if recompute with another rule set, payroll export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.kernel.calendar import WIB
from services.kernel.vocabulary import label
from services.shared.employees import find_employee
from services.shared.http import Actor, Problem, Who, kit_of, period_key
from services.shared.scope import (
    CITY_READERS,
    CITY_WRITERS,
    forbidden,
    may_see_person,
    require_opd_reader,
    require_roles,
)
from services.tpp import export, periods, queries, statements
from services.tpp.models import PERIOD_CLOSED, DayFact, Statement

router = APIRouter()


def _require_month(uow: Any, who: Actor, nip: str, period: str, what: str) -> None:
    """A person's TPP of a month: by the month's statement and periods (queries.may_read_month);
    an unknown NIP looks like a foreign one."""
    if not queries.may_read_month(uow, who, nip, period):
        raise forbidden(what)


@router.get(
    "/employees/{nip}/days",
    summary="Fakta hari kerja seorang pegawai",
    description="Yang diketahui TPP (sementara sampai hari ditutup).",
    tags=["TPP pegawai"],
)
def employee_days(
    nip: str, request: Request, who: Who, period: str | None = None
) -> list[dict[str, object]]:
    """The day facts TPP knows of an employee (provisional until the day is closed)."""
    what = "melihat fakta hari kerja pegawai ini"
    with kit_of(request).uow() as uow:
        rows = queries.day_facts(uow, nip)
        months = {period_key(period)} if period is not None else {_month(r) for r in rows}
        readable = {m for m in months if queries.may_read_month(uow, who, nip, m)}
        if not readable and (months or not may_see_person(who, nip, find_employee(uow, nip))):
            # nothing to show yet: the latest period's reach answers [] or 403, as before
            raise forbidden(what)
    return [
        {
            "date": str(r.work_date),
            "revision": r.revision,
            "status": r.status,
            "status_label": label(r.status),
            "minutes_late": r.minutes_late,
            "minutes_early": r.minutes_early,
            "scans_seen": r.scans_seen,
            "first_scan_at": r.first_scan_at.isoformat() if r.first_scan_at else None,
            "last_scan_at": r.last_scan_at.isoformat() if r.last_scan_at else None,
            "provisional": r.revision == 0,
        }
        for r in rows
        if _month(r) in readable
    ]


def _month(row: DayFact) -> str:
    return str(row.work_date.strftime("%Y-%m"))


@router.get(
    "/employees/{nip}/statements/{period}",
    summary="Rincian TPP sebulan seorang pegawai",
    description="Setiap baris dengan tanggal, kode, persen, rupiah, dan pasal.",
    tags=["TPP pegawai"],
)
def employee_statement(nip: str, period: str, request: Request, who: Who) -> dict[str, Any]:
    """The month statement of one ASN: every line with date, code, percent, rupiah, article."""
    period = period_key(period)
    with kit_of(request).uow() as uow:
        _require_month(uow, who, nip, period, "melihat rincian TPP pegawai ini")
        row = queries.statement(uow, nip, period)
        if row is None:
            raise Problem(
                404,
                f"Rincian TPP NIP {nip} periode {period} belum ada (belum ada hari kerja yang "
                "direkap atau pegawai belum terdaftar).",
                code="statement_not_found",
            )
        return queries.statement_view(row)


@router.get(
    "/periods/{period}",
    summary="Ringkasan TPP kota sebulan",
    description=(
        "Jumlah per OPD dan untuk seluruh kota; `by_code`: baris potongan per kode (jumlah "
        "sebelum batas bulanan) dan yang dianulir BKPSDM terpisah."
    ),
    tags=["Periode TPP"],
)
def city_summary(period: str, request: Request, who: Who) -> dict[str, Any]:
    """The city's month: totals per OPD and for the whole city."""
    period = period_key(period)
    require_roles(who, CITY_READERS, "melihat ringkasan TPP seluruh kota")
    with kit_of(request).uow() as uow:
        info, rows = queries.period_with_statements(uow, period)
        by_opd: dict[str, list[Statement]] = {}
        for row in rows:
            by_opd.setdefault(row.opd, []).append(row)
        rules = sorted({r.rules for r in rows})
        return {
            **info,
            "rules": rules,
            "opds": [{"opd": opd, **queries.totals(group)} for opd, group in by_opd.items()],
            "totals": queries.totals(rows),
            "by_code": queries.by_code(rows),
        }


@router.get(
    "/periods/{period}/opds/{opd}",
    summary="TPP sebulan satu OPD",
    description="Satu baris per ASN (dengan rinciannya) dan jumlah OPD.",
    tags=["Periode TPP"],
)
def opd_statements(period: str, opd: str, request: Request, who: Who) -> dict[str, Any]:
    """One OPD's month: a row per ASN (with lines) and the OPD's totals."""
    period = period_key(period)
    require_opd_reader(who, opd, "melihat TPP OPD ini")
    with kit_of(request).uow() as uow:
        info, rows = queries.period_with_statements(uow, period, opd)
        if not rows:
            raise Problem(
                404, f"Tidak ada rincian TPP untuk OPD '{opd}' periode {period}.", code="opd_empty"
            )
        return {
            **info,
            "opd": opd,
            "statements": [queries.statement_view(r) for r in rows],
            "totals": queries.totals(rows),
        }


@router.post(
    "/periods/{period}/close",
    summary="Tutup bulan TPP",
    description="Oleh BKPSDM: rincian dibekukan dan diumumkan per ASN.",
    tags=["Periode TPP"],
)
def close_period(period: str, request: Request, who: Who) -> dict[str, Any]:
    """BKPSDM closes a month: statements frozen, TppPeriodClosed per ASN (outbox)."""
    period = period_key(period)
    require_roles(who, CITY_WRITERS, "menutup periode TPP; hanya BKPSDM yang dapat melakukannya")
    kit = kit_of(request)
    now = kit.clock()
    with kit.uow() as uow:
        result = periods.close(uow, period, who.nip or who.role, now)
    if result is None:
        raise Problem(409, f"Periode {period} sudah ditutup.", code="period_closed")
    return result


@router.post(
    "/periods/{period}/reopen",
    summary="Buka kembali bulan TPP",
    description="Oleh BKPSDM: koreksi yang tertunda diterapkan, rincian dihitung ulang.",
    tags=["Periode TPP"],
)
def reopen_period(period: str, request: Request, who: Who) -> dict[str, Any]:
    """BKPSDM reopens a month: pending corrections applied, statements recomputed."""
    period = period_key(period)
    require_roles(
        who, CITY_WRITERS, "membuka kembali periode TPP; hanya BKPSDM yang dapat melakukannya"
    )
    kit = kit_of(request)
    with kit.uow() as uow:
        result = periods.reopen(uow, period, who.nip or who.role, kit.clock())
    if result is None:
        raise Problem(409, f"Periode {period} tidak dalam keadaan ditutup.", code="period_open")
    return result


@router.get(
    "/periods/{period}/corrections",
    summary="Koreksi yang menunggu",
    description="Kejadian yang tiba setelah bulan ditutup, menunggu BKPSDM.",
    tags=["Periode TPP"],
)
def corrections(
    period: str,
    request: Request,
    who: Who,
    include_applied: bool = False,
) -> dict[str, Any]:
    """Events that arrived after the month was closed, waiting for BKPSDM."""
    period = period_key(period)
    require_roles(who, CITY_READERS, "melihat koreksi tertunda")
    with kit_of(request).uow() as uow:
        info, rows = queries.corrections(uow, period, include_applied)
        return {
            **info,
            "corrections": [
                {
                    "id": r.id,
                    "nip": r.nip,
                    "event_type": r.event_type,
                    "event_id": r.event_id,
                    "work_date": r.work_date.isoformat() if r.work_date else None,
                    "summary": r.summary,
                    "received_at": r.received_at.isoformat(),
                    "applied_at": r.applied_at.isoformat() if r.applied_at else None,
                }
                for r in rows
            ],
        }


@router.post(
    "/periods/{period}/recompute",
    summary="Simulasikan TPP dengan aturan lain",
    description="Hasil per pegawai di bawah `rules`, tidak pernah disimpan.",
    tags=["Periode TPP"],
)
def recompute_with(
    period: str,
    request: Request,
    who: Who,
    rules: str = Query(..., description="name of a shipped rule set"),
) -> dict[str, Any]:
    """What the month would be under `rules`, per employee (never stored: closed months stay
    as they were closed, open months stay with the rule set in force)."""
    period = period_key(period)
    require_roles(who, CITY_READERS, "menghitung ulang periode dengan aturan lain")
    kit = kit_of(request)
    ruleset = statements.ruleset_by_name(kit.settings, rules)
    if ruleset is None:
        known = ", ".join(statements.ruleset_names(kit.settings))
        raise Problem(
            404, f"Rule set '{rules}' tidak dikenal; yang tersedia: {known}.", code="unknown_rules"
        )
    with kit.uow() as uow:
        return periods.what_if(uow, period, ruleset)


@router.get(
    "/rulesets",
    summary="Rule set yang tersedia",
    description=(
        "Setiap rule set yang dikirim bersama layanan, dengan isinya, dan mana yang berlaku "
        "untuk `period` (bawaan: bulan ini)."
    ),
    tags=["Periode TPP"],
)
def rulesets(request: Request, who: Who, period: str | None = None) -> dict[str, Any]:
    """The shipped rule sets (whole content) and the one in force for `period`."""
    require_roles(who, CITY_READERS, "melihat rule set TPP")
    kit = kit_of(request)
    period = period_key(period) if period else f"{kit.clock().astimezone(WIB):%Y-%m}"
    in_force = statements.rules_for_period(kit.settings, period)
    shipped = [
        statements.ruleset_by_name(kit.settings, n) for n in statements.ruleset_names(kit.settings)
    ]
    return {
        "period": period,
        "in_force": in_force.name,
        "rulesets": [
            {**r.model_dump(mode="json"), "in_force": r.name == in_force.name}
            for r in shipped
            if r is not None
        ],
    }


def _payroll(
    request: Request, period: str, who: Actor, draft: bool, opd: str | None = None
) -> tuple[Any, list[export.PayrollRow], list[export.AnnulledLine]]:
    """The month's payroll rows and annulled lines: the city's (city readers), or one OPD's
    (its operator too)."""
    period = period_key(period)
    if opd is None:
        require_roles(who, CITY_READERS, "mengunduh daftar pembayaran TPP seluruh kota")
    else:
        require_opd_reader(who, opd, "mengunduh daftar pembayaran TPP OPD ini")
    with kit_of(request).uow() as uow:
        info, rows = queries.period_with_statements(uow, period, opd)
        if info["status"] != PERIOD_CLOSED and not draft:
            raise Problem(
                409,
                f"Periode {period} belum ditutup BKPSDM; daftar pembayaran hanya untuk periode "
                "yang sudah ditutup (tambahkan draft=true untuk draf).",
                code="period_not_closed",
            )
    if not rows:
        where = f" OPD '{opd}'" if opd is not None else ""
        raise Problem(404, f"Tidak ada rincian TPP{where} periode {period}.", code="period_empty")
    info["rules"] = ", ".join(sorted({r.rules for r in rows}))
    payroll: list[export.PayrollRow] = []
    annulled: list[export.AnnulledLine] = []
    for r in rows:
        mine = [
            export.AnnulledLine(
                r.opd,
                r.nip,
                r.nama,
                ln["date"],
                ln["code"],
                ln["annulled_amount"],
                ln.get("annulled_reason") or "",
            )
            for ln in queries.statement_lines(r)
            if ln.get("annulled_amount")
        ]
        annulled.extend(mine)
        payroll.append(
            export.PayrollRow(
                r.opd,
                r.nip,
                r.nama,
                r.jabatan,
                r.pagu,
                r.discipline,
                r.productivity,
                r.attendance_deduction,
                r.productivity_deduction,
                r.net,
                sum(a.amount for a in mine),
            )
        )
    return info, payroll, annulled


@router.get(
    "/periods/{period}/export.xlsx", summary="Unduh TPP sebulan (XLSX)", tags=["Periode TPP"]
)
def export_xlsx(period: str, request: Request, who: Who, draft: bool = False) -> Response:
    info, rows, annulled = _payroll(request, period, who, draft)
    status = "final" if info["status"] == PERIOD_CLOSED else "draf"
    body = export.write_xlsx(info["period"], info["rules"], status, rows, annulled)
    return _xlsx(body, f"tpp-{info['period']}.xlsx")


def _xlsx(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/periods/{period}/opds/{opd}/export.xlsx",
    summary="Unduh TPP sebulan satu OPD (XLSX)",
    description="Untuk operator OPD itu (dan pembaca kota): hanya pegawai OPD tersebut.",
    tags=["Periode TPP"],
)
def export_opd_xlsx(
    period: str, opd: str, request: Request, who: Who, draft: bool = False
) -> Response:
    info, rows, annulled = _payroll(request, period, who, draft, opd)
    status = "final" if info["status"] == PERIOD_CLOSED else "draf"
    body = export.write_xlsx(
        info["period"], info["rules"], status, rows, annulled, total_label="JUMLAH OPD"
    )
    return _xlsx(body, f"tpp-{info['period']}-{export.file_slug(opd)}.xlsx")


@router.get("/periods/{period}/export.csv", summary="Unduh TPP sebulan (CSV)", tags=["Periode TPP"])
def export_csv(period: str, request: Request, who: Who, draft: bool = False) -> Response:
    info, rows, _ = _payroll(request, period, who, draft)
    return Response(
        export.write_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="tpp-{info["period"]}.csv"'},
    )
