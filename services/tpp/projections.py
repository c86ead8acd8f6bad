"""TPP's projections of the facts it consumes: applying one AttendanceDayClosed or report
decision (latest revision / newest decision wins; a late older one is a no-op) and keeping an
event for a closed month as a pending correction for BKPSDM.

Used by handlers.py (decisions, corrections), statements.py (the batch path) and periods.py
(reopen applies the pending corrections through `apply_event`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, select

from contracts.events import (
    AttendanceDayClosed,
    Event,
    ReportApproved,
    ReportRejected,
    RevisionRequested,
)
from services.shared.logs import get_logger
from services.tpp.models import DayFact, PendingCorrection, ReportDecision

log = get_logger("sikerja.tpp")

APPROVED = "approved"


# -- projections: applying one event ----------------------------------------------------------


def day_closed_changes(session: Session, event: AttendanceDayClosed) -> bool:
    """True when `event` is newer than what the projection holds (older revisions: no-op)."""
    row = session.get(DayFact, (event.nip, event.work_date))
    return row is None or event.revision > row.revision


def apply_day_closed(session: Session, event: AttendanceDayClosed) -> bool:
    row = session.get(DayFact, (event.nip, event.work_date))
    if row is None:
        row = DayFact(nip=event.nip, work_date=event.work_date)
    if event.revision <= row.revision:
        return False  # an older revision arriving late changes nothing
    row.revision = event.revision
    row.status = event.status
    row.minutes_late = event.minutes_late
    row.minutes_early = event.minutes_early
    session.add(row)
    return True


Decision = ReportApproved | ReportRejected | RevisionRequested

_DECISION_STATUS = {
    "ReportApproved": APPROVED,
    "ReportRejected": "rejected",
    "RevisionRequested": "revision_requested",
}


def decision_changes(session: Session, event: Decision) -> bool:
    row = session.get(ReportDecision, event.report_id)
    if row is None:
        return True
    if row.status in (APPROVED, "rejected"):
        return False  # final decisions (activity's terminal states); a late older one is noise
    return event.occurred_at >= row.decided_at and row.status != _DECISION_STATUS[event.event_type]


def apply_decision(session: Session, event: Decision) -> bool:
    if not decision_changes(session, event):
        return False
    row = session.get(ReportDecision, event.report_id)
    status = _DECISION_STATUS[event.event_type]
    if row is None:
        row = ReportDecision(
            report_id=event.report_id,
            nip=event.nip,
            work_date=event.work_date,
            status=status,
            decided_at=event.occurred_at,
            event_id=str(event.event_id),
        )
    else:
        row.status, row.decided_at, row.event_id = status, event.occurred_at, str(event.event_id)
    session.add(row)
    return True


def apply_event(session: Session, event: Event) -> bool:
    """Apply a money-relevant event to the projections; True when something changed."""
    if isinstance(event, AttendanceDayClosed):
        return apply_day_closed(session, event)
    if isinstance(event, ReportApproved | ReportRejected | RevisionRequested):
        return apply_decision(session, event)
    raise ValueError(f"event {event.event_type} bukan fakta TPP")


def keep_as_correction(
    session: Session, event: Event, period: str, work_date: date, now: datetime
) -> None:
    """An event for a closed month: kept for BKPSDM, applied only when the month is reopened.
    `now`: the processing clock's (the kit's), when it was received."""
    if session.exec(
        select(PendingCorrection).where(PendingCorrection.event_id == str(event.event_id))
    ).first():
        return
    session.add(
        PendingCorrection(
            period=period,
            nip=event.nip,
            event_id=str(event.event_id),
            event_type=event.event_type,
            work_date=work_date,
            summary=_summary(event),
            payload=event.model_dump_json(),
            received_at=now,
        )
    )
    log.info(
        "event for a closed period kept as a pending correction",
        period=period,
        nip=event.nip,
        event_type=event.event_type,
    )


def _summary(event: Event) -> str:
    if isinstance(event, AttendanceDayClosed):
        detail = f"status {event.status}"
        if event.minutes_late:
            detail += f", terlambat {event.minutes_late} menit"
        if event.minutes_early:
            detail += f", pulang cepat {event.minutes_early} menit"
        return (
            f"Rekap kehadiran {event.work_date:%d-%m-%Y} revisi {event.revision} ({detail}) "
            "datang setelah periode ditutup"
        )
    if isinstance(event, ReportApproved | ReportRejected | RevisionRequested):
        what = {
            "ReportApproved": "disetujui",
            "ReportRejected": "ditolak",
            "RevisionRequested": "diminta revisi",
        }[event.event_type]
        return (
            f"Laporan {event.report_id} tanggal {event.work_date:%d-%m-%Y} {what} "
            "setelah periode ditutup"
        )
    return f"{event.event_type} setelah periode ditutup"
