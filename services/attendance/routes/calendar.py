"""Work calendar routes: the year's calendar, BKPSDM's holidays and working days (a
closed date is re-closed), and announcing a year again to the services that keep a copy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from services.attendance import commands, queries
from services.attendance.web import BKPSDM, parse_day, require
from services.kernel.calendar import YEAR_MAX, YEAR_MIN
from services.shared.http import Day, Who, kit_of, now_of

router = APIRouter()


class CalendarEdit(BaseModel):
    tanggal: Day
    nama: str = ""


@router.get("/calendar", summary="Kalender kerja setahun", tags=["Kalender kerja"])
def get_calendar(request: Request, year: int = Query(ge=YEAR_MIN, le=YEAR_MAX)) -> dict[str, Any]:
    with kit_of(request).uow() as uow:
        return queries.calendar_year(uow, year)


@router.post(
    "/calendar/holidays",
    summary="Tetapkan hari libur atau cuti bersama",
    description="Oleh BKPSDM; tanggal yang sudah ditutup dihitung ulang.",
    tags=["Kalender kerja"],
)
async def add_holiday(edit: CalendarEdit, request: Request, who: Who) -> dict[str, Any]:
    """BKPSDM declares a holiday (or cuti bersama); a closed date is re-closed."""
    require(who, BKPSDM, "mengubah kalender kerja")
    return await run_in_threadpool(
        commands.set_override,
        kit_of(request),
        edit.tanggal,
        "holiday",
        edit.nama,
        who,
        now_of(request),
    )


@router.delete(
    "/calendar/holidays/{tanggal}",
    summary="Hapus hari libur",
    description="Libur tetapan BKPSDM dihapus; libur nasional diganti menjadi hari kerja.",
    tags=["Kalender kerja"],
)
async def remove_holiday(tanggal: str, request: Request, who: Who) -> dict[str, Any]:
    """Remove a holiday: BKPSDM's own is deleted, a national one is overridden as working."""
    require(who, BKPSDM, "mengubah kalender kerja")
    day = parse_day(tanggal)
    return await run_in_threadpool(
        commands.remove_holiday, kit_of(request), day, who, now_of(request)
    )


@router.post(
    "/calendar/working-days",
    summary="Tetapkan hari kerja pengganti",
    description="Misalnya Sabtu pengganti cuti bersama.",
    tags=["Kalender kerja"],
)
async def add_working_day(edit: CalendarEdit, request: Request, who: Who) -> dict[str, Any]:
    """Mark a date as a working day (e.g. a Saturday made up for a cuti bersama)."""
    require(who, BKPSDM, "mengubah kalender kerja")
    return await run_in_threadpool(
        commands.set_override,
        kit_of(request),
        edit.tanggal,
        "working",
        edit.nama,
        who,
        now_of(request),
    )


@router.delete(
    "/calendar/overrides/{tanggal}",
    summary="Kembalikan tanggal ke kalender nasional",
    description="Membatalkan perubahan BKPSDM atas satu tanggal.",
    tags=["Kalender kerja"],
)
async def remove_override(tanggal: str, request: Request, who: Who) -> dict[str, Any]:
    """Drop BKPSDM's change of a date: back to the national calendar."""
    require(who, BKPSDM, "mengubah kalender kerja")
    return await run_in_threadpool(
        commands.set_override, kit_of(request), parse_day(tanggal), None, "", who, now_of(request)
    )


@router.post(
    "/calendar/{year}/announce",
    summary="Umumkan ulang kalender setahun",
    description=(
        "Untuk layanan yang baru menyimpan kalender setelah perubahan BKPSDM, atau penyimpanan "
        "yang dipulihkan dari cadangan. Mengumumkan dua kali tidak mengubah apa pun."
    ),
    tags=["Kalender kerja"],
)
async def announce_calendar(
    request: Request, who: Who, year: int = Path(ge=YEAR_MIN, le=YEAR_MAX)
) -> dict[str, Any]:
    """Announce the year's calendar again (WorkCalendarChanged): for services that started
    keeping the calendar after BKPSDM's changes, or a store restored from a backup. The
    snapshot replaces what they hold; announcing twice changes nothing."""
    require(who, BKPSDM, "mengumumkan kalender kerja")
    return await run_in_threadpool(
        commands.announce_calendar, kit_of(request), year, now_of(request)
    )
