"""Attendance's reads for the routes: the registered devices, an employee's scans, absences
(and where their documents are kept), the work calendar of a year, an employee's month, an
OPD's day and the Inspektorat's anomaly report. Nothing here writes (but for creating the
documents' folder); the routes and commands.py call these.

Those that take a UnitOfWork run in the caller's; those that take the kit open their own
and are run by the routes in the thread pool."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, null, or_
from sqlalchemy import select as core_select
from sqlmodel import col, select

from services.attendance import domain, store
from services.attendance.config import AttendanceConfig
from services.attendance.models import (
    Absence,
    CalendarOverride,
    DayClosing,
    Device,
    DeviceCommand,
    Scan,
)
from services.kernel.calendar import WIB, month_days
from services.kernel.employment import Period, period_on
from services.kernel.vocabulary import STATUS_NON_WORKING, label
from services.shared.employees import all_periods, periods_of
from services.shared.http import Problem
from services.shared.kit import ServiceKit
from services.shared.uow import UnitOfWork

# --- devices --------------------------------------------------------------------------


def device(uow: UnitOfWork, sn: str) -> Device | None:
    return uow.session.get(Device, sn)


def device_commands(uow: UnitOfWork, sn: str, limit: int) -> list[DeviceCommand]:
    """A device's commands, the newest first."""
    query = (
        select(DeviceCommand)
        .where(DeviceCommand.sn == sn)
        .order_by(col(DeviceCommand.id).desc())
        .limit(limit)
    )
    return list(uow.session.exec(query).all())


EXCESSIVE_DEVICE_DAYS = 7


def excessive_by_device(
    uow: UnitOfWork, now: datetime, cfg: AttendanceConfig
) -> dict[str, list[dict[str, Any]]]:
    """The flagged NIP-days of the last EXCESSIVE_DEVICE_DAYS WIB dates, per device."""
    today = domain.wib_date(now)
    found = store.excessive_nip_days(
        uow, today - timedelta(days=EXCESSIVE_DEVICE_DAYS - 1), today, cfg.max_scans_per_nip_day
    )
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in found:
        for sn in e.devices:
            out[sn].append({"nip": e.nip, "tanggal": e.day.isoformat(), "jumlah": e.count})
    return out


def devices(
    uow: UnitOfWork, opd: str | None, now: datetime, cfg: AttendanceConfig
) -> tuple[list[Device], dict[str, list[dict[str, Any]]]]:
    """The registered devices (of `opd` when given) and their flagged NIP-days."""
    query = select(Device).order_by(Device.opd, Device.sn)
    if opd:
        query = query.where(Device.opd == opd)
    return list(uow.session.exec(query).all()), excessive_by_device(uow, now, cfg)


# --- scans ----------------------------------------------------------------------------


def employee_scans(
    uow: UnitOfWork,
    nip: str,
    bounds: tuple[date, date] | None,
    after: str | None,
    limit: int,
) -> list[Scan]:
    """One NIP's scans in time order, at most `limit` + 1 (one more tells there is a next
    page). The period is filtered by the database, not here: a NIP with a flood of scans
    must not cost a read of all of them."""
    query = select(Scan).where(Scan.nip == nip)
    if bounds:
        first, last = bounds
        query = query.where(Scan.work_date >= first, Scan.work_date <= last)
    if after:
        query = query.where(Scan.scan_id > after)
    # For one NIP the scan_id (NIP@UTC second) sorts as the time does, and is unique.
    query = query.order_by(col(Scan.scan_id)).limit(limit + 1)
    return list(uow.session.exec(query).all())


# --- absences -------------------------------------------------------------------------


def absence_view(row: Absence) -> dict[str, Any]:
    return {
        "absence_id": row.absence_id,
        "nip": row.nip,
        "jenis": row.kind,
        "jenis_label": label(row.kind),
        "mulai": row.start.isoformat(),
        "selesai": row.end.isoformat(),
        "keterangan": row.note,
        "dibatalkan": row.cancelled,
        "dokumen": row.document_id is not None,
        "dokumen_nama": row.document_name,
        "dicatat_oleh": row.recorded_by,
        "dicatat_pada": row.recorded_at.isoformat(),
    }


