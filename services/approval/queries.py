"""Approval's reads: queue rows, the supervisor relation, Plt delegations, period locks and
the audit log, plus `to_item` (a queue row as the domain sees it). Nothing here writes;
the routes and commands.py call these, handlers.py uses `to_item`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy import func, or_
from sqlmodel import col, select

from services.approval import domain
from services.approval.models import (
    DecisionLog,
    Delegation,
    KinerjaMonth,
    KinerjaResult,
    PenilaiRow,
    PeriodClose,
    PeriodReopen,
    QueueEntry,
    SkpTargetRow,
)
from services.kernel.calendar import parse_period, period_bounds
from services.kernel.employment import period_on
from services.kernel.ruleset import RuleSetError, load_ruleset
from services.shared.db import EmployeePeriodRow, chunked
from services.shared.employees import find_employee, periods_by_nip, periods_of
from services.shared.uow import UnitOfWork


def to_item(row: QueueEntry) -> domain.QueueItem:
    return domain.QueueItem(
        row.report_id,
        row.owner_nip,
        row.work_date,
        row.filed_at,
        row.atasan_nip,
        domain.QueueStatus(row.status),
    )


# --------------------------------------------------------------------------- people


def name_of(uow: UnitOfWork, nip: str) -> str | None:
    row = find_employee(uow, nip)
    return row.nama if row is not None else None


def atasan_on(uow: UnitOfWork, nip: str, day: date) -> str | None:
    """The atasan of `nip`'s report dated `day` (domain.atasan_on_date over the periods)."""
    return domain.atasan_on_date(periods_of(uow, nip), nip, day)


def atasan_by_date(uow: UnitOfWork, nips: Iterable[str]) -> domain.AtasanOf:
    """(owner, report date) -> atasan for many owners, their periods read at once."""
    periods = periods_by_nip(uow, nips)
    return lambda nip, day: domain.atasan_on_date(periods.get(nip, []), nip, day)


# --------------------------------------------------------------------------- penilai


def to_penilai(row: PenilaiRow) -> domain.Penilai:
    return domain.Penilai(row.nip, row.penilai, row.first_day, row.last_day, row.set_by)


def penilai_rows(
    uow: UnitOfWork, *, nip: str | None = None, penilai: str | None = None, removed: bool = False
) -> list[PenilaiRow]:
    """Penilai by employee and start date; without `removed` only those in force."""
    query = select(PenilaiRow)
    if nip:
        query = query.where(PenilaiRow.nip == nip)
    if penilai:
        query = query.where(PenilaiRow.penilai == penilai)
    if not removed:
        query = query.where(col(PenilaiRow.removed_at).is_(None))
    rows = uow.session.exec(query).all()
    return sorted(rows, key=lambda r: (r.nip, r.first_day or date.min, r.set_at))


def penilai_row(uow: UnitOfWork, penilai_id: str) -> PenilaiRow | None:
    return uow.session.get(PenilaiRow, penilai_id)


def heads_on(uow: UnitOfWork, day: date) -> list[EmployeePeriodRow]:
    """The periods without an atasan that have not ended before `day` (every Kepala OPD, the
    Sekda): the people BKPSDM names a penilai for. One row per NIP, the earliest."""
    table = uow.tables.employee_period
    atasan, last = col(table.atasan_nip), col(table.last_day)
    rows = uow.session.exec(
        select(table).where(or_(atasan.is_(None), atasan == ""), or_(last.is_(None), last >= day))
    ).all()
    first: dict[str, EmployeePeriodRow] = {}
    for r in sorted(rows, key=lambda r: (r.nip, r.first_day or date.min)):
        first.setdefault(r.nip, r)
    return sorted(first.values(), key=lambda r: (r.opd, r.nama, r.nip))


def penilai_of(uow: UnitOfWork, nips: Iterable[str]) -> list[domain.Penilai]:
    """The penilai in force (not removed) of these employees, every date."""
    found: list[domain.Penilai] = []
    for part in chunked(sorted(set(nips))):
        rows = uow.session.exec(
            select(PenilaiRow).where(
                col(PenilaiRow.nip).in_(part), col(PenilaiRow.removed_at).is_(None)
            )
        ).all()
        found += [to_penilai(r) for r in rows]
    return found


