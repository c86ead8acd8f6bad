"""Attendance's store-side operations shared by the API, the ADMS endpoints and the
scheduler: recording scans, the work calendar with BKPSDM's overrides, and closing days.

Everything here runs inside a caller's UnitOfWork (one transaction with the outbox) and
takes its time as an argument; the edges (routes, adms_api, scheduler) read the clock.
Closing is batched per date: a handful of queries for all employees of one day, never
one query per employee-day.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, cast, get_args
from uuid import UUID

from sqlalchemy import ColumnElement, bindparam, case, exists, func, insert, or_, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from contracts.events import AttendanceDayClosed, Event, FingerprintRecorded, ScanSource
from services.attendance import domain
from services.attendance.models import (
    Absence,
    CalendarOverride,
    ClosedDate,
    DayClosing,
    DeviceDay,
    Scan,
)
from services.kernel.calendar import WorkCalendar, indonesian_holidays, with_overrides
from services.kernel.employment import Period
from services.kernel.ruleset import load_ruleset
from services.shared.db import IN_CHUNK, chunked
from services.shared.employees import active_on, find_employee, periods_of
from services.shared.uow import UnitOfWork

PRODUCER = "attendance"


# --- rule set and calendar ------------------------------------------------------------


@lru_cache(maxsize=8)
def work_hours(ruleset: str) -> domain.WorkHours:
    return domain.WorkHours.from_ruleset(load_ruleset(ruleset))


@lru_cache(maxsize=64)
def seeded_holidays(year: int) -> dict[date, str]:
    """National holidays and cuti bersama of one year (the `holidays` package)."""
    return indonesian_holidays([year])


def load_calendar(uow: UnitOfWork, years: Iterable[int]) -> WorkCalendar:
    """The seeded calendar of `years` (and their neighbours) with BKPSDM's overrides."""
    span = sorted({y + d for y in years for d in (-1, 0, 1)})
    seeded: set[date] = set()
    for y in span:
        seeded.update(seeded_holidays(y))
    rows = uow.session.execute(select(col(CalendarOverride.day), col(CalendarOverride.kind))).all()
    made_holiday = {d for d, kind in rows if kind == "holiday"}
    made_working = {d for d, kind in rows if kind == "working"}
    return with_overrides(seeded, made_holiday, made_working)


def holiday_name(uow: UnitOfWork, day: date) -> str | None:
    override = uow.session.get(CalendarOverride, day)
    if override is not None:
        return override.name or None if override.kind == "holiday" else None
    return seeded_holidays(day.year).get(day)


def known_opds(uow: UnitOfWork) -> list[str]:
    """The OPDs at least one active employee of the projection belongs to, sorted."""
    employee = uow.tables.employee
    query = select(col(employee.opd)).where(col(employee.active)).distinct()
    return sorted(uow.session.exec(query).all())


# --- scans ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanIn:
    nip: str
    ts: datetime
    device_sn: str | None = None
    # when it reached us, if earlier than the batch (a scan released from quarantine)
    received_at: datetime | None = None


@dataclass(frozen=True)
class ScanOutcome:
    scan_id: str
    new: bool
    flag: str | None


_NIP = re.compile(r"\d{18}")
_SOURCES = frozenset(get_args(FingerprintRecorded.model_fields["source"].annotation))


def _event_ids(n: int) -> list[UUID]:
    """`n` random (version 4) UUIDs from one urandom call instead of one call each."""
    raw = os.urandom(16 * n)
    return [UUID(bytes=raw[i : i + 16], version=4) for i in range(0, 16 * n, 16)]


