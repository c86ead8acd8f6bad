"""Approval's writes: `record_decision` (the one place a decision is written, audited and
announced: the HTTP decisions and the migration import's historical ones), an atasan's
decision on one report or a selection, Plt delegations, BKPSDM's reopening of a month and
the month's kinerja ratings;
and the queue as a projection of the events handlers.py maps here (activity's reports,
revisions and withdrawals, employee transfers, tpp's period closes).

Each takes a UnitOfWork and resolved values (the actor's NIP, the clock's now); refusals
are domain.DomainError, which the routes turn into problem+json. The callers commit,
except `decide` and `bulk_approve`, which are whole transactions run by ServiceKit.run_store,
and `confirm_kinerja` (an atasan's month ratings), which commits itself.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy import select as core_select
from sqlmodel import col

from contracts.events import (
    ActivityReported,
    ActivityRevised,
    DelegationGranted,
    DelegationRevoked,
    KinerjaResultConfirmed,
    ReportApproved,
    ReportRejected,
    RevisionRequested,
    SkpTargetChanged,
    TppPeriodClosed,
)
from services.approval import domain
from services.approval.models import (
    KIT,
    DecisionLog,
    Delegation,
    KinerjaMonth,
    KinerjaResult,
    PeriodClose,
    PeriodReopen,
    QueueEntry,
    SkpTargetRow,
)
from services.approval.queries import (
    active_delegations,
    kinerja_views,
    locks_of,
    open_of,
    queue_entries,
    queue_entry,
    running_delegations,
    to_item,
)
from services.kernel.calendar import WIB
from services.shared.db import select_in
from services.shared.employees import atasan_of
from services.shared.uow import UnitOfWork

PRODUCER = "approval"
OPEN = tuple(s.value for s in domain.OPEN_STATUSES)
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
    today = now.astimezone(WIB).date()
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
    rows = running_delegations(uow, now.astimezone(WIB).date())
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


# --------------------------------------------------------------------------- the queue projection
# (handlers.py: activity's reports, employee transfers and tpp's closes)

# Built once: building and compiling a statement per batch would cost more than running it.
_QUEUE = QueueEntry.__table__
_EMPLOYEE = KIT.employee.__table__
_INSERT_ENTRIES = insert(_QUEUE)
_KNOWN_REPORTS = core_select(_QUEUE.c.report_id).where(
    _QUEUE.c.report_id.in_(bindparam("keys", expanding=True))
)
_ATASAN_OF = core_select(_EMPLOYEE.c.nip, _EMPLOYEE.c.atasan_nip).where(
    _EMPLOYEE.c.nip.in_(bindparam("keys", expanding=True))
)
_REPORTED_KEY = "approval.reported"


def _content(row: QueueEntry, event: ActivityReported | ActivityRevised) -> None:
    row.description = event.description
    row.output = event.output
    row.quantity = event.quantity
    row.minutes = event.minutes
    row.skp_target_id = event.skp_target_id


class ReportedBatch:
    """The ActivityReported events of one transaction not written yet. Per event, the ORM's
    get, employee lookup and flush cost several times what three statements per batch do:
    one SELECT of the report ids already known, one of the owners' atasan, one INSERT."""

    def __init__(self) -> None:
        self.pending: dict[str, ActivityReported] = {}

    def add(self, event: ActivityReported) -> None:
        self.pending.setdefault(event.report_id, event)  # a second copy: the first one wins

    def __call__(self, uow: UnitOfWork) -> None:
        self.write(uow)

    def write(self, uow: UnitOfWork) -> None:
        if not self.pending:
            return
        events = list(self.pending.values())
        self.pending = {}
        # The ORM's pending rows (a revision that overtook its report, an employee upserted
        # earlier in the batch) must be in the database for the SELECTs below to see them.
        uow.session.flush()
        conn = uow.connection
        known = {r[0] for r in select_in(conn, _KNOWN_REPORTS, [e.report_id for e in events])}
        fresh = [e for e in events if e.report_id not in known]
        if not fresh:
            return  # already known (a revision may even have overtaken them): keep them
        owners = list({e.nip for e in fresh})
        atasan: dict[str, str | None] = {
            r.nip: r.atasan_nip for r in select_in(conn, _ATASAN_OF, owners)
        }
        conn.execute(
            _INSERT_ENTRIES,
            [
                {
                    "report_id": e.report_id,
                    "owner_nip": e.nip,
                    "work_date": e.work_date,
                    "atasan_nip": atasan.get(e.nip),
                    "status": domain.QueueStatus.PENDING.value,
                    "revision": 0,
                    "description": e.description,
                    "output": e.output,
                    "quantity": e.quantity,
                    "minutes": e.minutes,
                    "skp_target_id": e.skp_target_id,
                    "filed_at": e.occurred_at,
                    "updated_at": e.occurred_at,
                    "imported_decision": None,
                    "reported_event_id": str(e.event_id),
                }
                for e in fresh
            ],
        )


