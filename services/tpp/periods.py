"""BKPSDM's actions on a month: its period row, close (freeze and TppPeriodClosed per ASN),
reopen (apply the pending corrections, unfreeze, recompute) and the what-if recompute with
another rule set, never stored.

Used by api.py (BKPSDM's endpoints) and handlers.py (`is_closed`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import update
from sqlmodel import Session, col, select

from contracts.events import TppPeriodClosed, parse_event
from services.kernel.employment import last_active
from services.kernel.ruleset import RuleSet
from services.shared.employees import all_periods, periods_by_nip
from services.shared.uow import UnitOfWork
from services.tpp import annulments, domain
from services.tpp.models import (
    PERIOD_CLOSED,
    PERIOD_OPEN,
    PendingCorrection,
    Period,
    Statement,
)
from services.tpp.projections import apply_event
from services.tpp.queries import period_statements, to_domain
from services.tpp.statements import (
    PRODUCER,
    Cause,
    Inputs,
    load_month,
    recompute,
    rules_for_period,
    ruleset_by_name,
    store,
    working_days,
)

FLUSH_EVERY = 1000  # ORM rows flushed per chunk while closing a 15,000-ASN month


# -- periods ----------------------------------------------------------------------------------


def is_closed(session: Session, period: str) -> bool:
    row = session.get(Period, period)
    return row is not None and row.status == PERIOD_CLOSED


# -- BKPSDM: close, reopen, what-if -----------------------------------------------------------


def close(uow: UnitOfWork, period: str, closed_by: str, now: datetime) -> dict[str, Any] | None:
    """close_period, committed; None when `period` is already closed."""
    if is_closed(uow.session, period):
        return None
    result = close_period(uow, period, closed_by, now)
    uow.commit()
    return result


def reopen(uow: UnitOfWork, period: str, reopened_by: str, now: datetime) -> dict[str, Any] | None:
    """reopen_period, committed; None when `period` is not closed."""
    if not is_closed(uow.session, period):
        return None
    result = reopen_period(uow, period, reopened_by, now)
    uow.commit()
    return result


def close_period(uow: UnitOfWork, period: str, closed_by: str, now: datetime) -> dict[str, Any]:
    """Freeze every statement of `period` and emit TppPeriodClosed per ASN, in one transaction
    (state and events atomic through the outbox; flushed in chunks for a 15,000-ASN month).

    Employees with an active working day in the month and no statement yet get one computed
    now, so every ASN is paid (RULES.md "Employment within a month")."""
    session = uow.session
    settings = uow.settings
    row = session.exec(select(Period).where(Period.period == period).with_for_update()).first()
    if row is None:
        row = Period(period=period)
    row.status, row.closed_at, row.closed_by = PERIOD_CLOSED, now, closed_by
    row.close_count += 1
    session.add(row)
    session.flush()
    # Freeze first (takes the row locks; in-flight recomputations finish before), then read.
    session.execute(update(Statement).where(col(Statement.period) == period).values(frozen=True))
    have = set(session.exec(select(Statement.nip).where(Statement.period == period)))
    working = working_days(session, period)
    employment = all_periods(uow)
    missing = [
        nip
        for nip in sorted(employment)
        if nip not in have and last_active(employment[nip], working) is not None
    ]
    computed = 0
    if missing:
        rules = rules_for_period(settings, period)
        month = load_month(session, period)
        annulled = annulments.for_nips(uow, list(missing), period)
        for nip in missing:
            inputs = month.get(nip) or Inputs([], set())
            found = domain.month_statement(
                nip, period, employment[nip], working, inputs.days, inputs.approved, rules,
                annulled.get(nip, ()),
            )  # fmt: skip
            assert found is not None  # an active working day, checked above
            st, owner = found
            store(session, st, rules, owner, now=now, cause=None, frozen=True)
            computed += 1
            if computed % FLUSH_EVERY == 0:
                session.flush()
        session.flush()
    count = total_net = 0
    rule_sets: dict[str, RuleSet] = {}
    for i, st_row in enumerate(session.exec(select(Statement).where(Statement.period == period))):
        if st_row.rules not in rule_sets:
            rule_sets[st_row.rules] = ruleset_by_name(settings, st_row.rules) or rules_for_period(
                settings, period
            )
        lines = json.loads(st_row.lines_json)
        uow.emit(
            TppPeriodClosed(
                occurred_at=now,
                producer=PRODUCER,
                nip=st_row.nip,
                period=period,
                rules=st_row.rules,
                pagu=st_row.pagu,
                net=st_row.net,
                closed_by=closed_by,
                required_days=st_row.required_report_days,
                approved_days=st_row.approved_report_days,
                attendance_deduction=st_row.attendance_deduction,
                **kinerja_counts(lines, rule_sets[st_row.rules]),
            )
        )
        count += 1
        total_net += st_row.net
        if (i + 1) % FLUSH_EVERY == 0:
            session.flush()
    pending = len(
        session.exec(
            select(PendingCorrection.id)
            .where(PendingCorrection.period == period)
            .where(col(PendingCorrection.applied_at).is_(None))
        ).all()
    )
    return {
        "period": period,
        "status": PERIOD_CLOSED,
        "closed_by": closed_by,
        "closed_at": now.isoformat(),
        "statements": count,
        "computed_at_close": computed,
        "total_net": total_net,
        "pending_corrections": pending,
    }


def kinerja_counts(lines: Iterable[Mapping[str, Any]], rules: RuleSet) -> dict[str, int]:
    """What the monthly kinerja proposal reads of a statement's lines (docs/rules.md "Monthly
    kinerja result"): its attendance lines (every line but the LKH ones) and its TK days."""
    codes = [str(line["code"]) for line in lines]
    return {
        "attendance_lines": sum(1 for c in codes if c != rules.lkh.code),
        "tk_days": sum(1 for c in codes if c == rules.tk.code),
    }


