"""Activity's subscribers: fingerprints and dinas luar open days for filing; the atasan's
decisions (from approval) set the status of the reports; approval's Plt delegations let a
Plt open the reports they decide on. Each maps its event to a call of commands.py, where
the writes are."""

from __future__ import annotations

from typing import Any

from contracts import Topic
from contracts.events import (
    AbsenceRecorded,
    DelegationGranted,
    DelegationRevoked,
    Event,
    FingerprintRecorded,
    ReportApproved,
    ReportRejected,
    RevisionRequested,
)
from services.activity import commands
from services.activity.domain import ReportStatus
from services.shared.calendar_book import calendar_handlers
from services.shared.employees import employee_handlers
from services.shared.messaging import UnitOfWork

TOPICS = [
    Topic.ATTENDANCE.value,
    Topic.APPROVAL.value,
    Topic.EMPLOYEES.value,
    Topic.CALENDAR.value,
]


def on_fingerprint(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, FingerprintRecorded)
    commands.unlock_by_scan(uow, event.nip, event.work_date, event.scan_id, event.occurred_at)


def on_absence(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, AbsenceRecorded)
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


def on_decision(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, ReportApproved | ReportRejected | RevisionRequested)
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


def on_delegation_granted(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, DelegationGranted)
    commands.grant_delegation(
        uow,
        event.delegation_id,
        event.nip,
        event.plt_nip,
        event.start,
        event.end,
        event.occurred_at,
    )


def on_delegation_revoked(uow: UnitOfWork, event: Event) -> None:
    assert isinstance(event, DelegationRevoked)
    commands.revoke_delegation(
        uow, event.delegation_id, event.nip, event.plt_nip, event.occurred_at
    )


def handlers() -> dict[str, Any]:
    return {
        **employee_handlers(),
        **calendar_handlers(),
        "FingerprintRecorded": on_fingerprint,
        "AbsenceRecorded": on_absence,
        "ReportApproved": on_decision,
        "ReportRejected": on_decision,
        "RevisionRequested": on_decision,
        "DelegationGranted": on_delegation_granted,
        "DelegationRevoked": on_delegation_revoked,
    }