def fingerprint_event(
    *,
    event_id: UUID,
    received_at: datetime,
    nip: str,
    scan_id: str,
    scanned_at: datetime,
    work_date: date,
    device_sn: str | None,
    source: str,
    flag: str | None,
    migration: bool = False,
) -> FingerprintRecorded:
    """FingerprintRecorded without pydantic's validation when the values are known good
    (validating costs more than the rest of a scan's store path); anything unusual goes
    through the model's validation, which raises as before."""
    if (
        _NIP.fullmatch(nip)
        and source in _SOURCES
        and received_at.utcoffset() == _ZERO
        and scanned_at.utcoffset() is not None
        and isinstance(device_sn, str | None)
    ):
        return FingerprintRecorded.model_construct(
            event_id=event_id,
            occurred_at=received_at.astimezone(UTC),
            producer=PRODUCER,
            nip=nip,
            scan_id=scan_id,
            scanned_at=scanned_at.astimezone(UTC),
            work_date=work_date,
            device_sn=device_sn,
            source=cast(ScanSource, source),  # checked against _SOURCES above
            flag=flag,
            migration=migration,
        )
    return FingerprintRecorded(
        event_id=event_id,
        occurred_at=received_at,
        producer=PRODUCER,
        nip=nip,
        scan_id=scan_id,
        scanned_at=scanned_at,
        work_date=work_date,
        device_sn=device_sn,
        source=source,
        flag=flag,
        migration=migration,
    )


_ZERO = timedelta(0)
# Built once: an expanding IN is compiled once and cached, where a list of literals is
# coerced into bind parameters on every call (the device ingest's hot path).
_KNOWN_SCANS = select(col(Scan.scan_id)).where(
    col(Scan.scan_id).in_(bindparam("keys", expanding=True))
)
_NIP_DAY_COUNTS = (
    select(col(Scan.nip), func.count())
    .where(
        col(Scan.work_date) == bindparam("day"),
        col(Scan.nip).in_(bindparam("nips", expanding=True)),
    )
    .group_by(col(Scan.nip))
)


def record_scans(
    uow: UnitOfWork,
    items: list[ScanIn],
    *,
    source: str,
    received_at: datetime,
    max_future: timedelta = timedelta(minutes=5),
    migration: bool = False,
) -> list[ScanOutcome]:
    """Store new scans and emit one FingerprintRecorded each; known ones are duplicates.

    The same NIP in the same second is one scan, whatever the device. Scans of a date that
    was already closed (a device's backlog) re-close that employee's day. A `migration`
    (BKPSDM loading history) marks its events so, and closes the ended dates it spans for
    its employees at once (`close_history`): the closer looks back a week only.

    The rows and events are built before the first statement that writes, so a SQLite
    writer holds the database only for the inserts and the commit.
    """
    keys = [domain.scan_key(i.nip, i.ts) for i in items]
    # Build the rows and events of the scans first seen in this batch (one per key).
    first: dict[str, tuple[dict[str, Any], FingerprintRecorded, str | None]] = {}
    ids = iter(_event_ids(len(items)))
    for item, key in zip(items, keys, strict=True):
        if key in first:
            continue
        arrived = item.received_at or received_at
        flag = domain.flag_scan(item.ts, arrived, max_future)
        day = domain.wib_date(item.ts)
        row: dict[str, Any] = {
            "scan_id": key,
            "nip": item.nip,
            "ts": item.ts,
            "work_date": day,
            "device_sn": item.device_sn,
            "source": source,
            "flag": flag,
            "received_at": arrived,
        }
        event = fingerprint_event(
            event_id=next(ids),
            received_at=received_at,
            nip=item.nip,
            scan_id=key,
            scanned_at=item.ts,
            work_date=day,
            device_sn=item.device_sn,
            source=source,
            flag=flag,
            migration=migration,
        )
        first[key] = (row, event, flag)
    known: set[str] = set()
    for chunk in chunked(sorted(first)):
        known.update(uow.session.execute(_KNOWN_SCANS, {"keys": chunk}).scalars())
    out: list[ScanOutcome] = []
    # (nip, date) -> the scan event that re-closes it (the last one of this batch)
    touched: dict[tuple[str, date], UUID] = {}
    rows: list[dict[str, Any]] = []
    events: list[Event] = []
    for item, key in zip(items, keys, strict=True):
        if key in known:
            out.append(ScanOutcome(key, False, None))
            continue
        known.add(key)
        row, event, flag = first[key]
        rows.append(row)
        events.append(event)
        touched[(item.nip, row["work_date"])] = event.event_id
        out.append(ScanOutcome(key, True, flag))
    for batch in chunked(rows, 2000):
        uow.session.execute(insert(Scan.__table__), batch)
    uow.emit_many(events)
    if touched and migration:
        close_history(uow, touched, closed_at=received_at)
    elif touched:
        reclose(uow, touched, closed_at=received_at, causes=touched)
    return out


