"""Approval's writes: `record_decision` (the one place a decision is written, audited and
announced: the HTTP decisions and the migration import's historical ones), an atasan's
decision on one report or a selection, Plt delegations and BKPSDM's reopening of a month.

Each takes a UnitOfWork and resolved values (the actor's NIP, the clock's now); refusals
are domain.DomainError, which the routes turn into problem+json. The callers commit,
except `decide` and `bulk_approve`, which are whole transactions run by ServiceKit.run_store.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from contracts.events import (
    DelegationGranted,
    DelegationRevoked,
    ReportApproved,
    ReportRejected,
    RevisionRequested,
)
from services.approval import domain
from services.approval.models import DecisionLog, Delegation, PeriodReopen, QueueEntry
from services.approval.queries import (
    active_delegations,
    atasan_of,
    locks_of,
    queue_entries,
    queue_entry,
    running_delegations,
    to_item,
)
from services.shared.messaging import UnitOfWork

PRODUCER = "approval"
IMPORTED_REJECTION = "Keputusan historis (ditolak) dari impor data migrasi BKPSDM."
_EVENTS = {
    domain.DecisionKind.APPROVE: ReportApproved,
    domain.DecisionKind.REJECT: ReportRejected,
    domain.DecisionKind.REQUEST_REVISION: RevisionRequested,
}
NOT_FOUND = "Laporan tidak ditemukan di antrean persetujuan."


@dataclass(frozen=True)
class Decided:
    """A recorded decision, as the API reports it."""

    report_id: str
    status: str
    decided_by: str
    as_plt_for: str | None
    decided_at: datetime
    event_id: str


# --------------------------------------------------------------------------- decisions


def record_decision(
    uow: UnitOfWork,
    row: QueueEntry,
    result: domain.DecisionResult,
    *,
    source: str,
    causation_id: str | None = None,
) -> Decided:
    """Write `result` on the report, log it for the audit and emit its event.

    `source` is api, bulk or import. A person's decision (api, bulk) is written only if
    nobody else decided or revised the report meanwhile (else DomainError `conflict`); an
    import's historical decision settles the row it was waiting on (`imported_decision`)."""
    audit, at = result.audit, result.audit.at
    status = result.item.status.value
    if source == "import":
        row.status = status
        row.imported_decision = None
        row.updated_at = at
        uow.session.add(row)
    else:
        changed = uow.session.execute(
            update(QueueEntry)
            .where(
                col(QueueEntry.report_id) == row.report_id,
                col(QueueEntry.status) == domain.QueueStatus.PENDING.value,
                col(QueueEntry.revision) == row.revision,
            )
            .values(status=status, updated_at=at)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise domain.DomainError(
                "conflict",
                "Laporan ini baru saja diubah atau diputuskan; muat ulang antrean lalu coba lagi.",
            )
    fields: dict[str, Any] = {
        "occurred_at": at,
        "producer": PRODUCER,
        "nip": row.owner_nip,
        "report_id": row.report_id,
        "work_date": row.work_date,
        "decided_by": audit.actor_nip,
        "as_plt_for": audit.as_plt_for,
        "causation_id": causation_id,
    }
    if audit.action is domain.DecisionKind.REJECT:
        fields["reason"] = audit.reason
    elif audit.action is domain.DecisionKind.REQUEST_REVISION:
        fields["note"] = audit.reason
    event = _EVENTS[audit.action](**fields)
    uow.session.add(
        DecisionLog(
            report_id=row.report_id,
            owner_nip=row.owner_nip,
            work_date=row.work_date,
            actor_nip=audit.actor_nip,
            action=audit.action.value,
            reason=audit.reason,
            as_plt_for=audit.as_plt_for,
            source=source,
            event_id=str(event.event_id),
            at=at,
        )
    )
    uow.emit(event)
    return Decided(
        row.report_id, status, audit.actor_nip, audit.as_plt_for, at, str(event.event_id)
    )


def record_imported_decision(uow: UnitOfWork, row: QueueEntry, cause_id: str) -> None:
    """A migration import's historical decision, taken in the name of the employee's atasan
    at the time of the import (the audit log says `import`), announced like any decision so
    activity and tpp learn it from the one place decisions come from."""
    assert row.atasan_nip is not None and row.imported_decision is not None
    approved = row.imported_decision == "approved"
    kind = domain.DecisionKind.APPROVE if approved else domain.DecisionKind.REJECT
    status = domain.QueueStatus.APPROVED if approved else domain.QueueStatus.REJECTED
    audit = domain.AuditEntry(
        report_id=row.report_id,
        actor_nip=row.atasan_nip,
        at=row.filed_at,
        action=kind,
        reason=None if approved else IMPORTED_REJECTION,
        as_plt_for=None,
    )
    result = domain.DecisionResult(dataclasses.replace(to_item(row), status=status), audit)
    record_decision(uow, row, result, source="import", causation_id=cause_id)


def decide(
    uow: UnitOfWork,
    me: str,
    report_id: str,
    kind: domain.DecisionKind,
    text: str | None,
    now: datetime,
) -> Decided:
    """`me` decides one report, committed; DomainError not_found, forbidden, not_pending,
    period_locked, conflict or the decision's own (a missing reason...)."""
    row = queue_entry(uow, report_id)
    if row is None:
        raise domain.DomainError("not_found", NOT_FOUND)
    owners = {row.owner_nip: atasan_of(uow, row.owner_nip)}
    delegations = active_delegations(uow, plt=me)
    # Authority first: someone without it learns nothing else about the report.
    today = now.astimezone(domain.WIB).date()
    if domain.may_decide(me, row.owner_nip, row.work_date, owners, delegations, today) is None:
        raise domain.DomainError(
            "forbidden",
            "Anda tidak berwenang memutuskan laporan ini: hanya atasan langsung pegawai "
            "atau Plt yang ditunjuk atasan tersebut untuk tanggal hari ini.",
        )
    decision = domain.make_decision(kind, text)
    closed, reopened = locks_of(uow, row.owner_nip, domain.period_of(row.work_date))
    result = domain.decide(to_item(row), me, decision, now, owners, delegations, closed, reopened)
    out = record_decision(uow, row, result, source="api")
    uow.commit()
    return out


@dataclass(frozen=True)
class BulkOutcome:
    report_id: str
    ok: bool
    code: str
    message: str
    decided: Decided | None = None


def bulk_approve(
    uow: UnitOfWork, report_ids: Sequence[str], me: str, now: datetime
) -> list[BulkOutcome]:
    """`me` approves a selection, committed; one outcome per id, in order. A refused one
    (unknown, not yours, decided, locked period, conflict) does not stop the others."""
    rows = queue_entries(uow, report_ids)
    owners = {nip: atasan_of(uow, nip) for nip in sorted({r.owner_nip for r in rows.values()})}
    delegations = active_delegations(uow, plt=me)
    lock_cache: dict[tuple[str, str], tuple[list[str], list[str]]] = {}

    def item_locks(item: domain.QueueItem) -> tuple[list[str], list[str]]:
        key = (item.owner_nip, domain.period_of(item.report_date))
        if key not in lock_cache:
            lock_cache[key] = locks_of(uow, *key)
        return lock_cache[key]

    known = [to_item(rows[i]) for i in report_ids if i in rows]
    outcomes = iter(domain.bulk_approve(known, me, now, owners, delegations, locks_of=item_locks))
    results: list[BulkOutcome] = []
    for report_id in report_ids:
        if report_id not in rows:
            results.append(BulkOutcome(report_id, False, "not_found", NOT_FOUND))
            continue
        outcome = next(outcomes)
        done = BulkOutcome(report_id, outcome.ok, outcome.code, outcome.message)
        if outcome.ok and outcome.result is not None:
            try:
                decided = record_decision(uow, rows[report_id], outcome.result, source="bulk")
                done = dataclasses.replace(done, decided=decided)
            except domain.DomainError as err:
                done = BulkOutcome(report_id, False, err.code, err.message)
        results.append(done)
    uow.commit()
    return results


# --------------------------------------------------------------------------- delegations


def _granted(row: Delegation, now: datetime) -> DelegationGranted:
    return DelegationGranted(
        occurred_at=now,
        producer=PRODUCER,
        nip=row.atasan_nip,  # keyed by the atasan: their grants and revokes stay in order
        delegation_id=row.id,
        plt_nip=row.plt_nip,
        start=row.start,
        end=row.end,
    )


def grant_delegation(
    uow: UnitOfWork, plan: domain.Delegation, created_by: str | None, now: datetime
) -> Delegation:
    """Store a validated delegation and announce it (DelegationGranted)."""
    row = Delegation(
        id=str(uuid.uuid4()),
        atasan_nip=plan.atasan_nip,
        plt_nip=plan.plt_nip,
        start=plan.start,
        end=plan.end,
        created_by=created_by,
        created_at=now,
    )
    uow.session.add(row)
    uow.emit(_granted(row, now))
    return row


def announce_delegations(uow: UnitOfWork, now: datetime) -> int:
    """DelegationGranted again for every delegation running or to come; how many."""
    rows = running_delegations(uow, now.astimezone(domain.WIB).date())
    uow.emit_many([_granted(r, now) for r in rows])
    return len(rows)


def revoke_delegation(uow: UnitOfWork, row: Delegation, by: str | None, now: datetime) -> bool:
    """Revoke and announce (DelegationRevoked); False if it already was: revoking twice
    changes (and announces) nothing."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now
    row.revoked_by = by
    uow.session.add(row)
    uow.emit(
        DelegationRevoked(
            occurred_at=now,
            producer=PRODUCER,
            nip=row.atasan_nip,
            delegation_id=row.id,
            plt_nip=row.plt_nip,
        )
    )
    return True


# --------------------------------------------------------------------------- periods


def reopen_period(
    uow: UnitOfWork, period: str, nip: str | None, by: str, reason: str, now: datetime
) -> PeriodReopen:
    row = PeriodReopen(
        id=str(uuid.uuid4()), period=period, nip=nip, reopened_by=by, reason=reason, at=now
    )
    uow.session.add(row)
    return row
