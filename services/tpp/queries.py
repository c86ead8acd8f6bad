"""Reading stored TPP statements: the explained view an ASN reads, totals per OPD and city,
a month's statements, and a stored row back as a `domain.Statement` (for diffs).

Used by api.py and periods.py; writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from services.tpp import domain
from services.tpp.models import Statement

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


def period_statements(session: Session, period: str, opd: str | None = None) -> list[Statement]:
    query = select(Statement).where(Statement.period == period)
    if opd is not None:
        query = query.where(Statement.opd == opd)
    return list(session.exec(query.order_by(col(Statement.opd), col(Statement.nip))))