def penilai_on(uow: UnitOfWork, nip: str, day: date) -> domain.Penilai | None:
    return domain.penilai_on(penilai_of(uow, [nip]), nip, day)


def waiting_for_penilai(uow: UnitOfWork, penilai: domain.Penilai) -> list[QueueEntry]:
    """The pending reports without atasan this penilai decides (dated in their range)."""
    rows = uow.session.exec(
        select(QueueEntry).where(
            QueueEntry.owner_nip == penilai.nip,
            col(QueueEntry.atasan_nip).is_(None),
            QueueEntry.status == domain.QueueStatus.PENDING.value,
        )
    ).all()
    ordered = sorted(rows, key=lambda r: (r.filed_at, r.report_id))
    return [r for r in ordered if penilai.covers(r.work_date)]


def without_atasan(uow: UnitOfWork) -> list[QueueEntry]:
    """Open reports with nobody routed to (no atasan on their date), oldest date first."""
    open_statuses = [s.value for s in domain.OPEN_STATUSES]
    rows = uow.session.exec(
        select(QueueEntry).where(
            col(QueueEntry.atasan_nip).is_(None), col(QueueEntry.status).in_(open_statuses)
        )
    ).all()
    return sorted(rows, key=lambda r: (r.work_date, r.owner_nip, r.report_id))


# --------------------------------------------------------------------------- queue


def queue_entry(uow: UnitOfWork, report_id: str) -> QueueEntry | None:
    return uow.session.get(QueueEntry, report_id)


def queue_entries(uow: UnitOfWork, report_ids: Sequence[str]) -> dict[str, QueueEntry]:
    """The known ones of `report_ids`, by id."""
    rows = uow.session.exec(
        select(QueueEntry).where(col(QueueEntry.report_id).in_(list(report_ids)))
    ).all()
    return {r.report_id: r for r in rows}


def pending_of(uow: UnitOfWork, atasan_nip: str) -> list[QueueEntry]:
    """The reports waiting for `atasan_nip`, in the domain's queue order (oldest first)."""
    rows = uow.session.exec(
        select(QueueEntry).where(
            QueueEntry.atasan_nip == atasan_nip,
            QueueEntry.status == domain.QueueStatus.PENDING.value,
        )
    ).all()
    ordered = domain.queue_of([to_item(r) for r in rows], atasan_nip)
    by_id = {r.report_id: r for r in rows}
    return [by_id[i.report_id] for i in ordered]


def may_decide_on(
    uow: UnitOfWork, nip: str, row: QueueEntry, today: date, *, bkpsdm: bool = False
) -> bool:
    """Whether `nip` may decide the report today: the atasan of its date, their Plt, or
    the penilai of an employee without atasan."""
    atasan = atasan_on(uow, row.owner_nip, row.work_date)
    authority = domain.may_decide(
        nip,
        row.owner_nip,
        row.work_date,
        {row.owner_nip: atasan},
        active_delegations(uow, plt=nip),
        today,
        penilai=None if atasan else penilai_on(uow, row.owner_nip, row.work_date),
        bkpsdm=bkpsdm,
    )
    return authority is not None


def open_of(uow: UnitOfWork, owner_nip: str) -> list[QueueEntry]:
    """`owner_nip`'s reports still open (pending, or waiting for a revision)."""
    open_statuses = [s.value for s in domain.OPEN_STATUSES]
    return list(
        uow.session.exec(
            select(QueueEntry).where(
                QueueEntry.owner_nip == owner_nip, col(QueueEntry.status).in_(open_statuses)
            )
        ).all()
    )


def all_pending(uow: UnitOfWork) -> list[domain.QueueItem]:
    rows = uow.session.exec(
        select(QueueEntry).where(QueueEntry.status == domain.QueueStatus.PENDING.value)
    ).all()
    return [to_item(r) for r in rows]


# --------------------------------------------------------------------------- delegations


def active_delegations(uow: UnitOfWork, *, plt: str) -> list[domain.Delegation]:
    """The delegations naming `plt` that are not revoked (their dates are the domain's)."""
    rows = uow.session.exec(
        select(Delegation).where(col(Delegation.revoked_at).is_(None), Delegation.plt_nip == plt)
    ).all()
    return [domain.Delegation(r.atasan_nip, r.plt_nip, r.start, r.end) for r in rows]


