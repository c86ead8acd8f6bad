"""Reading the device outages attendance proposes (RULES.md "Annulled cuts"): the (OPD,
date) pairs on which no device of the OPD sent anything (no scan, quarantined or not, and
no contact that day) while its employees were due at the office. BKPSDM confirms one by
recording an OPD annulment in tpp that cites it (the portal carries it; no service calls
another).

Heard from a device on a date: any contact of that WIB date in its day record
(`device_day`: a handshake, a heartbeat, a command result or an upload), or a scan of that
work date from it (stored or waiting in quarantine: a device that was offline uploads its
day later, and the scans show it worked). A device that only sent heartbeats on a day, with
no scan at all, was up: nobody scanning is the employees' own days (each judged by their
attendance), not an outage, so that day is not proposed. Days before the day records
existed know only the last contact kept then (the migration carried `last_seen_at` over)
and the scans: a device heard without scanning on such a day may be proposed (an
over-proposal BKPSDM checks before confirming, never a missed cut).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlmodel import col, select

from services.attendance import domain, store
from services.attendance.models import Absence, Device, QuarantinedScan, Scan
from services.kernel.calendar import WIB
from services.kernel.employment import period_on
from services.shared.employees import all_periods
from services.shared.uow import UnitOfWork


def _wib(ts: datetime) -> date:
    return ts.astimezone(WIB).date()


def device_outages(
    uow: UnitOfWork, first: date, last: date, opd: str | None = None
) -> list[domain.DeviceOutage]:
    """The outages of [first, last] (of one OPD when given); `last` should be a day that
    has ended (today's devices may still send)."""
    if last < first:
        return []
    session = uow.session
    query = select(Device)
    if opd is not None:
        query = query.where(Device.opd == opd)
    devices = session.exec(query).all()
    if not devices:
        return []
    sns = [d.sn for d in devices]
    heard: set[tuple[str, date]] = set()
    for table in (Scan, QuarantinedScan):
        heard.update(
            (sn, day)
            for sn, day in session.execute(
                select(col(table.device_sn), col(table.work_date))
                .where(col(table.work_date) >= first)
                .where(col(table.work_date) <= last)
                .where(col(table.device_sn).in_(sns))
                .distinct()
            )
        )
    heard |= store.contact_days(uow, sns, first, last)

    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    opds = {d.opd for d in devices}
    periods = all_periods(uow, opd)
    away: dict[str, set[date]] = defaultdict(set)  # any absence record: not due at the office
    nips = list(periods)
    for part in range(0, len(nips), 500):
        for nip, start, end in session.execute(
            select(col(Absence.nip), col(Absence.start), col(Absence.end))
            .where(col(Absence.cancelled).is_(False))
            .where(col(Absence.start) <= last)
            .where(col(Absence.end) >= first)
            .where(col(Absence.nip).in_(nips[part : part + 500]))
        ):
            away[nip].update(d for d in days if start <= d <= end)
    expected: dict[tuple[str, date], int] = defaultdict(int)
    for nip, own in periods.items():
        for day in days:
            found = period_on(own, day)
            if found is not None and found.opd in opds and day not in away[nip]:
                expected[(found.opd, day)] += 1
    calendar = store.load_calendar(uow, sorted({first.year, last.year}))
    registered = [(d.sn, d.opd, _wib(d.registered_at)) for d in devices]
    return domain.device_outages(days, calendar, registered, heard, expected)
