"""Attendance's writes for the routes: scans pushed by a system or imported from a file
(a valid NIP not known yet waits in quarantine), absences (recorded with their document,
cancelled, imported), a device registered or sent a command, BKPSDM's calendar edits and
their announcement, and closing a date on demand. Recording scans and closing days
themselves are store.py's, shared with the ADMS endpoints and the scheduler.

Those that take a UnitOfWork run in the caller's transaction and the caller commits (but
the device registry's two, which commit); those
that take the kit are whole transactions (their own unit of work, committed), run by the
routes in the thread pool. Refusals are problem+json (`Problem`), as the routes send them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import select

from contracts.events import CITY_KEY, AbsenceRecorded, CalendarHoliday, WorkCalendarChanged
from services.attendance import domain, importer, quarantine, queries, store
from services.attendance.config import AttendanceConfig
from services.attendance.models import Absence, CalendarOverride, Device, DeviceCommand
from services.kernel.calendar import WIB
from services.kernel.employment import Period
from services.kernel.uploads import csv_lines
from services.shared.employees import periods_by_nip
from services.shared.http import Actor, Problem
from services.shared.kit import ServiceKit
from services.shared.scope import CITY_WRITERS, forbidden, in_opd
from services.shared.uow import UnitOfWork

# --- devices --------------------------------------------------------------------------


def register_device(
    uow: UnitOfWork,
    d: Device | None,
    sn: str,
    opd: str,
    lokasi: str,
    nama: str,
    zona_waktu: str,
    pinned_ip: str | None,
    registered_by: str,
    now: datetime,
    cfg: AttendanceConfig,
) -> tuple[Device, list[dict[str, Any]] | None]:
    """Register device `sn` (or update `d`, the one registered), committed; with its flagged
    NIP-days."""
    if d is None:
        d = Device(sn=sn, opd=opd, registered_at=now, registered_by=registered_by)
    d.opd, d.location, d.name, d.timezone = opd, lokasi, nama, zona_waktu
    d.pinned_ip = pinned_ip
    uow.session.add(d)
    uow.commit()
    return d, queries.excessive_by_device(uow, now, cfg).get(d.sn)


def queue_device_command(
    uow: UnitOfWork, sn: str, command: str, created_by: str | None, now: datetime
) -> DeviceCommand:
    """A command for device `sn`'s next heartbeat, committed."""
    row = DeviceCommand(sn=sn, command=command, created_at=now, created_by=created_by)
    uow.session.add(row)
    uow.commit()
    return row


# --- scans ----------------------------------------------------------------------------


Lines = list[tuple[int, store.ScanIn]]  # (line number, scan)


def record_pushed_scans(
    kit: ServiceKit,
    good: Lines,
    waktu: Sequence[str],
    *,
    now: datetime,
    max_future: timedelta,
) -> tuple[Lines, list[store.ScanOutcome], Lines]:
    """The valid lines of a pushed batch, `waktu` its times as sent:
    (the lines stored, their outcomes, the lines waiting in quarantine)."""
    with kit.uow() as uow:
        # A valid NIP attendance does not know (yet) is not credited: its scan waits.
        known = quarantine.known_nips(uow, {g.nip for _, g in good})
        waiting = [(i, g) for i, g in good if g.nip not in known]
        good = [(i, g) for i, g in good if g.nip in known]
        outcomes = store.record_scans(
            uow,
            [g for _, g in good],
            source="api",
            received_at=now,
            max_future=max_future,
        )
        held = [
            quarantine.Held(
                pin=g.nip,
                ts=g.ts,
                device_sn=g.device_sn,
                source="api",
                raw=f"{g.nip},{waktu[i - 1]}"[:500],
                reason=quarantine.EMPLOYEE_UNKNOWN,
            )
            for i, g in waiting
        ]
        quarantine.hold(uow, held, received_at=now)
        uow.commit()
    return good, outcomes, waiting


NOT_HISTORY = (
    "data migrasi hanya memuat tanggal yang sudah lewat; pindaian hari ini atau sesudahnya "
    "dikirim lewat mesin atau impor biasa (tanpa migrasi)"
)


def _midnight(day: date) -> datetime:
    """00:00 WIB of `day`: a migration takes only scans before it (ended dates)."""
    return datetime.combine(day, datetime.min.time(), tzinfo=WIB)