def close_history(
    uow: UnitOfWork, touched: Mapping[tuple[str, date], UUID], *, closed_at: datetime
) -> list[CloseResult]:
    """Close, for the employees of a migration batch, every ended date from its first to its
    last scan date (a day without a scan in a loaded month is a day without a scan), marked
    as migration; each closing caused by that employee-day's scan where there is one.
    Days an employee was not active on stay unclosed (close_date)."""
    nips = {nip for nip, _ in touched}
    today = domain.wib_date(closed_at)
    days = sorted({d for _, d in touched if d < today})
    if not days:
        return []
    by_day: dict[date, dict[str, UUID]] = defaultdict(dict)
    for (nip, d), cause in touched.items():
        by_day[d][nip] = cause
    ruleset = uow.settings.ruleset
    cal = load_calendar(uow, {d.year for d in days})
    results = []
    day = days[0]
    while day <= days[-1]:
        results.append(
            close_date(
                uow,
                day,
                closed_at=closed_at,
                ruleset=ruleset,
                nips=nips,
                calendar=cal,
                causes=by_day.get(day, {}),
                migration=True,
            )
        )
        day += timedelta(days=1)
    return results


def nip_day_counts(
    uow: UnitOfWork, pairs: Collection[tuple[str, date]]
) -> dict[tuple[str, date], int]:
    """How many scans each (NIP, work date) holds: one indexed count per date and chunk."""
    by_day: dict[date, set[str]] = defaultdict(set)
    for nip, day in pairs:
        by_day[day].add(nip)
    counts: dict[tuple[str, date], int] = {}
    for day, nips in by_day.items():
        for chunk in chunked(sorted(nips)):
            rows = uow.session.execute(_NIP_DAY_COUNTS, {"day": day, "nips": chunk}).all()
            counts.update({(nip, day): n for nip, n in rows})
    return counts


@dataclass(frozen=True)
class ExcessiveDay:
    nip: str
    day: date
    count: int
    first: datetime
    last: datetime
    devices: tuple[str, ...]


def opd_between(uow: UnitOfWork, opd: str, nip: Any, first: Any, last: Any) -> ColumnElement[bool]:
    """SQL: a period of `nip` in `opd` touches [first, last] (columns or values: a scan's
    date, an absence's dates). An OPD filter asks the period of the date, not the latest."""
    p = uow.tables.employee_period
    return exists().where(
        col(p.nip) == nip,
        col(p.opd) == opd,
        or_(col(p.first_day).is_(None), col(p.first_day) <= last),
        or_(col(p.last_day).is_(None), col(p.last_day) >= first),
    )


def opds_between(
    uow: UnitOfWork, nip: str, first: date, last: date, periods: Iterable[Period] | None = None
) -> set[str]:
    """The OPDs `nip` belonged to between `first` and `last` (their periods touching those
    dates; `periods`: the NIP's, when already read); dates outside every period belong to
    the latest period's OPD; unknown: none."""
    known = periods_of(uow, nip) if periods is None else periods
    found = {p.opd for p in known if p.overlaps(first, last)}
    if found:
        return found
    row = find_employee(uow, nip)
    return {row.opd} if row is not None else set()


