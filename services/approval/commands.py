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
from datetime import date, datetime, time
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
    PenilaiAssigned,
    PenilaiRemoved,
    ReportApproved,
    ReportRejected,
    RevisionRequested,
    SkpTargetChanged,
    TppPeriodClosed,
)
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
from services.approval.queries import (
    active_delegations,
    atasan_by_date,
    atasan_on,
    kinerja_views,
    locks_of,
    open_of,
    penilai_of,
    penilai_on,
    queue_entries,
    queue_entry,
    running_delegations,
    to_item,
    to_penilai,
)
from services.kernel.calendar import WIB
from services.shared.db import select_in
from services.shared.employees import periods_by_nip, periods_of
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
    as_penilai: str | None = None


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
        "as_penilai": audit.as_penilai,
        "migration": source == "import",  # the notifier stays silent on history
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
            as_penilai=audit.as_penilai,
            source=source,
            event_id=str(event.event_id),
            at=at,
        )
    )
    uow.emit(event)
    return Decided(
        row.report_id,
        status,
        audit.actor_nip,
        audit.as_plt_for,
        at,
        str(event.event_id),
        audit.as_penilai,
    )


def historical_time(
    work_date: date, decided_at: datetime | None, imported_at: datetime
) -> datetime:
    """When a migrated decision was taken: the time the import carries; without one, the end
    of the report's day (a decision is not older than its report), never after the import."""
    at = decided_at or datetime.combine(work_date, time(23, 59), WIB)
    return min(at, imported_at)


def record_imported_decision(
    uow: UnitOfWork, row: QueueEntry, cause_id: str, penilai: domain.Penilai | None = None
) -> bool:
    """A migration import's historical decision, recorded at its historical time in the name
    of the atasan of the report's date, else of the `penilai` BKPSDM set (BKPSDM itself: in
    the name of the officer who set it); the audit log says `import`, and the event is marked
    `migration`. Announced like any decision so activity and tpp learn it from the one place
    decisions come from. False (nothing written) while nobody can decide it."""
    assert row.imported_decision is not None
    actor, as_penilai = row.atasan_nip, None
    if actor is None and penilai is not None and penilai.covers(row.work_date):
        as_penilai = penilai.penilai
        actor = penilai.set_by if penilai.is_bkpsdm else penilai.penilai
    if actor is None:
        return False
    approved = row.imported_decision == "approved"
    kind = domain.DecisionKind.APPROVE if approved else domain.DecisionKind.REJECT
    status = domain.QueueStatus.APPROVED if approved else domain.QueueStatus.REJECTED
    audit = domain.AuditEntry(
        report_id=row.report_id,
        actor_nip=actor,
        at=row.imported_decided_at or row.filed_at,
        action=kind,
        reason=None if approved else IMPORTED_REJECTION,
        as_plt_for=None,
        as_penilai=as_penilai,
    )
    result = domain.DecisionResult(dataclasses.replace(to_item(row), status=status), audit)
    record_decision(uow, row, result, source="import", causation_id=cause_id)
    return True