def outside_opd(nip: str) -> str:
    return f"NIP {nip} bukan pegawai OPD Anda; baris ini tidak disimpan"


def foreign_lines(
    uow: UnitOfWork, who: Actor, lines: set[tuple[str, date]]
) -> set[tuple[str, date]]:
    """The (NIP, date) an operator may not record for: another OPD's on that date (the
    period of the date, RULES.md "Employment within a month"), or an unknown NIP (both look
    the same, no probing); none for the city's writers."""
    if who.role != "operator":
        return set()
    # every NIP's periods read at once: a month's import has thousands of (NIP, date)
    periods = periods_by_nip(uow, {n for n, _ in lines})
    return {
        (n, d) for n, d in lines if not _only_in_callers_opd(uow, who, n, d, d, periods.get(n, []))
    }


def _only_in_callers_opd(
    uow: UnitOfWork,
    who: Actor,
    nip: str,
    first: date,
    last: date,
    periods: list[Period] | None = None,
) -> bool:
    opds = store.opds_between(uow, nip, first, last, periods)
    return len(opds) == 1 and in_opd(who, next(iter(opds)))


def import_scans(
    kit: ServiceKit,
    filename: str,
    data: bytes,
    now: datetime,
    max_future: timedelta,
    who: Actor | None = None,
    migration: bool = False,
) -> dict[str, Any]:
    # An invalid NIP is a bad line (refused alone, its reason in Bahasa); a valid NIP that
    # attendance does not know yet waits in quarantine for its EmployeeUpserted: a month
    # loaded right after the employee import must not come out empty. An operator's lines
    # of another OPD's (or an unknown) NIP are refused alone; a file of none of theirs, 403.
    # A `migration` (BKPSDM loading history) takes ended dates only, marks its events, and
    # closes the dates it spans at once (store.record_scans): nobody is notified of it.
    parsed = importer.import_file(filename, data)
    if parsed.fatal:
        raise Problem(422, parsed.rejected[0].reason, code="import_refused")
    if migration:
        today = domain.wib_date(now)
        parsed.rejected.extend(
            importer.RejectedLine(r.line_no, NOT_HISTORY)
            for r in parsed.rows
            if r.ts >= _midnight(today)
        )
        parsed.rows[:] = [r for r in parsed.rows if r.ts < _midnight(today)]
    source = "xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) else "csv"
    with kit.uow() as uow:
        dated = {(r.nip, domain.wib_date(r.ts)) for r in parsed.rows}
        if who is not None and (outside := foreign_lines(uow, who, dated)):
            if outside == dated:
                raise forbidden("mengimpor pindaian pegawai di luar OPD Anda")
            parsed.rejected.extend(
                importer.RejectedLine(r.line_no, outside_opd(r.nip))
                for r in parsed.rows
                if (r.nip, domain.wib_date(r.ts)) in outside
            )
            parsed.rows[:] = [
                r for r in parsed.rows if (r.nip, domain.wib_date(r.ts)) not in outside
            ]
        known = quarantine.known_nips(uow, {r.nip for r in parsed.rows})
        rows = [r for r in parsed.rows if r.nip in known]
        waiting = [r for r in parsed.rows if r.nip not in known]
        outcomes = store.record_scans(
            uow,
            [store.ScanIn(r.nip, r.ts) for r in rows],
            source=source,
            received_at=now,
            max_future=max_future,
            migration=migration,
        )
        held = [
            quarantine.Held(
                pin=r.nip,
                ts=r.ts,
                device_sn=None,
                source=source,
                raw=f"{filename}:{r.line_no} {r.nip},{r.ts.astimezone(WIB):%F %T}",
                reason=quarantine.EMPLOYEE_UNKNOWN,
                migration=migration,
            )
            for r in waiting
        ]
        quarantine.hold(uow, held, received_at=now)
        uow.commit()
    accepted = sum(1 for o in outcomes if o.new)
    flagged = [
        {"line": r.line_no, "flag": o.flag, "reason": domain.FLAG_MESSAGES[o.flag]}
        for r, o in zip(rows, outcomes, strict=True)
        if o.new and o.flag
    ]
    return {
        "file": filename,
        "migrasi": migration,
        "accepted": accepted,
        "duplicate": len(outcomes) - accepted,
        "rejected": len(parsed.rejected),
        "menunggu_pegawai": len(waiting),
        "errors": [
            {"line": r.line_no, "reason": r.reason}
            for r in sorted(parsed.rejected, key=lambda r: r.line_no)
        ],
        "waiting": [
            {
                "line": r.line_no,
                "nip": r.nip,
                "status": "menunggu",
                "reason": f"NIP {r.nip} belum terdaftar sebagai pegawai; pindaian disimpan "
                "dan diterapkan begitu data pegawainya diterima",
            }
            for r in waiting
        ],
        "flagged": flagged,
    }