def excessive_nip_days(
    uow: UnitOfWork,
    first: date,
    last: date,
    limit: int,
    max_rows: int = 1000,
    opd: str | None = None,
) -> list[ExcessiveDay]:
    """The NIP-days between `first` and `last` holding more than `limit` scans, by date
    and NIP (at most `max_rows`; only employees of `opd` if given), with their first and
    last scan and their devices. The counting reads the (work_date, nip) index only; rows
    are read for the flagged ones."""
    where = [col(Scan.work_date) >= first, col(Scan.work_date) <= last]
    if opd is not None:
        where.append(opd_between(uow, opd, Scan.nip, Scan.work_date, Scan.work_date))
    found = uow.session.execute(
        select(col(Scan.work_date), col(Scan.nip), func.count())
        .where(*where)
        .group_by(col(Scan.work_date), col(Scan.nip))
        .having(func.count() > limit)
        .order_by(col(Scan.work_date), col(Scan.nip))
        .limit(max_rows)
    ).all()
    by_day: dict[date, set[str]] = defaultdict(set)
    for day, nip, _ in found:
        by_day[day].add(nip)
    devices: dict[tuple[str, date], set[str]] = defaultdict(set)
    spans: dict[tuple[str, date], tuple[datetime, datetime]] = {}
    for day, nips in by_day.items():
        for chunk in chunked(sorted(nips)):
            for nip, sn, lo, hi in uow.session.execute(
                select(col(Scan.nip), col(Scan.device_sn), func.min(Scan.ts), func.max(Scan.ts))
                .where(col(Scan.work_date) == day, col(Scan.nip).in_(chunk))
                .group_by(col(Scan.nip), col(Scan.device_sn))
            ).all():
                devices[(nip, day)].add(sn or "-")
                was = spans.get((nip, day), (lo, hi))
                spans[(nip, day)] = (min(was[0], lo), max(was[1], hi))
    return [
        ExcessiveDay(nip, day, n, *spans[(nip, day)], tuple(sorted(devices[(nip, day)])))
        for day, nip, n in found
    ]


# --- closing --------------------------------------------------------------------------


@dataclass
class CloseResult:
    day: date
    working: bool
    employees: int = 0
    emitted: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "working_day": self.working,
            "employees": self.employees,
            "emitted": self.emitted,
        }


def _facts_tuple(
    status: str,
    check_in: datetime | None,
    check_out: datetime | None,
    late: int | None,
    early: int | None,
) -> tuple[Any, ...]:
    def utc(ts: datetime | None) -> datetime | None:
        return None if ts is None else ts.astimezone(UTC).replace(microsecond=0)

    return (status, utc(check_in), utc(check_out), late, early)


def _where_nips(column: Any, nips: Collection[str] | None) -> Any:
    return column.in_(sorted(nips)) if nips is not None else true()


