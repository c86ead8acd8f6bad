"""Queue routes: an atasan's (and their Plt's) waiting reports with their age in working
days, the overdue list for the 09:00 reminder, and one report as the queue knows it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.approval import domain, queries
from services.approval.models import QueueEntry
from services.approval.routes.deps import (
    OVERSIGHT_ROLES,
    PERSON_ROLES,
    Kit,
    Now,
    Who,
    forbidden,
    person,
    today,
)
from services.kernel.calendar import WorkCalendar
from services.kernel.employment import period_on
from services.shared import scope
from services.shared.calendar_book import Calendars
from services.shared.employees import employee_on, periods_of
from services.shared.http import Problem
from services.shared.uow import UnitOfWork

router = APIRouter()

OVERDUE_THRESHOLD_MAX = 260  # working days: about a year


class QueueItemOut(BaseModel):
    report_id: str
    nip: str
    nama: str | None
    work_date: date
    description: str
    output: str
    quantity: int
    minutes: int
    skp_target_id: str | None
    status: str
    revision: int
    atasan_nip: str | None
    filed_at: datetime
    age_working_days: int
    as_plt_for: str | None = None
    as_penilai: str | None = None  # in the queue of the penilai (NIP or BKPSDM) of a head


def _queue_out(
    uow: UnitOfWork,
    row: QueueEntry,
    day: date,
    calendar: WorkCalendar,
    as_plt_for: str | None = None,
    as_penilai: str | None = None,
) -> QueueItemOut:
    return QueueItemOut(
        report_id=row.report_id,
        nip=row.owner_nip,
        nama=queries.name_of(uow, row.owner_nip),
        work_date=row.work_date,
        description=row.description,
        output=row.output,
        quantity=row.quantity,
        minutes=row.minutes,
        skp_target_id=row.skp_target_id,
        status=row.status,
        revision=row.revision,
        atasan_nip=row.atasan_nip,
        filed_at=row.filed_at,
        age_working_days=domain.age_in_working_days(queries.to_item(row).filed_on, day, calendar),
        as_plt_for=as_plt_for,
        as_penilai=as_penilai,
    )


@router.get(
    "/queue",
    response_model=list[QueueItemOut],
    summary="Antrean saya",
    description=(
        "Laporan bawahan yang menunggu, laporan setiap atasan yang melimpahkan kepada saya "
        "sebagai Plt hari ini, dan laporan pegawai tanpa atasan yang penilainya saya (bagi "
        "BKPSDM: yang penilainya BKPSDM); yang terlama lebih dulu."
    ),
    tags=["Antrean persetujuan"],
)
def my_queue(who: Who, now: Now, kit: Kit, calendars: Calendars) -> list[QueueItemOut]:
    """The caller's queue: their subordinates' waiting reports (by the atasan of each
    report's date), those of every atasan who delegated to them as Plt for today, and those
    of the employees without atasan whose penilai they are (BKPSDM: BKPSDM's); oldest first."""
    day = today(now)
    cal = calendars(day.year)
    if who.is_("bkpsdm"):
        with kit.uow() as uow:
            return [
                _queue_out(uow, r, day, cal, as_penilai=domain.BKPSDM)
                for p in queries.penilai_rows(uow, penilai=domain.BKPSDM)
                for r in queries.waiting_for_penilai(uow, queries.to_penilai(p))
            ]
    me = person(who)
    with kit.uow() as uow:
        out = [_queue_out(uow, r, day, cal) for r in queries.pending_of(uow, me)]
        for d in queries.active_delegations(uow, plt=me):
            if d.covers(day):
                out += [
                    _queue_out(uow, r, day, cal, d.atasan_nip)
                    for r in queries.pending_of(uow, d.atasan_nip)
                ]
        for p in queries.penilai_rows(uow, penilai=me):
            out += [
                _queue_out(uow, r, day, cal, as_penilai=me)
                for r in queries.waiting_for_penilai(uow, queries.to_penilai(p))
            ]
    return out


@router.get(
    "/atasan/{atasan_nip}/queue",
    response_model=list[QueueItemOut],
    summary="Antrean seorang atasan",
    description="Laporan yang menunggu beserta umurnya.",
    tags=["Antrean persetujuan"],
)
def atasan_queue(
    atasan_nip: str, who: Who, now: Now, kit: Kit, calendars: Calendars
) -> list[QueueItemOut]:
    """One atasan's waiting reports with their age (the atasan, the operator of their OPD,
    their own atasan, BKPSDM, auditors, the notifier's service account). Each report is shown
    by the atasan's period on the report's date: after the atasan moves on the 16th, the old
    OPD's operator sees what is dated before the 16th, the new one what is dated from it. A
    caller who could see none of the atasan's periods is refused (no probing)."""
    day = today(now)
    cal = calendars(day.year)
    with kit.uow() as uow:
        periods = periods_of(uow, atasan_nip)
        if not any(scope.may_see_person(who, atasan_nip, p) for p in [*periods, None]):
            raise scope.forbidden(
                "melihat antrean atasan ini (hanya atasan itu sendiri, operator OPD-nya, BKPSDM "
                "dan auditor)"
            )
        return [
            _queue_out(uow, r, day, cal)
            for r in queries.pending_of(uow, atasan_nip)
            if scope.may_see_person(who, atasan_nip, period_on(periods, r.work_date))
        ]


@router.get(
    "/overdue",
    summary="Atasan dengan laporan terlambat diputuskan",
    description=(
        "Atasan dengan laporan yang menunggu lebih dari `threshold` hari kerja (pengingat pukul "
        "09.00); laporan pegawai tanpa atasan di bawah NIP penilainya."
    ),
    tags=["Antrean persetujuan"],
)
def overdue(
    who: Who,
    now: Now,
    kit: Kit,
    calendars: Calendars,
    threshold: int = Query(domain.DEFAULT_OVERDUE_THRESHOLD, ge=0, le=OVERDUE_THRESHOLD_MAX),
) -> list[dict[str, Any]]:
    """Atasan with reports waiting more than `threshold` working days (the 09:00 reminder)."""
    if not who.is_(*OVERSIGHT_ROLES, "system"):
        raise forbidden(
            "Daftar laporan terlambat diputuskan hanya untuk BKPSDM, auditor dan sistem."
        )
    day = today(now)
    with kit.uow() as uow:
        pending = queries.all_pending(uow)
        heads = {i.owner_nip for i in pending if i.atasan_nip is None}
        penilai = queries.penilai_of(uow, heads) if heads else []
    found = domain.overdue(pending, day, calendars(day.year), threshold, penilai)
    return [
        {
            "atasan_nip": atasan,
            "reports": [
                {"report_id": o.item.report_id, "nip": o.item.owner_nip, "age_working_days": o.age}
                for o in waiting
            ],
        }
        for atasan, waiting in sorted(found.items())
    ]


@router.get(
    "/reports/{report_id}",
    response_model=QueueItemOut,
    summary="Satu laporan dalam antrean",
    tags=["Antrean persetujuan"],
)
def get_item(report_id: str, who: Who, now: Now, kit: Kit, calendars: Calendars) -> QueueItemOut:
    day = today(now)
    with kit.uow() as uow:
        row = queries.queue_entry(uow, report_id)
        if row is None:
            raise Problem(404, "Laporan tidak ditemukan di antrean persetujuan.", code="not_found")
        # the owner, the atasan and operator of the report's date, the city (scope's rule)...
        placement = employee_on(uow, row.owner_nip, row.work_date)
        allowed = scope.may_see_person(who, row.owner_nip, placement)
        # ...the atasan it was filed to, and whoever may decide it today (a Plt, a penilai)
        if not allowed and who.is_(*PERSON_ROLES) and who.nip:
            allowed = who.nip in (row.owner_nip, row.atasan_nip) or queries.may_decide_on(
                uow, who.nip, row, day
            )
        if not allowed:
            raise forbidden("Anda tidak berwenang melihat laporan ini.")
        return _queue_out(uow, row, day, calendars(day.year))
