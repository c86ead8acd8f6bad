"""Quarantine of scans that arrive before what they belong to (DESIGN: "nothing
acknowledged is ever dropped"): a device PIN no employee carries yet, or a NIP attendance
does not know yet (an import loaded right after the employee import, before attendance
consumed the EmployeeUpserted). They wait in `scan_quarantine`, visible to operators, and
become scans (FingerprintRecorded, closed days re-closed) when their employee arrives.

A scan is never credited on a guess: a PIN that looks like a NIP is that NIP only once
the employee projection has it. Everything runs in the caller's UnitOfWork and is
set-based (chunked IN lists, bulk INSERT/UPDATE), never one statement per scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlmodel import col

from services.attendance import domain, store
from services.attendance.models import Absence, DayClosing, Device, QuarantinedScan
from services.kernel.calendar import WIB
from services.shared.db import chunked
from services.shared.uow import UnitOfWork

WAITING = "menunggu"
APPLIED = "diterapkan"
STATES = (WAITING, APPLIED)
PIN_UNKNOWN = "pin_unknown"  # a device PIN no employee carries
EMPLOYEE_UNKNOWN = "employee_unknown"  # a valid NIP attendance has no employee for (yet)
REASONS = {
    PIN_UNKNOWN: "PIN belum dipetakan ke pegawai mana pun",
    EMPLOYEE_UNKNOWN: "NIP belum terdaftar sebagai pegawai",
}

PIN_MAX = 64  # scan_quarantine.pin
_TABLE = QuarantinedScan.__table__


@dataclass(frozen=True)
class Held:
    pin: str  # the device PIN, or the NIP of an import line
    ts: datetime
    device_sn: str | None
    source: str
    raw: str
    reason: str
    migration: bool = False  # a line of a BKPSDM migration import


def qkey(device_sn: str | None, pin: str, ts: datetime) -> str:
    """One key per (device, PIN, second): a device resending its batch is held once."""
    return f"{device_sn or ''}|{pin}|{ts.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def known_nips(uow: UnitOfWork, nips: Collection[str]) -> set[str]:
    """Those of `nips` that attendance's employee projection has (active or not: a scan of
    a deactivated employee is still theirs, and their day is simply not closed)."""
    employee = uow.tables.employee
    found: set[str] = set()
    for chunk in chunked(sorted(set(nips))):
        found.update(
            uow.session.execute(
                select(col(employee.nip)).where(col(employee.nip).in_(chunk))
            ).scalars()
        )
    return found


@lru_cache(maxsize=4)
def _known_employees_statement(employee: Any) -> Select[tuple[str, str | None]]:
    """Built once per table: an expanding IN is cached compiled, where a list of literals
    is coerced into bind parameters on every call (the device ingest's hot path)."""
    pins: BindParameter[list[str]] = bindparam("pins", expanding=True)
    return select(col(employee.nip), col(employee.pin)).where(
        or_(col(employee.nip).in_(pins), col(employee.pin).in_(pins))
    )


def known_employees(uow: UnitOfWork, pins: Collection[str]) -> dict[str, str]:
    """PIN (or NIP) → NIP from the employee projection, for the given `pins`: the PIN an
    employee carries, or the NIP of an employee attendance knows. Nothing else maps.
    One query per chunk (the device ingest path)."""
    statement = _known_employees_statement(uow.tables.employee)
    by_nip: dict[str, str] = {}
    by_pin: dict[str, str] = {}
    for chunk in chunked(sorted(set(pins))):
        wanted = set(chunk)
        for nip, pin in uow.session.execute(statement, {"pins": chunk}):
            if nip in wanted:
                by_nip[nip] = nip
            if pin in wanted:
                by_pin[pin] = nip
    # An employee's device PIN wins over a NIP-looking PIN of someone else.
    return {**by_nip, **by_pin}


def hold(uow: UnitOfWork, items: list[Held], *, received_at: datetime) -> int:
    """Keep `items` in quarantine; returns how many were new (a resend is held once)."""
    rows: dict[str, dict[str, Any]] = {}
    for item in items:
        # No device PIN is this long: a garbled one waits (visible, with its raw line)
        # rather than failing the whole push on PostgreSQL's column limit.
        pin = item.pin[:PIN_MAX]
        key = qkey(item.device_sn, pin, item.ts)
        rows.setdefault(
            key,
            {
                "qkey": key,
                "pin": pin,
                "ts": item.ts,
                "work_date": domain.wib_date(item.ts),
                "device_sn": item.device_sn,
                "source": item.source,
                "raw": item.raw[:500],
                "reason": item.reason,
                "migration": item.migration,
                "state": WAITING,
                "received_at": received_at,
            },
        )
    for chunk in chunked(sorted(rows)):
        for (key,) in uow.session.execute(select(_TABLE.c.qkey).where(_TABLE.c.qkey.in_(chunk))):
            rows.pop(key, None)
    fresh = list(rows.values())
    for batch in chunked(fresh, 2000):
        uow.session.execute(insert(_TABLE), batch)
    return len(fresh)


def release(
    uow: UnitOfWork, owners: Mapping[str, str], *, now: datetime, max_future: timedelta
) -> int:
    """Turn the waiting scans of `owners` (PIN or NIP → the employee's NIP) into scans:
    FingerprintRecorded each, closed days re-closed (store.record_scans). Returns how many
    were released. A scan already recorded (the same NIP and second) is not recorded twice,
    and released rows are marked, so running this again changes nothing."""
    # (source, migration) -> the scans: a migration line is released as migration
    by_source: dict[tuple[str, bool], list[store.ScanIn]] = defaultdict(list)
    ids: dict[str, list[int]] = defaultdict(list)  # NIP -> the rows released to it
    for chunk in chunked(sorted(owners)):
        for row_id, pin, ts, sn, source, received_at, migration in uow.session.execute(
            select(
                _TABLE.c.id,
                _TABLE.c.pin,
                _TABLE.c.ts,
                _TABLE.c.device_sn,
                _TABLE.c.source,
                _TABLE.c.received_at,
                _TABLE.c.migration,
            )
            .where(_TABLE.c.pin.in_(chunk), _TABLE.c.state == WAITING)
            .order_by(_TABLE.c.ts)
        ):
            by_source[(source, bool(migration))].append(
                store.ScanIn(owners[pin], ts, sn, received_at)
            )
            ids[owners[pin]].append(row_id)
    released = sum(len(items) for items in by_source.values())
    if not released:
        return 0
    for (source, migration), items in sorted(by_source.items()):
        store.record_scans(
            uow,
            items,
            source=source,
            received_at=now,
            max_future=max_future,
            migration=migration,
        )
    # By id, not by PIN: a row held meanwhile by another transaction stays waiting.
    for nip, mine in sorted(ids.items()):
        for id_chunk in chunked(mine):
            uow.session.execute(
                update(_TABLE)
                .where(_TABLE.c.id.in_(id_chunk))
                .values(state=APPLIED, nip=nip, applied_at=now)
            )
    return released


def close_absent_arrivals(uow: UnitOfWork, nips: Collection[str], *, now: datetime) -> int:
    """Absences are recorded for any valid NIP (an operator's deliberate act); the days they
    cover that were closed before their employee arrived are closed for them now. Only the
    (NIP, date) pairs never closed for that employee: a re-sent EmployeeUpserted of a known
    employee re-closes nothing. Returns the number of dates closed."""
    pairs: set[tuple[str, date]] = set()
    for chunk in chunked(sorted(set(nips))):
        for nip, start, end in uow.session.execute(
            select(col(Absence.nip), col(Absence.start), col(Absence.end)).where(
                col(Absence.nip).in_(chunk),
                col(Absence.cancelled) == False,  # noqa: E712
            )
        ):
            pairs.update((nip, start + timedelta(days=n)) for n in range((end - start).days + 1))
    if not pairs:
        return 0
    closed = store.closed_dates(uow, {d for _, d in pairs})
    pairs = {(n, d) for n, d in pairs if d in closed}
    for chunk in chunked(sorted({n for n, _ in pairs})):
        pairs -= set(
            uow.session.execute(
                select(col(DayClosing.nip), col(DayClosing.work_date)).where(
                    col(DayClosing.nip).in_(chunk)
                )
            ).all()
        )
    return len(store.reclose(uow, pairs, closed_at=now)) if pairs else 0


def sweep(uow: UnitOfWork, *, now: datetime, max_future: timedelta) -> int:
    """Release every waiting scan whose employee is known by now (the closer's safety net:
    a scan held while its EmployeeUpserted was being applied in another transaction)."""
    pins = list(
        uow.session.execute(select(_TABLE.c.pin).where(_TABLE.c.state == WAITING).distinct())
        .scalars()
        .all()
    )
    if not pins:
        return 0
    owners = known_employees(uow, pins)
    return release(uow, owners, now=now, max_future=max_future) if owners else 0


def listing(
    uow: UnitOfWork,
    *,
    opd: str | None = None,
    sn: str | None = None,
    state: str | None = None,
    limit: int = 500,
) -> dict[str, Any]:
    """The operator's view: counts per state and reason, and the latest rows, filtered by
    the OPD of the device, the device, the state."""
    device = Device.__table__
    conditions: list[ColumnElement[bool]] = []
    if opd:
        conditions.append(_TABLE.c.device_sn.in_(select(device.c.sn).where(device.c.opd == opd)))
    if sn:
        conditions.append(_TABLE.c.device_sn == sn)
    counts = {s: 0 for s in STATES}
    reasons: dict[str, int] = {}
    for st, reason, n in uow.session.execute(
        select(_TABLE.c.state, _TABLE.c.reason, func.count())
        .where(*conditions)
        .group_by(_TABLE.c.state, _TABLE.c.reason)
    ):
        counts[st] = counts.get(st, 0) + n
        if st == WAITING:
            reasons[reason] = reasons.get(reason, 0) + n
    if state:
        conditions.append(_TABLE.c.state == state)
    rows = uow.session.execute(
        select(_TABLE, device.c.opd)
        .outerjoin(device, device.c.sn == _TABLE.c.device_sn)
        .where(*conditions)
        .order_by(_TABLE.c.id.desc())
        .limit(limit)
    ).all()
    return {
        "jumlah": counts,
        "menunggu_per_alasan": reasons,
        "data": [
            {
                "id": r.id,
                "sn": r.device_sn,
                "opd": r.opd,
                "pin": r.pin,
                "waktu": r.ts.isoformat(),
                "waktu_wib": r.ts.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S"),
                "sumber": r.source,
                "baris": r.raw,
                "alasan": r.reason,
                "keterangan": REASONS.get(r.reason, r.reason),
                "status": r.state,
                "diterima_pada": r.received_at.isoformat(),
                "nip": r.nip,
                "diterapkan_pada": r.applied_at.isoformat() if r.applied_at else None,
            }
            for r in rows
        ],
    }