def close_date(
    uow: UnitOfWork,
    day: date,
    *,
    closed_at: datetime,
    ruleset: str,
    nips: Collection[str] | None = None,
    calendar: WorkCalendar | None = None,
    causation_id: UUID | None = None,
    causes: Mapping[str, UUID] | None = None,
    migration: bool = False,
) -> CloseResult:
    """Close `day` for every employee active on it (or only those of `nips`); emit
    AttendanceDayClosed for each employee whose facts changed, as the next revision. Its
    causation is `causes[nip]` when given (the scan that re-closed the day), else
    `causation_id`.

    The caller decides that the day has ended. A date that stopped being a working day
    gets a `non_working` revision for the employees it had been closed for.
    """
    s = uow.session
    cal = calendar or load_calendar(uow, [day.year])
    hours = work_hours(ruleset)
    if nips is not None and len(nips) > IN_CHUNK:
        # Large subsets: read the whole day once, filter in memory.
        wanted: set[str] | None = set(nips)
        nips = None
    else:
        wanted = None
    # Only the employees a period covers on `day` (RULES.md "Employment within a month"):
    # a day before the first or after the last day is never closed; its scans are kept.
    active = active_on(uow, day, nips)
    # Plain rows, not ORM objects: the bulk UPDATE below would leave ORM objects stale
    # for a second closing of the same date within one transaction.
    table = DayClosing.__table__
    existing: dict[str, Any] = {
        row.nip: row
        for row in s.execute(
            table.select().where(table.c.work_date == day, _where_nips(table.c.nip, nips))
        )
    }
    if wanted is not None:
        active &= wanted
        existing = {n: r for n, r in existing.items() if n in wanted}
    result = CloseResult(day, cal.is_working_day(day))
    facts: dict[str, domain.DayFacts | None] = {}
    if result.working:
        scans: dict[str, list[datetime]] = defaultdict(list)
        for nip, ts in s.execute(
            select(col(Scan.nip), col(Scan.ts)).where(
                Scan.work_date == day, _where_nips(Scan.nip, nips)
            )
        ).all():
            scans[nip].append(ts)
        absence_kind: dict[str, str] = {}
        for nip, kind in s.execute(
            select(col(Absence.nip), col(Absence.kind))
            .where(
                Absence.start <= day,
                Absence.end >= day,
                Absence.cancelled == False,  # noqa: E712
                _where_nips(Absence.nip, nips),
            )
            .order_by(col(Absence.id))
        ).all():
            absence_kind[nip] = kind  # recording order: the latest record decides
        for nip in active:
            facts[nip] = domain.close_day(
                nip, day, scans.get(nip, ()), absence_kind.get(nip), cal, hours
            )
    # Employees closed before but no longer covered keep their last revision, except when
    # the date itself stopped being a working day.
    targets = active | (set(existing) if not result.working else set())
    result.employees = len(active) if result.working else 0
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    events: list[Event] = []
    for nip in sorted(targets):
        f = facts.get(nip)
        if f is None:
            new = _facts_tuple(domain.STATUS_NON_WORKING, None, None, None, None)
            if nip not in existing:
                continue  # never closed and not a working day: nothing to say
        else:
            new = _facts_tuple(f.status, f.check_in, f.check_out, f.minutes_late, f.minutes_early)
        row = existing.get(nip)
        if (
            row is not None
            and _facts_tuple(
                row.status, row.check_in, row.check_out, row.minutes_late, row.minutes_early
            )
            == new
        ):
            continue
        status, check_in, check_out, late, early = new
        values = {
            "revision": 1 if row is None else row.revision + 1,
            "status": status,
            "check_in": check_in,
            "check_out": check_out,
            "minutes_late": late,
            "minutes_early": early,
            "closed_at": closed_at,
        }
        if row is None:
            inserts.append({"nip": nip, "work_date": day, **values})
        else:
            updates.append({"k_nip": nip, **values})
        events.append(
            AttendanceDayClosed(
                occurred_at=closed_at,
                producer=PRODUCER,
                nip=nip,
                causation_id=(causes or {}).get(nip, causation_id),
                work_date=day,
                revision=int(values["revision"]),
                status=status,
                check_in=check_in,
                check_out=check_out,
                minutes_late=late,
                minutes_early=early,
                migration=migration,
            )
        )
    for chunk in chunked(inserts, 2000):
        s.execute(insert(table), chunk)
    if updates:
        s.connection().execute(
            update(table).where(table.c.nip == bindparam("k_nip"), table.c.work_date == day),
            updates,
        )
    uow.emit_many(events)
    result.emitted = len(events)
    marker = s.get(ClosedDate, day)
    if marker is None:
        s.add(ClosedDate(day=day, closed_at=closed_at))
    else:
        marker.closed_at = closed_at
        s.add(marker)
    return result


def closed_dates(uow: UnitOfWork, days: Iterable[date]) -> set[date]:
    wanted = sorted(set(days))
    found: set[date] = set()
    for chunk in chunked(wanted):
        found.update(
            uow.session.execute(
                select(col(ClosedDate.day)).where(col(ClosedDate.day).in_(chunk))
            ).scalars()
        )
    return found


