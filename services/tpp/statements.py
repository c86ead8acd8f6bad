"""The store side of TPP's live recomputation: projections -> domain -> stored statements.

Used by handlers.py (the consumer) and periods.py (BKPSDM's close and reopen). The money
itself is computed only by `domain.compute_statement`; this module picks the rule set in
force, reads that employee's rows, stores the result and emits TppRecomputed. Applying one
event to the projections lives in projections.py, reading stored statements in queries.py,
period close/reopen/what-if in periods.py.

Efficiency: the consumer works per batch (handlers.py): `apply_days` writes the day facts of
a whole batch with a few bulk statements and `recompute_many` recomputes each dirty
employee-month once, reading the rows of all of them with one query per table and writing
with bulk INSERT/UPDATE/DELETE (in-process on SQLite about 0.2 ms per consumed event instead of
1.4 ms with ~10 ORM round trips each). `recompute` (one employee, reopen) reads only that
employee's rows of that month. Bulk paths (close, what-if) load the month once and group in
memory. BKPSDM's active annulments of the month (annulments.py) are read per chunk and
applied by the domain after the lines are built; a recomputation an annulment causes
carries an `AnnulmentCause` instead of an event (annul.py).

Employment periods (RULES.md "Employment within a month"): a statement is computed from the
NIP's periods (the kit's `employee_period`) and the month's working days (the calendar
projection, as attendance announced it): `domain.month_statement`. Its nama/OPD/jabatan are
those of the last active working day. A NIP with no active working day in an open month has
no statement: an existing one is deleted, not zeroed (a zero row would still be counted in
the OPD's sheet and totals), and the deletion is on record as a TppRecomputed (old net ->
0) caused by the employee event that made it so.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from contracts.events import AttendanceDayClosed, Event, FingerprintRecorded, TppRecomputed
from services.kernel.calendar import (
    indonesia_calendar,
    month_days,
    parse_period,
    period_bounds,
    with_overrides,
)
from services.kernel.employment import Period as EmploymentPeriod
from services.kernel.ruleset import (
    RuleSet,
    RuleSetError,
    available_rulesets,
    load_ruleset,
    ruleset_in_force,
)
from services.shared.db import chunked
from services.shared.employees import periods_by_nip, periods_of
from services.shared.settings import Settings
from services.shared.uow import UnitOfWork
from services.tpp import annulments, domain
from services.tpp.annulments import AnnulmentCause
from services.tpp.models import KIT, PERIOD_CLOSED, DayFact, Period, ReportDecision, Statement
from services.tpp.projections import APPROVED, keep_as_correction

PRODUCER = "tpp"

# Why a statement is recomputed: a consumed event, or an annulment BKPSDM recorded/revoked.
Cause = Event | AnnulmentCause


# -- rule sets --------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _catalogue(default_name: str) -> tuple[RuleSet, tuple[RuleSet, ...]]:
    default = load_ruleset(default_name)
    shipped = available_rulesets()
    if default.name not in {r.name for r in shipped}:
        shipped.append(default)  # a rule set given as a file path
    return default, tuple(shipped)


def rules_for_period(settings: Settings, period: str) -> RuleSet:
    """The rule set in force on the first day of `period`, in the region of the configured
    rule set (another region's file is never picked by date alone)."""
    default, shipped = _catalogue(settings.ruleset)
    first, _ = period_bounds(period)
    try:
        return ruleset_in_force(first, shipped, region=default.region)
    except RuleSetError:
        # A month before the region's first rule set: the configured one (documented reading).
        return default


def ruleset_by_name(settings: Settings, name: str) -> RuleSet | None:
    """Only shipped rule sets by name: an API caller never names a file path."""
    _, shipped = _catalogue(settings.ruleset)
    return next((r for r in shipped if r.name == name), None)


def ruleset_names(settings: Settings) -> list[str]:
    return sorted(r.name for r in _catalogue(settings.ruleset)[1])


# -- the month's working days -----------------------------------------------------------------


def working_days(session: Session, period: str) -> list[date]:
    """The working days of `period`: the national calendar with BKPSDM's overrides of that
    year, as attendance's last WorkCalendarChanged said (the days attendance closes)."""
    year, month = parse_period(period)
    made_holidays: set[date] = set()
    made_working: set[date] = set()
    model = KIT.calendar_year
    assert model is not None
    row = session.get(model, year)
    if row is not None:
        made_holidays = {date.fromisoformat(h["tanggal"]) for h in json.loads(row.holidays)}
        made_working = {date.fromisoformat(d) for d in json.loads(row.working_days)}
    calendar = with_overrides(indonesia_calendar(year).holidays, made_holidays, made_working)
    return [day for day in month_days(year, month) if calendar.is_working_day(day)]


# -- computing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    days: list[domain.DayRecord]
    approved: set[date]


def _record(row: DayFact) -> domain.DayRecord:
    return domain.DayRecord(row.work_date, row.status, row.minutes_late, row.minutes_early)


def load_inputs(session: Session, nip: str, period: str) -> Inputs:
    """That employee's closed days and approved report days of `period` (only their rows)."""
    first, last = period_bounds(period)
    facts = session.exec(
        select(DayFact)
        .where(DayFact.nip == nip)
        .where(DayFact.work_date >= first)
        .where(DayFact.work_date <= last)
        .where(DayFact.revision >= 1)  # provisional scan rows are not money until closed
    ).all()
    approved = session.exec(
        select(col(ReportDecision.work_date))
        .where(ReportDecision.nip == nip)
        .where(ReportDecision.work_date >= first)
        .where(ReportDecision.work_date <= last)
        .where(ReportDecision.status == APPROVED)
    ).all()
    return Inputs([_record(r) for r in facts], set(approved))


def load_month(session: Session, period: str) -> dict[str, Inputs]:
    """Every employee's inputs of `period` in two queries (close, what-if)."""
    first, last = period_bounds(period)
    out: dict[str, Inputs] = defaultdict(lambda: Inputs([], set()))
    for row in session.exec(
        select(DayFact)
        .where(DayFact.work_date >= first)
        .where(DayFact.work_date <= last)
        .where(DayFact.revision >= 1)
    ):
        out[row.nip].days.append(_record(row))
    for nip, day in session.exec(
        select(col(ReportDecision.nip), col(ReportDecision.work_date))
        .where(ReportDecision.work_date >= first)
        .where(ReportDecision.work_date <= last)
        .where(ReportDecision.status == APPROVED)
    ):
        out[nip].approved.add(day)
    return out


def statement_values(
    statement: domain.Statement,
    rules: RuleSet,
    employee: Any,
    *,
    now: datetime,
    cause: Cause | None,
    frozen: bool = False,
) -> dict[str, Any]:
    """The stored columns of `statement` except the key (nip, period)."""
    att_cap, prod_cap = domain.deduction_caps(statement, rules)
    lines = json.dumps([ln.to_dict() for ln in statement.lines], ensure_ascii=False)
    return {
        "nama": employee.nama if employee is not None else "",
        "opd": employee.opd if employee is not None else "",
        "jabatan": employee.jabatan if employee is not None else "",
        "rules": statement.rules_name,
        "pagu": statement.pagu,
        "discipline": statement.discipline,
        "productivity": statement.productivity,
        "attendance_deduction": statement.attendance_deduction,
        "attendance_deduction_uncapped": statement.attendance_deduction_uncapped,
        "attendance_cap": att_cap,
        "productivity_deduction": statement.productivity_deduction,
        "productivity_deduction_uncapped": statement.productivity_deduction_uncapped,
        "productivity_cap": prod_cap,
        "required_report_days": statement.required_report_days,
        "approved_report_days": statement.approved_report_days,
        "net": statement.net,
        "lines_json": lines,
        "pagu_basis_json": (
            json.dumps(statement.pagu_basis.to_dict(), ensure_ascii=False)
            if statement.pagu_basis is not None
            else ""
        ),
        "frozen": frozen,
        "computed_at": now,
        "cause_event_type": cause.event_type if cause is not None else "",
        "cause_event_id": str(cause.event_id) if cause is not None else None,
    }


def store(
    session: Session,
    statement: domain.Statement,
    rules: RuleSet,
    employee: Any,
    *,
    now: datetime,
    cause: Cause | None,
    frozen: bool = False,
    row: Statement | None = None,
) -> Statement:
    values = statement_values(statement, rules, employee, now=now, cause=cause, frozen=frozen)
    if row is None:
        row = Statement(nip=statement.nip, period=statement.period, **values)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.add(row)
    return row


def recompute(
    uow: UnitOfWork, nip: str, period: str, cause: Cause, now: datetime
) -> Statement | None:
    """Recompute one employee's month from the projections; emit TppRecomputed when the net
    changes. None when the employee is not known yet (the statement follows EmployeeUpserted)
    or has no active working day in `period` (a statement there is deleted)."""
    session = uow.session
    employment = periods_of(uow, nip)
    if not employment:
        return None
    # Lock the statement row (PostgreSQL): a close running now waits for us, or we see frozen.
    current = session.exec(
        select(Statement)
        .where(Statement.nip == nip)
        .where(Statement.period == period)
        .with_for_update()
    ).first()
    if current is not None and current.frozen:
        return current
    rules = rules_for_period(uow.settings, period)
    inputs = load_inputs(session, nip, period)
    annulled = annulments.for_nips(uow, [nip], period).get(nip, [])
    found = domain.month_statement(
        nip,
        period,
        employment,
        working_days(session, period),
        inputs.days,
        inputs.approved,
        rules,
        annulled,
    )
    old_net = current.net if current is not None else None
    if found is None:  # no active working day: no statement (see the module's docstring)
        if current is not None:
            session.delete(current)
            uow.emit(_recomputed(nip, period, rules, old_net, 0, cause, now))
        return None
    statement, owner = found
    row = store(session, statement, rules, owner, now=now, cause=cause, row=current)
    if old_net != statement.net:
        uow.emit(_recomputed(nip, period, rules, old_net, statement.net, cause, now))
    return row


def _recomputed(
    nip: str,
    period: str,
    rules: RuleSet,
    old_net: int | None,
    new_net: int,
    cause: Cause,
    now: datetime,
) -> TppRecomputed:
    by_annulment = isinstance(cause, AnnulmentCause)
    return TppRecomputed(
        occurred_at=now,
        producer=PRODUCER,
        nip=nip,
        causation_id=None if by_annulment else cause.event_id,  # an annulment is no event
        period=period,
        rules=rules.name,
        old_net=old_net,
        new_net=new_net,
        cause_event_type=cause.event_type,
        cause_event_id=cause.event_id,
        cause_annulment_id=cause.annulment_id if isinstance(cause, AnnulmentCause) else None,
        # a change caused by a migration import of history is one too (nobody is notified)
        migration=bool(getattr(cause, "migration", False)),
    )


# -- the consumer's batch path ----------------------------------------------------------------


_DAY_COLUMNS = (
    "revision",
    "status",
    "minutes_late",
    "minutes_early",
    "scans_seen",
    "first_scan_at",
    "last_scan_at",
)
_DAY_READ = [DayFact.__table__.c[c] for c in ("nip", "work_date", *_DAY_COLUMNS)]


def apply_days(
    uow: UnitOfWork,
    scans: Sequence[FingerprintRecorded],
    closes: Sequence[tuple[int, AttendanceDayClosed]],
) -> dict[tuple[str, str], tuple[int, Event]]:
    """The day facts of a batch, with one read and at most one INSERT and one UPDATE (bulk)
    instead of two ORM round trips per event.

    Same rules as `on_fingerprint` / `on_day_closed` applied one by one, in arrival order:
    a scan counts on the provisional columns only; a close replaces the day when its
    revision is newer; a close for a frozen month is kept as a pending correction. Returns
    the employee-months the applied closes changed: (nip, period) -> (seq, event)."""
    session = uow.session
    keys = {(e.nip, e.work_date) for e in scans} | {(e.nip, e.work_date) for _, e in closes}
    if not keys:
        return {}
    nips = sorted({nip for nip, _ in keys})
    dates = sorted({day for _, day in keys})
    rows: dict[tuple[str, date], dict[str, Any]] = {}
    for chunk in chunked(nips):
        for r in session.execute(
            select(*_DAY_READ)
            .where(col(DayFact.nip).in_(chunk))
            .where(col(DayFact.work_date).in_(dates))
        ):
            if (r.nip, r.work_date) in keys:
                rows[(r.nip, r.work_date)] = dict(r._mapping)
    existing = set(rows)
    changed: set[tuple[str, date]] = set()

    def row_of(nip: str, day: date) -> dict[str, Any]:
        row = rows.get((nip, day))
        if row is None:  # the model's defaults: a provisional, open day
            row = rows[(nip, day)] = {
                "nip": nip,
                "work_date": day,
                "revision": 0,
                "status": "open",
                "minutes_late": None,
                "minutes_early": None,
                "scans_seen": 0,
                "first_scan_at": None,
                "last_scan_at": None,
            }
        return row

    for scan in scans:
        row = row_of(scan.nip, scan.work_date)
        row["scans_seen"] += 1
        if row["first_scan_at"] is None or scan.scanned_at < row["first_scan_at"]:
            row["first_scan_at"] = scan.scanned_at
        if row["last_scan_at"] is None or scan.scanned_at > row["last_scan_at"]:
            row["last_scan_at"] = scan.scanned_at
        changed.add((scan.nip, scan.work_date))

    dirty: dict[tuple[str, str], tuple[int, Event]] = {}
    if closes:
        periods = sorted({domain.period_of(e.work_date) for _, e in closes})
        closed = set(
            session.exec(
                select(Period.period)
                .where(col(Period.period).in_(periods))
                .where(Period.status == PERIOD_CLOSED)
            )
        )
        frozen: set[tuple[str, str]] = set()
        close_nips = sorted({e.nip for _, e in closes})
        for chunk in chunked(close_nips):
            frozen.update(
                (r.nip, r.period)
                for r in session.execute(
                    select(Statement.nip, Statement.period)
                    .where(col(Statement.nip).in_(chunk))
                    .where(col(Statement.period).in_(periods))
                    .where(col(Statement.frozen).is_(True))
                )
            )
        for seq, event in closes:
            known = rows.get((event.nip, event.work_date))
            if known is not None and event.revision <= known["revision"]:
                continue  # a redelivery or an older revision arriving late changes nothing
            period = domain.period_of(event.work_date)
            if period in closed or (event.nip, period) in frozen:
                keep_as_correction(session, event, period, event.work_date, uow.clock())
                continue
            row = row_of(event.nip, event.work_date)
            row["revision"] = event.revision
            row["status"] = event.status
            row["minutes_late"] = event.minutes_late
            row["minutes_early"] = event.minutes_early
            changed.add((event.nip, event.work_date))
            dirty[(event.nip, period)] = (seq, event)

    new = [rows[k] for k in sorted(changed - existing)]
    old = [rows[k] for k in sorted(changed & existing)]
    if new:
        session.execute(insert(DayFact), new)
    if old:
        session.execute(update(DayFact), old)  # bulk UPDATE by primary key (nip, work_date)
    return dirty


def recompute_many(uow: UnitOfWork, dirty: Mapping[tuple[str, str], Cause]) -> int:
    """`recompute` for many employee-months: per month and chunk of employees one query each
    for employees, statements (locked, as in `recompute`), day facts and approvals, then one
    bulk INSERT, one bulk UPDATE and one outbox INSERT. Same results as `recompute` called
    for each key after the batch's changes; returns the number of TppRecomputed emitted."""
    session = uow.session
    settings = uow.settings
    session.flush()  # this batch's ORM changes (decisions, employees) must be visible to reads
    by_period: dict[str, dict[str, Cause]] = defaultdict(dict)
    for (nip, period), cause in dirty.items():
        by_period[period][nip] = cause
    now = uow.clock()  # the processing clock: the kit's, a test's in tests
    events: list[Event] = []
    for period, causes in sorted(by_period.items()):
        rules = rules_for_period(settings, period)
        first, last = period_bounds(period)
        working = working_days(session, period)
        for chunk in chunked(sorted(causes)):
            employment = periods_by_nip(uow, chunk)
            # Lock the statement rows (PostgreSQL), in key order: a close waits for us.
            current = {
                r.nip: r
                for r in session.execute(
                    select(Statement.nip, Statement.net, Statement.frozen)
                    .where(Statement.period == period)
                    .where(col(Statement.nip).in_(chunk))
                    .order_by(col(Statement.nip))
                    .with_for_update()
                )
            }
            days: dict[str, list[domain.DayRecord]] = defaultdict(list)
            for r in session.execute(
                core_select(
                    col(DayFact.nip),
                    col(DayFact.work_date),
                    col(DayFact.status),
                    col(DayFact.minutes_late),
                    col(DayFact.minutes_early),
                )
                .where(col(DayFact.nip).in_(chunk))
                .where(col(DayFact.work_date) >= first)
                .where(col(DayFact.work_date) <= last)
                .where(col(DayFact.revision) >= 1)  # provisional scan rows are not money
            ):
                days[r.nip].append(
                    domain.DayRecord(r.work_date, r.status, r.minutes_late, r.minutes_early)
                )
            approved: dict[str, set[date]] = defaultdict(set)
            for nip, day in session.execute(
                select(col(ReportDecision.nip), col(ReportDecision.work_date))
                .where(col(ReportDecision.nip).in_(chunk))
                .where(ReportDecision.work_date >= first)
                .where(ReportDecision.work_date <= last)
                .where(ReportDecision.status == APPROVED)
            ):
                approved[nip].add(day)
            annulled = annulments.for_nips(uow, chunk, period)
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            deletes: list[str] = []
            for nip in chunk:
                own: list[EmploymentPeriod] = employment.get(nip, [])
                row = current.get(nip)
                if not own or (row is not None and row.frozen):
                    continue  # unknown yet (follows EmployeeUpserted) / frozen by a close
                found = domain.month_statement(
                    nip, period, own, working, days[nip], approved[nip], rules,
                    annulled.get(nip, ()),
                )  # fmt: skip
                if found is None:  # no active working day: no statement (module docstring)
                    if row is not None:
                        deletes.append(nip)
                        events.append(_recomputed(nip, period, rules, row.net, 0, causes[nip], now))
                    continue
                st, owner = found
                values = statement_values(st, rules, owner, now=now, cause=causes[nip])
                (updates if row is not None else inserts).append(
                    {"nip": nip, "period": period, **values}
                )
                old_net = row.net if row is not None else None
                if old_net != st.net:
                    events.append(
                        _recomputed(nip, period, rules, old_net, st.net, causes[nip], now)
                    )
            if inserts:
                session.execute(insert(Statement), inserts)
            if updates:
                session.execute(update(Statement), updates)  # bulk UPDATE by primary key
            if deletes:
                session.execute(
                    delete(Statement)
                    .where(col(Statement.period) == period)
                    .where(col(Statement.nip).in_(deletes))
                )
    uow.emit_many(events)
    return len(events)


def open_periods_of(session: Session, nip: str) -> set[str]:
    """The months with money facts of `nip` that are not closed (for an employee change)."""
    periods = {
        domain.period_of(d)
        for d in session.exec(
            select(col(DayFact.work_date)).where(DayFact.nip == nip).where(DayFact.revision >= 1)
        )
    }
    periods |= {
        domain.period_of(d)
        for d in session.exec(
            select(col(ReportDecision.work_date))
            .where(ReportDecision.nip == nip)
            .where(ReportDecision.status == APPROVED)
        )
    }
    periods |= set(
        session.exec(
            select(Statement.period)
            .where(Statement.nip == nip)
            .where(col(Statement.frozen).is_(False))
        )
    )
    closed = (
        set(
            session.exec(
                select(Period.period)
                .where(col(Period.period).in_(periods))
                .where(Period.status == PERIOD_CLOSED)
            )
        )
        if periods
        else set()
    )
    return periods - closed
