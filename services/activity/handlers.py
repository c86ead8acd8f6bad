"""Activity's subscribers: fingerprints and dinas luar open days for filing; the atasan's
decisions (from approval) set the status of the reports; approval's Plt delegations let a
Plt open the reports they decide on."""

from __future__ import annotations

from datetime import timedelta

from contracts.events import (
    AbsenceRecorded,
    DelegationGranted,
    DelegationRevoked,
    FingerprintRecorded,
    ReportApproved,
    ReportRejected,
    RevisionRequested,
)
from services.activity.domain import ReportStatus
from services.activity.models import DayUnlock, PltDelegation, Report
from services.shared.calendar_book import CalendarBook, calendar_handler
from services.shared.employees import on_employee
from services.shared.handlers import Handlers
from services.shared.uow import UnitOfWork


def on_fingerprint(uow: UnitOfWork, event: FingerprintRecorded) -> None:
    if uow.session.get(DayUnlock, (event.nip, event.work_date, "scan")) is None:
        uow.session.add(
            DayUnlock(
                nip=event.nip,
                work_date=event.work_date,
                source="scan",
                ref=event.scan_id,
                recorded_at=event.occurred_at,
            )
        )


def on_absence(uow: UnitOfWork, event: AbsenceRecorded) -> None:
    if event.kind != "dinas_luar":
        return
    day = event.start
    while day <= event.end:
        row = uow.session.get(DayUnlock, (event.nip, day, "dinas_luar"))
        if row is None:
            row = DayUnlock(
                nip=event.nip,
                work_date=day,
                source="dinas_luar",
                ref=event.absence_id,
                recorded_at=event.occurred_at,
            )
        row.active = not event.cancelled
        uow.session.add(row)
        day += timedelta(days=1)


_DECIDED = {
    "ReportApproved": ReportStatus.APPROVED,
    "ReportRejected": ReportStatus.REJECTED,
    "RevisionRequested": ReportStatus.REVISION_REQUESTED,
}


def on_decision(
    uow: UnitOfWork, event: ReportApproved | ReportRejected | RevisionRequested
) -> None:
    """Approval owns decisions: its word on the status is final. A decision that raced an
    edit or a withdrawal here was taken on a report approval still saw pending, and approval
    ignores the later edit/withdrawal of a decided report, so both stores converge on the
    decision. Approval's events of one NIP arrive in order (one topic, keyed by NIP)."""
    row = uow.session.get(Report, event.report_id)
    if row is None or row.nip != event.nip:
        return  # not ours (another deployment's report): nothing to update
    if row.decided_at is not None and event.occurred_at < row.decided_at:
        return  # an older decision replayed after a newer one
    row.status = _DECIDED[event.event_type].value
    row.decided_by = event.decided_by
    row.decided_as_plt_for = event.as_plt_for
    row.decided_at = event.occurred_at
    row.decision_note = getattr(event, "reason", None) or getattr(event, "note", None)
    if isinstance(event, RevisionRequested):
        row.revision_requested_at = event.occurred_at
    row.updated_at = event.occurred_at
    uow.session.add(row)


def on_delegation_granted(uow: UnitOfWork, event: DelegationGranted) -> None:
    """Record the window. Approval never changes a delegation once made, so a second copy
    of the grant (redelivered with a new event id) changes nothing; a revoke that came first
    stays in force."""
    row = uow.session.get(PltDelegation, event.delegation_id)
    if row is None:
        row = PltDelegation(id=event.delegation_id, atasan_nip=event.nip, plt_nip=event.plt_nip)
    elif row.granted_at is not None:
        return
    row.atasan_nip, row.plt_nip = event.nip, event.plt_nip
    row.start, row.end, row.granted_at = event.start, event.end, event.occurred_at
    uow.session.add(row)


def on_delegation_revoked(uow: UnitOfWork, event: DelegationRevoked) -> None:
    """Revoked for good. A revoke for an unknown delegation is remembered (a row without a
    window) so that its grant, arriving late (a replay, a relay retry), stays revoked."""
    row = uow.session.get(PltDelegation, event.delegation_id)
    if row is None:
        row = PltDelegation(id=event.delegation_id, atasan_nip=event.nip, plt_nip=event.plt_nip)
    elif row.revoked_at is not None:
        return  # the first revoke stands
    row.revoked_at = event.occurred_at
    uow.session.add(row)


def handlers(book: CalendarBook) -> Handlers:
    return Handlers(
        on_employee,
        calendar_handler(book),
        on_fingerprint,
        on_absence,
        on_decision,
        on_delegation_granted,
        on_delegation_revoked,
    )