def absences(
    uow: UnitOfWork, nip: str | None, bounds: tuple[date, date] | None, opd: str | None = None
) -> list[dict[str, Any]]:
    query = select(Absence).order_by(col(Absence.id))
    if nip:
        query = query.where(Absence.nip == nip)
    if opd:
        # the OPD of the absence's dates (a transfer on the 16th: earlier absences stay)
        query = query.where(store.opd_between(uow, opd, Absence.nip, Absence.start, Absence.end))
    if bounds:
        first, last = bounds
        query = query.where(Absence.start <= last, Absence.end >= first)
    return [absence_view(r) for r in uow.session.exec(query).all()]


def absence(uow: UnitOfWork, absence_id: str) -> Absence:
    row = uow.session.exec(select(Absence).where(Absence.absence_id == absence_id)).first()
    if row is None:
        raise Problem(404, f"ketidakhadiran {absence_id} tidak ditemukan", code="not_found")
    return row


def evidence_dir(kit: ServiceKit) -> Path:
    folder = Path(kit.settings.data_dir) / "evidence" / "attendance"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- calendar -------------------------------------------------------------------------


def calendar_year(uow: UnitOfWork, year: int) -> dict[str, Any]:
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


def employee_month(
    kit: ServiceKit, nip: str, period: str, first: date, last: date, today: date
) -> dict[str, Any]:
    """The employee's days of a month: times, status and minutes; closed days show their
    latest revision, open days their provisional facts."""
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
        periods = periods_of(uow, nip)
    hours = store.work_hours(kit.settings.ruleset)
    days = []
    counts: Counter[str] = Counter()
    for d in month_days(first.year, first.month):
        entry: dict[str, Any] = {
            "tanggal": d.isoformat(),
            "hari_kerja": cal.is_working_day(d),
            "hari_libur": names[d],
            "jumlah_pindaian": len(scans.get(d, [])),
            "aktif": period_on(periods, d) is not None,
        }
        closing = closings.get(d)
        if closing is not None:
            entry.update(_facts_view(closing, True, closing.revision))
        elif not entry["aktif"]:
            # outside the employment: never closed, no provisional "tanpa keterangan"
            entry.update(status=None, status_label=None)
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


@dataclass(frozen=True)
class _Staff:
    nip: str
    nama: str