def decide(
    uow: UnitOfWork,
    me: str,
    report_id: str,
    kind: domain.DecisionKind,
    text: str | None,
    now: datetime,
    *,
    bkpsdm: bool = False,
) -> Decided:
    """`me` decides one report, committed; DomainError not_found, forbidden, not_pending,
    period_locked, conflict or the decision's own (a missing reason...). `bkpsdm`: the
    caller is a BKPSDM officer (who decides where BKPSDM is the penilai)."""
    row = queue_entry(uow, report_id)
    if row is None:
        raise domain.DomainError("not_found", NOT_FOUND)
    # the atasan and the penilai of the report's date, not of today
    atasan = atasan_on(uow, row.owner_nip, row.work_date)
    owners = {row.owner_nip: atasan}
    # a penilai counts only where there is no atasan: not read for everyone else
    penilai = None if atasan else penilai_on(uow, row.owner_nip, row.work_date)
    delegations = active_delegations(uow, plt=me)
    # Authority first: someone without it learns nothing else about the report.
    today = now.astimezone(WIB).date()
    if (
        domain.may_decide(
            me,
            row.owner_nip,
            row.work_date,
            owners,
            delegations,
            today,
            penilai=penilai,
            bkpsdm=bkpsdm,
        )
        is None
    ):
        raise domain.DomainError("forbidden", domain.FORBIDDEN)
    decision = domain.make_decision(kind, text)
    closed, reopened = locks_of(uow, row.owner_nip, domain.period_of(row.work_date))
    result = domain.decide(
        to_item(row), me, decision, now, owners, delegations, closed, reopened,
        penilai=penilai, bkpsdm=bkpsdm,
    )  # fmt: skip
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
    uow: UnitOfWork, report_ids: Sequence[str], me: str, now: datetime, *, bkpsdm: bool = False
) -> list[BulkOutcome]:
    """`me` approves a selection, committed; one outcome per id, in order. A refused one
    (unknown, not yours, decided, locked period, conflict) does not stop the others."""
    rows = queue_entries(uow, report_ids)
    nips = {r.owner_nip for r in rows.values()}
    owners = atasan_by_date(uow, nips)  # the atasan of each report's date
    penilai = penilai_of(uow, nips)
    delegations = active_delegations(uow, plt=me)
    lock_cache: dict[tuple[str, str], tuple[list[str], list[str]]] = {}

    def item_locks(item: domain.QueueItem) -> tuple[list[str], list[str]]:
        key = (item.owner_nip, domain.period_of(item.report_date))
        if key not in lock_cache:
            lock_cache[key] = locks_of(uow, *key)
        return lock_cache[key]

    known = [to_item(rows[i]) for i in report_ids if i in rows]
    outcomes = iter(
        domain.bulk_approve(
            known,
            me,
            now,
            owners,
            delegations,
            locks_of=item_locks,
            penilai=penilai,
            bkpsdm=bkpsdm,
        )
    )
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


# --------------------------------------------------------------------------- penilai


def set_penilai(
    uow: UnitOfWork, plan: domain.Penilai, nama: str, jabatan: str, by: str, now: datetime
) -> PenilaiRow:
    """BKPSDM names the penilai of an employee without atasan (validated; DomainError
    `penilai_overlap` when another one already covers some of these dates), announces an
    official one (PenilaiAssigned), then records the migrated decisions that waited."""
    domain.validate_penilai(plan, nama)
    for other in penilai_of(uow, [plan.nip]):
        if other.overlaps(plan):
            since = other.first.strftime("%d-%m-%Y") if other.first else "awal"
            until = other.last.strftime("%d-%m-%Y") if other.last else "seterusnya"
            raise domain.DomainError(
                "penilai_overlap",
                f"Pegawai {plan.nip} sudah memiliki penilai {other.penilai} untuk {since} s.d. "
                f"{until}; hapus penilai itu dulu atau pilih tanggal lain.",
            )
    row = PenilaiRow(
        id=str(uuid.uuid4()),
        nip=plan.nip,
        penilai=plan.penilai,
        nama=nama.strip(),
        jabatan=jabatan.strip(),
        first_day=plan.first,
        last_day=plan.last,
        set_by=by,
        set_at=now,
    )
    uow.session.add(row)
    penilai = to_penilai(row)
    if not penilai.is_bkpsdm:  # activity lets the official read what they decide
        uow.emit(
            PenilaiAssigned(
                occurred_at=now,
                producer=PRODUCER,
                nip=row.nip,
                penilai_id=row.id,
                penilai_nip=row.penilai,
                first=row.first_day,
                last=row.last_day,
            )
        )
    for entry in open_of(uow, plan.nip):
        if entry.imported_decision is not None and entry.atasan_nip is None:
            record_imported_decision(uow, entry, entry.reported_event_id or row.id, penilai)
    return row


