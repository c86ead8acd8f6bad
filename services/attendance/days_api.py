"""Work calendar (BKPSDM), day closing (operator trigger), and the portal's views:
an employee's month, an OPD's day recap, and the Inspektorat's anomaly report."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from contracts.events import CITY_KEY, CalendarHoliday, WorkCalendarChanged
from services.attendance import domain, store
from services.attendance.models import Absence, CalendarOverride, DayClosing, Device, Scan
from services.attendance.web import (
    AUDITORS,
    BKPSDM,
    config_of,
    day_has_ended,
    parse_day,
    require,
)
from services.kernel.calendar import WIB, YEAR_MAX, YEAR_MIN, month_days
from services.kernel.vocabulary import STATUS_NON_WORKING, label
from services.shared.http import (
    Actor,
    Day,
    Problem,
    Who,
    kit_of,
    now_of,
    period_bounds_or_422,
)
from services.shared.kit import ServiceKit
from services.shared.uow import UnitOfWork

router = APIRouter()

MAX_CLOSE_RANGE_DAYS = 400


# --- calendar -------------------------------------------------------------------------


class CalendarEdit(BaseModel):
    tanggal: Day
    nama: str = ""


@router.get("/calendar", summary="Kalender kerja setahun", tags=["Kalender kerja"])
def get_calendar(request: Request, year: int = Query(ge=YEAR_MIN, le=YEAR_MAX)) -> dict[str, Any]:
    with kit_of(request).uow() as uow:
        cal = store.load_calendar(uow, [year])
        overrides = {
            o.day: o for o in uow.session.exec(select(CalendarOverride)).all() if o.day.year == year
        }
    seeded = store.seeded_holidays(year)
    holidays = []
    for d in sorted(x for x in cal.holidays if x.year == year):
        o = overrides.get(d)
        holidays.append(
            {
                "tanggal": d.isoformat(),
                "nama": (o.name if o else "") or seeded.get(d, ""),
                "sumber": "bkpsdm" if o else "nasional",
            }
        )
    working = [
        {"tanggal": d.isoformat(), "nama": o.name, "sumber": "bkpsdm"}
        for d, o in sorted(overrides.items())
        if o.kind == "working"
    ]
    return {"tahun": year, "hari_libur": holidays, "hari_kerja_tambahan": working}


def _calendar_changed(uow: UnitOfWork, year: int, now: datetime) -> WorkCalendarChanged:
    """The year's whole set of overrides, for the services that keep a copy of the calendar
    (activity's deadlines, approval's waiting ages, the notifier's reminders)."""
    rows = [o for o in uow.session.exec(select(CalendarOverride)).all() if o.day.year == year]
    return WorkCalendarChanged(
        occurred_at=now,
        producer="attendance",
        nip=CITY_KEY,
        year=year,
        holidays=[
            CalendarHoliday(tanggal=o.day, nama=o.name)
            for o in sorted(rows, key=lambda o: o.day)
            if o.kind == "holiday"
        ],
        working_days=sorted(o.day for o in rows if o.kind == "working"),
    )


def _set_override(
    kit: ServiceKit, day: date, kind: str | None, name: str, who: Actor, now: datetime
) -> dict[str, Any]:
    with kit.uow() as uow:
        row = uow.session.get(CalendarOverride, day)
        if kind is None:
            if row is None:
                raise Problem(404, f"tidak ada perubahan kalender pada {day}", code="not_found")
            uow.session.delete(row)
        else:
            if row is None:
                row = CalendarOverride(day=day, kind=kind, updated_at=now)
            row.kind, row.name, row.updated_by, row.updated_at = kind, name, who.nip, now
            uow.session.add(row)
        uow.session.flush()
        redone = store.reclose_dates(uow, [day], closed_at=now)
        cal = store.load_calendar(uow, [day.year])
        uow.emit(_calendar_changed(uow, day.year, now))
        uow.commit()
    return {
        "tanggal": day.isoformat(),
        "hari_kerja": cal.is_working_day(day),
        "ditutup_ulang": [r.as_dict() for r in redone],
    }


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
        _set_override, kit_of(request), edit.tanggal, "holiday", edit.nama, who, now_of(request)
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
    kit = kit_of(request)
    with kit.uow() as uow:
        row = uow.session.get(CalendarOverride, day)
    if row is not None and row.kind == "holiday":
        return await run_in_threadpool(_set_override, kit, day, None, "", who, now_of(request))
    if day in store.seeded_holidays(day.year):
        return await run_in_threadpool(
            _set_override, kit, day, "working", "hari libur dibatalkan", who, now_of(request)
        )
    raise Problem(404, f"{day} bukan hari libur", code="not_a_holiday")


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
        _set_override, kit_of(request), edit.tanggal, "working", edit.nama, who, now_of(request)
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
        _set_override, kit_of(request), parse_day(tanggal), None, "", who, now_of(request)
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

    def announce() -> dict[str, Any]:
        with kit_of(request).uow() as uow:
            event = _calendar_changed(uow, year, now_of(request))
            uow.emit(event)
            uow.commit()
        return {
            "tahun": year,
            "hari_libur_bkpsdm": len(event.holidays),
            "hari_kerja_tambahan": len(event.working_days),
            "event_id": str(event.event_id),
        }

    return await run_in_threadpool(announce)


# --- closing --------------------------------------------------------------------------


def close_one(kit: ServiceKit, day: date, now: datetime, nip: str | None = None) -> dict[str, Any]:
    with kit.uow() as uow:
        result = store.close_date(
            uow,
            day,
            closed_at=now,
            ruleset=kit.settings.ruleset,
            nips=[nip] if nip else None,
        )
        uow.commit()
    return result.as_dict()


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
    return await run_in_threadpool(close_one, kit_of(request), day, now, nip)


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
        results.append(await run_in_threadpool(close_one, kit, day, now))
        day += timedelta(days=1)
    return {
        "days": results,
        "emitted": sum(int(r["emitted"]) for r in results),
        "not_ended": [] if day > last else [day.isoformat(), last.isoformat()],
    }


# --- portal views ---------------------------------------------------------------------


def _wib(ts: datetime | None) -> str | None:
    return ts.astimezone(WIB).strftime("%H:%M:%S") if ts else None


def _facts_view(f: domain.DayFacts | DayClosing, closed: bool, revision: int | None) -> dict:
    status = f.status
    return {
        "status": status,
        "status_label": label(status),
        "jam_masuk": _wib(f.check_in),
        "jam_pulang": _wib(f.check_out),
        "menit_terlambat": f.minutes_late,
        "menit_pulang_cepat": f.minutes_early,
        "ditutup": closed,
        "revisi": revision,
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
def employee_month(nip: str, request: Request, period: str) -> dict[str, Any]:
    """The employee's days of a month: times, status and minutes; closed days show their
    latest revision, open days their provisional facts."""
    first, last = period_bounds_or_422(period, "bad_period")
    kit = kit_of(request)
    today = now_of(request).astimezone(WIB).date()
    with kit.uow() as uow:
        employee = uow.session.get(uow.tables.employee, nip)
        if employee is None:
            raise Problem(404, f"pegawai dengan NIP {nip} tidak dikenal", code="not_found")
        cal = store.load_calendar(uow, [first.year])
        closings = {
            c.work_date: c
            for c in uow.session.exec(
                select(DayClosing).where(
                    DayClosing.nip == nip,
                    DayClosing.work_date >= first,
                    DayClosing.work_date <= last,
                )
            ).all()
        }
        scans: dict[date, list[datetime]] = defaultdict(list)
        for s in uow.session.exec(
            select(Scan).where(Scan.nip == nip, Scan.work_date >= first, Scan.work_date <= last)
        ).all():
            scans[s.work_date].append(s.ts)
        absences = [
            domain.Absence(a.nip, a.start, a.end, a.kind, a.cancelled)
            for a in uow.session.exec(
                select(Absence)
                .where(Absence.nip == nip, Absence.start <= last, Absence.end >= first)
                .order_by(col(Absence.id))
            ).all()
        ]
        names = {d: store.holiday_name(uow, d) for d in month_days(first.year, first.month)}
    hours = store.work_hours(kit.settings.ruleset)
    days = []
    counts: Counter[str] = Counter()
    for d in month_days(first.year, first.month):
        entry: dict[str, Any] = {
            "tanggal": d.isoformat(),
            "hari_kerja": cal.is_working_day(d),
            "hari_libur": names[d],
            "jumlah_pindaian": len(scans.get(d, [])),
        }
        closing = closings.get(d)
        if closing is not None:
            entry.update(_facts_view(closing, True, closing.revision))
        elif d <= today and cal.is_working_day(d):
            absence = domain.absence_on(absences, nip, d)
            facts = domain.close_day(
                nip, d, scans.get(d, []), absence.kind if absence else None, cal, hours
            )
            assert facts is not None
            entry.update(_facts_view(facts, False, None))
            if d == today and facts.status == domain.STATUS_TK:
                entry.update(status=None, status_label=None)  # the day is not over yet
        elif cal.is_working_day(d):
            entry.update(status=None, status_label=None)
        else:
            entry.update(status=STATUS_NON_WORKING, status_label=label(STATUS_NON_WORKING))
        if entry.get("status"):
            counts[entry["status"]] += 1
        days.append(entry)
    return {
        "nip": nip,
        "nama": employee.nama,
        "opd": employee.opd,
        "periode": period,
        "hari_kerja": len(cal.working_days_in_month(first.year, first.month)),
        "ringkasan": dict(sorted(counts.items())),
        "hari": days,
    }


@router.get(
    "/opds/{opd}/days/{tanggal}",
    summary="Rekap kehadiran OPD pada satu tanggal",
    description="Jumlah per status dan fakta setiap pegawai.",
    tags=["Hari kerja"],
)
def opd_day(opd: str, tanggal: str, request: Request) -> dict[str, Any]:
    """An OPD's recap of one date: counts per status and each employee's facts."""
    day = parse_day(tanggal)
    kit = kit_of(request)
    with kit.uow() as uow:
        employee = uow.tables.employee
        staff = uow.session.exec(
            select(employee).where(employee.opd == opd, employee.active == True)  # noqa: E712
        ).all()
        if not staff:
            raise Problem(
                404, f"OPD {opd} tidak dikenal atau tanpa pegawai aktif", code="not_found"
            )
        nips = [e.nip for e in staff]
        closings = {
            c.nip: c
            for c in uow.session.exec(
                select(DayClosing).where(DayClosing.work_date == day, col(DayClosing.nip).in_(nips))
            ).all()
        }
        scans: dict[str, list[datetime]] = defaultdict(list)
        for nip_, ts in uow.session.exec(
            select(Scan.nip, Scan.ts).where(Scan.work_date == day, col(Scan.nip).in_(nips))
        ).all():
            scans[nip_].append(ts)
        absence_kind: dict[str, str] = {}
        for nip_, kind in uow.session.exec(
            select(Absence.nip, Absence.kind)
            .where(
                Absence.start <= day,
                Absence.end >= day,
                Absence.cancelled == False,  # noqa: E712
                col(Absence.nip).in_(nips),
            )
            .order_by(col(Absence.id))
        ).all():
            absence_kind[nip_] = kind
        cal = store.load_calendar(uow, [day.year])
    hours = store.work_hours(kit.settings.ruleset)
    rows = []
    counts: Counter[str] = Counter()
    for e in sorted(staff, key=lambda e: e.nama):
        closing = closings.get(e.nip)
        if closing is not None:
            view = _facts_view(closing, True, closing.revision)
        else:
            facts = domain.close_day(
                e.nip, day, scans.get(e.nip, []), absence_kind.get(e.nip), cal, hours
            )
            view = (
                _facts_view(facts, False, None)
                if facts
                else {
                    "status": STATUS_NON_WORKING,
                    "status_label": label(STATUS_NON_WORKING),
                    "ditutup": False,
                }
            )
        counts[view["status"]] += 1
        rows.append({"nip": e.nip, "nama": e.nama, **view})
    return {
        "opd": opd,
        "tanggal": day.isoformat(),
        "hari_kerja": cal.is_working_day(day),
        "jumlah_pegawai": len(staff),
        "rekap": dict(sorted(counts.items())),
        "pegawai": rows,
    }


def _anomalies(kit: ServiceKit, first: date, last: date, hop_minutes: int) -> list[dict]:
    with kit.uow() as uow:
        employee = uow.tables.employee
        employee_opd = dict(uow.session.exec(select(employee.nip, employee.opd)).all())
        devices = uow.session.exec(select(Device)).all()
        scans = [
            domain.Scan(s.nip, s.ts, s.device_sn, s.received_at)
            for s in uow.session.exec(
                select(Scan).where(Scan.work_date >= first, Scan.work_date <= last)
            ).all()
        ]
        # A week either side: the normal absence rate and the bridge days around month edges.
        facts = [
            domain.DayFacts(
                c.nip,
                c.work_date,
                c.status,
                c.check_in,
                c.check_out,
                c.minutes_late,
                c.minutes_early,
            )
            for c in uow.session.exec(
                select(DayClosing).where(
                    DayClosing.work_date >= first - timedelta(days=7),
                    DayClosing.work_date <= last + timedelta(days=7),
                )
            ).all()
        ]
        cal = store.load_calendar(uow, [first.year])
    found: list[domain.Anomaly] = []
    found += domain.foreign_device_scans(scans, employee_opd, {d.sn: d.opd for d in devices})
    found += domain.device_hops(
        scans, timedelta(minutes=hop_minutes), {d.sn: d.location or d.sn for d in devices}
    )
    found += [
        a
        for a in domain.holiday_bridge_absences(facts, employee_opd, cal)
        if a.day is not None and first <= a.day <= last
    ]
    found += domain.device_clock_anomalies(scans)
    return [
        {
            "jenis": a.kind,
            "keterangan": a.detail,
            "nip": a.nip,
            "opd": a.opd or (employee_opd.get(a.nip) if a.nip else None),
            "device_sn": a.device_sn,
            "tanggal": a.day.isoformat() if a.day else None,
            "waktu": a.at.isoformat() if a.at else None,
        }
        for a in found
    ]


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
        _anomalies, kit_of(request), first, last, config_of(request).hop_window_minutes
    )
    return {
        "periode": period,
        "jumlah": dict(sorted(Counter(a["jenis"] for a in found).items())),
        "anomali": found,
    }