def _reported(uow: UnitOfWork) -> ReportedBatch:
    return uow.once(_REPORTED_KEY, ReportedBatch)


def write_reported(uow: UnitOfWork) -> None:
    """Write the reports collected so far in this transaction. Every handler other than
    on_reported calls it first: the queue it reads must hold the reports that came before."""
    _reported(uow).write(uow)


def collect_reported(uow: UnitOfWork, event: ActivityReported) -> None:
    """Collect a report for this transaction's ReportedBatch (written by write_reported)."""
    _reported(uow).add(event)


def add_imported_report(uow: UnitOfWork, event: ActivityReported) -> None:
    """A report of a migration import, with its historical decision recorded if the
    employee's atasan is known already (else it waits: follow_employee)."""
    if uow.session.get(QueueEntry, event.report_id) is not None:
        return  # already known (a revision may even have overtaken it): keep what we have
    row = QueueEntry(
        report_id=event.report_id,
        owner_nip=event.nip,
        work_date=event.work_date,
        atasan_nip=atasan_of(uow, event.nip),
        status=domain.QueueStatus.PENDING.value,
        filed_at=event.occurred_at,
        updated_at=event.occurred_at,
        imported_decision=event.imported_decision,
        reported_event_id=str(event.event_id),
    )
    _content(row, event)
    uow.session.add(row)
    if row.imported_decision is not None and row.atasan_nip is not None:
        record_imported_decision(uow, row, str(event.event_id))


def revise(uow: UnitOfWork, event: ActivityRevised) -> None:
    """Keep the latest revision only; a revision of a decided or withdrawn report (it raced
    the decision) changes its text here but not its status: the decision stands."""
    row = uow.session.get(QueueEntry, event.report_id)
    if row is None:
        row = QueueEntry(
            report_id=event.report_id,
            owner_nip=event.nip,
            work_date=event.work_date,
            atasan_nip=atasan_of(uow, event.nip),
            status=domain.QueueStatus.PENDING.value,
            filed_at=event.occurred_at,
            updated_at=event.occurred_at,
        )
    elif event.revision <= row.revision:
        return
    _content(row, event)
    row.revision = event.revision
    row.updated_at = event.occurred_at
    if row.status == domain.QueueStatus.REVISION_REQUESTED.value:
        row.status = domain.QueueStatus.PENDING.value
        row.filed_at = event.occurred_at  # back in the queue: its age counts from now
    uow.session.add(row)


def withdraw(uow: UnitOfWork, report_id: str, at: datetime) -> None:
    row = uow.session.get(QueueEntry, report_id)
    if row is None or row.status not in OPEN:
        return  # decided before the withdrawal arrived: the decision stands
    row.status = domain.QueueStatus.WITHDRAWN.value
    row.updated_at = at
    uow.session.add(row)


def follow_employee(uow: UnitOfWork, nip: str, new_atasan: str | None, cause_id: str) -> None:
    """After an employee's record changed: their open reports follow them to `new_atasan`,
    and imported decisions that waited for an atasan are recorded (caused by their report,
    else by `cause_id`)."""
    rows = open_of(uow, nip)
    if not rows:
        return
    try:
        moved = domain.transfer_pending([to_item(r) for r in rows], nip, new_atasan)
    except domain.DomainError:
        return  # a master record naming the employee as their own atasan: keep the queue
    ids = set(moved.moved)
    for row in rows:
        if row.report_id in ids:
            row.atasan_nip = new_atasan
            uow.session.add(row)
        if row.imported_decision is not None and row.atasan_nip is not None:
            record_imported_decision(uow, row, row.reported_event_id or cause_id)


def close_period(uow: UnitOfWork, nip: str, period: str, at: datetime, by: str) -> None:
    """tpp closed `period` for `nip` (TppPeriodClosed): the latest close is kept."""
    row = uow.session.get(PeriodClose, (nip, period))
    if row is None:
        row = PeriodClose(nip=nip, period=period, closed_at=at)
    elif at <= row.closed_at:
        return  # an older close replayed: the latest one decides
    row.closed_at = at
    row.closed_by = by
    uow.session.add(row)