def remove_penilai(uow: UnitOfWork, row: PenilaiRow, by: str | None, now: datetime) -> bool:
    """Removed (kept for the audit; an official's removal announced: PenilaiRemoved);
    False if it already was."""
    if row.removed_at is not None:
        return False
    row.removed_at, row.removed_by = now, by
    uow.session.add(row)
    if row.penilai != domain.BKPSDM:
        uow.emit(
            PenilaiRemoved(
                occurred_at=now,
                producer=PRODUCER,
                nip=row.nip,
                penilai_id=row.id,
                penilai_nip=row.penilai,
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
_INSERT_ENTRIES = insert(_QUEUE)
_KNOWN_REPORTS = core_select(_QUEUE.c.report_id).where(
    _QUEUE.c.report_id.in_(bindparam("keys", expanding=True))
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
    one SELECT of the report ids already known, one of the owners' periods (each report
    goes to the atasan of its date), one INSERT."""

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
        periods = periods_by_nip(uow, {e.nip for e in fresh})
        conn.execute(
            _INSERT_ENTRIES,
            [
                {
                    "report_id": e.report_id,
                    "owner_nip": e.nip,
                    "work_date": e.work_date,
                    "atasan_nip": domain.atasan_on_date(periods.get(e.nip, []), e.nip, e.work_date),
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
                    "imported_decided_at": None,
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
    """A report of a migration import, with its historical decision recorded at its
    historical time if someone can decide it: the atasan of its date, or the penilai of an
    employee without atasan. Else it waits (follow_employee, set_penilai), on BKPSDM's list
    of undecidable reports meanwhile."""
    if uow.session.get(QueueEntry, event.report_id) is not None:
        return  # already known (a revision may even have overtaken it): keep what we have
    decided_at = None
    if event.imported_decision is not None:
        decided_at = historical_time(event.work_date, event.imported_decided_at, event.occurred_at)
    row = QueueEntry(
        report_id=event.report_id,
        owner_nip=event.nip,
        work_date=event.work_date,
        atasan_nip=atasan_on(uow, event.nip, event.work_date),
        status=domain.QueueStatus.PENDING.value,
        # history is not waiting since the import: it was filed (at the latest) when decided
        filed_at=decided_at or event.occurred_at,
        updated_at=event.occurred_at,
        imported_decision=event.imported_decision,
        imported_decided_at=decided_at,
        reported_event_id=str(event.event_id),
    )
    _content(row, event)
    uow.session.add(row)
    if row.imported_decision is not None:
        penilai = None if row.atasan_nip else penilai_on(uow, row.owner_nip, row.work_date)
        record_imported_decision(uow, row, str(event.event_id), penilai)


def revise(uow: UnitOfWork, event: ActivityRevised) -> None:
    """Keep the latest revision only; a revision of a decided or withdrawn report (it raced
    the decision) changes its text here but not its status: the decision stands."""
    row = uow.session.get(QueueEntry, event.report_id)
    if row is None:
        row = QueueEntry(
            report_id=event.report_id,
            owner_nip=event.nip,
            work_date=event.work_date,
            atasan_nip=atasan_on(uow, event.nip, event.work_date),
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


def follow_employee(uow: UnitOfWork, nip: str, cause_id: str) -> None:
    """After an employee's periods changed: each open report goes to the atasan of its
    date (a transfer on the 16th moves the reports dated from the 16th), and imported
    decisions that waited for a decider are recorded (caused by their report, else by
    `cause_id`)."""
    rows = open_of(uow, nip)
    if not rows:
        return
    periods = periods_of(uow, nip)
    routed = domain.route_by_date(
        [to_item(r) for r in rows], nip, lambda day: domain.atasan_on_date(periods, nip, day)
    )
    new_atasan = {i.report_id: i.atasan_nip for i in routed.queue}
    moved = set(routed.moved)
    penilai = penilai_of(uow, [nip])
    for row in rows:
        if row.report_id in moved:
            row.atasan_nip = new_atasan[row.report_id]
            uow.session.add(row)
        if row.imported_decision is not None:
            found = domain.penilai_on(penilai, nip, row.work_date)
            record_imported_decision(uow, row, row.reported_event_id or cause_id, found)


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


def kinerja_authority(
    uow: UnitOfWork, actor_nip: str, nip: str, period: str, today: date
) -> str | None:
    """Whether `actor_nip` may confirm `nip`'s month `period` today: "" as the atasan (or,
    for an employee without atasan, the penilai BKPSDM named) of that month, the atasan's or
    penilai's NIP as their Plt (a delegation covering today), None when not at all.

    The month's atasan is the one of the last day of `period` on which `nip` was active
    (RULES.md "Employment within a month"): after a transfer on the 16th the atasan from
    the 16th confirms the whole month (the earlier atasan decided the reports of their
    days, not the month's rating); a leaver is confirmed by the atasan of their last day; a
    later transfer changes nothing. Not active at all in the month: nobody but BKPSDM."""
    day = domain.last_active_day(periods_of(uow, nip), period)
    if day is None:
        return None
    authority = domain.may_decide(
        actor_nip, nip, day, atasan_by_date(uow, [nip]),
        active_delegations(uow, plt=actor_nip), today, penilai=penilai_on(uow, nip, day),
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