def delegation(uow: UnitOfWork, delegation_id: str) -> Delegation | None:
    return uow.session.get(Delegation, delegation_id)


def running_delegations(uow: UnitOfWork, today: date) -> list[Delegation]:
    """Not revoked and not over by `today`: running or still to come."""
    return list(
        uow.session.exec(
            select(Delegation).where(
                col(Delegation.revoked_at).is_(None), col(Delegation.end) >= today
            )
        ).all()
    )


def delegations(
    uow: UnitOfWork,
    *,
    atasan_nip: str | None = None,
    plt_nip: str | None = None,
    naming: str | None = None,
) -> list[Delegation]:
    """Delegations by start date; `naming`: only those where that NIP is atasan or Plt."""
    query = select(Delegation)
    if atasan_nip:
        query = query.where(Delegation.atasan_nip == atasan_nip)
    if plt_nip:
        query = query.where(Delegation.plt_nip == plt_nip)
    if naming is not None:
        query = query.where(
            or_(col(Delegation.atasan_nip) == naming, col(Delegation.plt_nip) == naming)
        )
    return list(uow.session.exec(query.order_by(col(Delegation.start))).all())


# --------------------------------------------------------------------------- periods


def locks_of(uow: UnitOfWork, owner_nip: str, period: str) -> tuple[list[str], list[str]]:
    """(closed, reopened) periods of `owner_nip` for the domain: a reopening counts only if
    it came after the latest close."""
    close = uow.session.get(PeriodClose, (owner_nip, period))
    if close is None:
        return [], []
    reopened = uow.session.exec(
        select(PeriodReopen.id).where(
            PeriodReopen.period == period,
            or_(col(PeriodReopen.nip).is_(None), col(PeriodReopen.nip) == owner_nip),
            col(PeriodReopen.at) >= close.closed_at,
        )
    ).first()
    return [period], [period] if reopened is not None else []


def period_closes(uow: UnitOfWork, period: str, nip: str | None = None) -> list[PeriodClose]:
    query = select(PeriodClose).where(PeriodClose.period == period)
    if nip:
        query = query.where(PeriodClose.nip == nip)
    return list(uow.session.exec(query).all())


# --------------------------------------------------------------------------- audit


def decision_log(
    uow: UnitOfWork,
    *,
    report_id: str | None = None,
    nip: str | None = None,
    actor_nip: str | None = None,
    work_dates: tuple[date, date] | None = None,
    limit: int,
) -> list[DecisionLog]:
    """Audit lines in the order written; `work_dates` is [first, after)."""
    query = select(DecisionLog)
    if report_id:
        query = query.where(DecisionLog.report_id == report_id)
    if nip:
        query = query.where(DecisionLog.owner_nip == nip)
    if actor_nip:
        query = query.where(DecisionLog.actor_nip == actor_nip)
    if work_dates is not None:
        first, after = work_dates
        query = query.where(DecisionLog.work_date >= first, DecisionLog.work_date < after)
    return list(uow.session.exec(query.order_by(col(DecisionLog.id)).limit(limit)).all())


# --------------------------------------------------------------------------- kinerja


def month_subordinates(uow: UnitOfWork, atasan_nip: str, period: str) -> list[str]:
    """The NIPs whose month `period` `atasan_nip` confirms (commands.kinerja_authority's
    reading): their atasan — or, without one, their penilai — on the last day of the month
    they were active. Leavers and those transferred since included; by name."""
    first, last = period_bounds(period)
    table = uow.tables.employee_period
    candidates = set(
        uow.session.exec(
            select(table.nip).where(
                table.atasan_nip == atasan_nip,
                or_(col(table.first_day).is_(None), col(table.first_day) <= last),
                or_(col(table.last_day).is_(None), col(table.last_day) >= first),
            )
        ).all()
    )
    candidates |= set(
        uow.session.exec(
            select(PenilaiRow.nip).where(
                PenilaiRow.penilai == atasan_nip, col(PenilaiRow.removed_at).is_(None)
            )
        ).all()
    )
    periods = periods_by_nip(uow, candidates)
    penilai = penilai_of(uow, candidates)
    found: list[tuple[str, str]] = []
    for nip in candidates:
        mine = periods.get(nip, [])
        day = domain.last_active_day(mine, period)
        if day is None:
            continue
        boss = domain.atasan_on_date(mine, nip, day)
        if boss is None and (named := domain.penilai_on(penilai, nip, day)) is not None:
            boss = named.penilai
        if boss == atasan_nip:
            found.append((getattr(period_on(mine, day), "nama", ""), nip))
    return [nip for _, nip in sorted(found)]