# --------------------------------------------------------------------------- kinerja


def record_month(uow: UnitOfWork, event: TppPeriodClosed) -> None:
    """tpp's summary of a closed month (the latest close kept): what the proposal reads. A
    close from a producer without the summary leaves the month without a proposal."""
    counts = (
        event.required_days, event.approved_days, event.attendance_deduction,
        event.attendance_lines, event.tk_days,
    )  # fmt: skip
    if any(c is None for c in counts):
        return
    row = uow.session.get(KinerjaMonth, (event.nip, event.period))
    if row is not None and event.occurred_at <= row.closed_at:
        return  # an older close replayed: the latest one decides
    if row is None:
        row = KinerjaMonth(nip=event.nip, period=event.period, rules=event.rules, pagu=0,
                           required_days=0, approved_days=0, attendance_deduction=0,
                           attendance_lines=0, tk_days=0, closed_at=event.occurred_at)  # fmt: skip
    row.rules, row.pagu, row.closed_at = event.rules, event.pagu, event.occurred_at
    row.required_days, row.approved_days = event.required_days or 0, event.approved_days or 0
    row.attendance_deduction = event.attendance_deduction or 0
    row.attendance_lines, row.tk_days = event.attendance_lines or 0, event.tk_days or 0
    uow.session.add(row)


def record_skp_target(uow: UnitOfWork, event: SkpTargetChanged) -> None:
    """Activity's SKP target as last announced (an older announcement never wins)."""
    row = uow.session.get(SkpTargetRow, event.target_id)
    if row is not None and event.occurred_at < row.changed_at:
        return
    if row is None:
        row = SkpTargetRow(
            id=event.target_id, nip=event.nip, year=event.year,
            target_quantity=event.target_quantity, changed_at=event.occurred_at,
        )  # fmt: skip
    row.nip, row.year, row.target_quantity = event.nip, event.year, event.target_quantity
    row.deleted, row.changed_at = event.deleted, event.occurred_at
    uow.session.add(row)


def kinerja_authority(uow: UnitOfWork, actor_nip: str, nip: str, today: date) -> str | None:
    """Whether `actor_nip` may confirm `nip`'s month today: "" as the direct atasan, the
    atasan's NIP as their Plt (a delegation covering today), None when not at all."""
    authority = domain.may_decide(
        actor_nip, nip, today, {nip: atasan_of(uow, nip)},
        active_delegations(uow, plt=actor_nip), today,
    )  # fmt: skip
    if authority is None:
        return None
    return authority.as_plt_for or ""


def confirm_kinerja(
    uow: UnitOfWork,
    nip: str,
    period: str,
    hasil_kerja: str,
    perilaku_kerja: str,
    reason: str,
    confirmed_by: str,
    now: datetime,
    *,
    as_plt_for: str | None = None,
) -> KinerjaResult:
    """The atasan's (their Plt's, or BKPSDM's) ratings of `nip` for `period`, stored with a
    new revision and announced (KinerjaResultConfirmed); committed. A departure from the
    proposal needs a reason (domain.confirmation_reason: DomainError `reason_required`)."""
    proposal = kinerja_views(uow, [nip], period)[nip].proposal
    cleaned = domain.confirmation_reason(hasil_kerja, perilaku_kerja, reason, proposal)
    row = uow.session.get(KinerjaResult, (nip, period))
    if row is None:
        row = KinerjaResult(
            nip=nip, period=period, hasil_kerja=hasil_kerja,
            perilaku_kerja=perilaku_kerja, confirmed_by=confirmed_by, revision=0,
            confirmed_at=now,
        )  # fmt: skip
    row.hasil_kerja, row.perilaku_kerja = hasil_kerja, perilaku_kerja
    row.reason, row.confirmed_by, row.as_plt_for = cleaned, confirmed_by, as_plt_for
    row.proposed_hasil = proposal.hasil_kerja if proposal else None
    row.proposed_perilaku = proposal.perilaku_kerja if proposal else None
    row.revision, row.confirmed_at = row.revision + 1, now
    uow.session.add(row)
    uow.emit(
        KinerjaResultConfirmed(
            occurred_at=now, producer=PRODUCER, nip=nip, period=period,
            hasil_kerja=hasil_kerja, perilaku_kerja=perilaku_kerja,
            confirmed_by=confirmed_by, reason=row.reason, revision=row.revision,
        )
    )  # fmt: skip
    uow.commit()
    return row
