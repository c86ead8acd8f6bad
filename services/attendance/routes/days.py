"""Day routes: closing a date (or a range) on demand, and the portal's views of the days:
an employee's month, an OPD's day recap, and the Inspektorat's anomaly report."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from services.attendance import commands, queries
from services.attendance.web import (
    AUDITORS,
    BKPSDM,
    config_of,
    day_has_ended,
    parse_day,
    require,
    require_employee_between,
)
from services.kernel.calendar import WIB
from services.shared.http import Problem, Who, kit_of, now_of, period_bounds_or_422
from services.shared.scope import require_opd_reader

router = APIRouter()

MAX_CLOSE_RANGE_DAYS = 400


@router.post(
    "/days/close",
    summary="Tutup satu tanggal sekarang",
    description="Untuk semua pegawai aktif, atau satu NIP.",
    tags=["Hari kerja"],
)
async def close_day(
    request: Request, date: str, who: Who, nip: str | None = None
) -> dict[str, Any]:
    """Close one ended date now (all active employees, or one NIP)."""
    require(who, BKPSDM, "menutup hari")
    day, now = parse_day(date, "date"), now_of(request)
    if not day_has_ended(day, now):
        raise Problem(
            409, f"hari {day} belum berakhir (WIB); belum dapat ditutup", code="not_ended"
        )
    return await run_in_threadpool(commands.close_one, kit_of(request), day, now, nip)


@router.post(
    "/days/close-range",
    summary="Tutup rentang tanggal",
    description=(
        "Setiap tanggal yang sudah lewat dalam rentang ditutup, satu transaksi per tanggal."
    ),
    tags=["Hari kerja"],
)
async def close_range(request: Request, start: str, end: str, who: Who) -> dict[str, Any]:
    """Close every ended date of [start, end]; one transaction per date."""
    require(who, BKPSDM, "menutup hari")
    first, last, now = parse_day(start, "start"), parse_day(end, "end"), now_of(request)
    if last < first:
        raise Problem(422, "end tidak boleh sebelum start", code="bad_range")
    if (last - first).days + 1 > MAX_CLOSE_RANGE_DAYS:
        raise Problem(422, f"rentang paling banyak {MAX_CLOSE_RANGE_DAYS} hari", code="bad_range")
    kit = kit_of(request)
    results = []
    day = first
    while day <= last and day_has_ended(day, now):
        results.append(await run_in_threadpool(commands.close_one, kit, day, now))
        day += timedelta(days=1)
    return {
        "days": results,
        "emitted": sum(int(r["emitted"]) for r in results),
        "not_ended": [] if day > last else [day.isoformat(), last.isoformat()],
    }


@router.get(
    "/employees/{nip}/month",
    summary="Kehadiran sebulan seorang pegawai",
    description=(
        "Jam masuk dan pulang, status dan menit per hari; hari yang sudah ditutup menampilkan "
        "revisi terakhir, hari terbuka fakta sementaranya."
    ),
    tags=["Hari kerja"],
)
def employee_month(nip: str, request: Request, period: str, who: Who) -> dict[str, Any]:
    """The employee's days of a month: times, status and minutes; closed days show their
    latest revision, open days their provisional facts."""
    first, last = period_bounds_or_422(period, "bad_period")
    with kit_of(request).uow() as uow:
        # the OPDs and atasan of the month's periods (a transfer on the 16th: both)
        require_employee_between(uow, who, nip, first, last, "melihat kehadiran pegawai ini")
    today = now_of(request).astimezone(WIB).date()
    return queries.employee_month(kit_of(request), nip, period, first, last, today)


@router.get(
    "/opds/attendance",
    summary="Kehadiran sebulan per OPD",
    description=(
        "Untuk BKPSDM dan auditor: hari-pegawai yang sudah ditutup per status (hadir, "
        "terlambat, tanpa keterangan, ketidakhadiran: cuti, izin, dinas luar, tugas belajar) "
        "dan tingkat kehadiran per OPD; OPD suatu hari = OPD pegawai pada tanggal itu."
    ),
    tags=["Hari kerja"],
)
async def opds_attendance(request: Request, period: str, who: Who) -> dict[str, Any]:
    """The month per OPD for the city's readers (queries.opds_attendance)."""
    require(who, AUDITORS, "melihat rekap kehadiran seluruh kota")
    first, last = period_bounds_or_422(period, "bad_period")
    found = await run_in_threadpool(queries.opds_attendance, kit_of(request), first, last)
    return {"periode": period, **found}


@router.get(
    "/opds/{opd}/days/{tanggal}",
    summary="Rekap kehadiran OPD pada satu tanggal",
    description="Jumlah per status dan fakta setiap pegawai.",
    tags=["Hari kerja"],
)
def opd_day(opd: str, tanggal: str, request: Request, who: Who) -> dict[str, Any]:
    """An OPD's recap of one date: counts per status and each employee's facts."""
    require_opd_reader(who, opd, "melihat rekap kehadiran OPD ini")
    return queries.opd_day(kit_of(request), opd, parse_day(tanggal))


@router.get(
    "/anomalies",
    summary="Kejanggalan kehadiran sebulan",
    description=(
        "Untuk Inspektorat: pindaian di mesin OPD lain, NIP yang sama di dua mesin berjauhan dalam"
        " beberapa menit, ketidakhadiran tak wajar di sekitar hari libur per OPD, jam mesin yang "
        "salah."
    ),
    tags=["Hari kerja"],
)
async def anomalies(request: Request, period: str, who: Who) -> dict[str, Any]:
    """For the Inspektorat: scans on another OPD's device, the same NIP on two distant
    devices within minutes, unusual absence around holidays per OPD, wrong device clocks."""
    require(who, AUDITORS, "melihat laporan anomali")
    first, last = period_bounds_or_422(period, "bad_period")
    found = await run_in_threadpool(
        queries.anomalies, kit_of(request), first, last, config_of(request).hop_window_minutes
    )
    return {
        "periode": period,
        "jumlah": dict(sorted(Counter(a["jenis"] for a in found).items())),
        "anomali": found,
    }
