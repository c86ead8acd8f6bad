"""Reading stored TPP statements: the explained view an ASN reads, totals per OPD and city,
a month's statements, and a stored row back as a `domain.Statement` (for diffs).

Used by api.py and periods.py; writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from services.kernel.calendar import period_bounds
from services.shared import scope
from services.shared.employees import periods_of
from services.shared.http import Actor
from services.shared.uow import UnitOfWork
from services.tpp import domain
from services.tpp.models import PERIOD_OPEN, DayFact, PendingCorrection, Period, Statement

# -- reading ----------------------------------------------------------------------------------


def statement_lines(row: Statement) -> list[dict[str, Any]]:
    return list(json.loads(row.lines_json))


def to_domain(row: Statement) -> domain.Statement:
    data = {
        "pagu": row.pagu,
        "discipline": row.discipline,
        "productivity": row.productivity,
        "attendance_deduction": row.attendance_deduction,
        "attendance_deduction_uncapped": row.attendance_deduction_uncapped,
        "productivity_deduction": row.productivity_deduction,
        "productivity_deduction_uncapped": row.productivity_deduction_uncapped,
        "required_report_days": row.required_report_days,
        "approved_report_days": row.approved_report_days,
        "net": row.net,
        "lines": statement_lines(row),
    }
    return domain.statement_from_dict(data, nip=row.nip, period=row.period, rules=row.rules)


def statement_view(row: Statement) -> dict[str, Any]:
    """The explained statement an ASN reads (keys of `sikerja simulate` plus context)."""
    return {
        "nip": row.nip,
        "nama": row.nama,
        "opd": row.opd,
        "jabatan": row.jabatan,
        "period": row.period,
        "rules": row.rules,
        "status": "final" if row.frozen else "berjalan",
        "pagu": row.pagu,
        "discipline": row.discipline,
        "productivity": row.productivity,
        "attendance_deduction": row.attendance_deduction,
        "attendance_deduction_uncapped": row.attendance_deduction_uncapped,
        "attendance_deduction_cap": row.attendance_cap,
        "productivity_deduction": row.productivity_deduction,
        "productivity_deduction_uncapped": row.productivity_deduction_uncapped,
        "productivity_deduction_cap": row.productivity_cap,
        "required_report_days": row.required_report_days,
        "approved_report_days": row.approved_report_days,
        "net": row.net,
        "lines": statement_lines(row),
        # RULES.md "Employment within a month": the periods, days and arithmetic of `pagu`
        # (null for a statement stored before it was kept)
        "pagu_basis": json.loads(row.pagu_basis_json) if row.pagu_basis_json else None,
        "computed_at": row.computed_at.isoformat(),
        "cause_event_type": row.cause_event_type or None,
        "cause_event_id": row.cause_event_id,
    }


TOTAL_FIELDS = (
    "pagu",
    "discipline",
    "productivity",
    "attendance_deduction",
    "productivity_deduction",
    "net",
)


def totals(rows: Iterable[Statement]) -> dict[str, int]:
    out = dict.fromkeys(TOTAL_FIELDS, 0)
    count = 0
    for row in rows:
        count += 1
        for key in TOTAL_FIELDS:
            out[key] += getattr(row, key)
    return {"employees": count, **out}


def by_code(rows: Iterable[Statement]) -> list[dict[str, Any]]:
    """The month's cut lines per code (TL1..TL4, PSW1..PSW4, TK, ITS, LKH), in code order:
    `count` lines that stand and their `amount` (each line's own amount, before the monthly
    caps: the capped totals are the statements' deductions), and apart from them the lines
    BKPSDM annulled (`annulled_count`, `annulled_amount`: what they would have cost)."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        for line in statement_lines(row):
            code = str(line["code"])
            entry = out.setdefault(
                code,
                {"code": code, "count": 0, "amount": 0, "annulled_count": 0, "annulled_amount": 0},
            )
            if line.get("annulled_amount") is not None:
                entry["annulled_count"] += 1
                entry["annulled_amount"] += int(line["annulled_amount"])
            else:
                entry["count"] += 1
                entry["amount"] += int(line["amount"])
    return [out[code] for code in sorted(out)]


def period_statements(session: Session, period: str, opd: str | None = None) -> list[Statement]:
    query = select(Statement).where(Statement.period == period)
    if opd is not None:
        query = query.where(Statement.opd == opd)
    return list(session.exec(query.order_by(col(Statement.opd), col(Statement.nip))))


# -- what the routes read (one call per route) ------------------------------------------------


def day_facts(uow: UnitOfWork, nip: str) -> list[DayFact]:
    return list(
        uow.session.exec(
            select(DayFact).where(DayFact.nip == nip).order_by(col(DayFact.work_date))
        ).all()
    )


def statement(uow: UnitOfWork, nip: str, period: str) -> Statement | None:
    return uow.session.get(Statement, (nip, period))


def may_read_month(uow: UnitOfWork, who: Actor, nip: str, period: str) -> bool:
    """May `who` read `nip`'s TPP of `period` (the statement and the month's day facts)?
    The person; the operator of the statement's OPD (stored on the row: the OPD of the last
    active working day, RULES.md "Employment within a month"); the atasan of any period
    that touches the month (a transfer on the 16th: the old and the new atasan both read
    it); the city readers. Not who the employee is today: a later transfer moves nothing.
    Without a statement no operator reads the month (their OPD is not known yet)."""
    if who.role in scope.CITY_READERS or (who.nip is not None and who.nip == nip):
        return True
    row = statement(uow, nip, period)
    if row is not None and scope.in_opd(who, row.opd):
        return True
    if who.role != "atasan" or who.nip is None:
        return False
    first, last = period_bounds(period)
    return any(p.atasan_nip == who.nip and p.overlaps(first, last) for p in periods_of(uow, nip))


def period_info(uow: UnitOfWork, period: str) -> dict[str, Any]:
    row = uow.session.get(Period, period)
    pending = uow.session.exec(
        select(PendingCorrection.id)
        .where(PendingCorrection.period == period)
        .where(col(PendingCorrection.applied_at).is_(None))
    ).all()
    return {
        "period": period,
        "status": row.status if row is not None else PERIOD_OPEN,
        "closed_at": row.closed_at.isoformat() if row is not None and row.closed_at else None,
        "closed_by": row.closed_by if row is not None else None,
        "pending_corrections": len(pending),
    }


def period_with_statements(
    uow: UnitOfWork, period: str, opd: str | None = None
) -> tuple[dict[str, Any], list[Statement]]:
    """The month's status (period_info) and its statements (of one OPD when given)."""
    return period_info(uow, period), period_statements(uow.session, period, opd)


def corrections(
    uow: UnitOfWork, period: str, include_applied: bool
) -> tuple[dict[str, Any], list[PendingCorrection]]:
    """The month's status (period_info) and its corrections (pending only unless asked)."""
    query = select(PendingCorrection).where(PendingCorrection.period == period)
    if not include_applied:
        query = query.where(col(PendingCorrection.applied_at).is_(None))
    rows = list(uow.session.exec(query.order_by(col(PendingCorrection.id))).all())
    return period_info(uow, period), rows
