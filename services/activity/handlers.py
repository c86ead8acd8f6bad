"""Activity's subscribers: fingerprints and dinas luar open days for filing; the atasan's
decisions (from approval) set the status of the reports; approval's Plt delegations and
penilai let a Plt or a penilai open the reports they decide on. Each maps its event to a
call of commands.py, where the writes are."""

from __future__ import annotations

from contracts.events import (
    AbsenceRecorded,
    DelegationGranted,
    DelegationRevoked,
    FingerprintRecorded,
    ReportApproved,
    ReportRejected,
    RevisionRequested,
)
from services.activity import commands
from services.activity.domain import ReportStatus
from services.shared.calendar_book import CalendarBook, calendar_handler
from services.shared.employees import on_employee
from services.shared.handlers import Handlers
from services.shared.penilai import on_penilai_assigned, on_penilai_removed
from services.shared.uow import UnitOfWork


def on_fingerprint(uow: UnitOfWork, event: FingerprintRecorded) -> None:
    commands.unlock_by_scan(uow, event.nip, event.work_date, event.scan_id, event.occurred_at)


def on_absence(uow: UnitOfWork, event: AbsenceRecorded) -> None:
    if event.kind != "dinas_luar":
        return
    commands.unlock_by_dinas_luar(
        uow,
        event.nip,
        event.start,
        event.end,
        event.absence_id,
        event.occurred_at,
        event.cancelled,
    )


_DECIDED = {
    "ReportApproved": ReportStatus.APPROVED,
    "ReportRejected": ReportStatus.REJECTED,
    "RevisionRequested": ReportStatus.REVISION_REQUESTED,
}


def on_decision(
    uow: UnitOfWork, event: ReportApproved | ReportRejected | RevisionRequested
) -> None:
    commands.record_decision(
        uow,
        event.report_id,
        event.nip,
        _DECIDED[event.event_type],
        event.decided_by,
        event.as_plt_for,
        event.occurred_at,
        getattr(event, "reason", None) or getattr(event, "note", None),
    )


def on_delegation_granted(uow: UnitOfWork, event: DelegationGranted) -> None:
    commands.grant_delegation(
        uow,
        event.delegation_id,
        event.nip,
        event.plt_nip,
        event.start,
        event.end,
        event.occurred_at,
    )


def on_delegation_revoked(uow: UnitOfWork, event: DelegationRevoked) -> None:
    commands.revoke_delegation(
        uow, event.delegation_id, event.nip, event.plt_nip, event.occurred_at
    )


def handlers(book: CalendarBook) -> Handlers:
    return Handlers(
        on_employee,
        calendar_handler(book),
        on_fingerprint,
        on_absence,
        on_decision,
        on_delegation_granted,
        on_delegation_revoked,
        on_penilai_assigned,
        on_penilai_removed,
    )