def reclose(
    uow: UnitOfWork,
    pairs: Iterable[tuple[str, date]],
    *,
    closed_at: datetime,
    causation_id: UUID | None = None,
    causes: Mapping[tuple[str, date], UUID] | None = None,
) -> list[CloseResult]:
    """Re-close the (nip, date) pairs whose date was already closed; others wait for the
    closer. Returns one result per re-closed date. The AttendanceDayClosed of a pair is
    caused by `causes[pair]` when given (e.g. the late scan), else by `causation_id`."""
    by_day: dict[date, set[str]] = defaultdict(set)
    for nip, day in pairs:
        by_day[day].add(nip)
    done = closed_dates(uow, by_day)
    if not done:
        return []
    ruleset = uow.settings.ruleset
    cal = load_calendar(uow, {d.year for d in done})
    return [
        close_date(
            uow,
            day,
            closed_at=closed_at,
            ruleset=ruleset,
            nips=by_day[day],
            calendar=cal,
            causation_id=causation_id,
            causes={n: c for (n, d), c in causes.items() if d == day} if causes else None,
        )
        for day in sorted(done)
    ]


def reclose_dates(
    uow: UnitOfWork, days: Iterable[date], *, closed_at: datetime
) -> list[CloseResult]:
    """Re-close whole dates (a calendar change), those already closed only."""
    done = closed_dates(uow, days)
    if not done:
        return []
    cal = load_calendar(uow, {d.year for d in done})
    ruleset = uow.settings.ruleset
    return [
        close_date(uow, d, closed_at=closed_at, ruleset=ruleset, calendar=cal) for d in sorted(done)
    ]


def unclosed_employees(uow: UnitOfWork, day: date) -> set[str]:
    """Employees active on `day` without a closing for it (e.g. they arrived after it
    closed); never one whose period starts later or ended before."""
    active = active_on(uow, day)
    done = set(
        uow.session.execute(
            select(col(DayClosing.nip)).where(DayClosing.work_date == day)
        ).scalars()
    )
    return active - done


# --- devices' contacts ----------------------------------------------------------------


@lru_cache(maxsize=4)
def _contact_upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (sn, day) DO UPDATE of device_day, built once per dialect
    (SQLite and PostgreSQL share the clause): counters add up, the first contact stays, the
    last one is the later of the two (two workers may commit out of order)."""
    table = DeviceDay.__table__
    stmt = (pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)).values(
        sn=bindparam("sn"),
        day=bindparam("day"),
        first_contact=bindparam("at"),
        last_contact=bindparam("at"),
        heartbeats=bindparam("heartbeats"),
        scans=bindparam("scans"),
    )
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[table.c.sn, table.c.day],
        set_={
            "last_contact": case(
                (new.last_contact > table.c.last_contact, new.last_contact),
                else_=table.c.last_contact,
            ),
            "heartbeats": table.c.heartbeats + new.heartbeats,
            "scans": table.c.scans + new.scans,
        },
    )


def note_contact(uow: UnitOfWork, sn: str, at: datetime, heartbeats: int, scans: int) -> None:
    """Count a request of device `sn` at `at` in its WIB date's contact record (one
    statement: the ADMS paths stay one write per request for it)."""
    dialect = uow.session.get_bind().dialect.name
    uow.session.execute(
        _contact_upsert(dialect),
        {
            "sn": sn,
            "day": domain.wib_date(at),
            "at": at,
            "heartbeats": heartbeats,
            "scans": scans,
        },
    )


def contact_days(
    uow: UnitOfWork, sns: Collection[str], first: date, last: date
) -> set[tuple[str, date]]:
    """(sn, WIB date) of [first, last] on which each of `sns` had any contact."""
    found: set[tuple[str, date]] = set()
    for part in chunked(sorted(sns)):
        found.update(
            (sn, day)
            for sn, day in uow.session.execute(
                select(col(DeviceDay.sn), col(DeviceDay.day))
                .where(col(DeviceDay.sn).in_(part))
                .where(col(DeviceDay.day) >= first)
                .where(col(DeviceDay.day) <= last)
            )
        )
    return found