# --- absences -------------------------------------------------------------------------


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def check_operator_opd(uow: UnitOfWork, who: Actor, nip: str, first: date, last: date) -> None:
    """Recording for an employee's dates `first`..`last`: the city's writers, or an operator
    of the OPD the employee belonged to on every one of them (an absence across a transfer
    is BKPSDM's; an unknown NIP is refused like a foreign one)."""
    if who.role in CITY_WRITERS or _only_in_callers_opd(uow, who, nip, first, last):
        return
    raise forbidden("mencatat untuk pegawai ini")


def record_absence(
    uow: UnitOfWork,
    nip: str,
    start: date,
    end: date,
    kind: str,
    *,
    now: datetime,
    recorded_by: str | None,
    note: str = "",
    document: tuple[str, str, str] | None = None,
) -> tuple[Absence, int]:
    """Store an absence, emit AbsenceRecorded, re-close its already-closed days.
    Returns the row and the number of days re-closed."""
    row = Absence(
        absence_id=str(uuid.uuid4()),
        nip=nip,
        kind=kind,
        start=start,
        end=end,
        note=note,
        recorded_by=recorded_by,
        recorded_at=now,
    )
    if document is not None:
        row.document_id, row.document_name, row.document_type = document
    uow.session.add(row)
    event = AbsenceRecorded(
        occurred_at=now,
        producer=store.PRODUCER,
        nip=nip,
        absence_id=row.absence_id,
        kind=kind,
        start=start,
        end=end,
        document_id=row.document_id,
    )
    uow.emit(event)
    uow.session.flush()
    redone = store.reclose(
        uow, [(nip, d) for d in _days(start, end)], closed_at=now, causation_id=event.event_id
    )
    return row, len(redone)


def record_absence_with_document(
    kit: ServiceKit,
    who: Actor,
    nip: str,
    start: date,
    end: date,
    kind: str,
    *,
    now: datetime,
    note: str,
    document: bytes | None,
    stored: tuple[str, str, str] | None,
) -> tuple[dict[str, Any], int]:
    """An absence recorded from the form, its document (`stored`: file name, original
    name, type) written beside it: (its view, the number of days re-closed)."""
    with kit.uow() as uow:
        check_operator_opd(uow, who, nip, start, end)
        # the document goes to disk only once the request is allowed, and leaves again
        # if the absence is not stored after all
        path = queries.evidence_dir(kit) / stored[0] if stored and document else None
        try:
            if path is not None and document is not None:
                path.write_bytes(document)
            row, redone = record_absence(
                uow,
                nip,
                start,
                end,
                kind,
                now=now,
                recorded_by=who.nip or who.role,
                note=note,
                document=stored,
            )
            uow.commit()
        except BaseException:
            if path is not None:
                path.unlink(missing_ok=True)
            raise
        return queries.absence_view(row), redone


def cancel_absence(
    uow: UnitOfWork, absence_id: str, who: Actor, now: datetime
) -> tuple[Absence, int]:
    """Cancel an absence: a new AbsenceRecorded (cancelled) and its closed days re-closed.
    Returns the row and the number of days re-closed."""
    row = queries.absence(uow, absence_id)
    check_operator_opd(uow, who, row.nip, row.start, row.end)
    if row.cancelled:
        raise Problem(409, "ketidakhadiran ini sudah dibatalkan", code="already_cancelled")
    row.cancelled, row.cancelled_at = True, now
    uow.session.add(row)
    event = AbsenceRecorded(
        occurred_at=now,
        producer=store.PRODUCER,
        nip=row.nip,
        absence_id=row.absence_id,
        kind=row.kind,
        start=row.start,
        end=row.end,
        cancelled=True,
        document_id=row.document_id,
    )
    uow.emit(event)
    uow.session.flush()
    redone = store.reclose(
        uow,
        [(row.nip, d) for d in _days(row.start, row.end)],
        closed_at=now,
        causation_id=event.event_id,
    )
    return row, len(redone)