def opd_day(kit: ServiceKit, opd: str, day: date) -> dict[str, Any]:
    """An OPD's recap of one date: counts per status and each employee's facts."""
    with kit.uow() as uow:
        # The OPD's staff on that date: whose period covering `day` is in `opd` (a transfer
        # on the 16th moves the employee from the 16th on, in both OPDs' recaps).
        staff = [
            _Staff(nip, period.nama)
            for nip, periods in all_periods(uow, opd).items()
            if (period := period_on(periods, day)) is not None and period.opd == opd
        ]
        if not staff:
            raise Problem(
                404,
                f"OPD {opd} tidak dikenal atau tanpa pegawai aktif pada {day.isoformat()}",
                code="not_found",
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


def anomalies(kit: ServiceKit, first: date, last: date, hop_minutes: int) -> list[dict]:
    """Scans on another OPD's device, the same NIP on two distant devices within minutes,
    unusual absence around holidays per OPD, wrong device clocks."""
    with kit.uow() as uow:
        periods = all_periods(uow)
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

    def opd_on(nip: str, day: date) -> str | None:
        """The employee's OPD on that date (None: not active then)."""
        period = period_on(periods.get(nip, ()), day)
        return period.opd if period is not None else None

    found: list[domain.Anomaly] = []
    found += domain.foreign_device_scans(scans, opd_on, {d.sn: d.opd for d in devices})
    found += domain.device_hops(
        scans, timedelta(minutes=hop_minutes), {d.sn: d.location or d.sn for d in devices}
    )
    found += [
        a
        for a in domain.holiday_bridge_absences(facts, opd_on, cal)
        if a.day is not None and first <= a.day <= last
    ]
    found += domain.device_clock_anomalies(scans)
    return [
        {
            "jenis": a.kind,
            "keterangan": a.detail,
            "nip": a.nip,
            "opd": a.opd or (opd_on(a.nip, a.day) if a.nip and a.day else None),
            "device_sn": a.device_sn,
            "tanggal": a.day.isoformat() if a.day else None,
            "waktu": a.at.isoformat() if a.at else None,
        }
        for a in found
    ]


ATTENDANCE_BUCKETS = ("hadir", "terlambat", "tanpa_keterangan", "ketidakhadiran")


def _bucket(status: str, minutes_late: int | None) -> str:
    """Which column of the month summary a closed day falls in: present on time (`hadir`),
    present but late (`terlambat`: minutes late > 0), `tanpa_keterangan`, or covered by an
    absence record (`ketidakhadiran`: cuti, izin, dinas luar, tugas belajar)."""
    if status == domain.STATUS_PRESENT:
        return "terlambat" if (minutes_late or 0) > 0 else "hadir"
    return "tanpa_keterangan" if status == domain.STATUS_TK else "ketidakhadiran"


def _attendance_row(counts: Counter[str], kinds: Counter[str]) -> dict[str, Any]:
    days = sum(counts[b] for b in ATTENDANCE_BUCKETS)
    present = counts["hadir"] + counts["terlambat"]
    rate = (Decimal(present * 100) / days).quantize(Decimal("0.1"), ROUND_HALF_UP) if days else None
    return {
        "hari_pegawai": days,
        **{b: counts[b] for b in ATTENDANCE_BUCKETS},
        "rincian_ketidakhadiran": dict(sorted(kinds.items())),
        "tingkat_kehadiran": float(rate) if rate is not None else None,
    }


def opds_attendance(kit: ServiceKit, first: date, last: date) -> dict[str, Any]:
    """The month per OPD from the closed days: employee-days by status and the attendance
    rate, (hadir + terlambat) / employee-days closed on working days, in percent (one place,
    half up). The OPD of a day is the employee's period on that date (a transfer on the 16th
    counts in the old OPD until the 15th, in the new one from the 16th). Days not closed yet
    (today, or a date the closer has not reached) are not counted.

    One query per table, counted by the database: most NIPs have one period over the whole
    month, their days are counted per (NIP, status, late); only the NIPs whose OPD may change
    within the month (more than one period in it, or one that starts or ends in it) keep a
    row per date, looked up in their periods here. 15,000 ASN × 22 days is 330,000 closings:
    a row each would cost seconds."""
    with kit.uow() as uow:
        table = uow.tables.employee_period.__table__.c
        periods: dict[str, list[Period]] = defaultdict(list)
        for nip, first_day, last_day, opd in uow.session.execute(
            core_select(table.nip, table.first_day, table.last_day, table.opd).where(
                or_(table.first_day.is_(None), table.first_day <= last),
                or_(table.last_day.is_(None), table.last_day >= first),
            )
        ).all():
            periods[nip].append(Period(first_day, last_day, "", opd))
        whole = {
            nip: ps[0].opd
            for nip, ps in periods.items()
            if len(ps) == 1 and ps[0].covers(first) and ps[0].covers(last)
        }
        changing = sorted(set(periods) - set(whole))
        closing = DayClosing.__table__.c
        late = case((closing.minutes_late > 0, 1), else_=0)
        # the date only for the NIPs whose OPD may change within the month
        day = case((closing.nip.in_(changing), closing.work_date)) if changing else null()
        # grouped by a derived table's columns: the CASE is written once, not repeated with
        # its own bound parameters in the GROUP BY
        per_row = (
            core_select(
                closing.nip.label("nip"),
                closing.status.label("status"),
                late.label("late"),
                day.label("day"),
            )
            .where(
                closing.work_date >= first,
                closing.work_date <= last,
                closing.status != STATUS_NON_WORKING,
            )
            .subquery()
        )
        rows = uow.session.execute(
            core_select(
                per_row.c.nip, per_row.c.status, per_row.c.late, per_row.c.day, func.count()
            ).group_by(per_row.c.nip, per_row.c.status, per_row.c.late, per_row.c.day)
        ).all()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for nip, status, is_late, on, n in rows:
        opd = whole.get(nip)
        if opd is None:
            period = period_on(periods.get(nip, ()), on) if on is not None else None
            if period is None:  # closed before a correction ended the period: not counted
                continue
            opd = period.opd
        bucket = _bucket(status, is_late)
        counts[opd][bucket] += n
        if bucket == "ketidakhadiran":
            kinds[opd][status] += n
    city, city_kinds = Counter[str](), Counter[str]()
    for opd in counts:
        city.update(counts[opd])
        city_kinds.update(kinds[opd])
    return {
        "opds": [
            {"opd": opd, **_attendance_row(counts[opd], kinds[opd])} for opd in sorted(counts)
        ],
        "jumlah": _attendance_row(city, city_kinds),
    }