@lru_cache(maxsize=16)
def thresholds(rules: str, default: str) -> domain.ResultThresholds:
    """The proposal's thresholds of the rule set tpp closed the month with (by name; one
    approval does not ship falls back to the deployment's configured rule set)."""
    try:
        return domain.ResultThresholds.of(load_ruleset(rules))
    except RuleSetError:
        return domain.ResultThresholds.of(load_ruleset(default))


@dataclass(frozen=True)
class KinerjaView:
    """One ASN's month as the kinerja routes show it."""

    nip: str
    period: str
    month: KinerjaMonth | None  # tpp's summary (None: not closed yet)
    proposal: domain.Proposal | None
    result: KinerjaResult | None


def kinerja_views(uow: UnitOfWork, nips: Sequence[str], period: str) -> dict[str, KinerjaView]:
    """The month of each of `nips`: tpp's summary, the proposal and the confirmed result."""
    nips = list(dict.fromkeys(nips))
    if not nips:
        return {}
    year, month = parse_period(period)
    months = {
        r.nip: r
        for r in uow.session.exec(
            select(KinerjaMonth).where(
                KinerjaMonth.period == period, col(KinerjaMonth.nip).in_(nips)
            )
        )
    }
    results = {
        r.nip: r
        for r in uow.session.exec(
            select(KinerjaResult).where(
                KinerjaResult.period == period, col(KinerjaResult.nip).in_(nips)
            )
        )
    }
    targets: dict[str, list[domain.SkpTargetFact]] = {}
    for t in uow.session.exec(
        select(SkpTargetRow).where(
            col(SkpTargetRow.nip).in_(nips),
            SkpTargetRow.year == year,
            col(SkpTargetRow.deleted).is_(False),
        )
    ):
        targets.setdefault(t.nip, []).append(domain.SkpTargetFact(t.id, t.year, t.target_quantity))
    approved: dict[str, dict[str, int]] = {}
    if targets:
        rows = uow.session.exec(
            select(
                col(QueueEntry.owner_nip),
                col(QueueEntry.skp_target_id),
                func.sum(QueueEntry.quantity),
            )
            .where(
                col(QueueEntry.owner_nip).in_(list(targets)),
                QueueEntry.status == domain.QueueStatus.APPROVED.value,
                col(QueueEntry.skp_target_id).is_not(None),
                col(QueueEntry.work_date) >= date(year, 1, 1),
                col(QueueEntry.work_date) < _month_after(year, month),
            )
            .group_by(col(QueueEntry.owner_nip), col(QueueEntry.skp_target_id))
        ).all()
        for owner, target_id, quantity in rows:
            approved.setdefault(owner, {})[str(target_id)] = int(quantity or 0)
    default = uow.settings.ruleset
    views: dict[str, KinerjaView] = {}
    for nip in nips:
        summary_row = months.get(nip)
        proposal = None
        if summary_row is not None:
            realised = domain.skp_all_realised(targets.get(nip, []), approved.get(nip, {}), period)
            proposal = domain.propose(
                _summary(summary_row), realised, thresholds(summary_row.rules, default)
            )
        views[nip] = KinerjaView(nip, period, summary_row, proposal, results.get(nip))
    return views


def _summary(row: KinerjaMonth) -> domain.MonthSummary:
    return domain.MonthSummary(
        pagu=row.pagu,
        required_days=row.required_days,
        approved_days=row.approved_days,
        attendance_deduction=row.attendance_deduction,
        attendance_lines=row.attendance_lines,
        tk_days=row.tk_days,
    )


def _month_after(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)