def import_absences(
    kit: ServiceKit, text: str, now: datetime, who: Actor, max_days: int
) -> dict[str, Any]:
    lines: list[dict[str, Any]] = []
    header: list[str] | None = None
    cols: dict[str, int] = {}
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    own = foreign = 0  # an operator's lines of their OPD's employees, and of others'
    with kit.uow() as uow:
        seen: set[tuple[str, date, date, str]] = {
            (a.nip, a.start, a.end, a.kind)
            for a in uow.session.exec(select(Absence).where(Absence.cancelled == False)).all()  # noqa: E712
        }
        for csv_line in csv_lines(text):
            line, fields = csv_line.line_no, csv_line.fields
            if csv_line.error is not None:
                counts["rejected"] += 1
                lines.append({"line": line, "status": "rejected", "reason": csv_line.error})
                continue
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = [f.strip().lower().lstrip("\ufeff") for f in fields]
                missing = [c for c in domain.ABSENCE_COLUMNS if c not in header]
                if missing:
                    raise Problem(
                        422,
                        f"kolom {', '.join(missing)} tidak ditemukan; baris pertama harus "
                        f"berisi judul kolom '{','.join(domain.ABSENCE_COLUMNS)}'",
                        code="import_refused",
                    )
                cols = {c: header.index(c) for c in domain.ABSENCE_COLUMNS}
                continue
            get = lambda c: fields[cols[c]] if len(fields) > cols[c] else ""  # noqa: B023, E731
            try:
                nip, start, end, kind = domain.parse_absence(
                    get("nip"), get("mulai"), get("selesai"), get("jenis"), max_days
                )
            except ValueError as exc:
                counts["rejected"] += 1
                lines.append({"line": line, "status": "rejected", "reason": str(exc)})
                continue
            if who.role == "operator" and not _only_in_callers_opd(uow, who, nip, start, end):
                foreign += 1
                counts["rejected"] += 1
                lines.append({"line": line, "status": "rejected", "reason": outside_opd(nip)})
                continue
            own += 1
            if (nip, start, end, kind) in seen:
                counts["duplicate"] += 1
                lines.append({"line": line, "status": "duplicate", "reason": "sudah tercatat"})
                continue
            seen.add((nip, start, end, kind))
            row, _ = record_absence(
                uow, nip, start, end, kind, now=now, recorded_by=who.nip or who.role
            )
            counts["accepted"] += 1
            lines.append({"line": line, "status": "accepted", "absence_id": row.absence_id})
        if foreign and not own:  # nothing of theirs: refused whole (and nothing written)
            raise forbidden("mengimpor ketidakhadiran pegawai di luar OPD Anda")
        uow.commit()
    if header is None:
        raise Problem(422, "berkas kosong; tidak ada baris judul maupun data", code="empty")
    return {**counts, "lines": lines}


# --- calendar -------------------------------------------------------------------------


def calendar_changed(uow: UnitOfWork, year: int, now: datetime) -> WorkCalendarChanged:
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


def set_override(
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
        uow.emit(calendar_changed(uow, day.year, now))
        uow.commit()
    return {
        "tanggal": day.isoformat(),
        "hari_kerja": cal.is_working_day(day),
        "ditutup_ulang": [r.as_dict() for r in redone],
    }


def remove_holiday(kit: ServiceKit, day: date, who: Actor, now: datetime) -> dict[str, Any]:
    """Remove a holiday: BKPSDM's own is deleted, a national one is overridden as working."""
    with kit.uow() as uow:
        row = uow.session.get(CalendarOverride, day)
    if row is not None and row.kind == "holiday":
        return set_override(kit, day, None, "", who, now)
    if day in store.seeded_holidays(day.year):
        return set_override(kit, day, "working", "hari libur dibatalkan", who, now)
    raise Problem(404, f"{day} bukan hari libur", code="not_a_holiday")


def announce_calendar(kit: ServiceKit, year: int, now: datetime) -> dict[str, Any]:
    """The year's calendar announced again (WorkCalendarChanged)."""
    with kit.uow() as uow:
        event = calendar_changed(uow, year, now)
        uow.emit(event)
        uow.commit()
    return {
        "tahun": year,
        "hari_libur_bkpsdm": len(event.holidays),
        "hari_kerja_tambahan": len(event.working_days),
        "event_id": str(event.event_id),
    }


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