def reopen_period(uow: UnitOfWork, period: str, reopened_by: str, now: datetime) -> dict[str, Any]:
    """Apply the pending corrections in arrival order, unfreeze, recompute the employees they
    touch (TppRecomputed when the net changes) and show the difference per employee."""
    session = uow.session
    row = session.exec(select(Period).where(Period.period == period).with_for_update()).first()
    assert row is not None and row.status == PERIOD_CLOSED
    row.status, row.reopened_at, row.reopened_by = PERIOD_OPEN, now, reopened_by
    session.add(row)
    session.execute(update(Statement).where(col(Statement.period) == period).values(frozen=False))
    corrections = session.exec(
        select(PendingCorrection)
        .where(PendingCorrection.period == period)
        .where(col(PendingCorrection.applied_at).is_(None))
        .order_by(col(PendingCorrection.id))
    ).all()
    last_cause: dict[str, Cause] = {}
    applied: list[dict[str, Any]] = []
    for corr in corrections:
        event: Cause
        if corr.event_type in annulments.CAUSES:
            # the annulment is in its table already: its correction only recomputes
            event, changed = annulment_correction(corr), True
        else:
            event = parse_event(corr.payload)
            changed = apply_event(session, event)
        corr.applied_at = now
        session.add(corr)
        applied.append(
            {"id": corr.id, "nip": corr.nip, "event_type": corr.event_type, "changed": changed}
        )
        if changed:
            last_cause[corr.nip] = event
    session.flush()
    changes: list[dict[str, Any]] = []
    for nip, cause in sorted(last_cause.items()):
        before = session.get(Statement, (nip, period))
        old = to_domain(before) if before is not None else None
        after = recompute(uow, nip, period, cause, now)
        if after is None:
            continue
        new = to_domain(after)
        if old is not None:
            diff = [_change_view(c) for c in domain.diff_statements(old, new)]
        else:
            diff = []
        changes.append(
            {
                "nip": nip,
                "old_net": old.net if old else None,
                "new_net": new.net,
                "changes": diff,
            }
        )
    return {
        "period": period,
        "status": PERIOD_OPEN,
        "reopened_by": reopened_by,
        "applied_corrections": applied,
        "recomputed": changes,
    }


def annulment_correction(corr: PendingCorrection) -> annulments.AnnulmentCause:
    """The cause a pending annulment correction stands for (its payload: annul.py)."""
    data = json.loads(corr.payload)
    return annulments.AnnulmentCause(
        corr.event_type, UUID(data["action_id"]), str(data["annulment_id"])
    )


def _change_view(change: domain.StatementChange) -> dict[str, Any]:
    return {
        "kind": change.kind,
        "message": change.message,
        "date": change.day.isoformat() if change.day else None,
        "code": change.code,
        "old": change.old,
        "new": change.new,
    }


def what_if(uow: UnitOfWork, period: str, rules: RuleSet) -> dict[str, Any]:
    """Every stored statement of `period` recomputed with `rules`, compared, never stored
    (a closed month is never changed by this).

    With the employee's periods and the month's working days, as the live recompute (a
    line is the pagu of its date); a NIP whose periods are gone keeps the stored pagu."""
    session = uow.session
    month = load_month(session, period)
    rows = period_statements(session, period)
    working = working_days(session, period)
    employment = periods_by_nip(uow, [r.nip for r in rows])
    annulled = annulments.for_nips(uow, [r.nip for r in rows], period)
    out: list[dict[str, Any]] = []
    old_total = new_total = 0
    for st_row in rows:
        inputs = month.get(st_row.nip) or Inputs([], set())
        mine = annulled.get(st_row.nip, ())
        found = domain.month_statement(
            st_row.nip,
            period,
            employment.get(st_row.nip, []),
            working,
            inputs.days,
            inputs.approved,
            rules,
            mine,
        )
        new = (
            found[0]
            if found is not None
            else domain.compute_statement(
                st_row.nip, period, st_row.pagu, inputs.days, inputs.approved, rules, mine
            )
        )
        old = to_domain(st_row)
        old_total += old.net
        new_total += new.net
        diff = domain.diff_statements(old, new)
        if any(c.kind != "rules_changed" for c in diff):
            out.append(
                {
                    "nip": st_row.nip,
                    "nama": st_row.nama,
                    "opd": st_row.opd,
                    "old_rules": old.rules_name,
                    "old_net": old.net,
                    "new_net": new.net,
                    "changes": [_change_view(c) for c in diff],
                }
            )
    row = session.get(Period, period)
    return {
        "period": period,
        "status": row.status if row is not None else PERIOD_OPEN,
        "rules": rules.name,
        "stored": False,
        "employees": len(rows),
        "changed": len(out),
        "total_net_old": old_total,
        "total_net_new": new_total,
        "differences": out,
    }
