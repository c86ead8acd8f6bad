"""Activity's writes: filing (the group commit of one process's filings), edits, revisions
and withdrawals of a report, evidence, BKPSDM's openings, SKP targets, the migration
import, and the projections handlers.py maps events to (days unlocked by a scan or a dinas
luar, approval's decisions and Plt delegations). Each takes a UnitOfWork and resolved
values (the filer's NIP, the clock's now, the filing rules and the calendar); refusals are
domain.DomainError, which the routes turn into problem+json. The callers commit, except
`file_many` (a whole transaction, run by ServiceKit.run_store through FilingBatcher) and
`change_report`, which commit themselves; the kit commits the handlers' batch."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import select

from contracts.events import (
    ActivityReported,
    ActivityRevised,
    ActivityWithdrawn,
    Event,
    SkpTargetChanged,
)
from services.activity import domain, gate, queries
from services.activity.models import (
    DayUnlock,
    Evidence,
    Opening,
    PltDelegation,
    Report,
    SkpTarget,
)
from services.activity.queries import FilingRules
from services.activity.schemas import ReportIn, ReportOut
from services.kernel.calendar import WorkCalendar
from services.kernel.employment import Period, period_on
from services.shared.employees import periods_by_nip
from services.shared.kit import ServiceKit
from services.shared.uow import UnitOfWork

PRODUCER = "activity"
IMPORTED_DESCRIPTION = "Data migrasi: laporan kegiatan harian dari sistem sebelumnya"
IMPORT_STATUSES = {"approved": "approved", "rejected": "rejected", "pending": None}


def _event_body(row: Report) -> dict[str, Any]:
    return {
        "producer": PRODUCER,
        "nip": row.nip,
        "report_id": row.id,
        "work_date": row.work_date,
        "description": row.description,
        "output": row.output,
        "quantity": row.quantity,
        "minutes": row.minutes,
        "skp_target_id": row.skp_target_id,
    }


# --------------------------------------------------------------------------- filing


def _day_key(nip: str, day: date) -> str:
    """What filings serialize on: the minutes of one person's day are checked, then added."""
    return f"report-day:{nip}:{day.isoformat()}"


_REPORT_TABLE = Report.__table__
_INSERT_REPORT = _REPORT_TABLE.insert()


@dataclass
class Filing:
    """One filing as the route resolved it: the body, the filer, the clock's now and the
    rules in force (deadline, limits, calendar)."""

    body: ReportIn
    nip: str
    now: datetime
    rules: FilingRules


class FilingBatcher:
    """Group commit of one process's filings: the filings that arrive while a transaction
    is running are filed together in the next one (one gate query, one lock statement, one
    minutes query, one INSERT each for reports and outbox, one commit). At the month-end
    crush a store round trip was the larger part of a filing's cost; when filings come one
    at a time a batch holds one and nothing waits. Each filing gets its own answer: a
    refusal refuses only that one; a store failure fails the batch's filings (500)."""

    MAX_BATCH = 100

    def __init__(self, kit: ServiceKit) -> None:
        self._kit = kit
        self._waiting: list[tuple[Filing, asyncio.Future[ReportOut]]] = []
        self._draining: asyncio.Task[None] | None = None  # held: a bare task may be collected

    async def file(self, filing: Filing) -> ReportOut:
        future: asyncio.Future[ReportOut] = asyncio.get_running_loop().create_future()
        self._waiting.append((filing, future))
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self.MAX_BATCH]
                del self._waiting[: self.MAX_BATCH]
                filings = [f for f, _ in batch]
                try:
                    results = await self._kit.run_store(
                        functools.partial(file_many, filings=filings)
                    )
                except Exception as exc:  # noqa: BLE001 - every filing of the batch learns it
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue  # its client went away
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._draining = None


def file_many(uow: UnitOfWork, *, filings: list[Filing]) -> list[ReportOut | Exception]:
    """File a batch: the gate and the content of each, then the minutes of each person-day
    read, checked and added under the lock of that day (filings of the same day in one
    batch count each other's minutes). A refusal is that filing's domain.DomainError."""
    days = sorted({(f.nip, f.body.work_date) for f in filings})
    facts = queries.day_facts_many(uow, days)
    periods = periods_by_nip(uow, {nip for nip, _ in days})
    gates = []
    for f in filings:
        unlock, pairs = facts.get((f.nip, f.body.work_date), (None, []))
        active = queries.active_on(periods, f.nip, f.body.work_date)
        gates.append(
            queries.decide(f.rules, f.nip, f.body.work_date, f.now, unlock, pairs, active=active)
        )
    uow.serialize_many([_day_key(nip, day) for nip, day in days])
    minutes = queries.minutes_many(uow, days)
    results: list[ReportOut | Exception] = []
    rows: list[dict[str, Any]] = []
    events: list[Event] = []
    for f, (decision, opening_id) in zip(filings, gates, strict=True):
        body, nip, now = f.body, f.nip, f.now
        targets = queries.targets(uow, nip, body.work_date.year) if body.skp_target_id else None
        try:
            report = domain.file_report(
                str(uuid.uuid4()),
                nip,
                body.content(),
                now,
                decision,
                f.rules.limits,
                targets=targets,
                minutes_already_reported=minutes.get((nip, body.work_date), 0),
            )
        except domain.DomainError as err:
            results.append(err)
            continue
        content = report.content
        minutes[(nip, body.work_date)] = minutes.get((nip, body.work_date), 0) + (
            content.minutes_spent
        )
        values: dict[str, Any] = {
            "id": report.id,
            "nip": nip,
            "work_date": body.work_date,
            "description": content.description,
            "output": content.output,
            "quantity": content.quantity,
            "minutes": content.minutes_spent,
            "skp_target_id": content.skp_target_id,
            "status": report.status.value,
            "revision": 0,
            "counts_for_tpp": decision.counts_for_tpp,
            "opening_id": opening_id,
            "imported": False,
            "filed_at": now,
            "updated_at": now,
        }
        rows.append(values)
        events.append(
            ActivityReported(
                occurred_at=now,
                producer=PRODUCER,
                nip=nip,
                report_id=report.id,
                work_date=body.work_date,
                description=content.description,
                output=content.output,
                quantity=content.quantity,
                minutes=content.minutes_spent,
                skp_target_id=content.skp_target_id,
            )
        )
        results.append(
            ReportOut(
                **{k: v for k, v in values.items() if k != "opening_id"},
                decided_by=None,
                decided_as_plt_for=None,
                decided_at=None,
                decision_note=None,
                message=decision.message,
            )
        )
    if rows:
        uow.connection.execute(_INSERT_REPORT, rows)
        uow.emit_many(events)
    uow.commit()
    return results


def _apply_content(row: Report, report: domain.DailyReport, now: datetime) -> None:
    row.description = report.content.description
    row.output = report.content.output
    row.quantity = report.content.quantity
    row.minutes = report.content.minutes_spent
    row.skp_target_id = report.content.skp_target_id
    row.status = report.status.value
    row.revision = report.revision
    row.updated_at = now


def change_report(
    uow: UnitOfWork,
    row: Report,
    body: ReportIn,
    decision: gate.FilingDecision,
    now: datetime,
    limits: domain.ReportLimits,
    change: Callable[..., domain.DailyReport],
) -> None:
    """Apply an edit or a revision through the domain, store it, emit ActivityRevised."""
    nip = row.nip
    uow.serialize(_day_key(nip, row.work_date))
    uow.session.refresh(row)  # as it stands now that this transaction holds the day
    report = change(
        queries.to_daily_report(row),
        body.content(),
        decision,
        limits,
        targets=queries.targets(uow, nip, row.work_date.year) if body.skp_target_id else None,
        minutes_already_reported=queries.minutes_other(uow, nip, row.work_date, row.id),
    )
    _apply_content(row, report, now)
    uow.session.add(row)
    uow.emit(ActivityRevised(occurred_at=now, revision=row.revision, **_event_body(row)))
    uow.commit()


def withdraw_report(uow: UnitOfWork, row: Report, now: datetime) -> None:
    report = domain.withdraw_report(queries.to_daily_report(row))
    row.status = report.status.value
    row.updated_at = now
    uow.session.add(row)
    uow.emit(
        ActivityWithdrawn(
            occurred_at=now,
            producer=PRODUCER,
            nip=row.nip,
            report_id=row.id,
            work_date=row.work_date,
        )
    )


# --------------------------------------------------------------------------- evidence


def add_evidence(uow: UnitOfWork, evidence: Evidence) -> Evidence:
    uow.session.add(evidence)
    return evidence


# --------------------------------------------------------------------------- openings


def open_date(uow: UnitOfWork, opening: gate.Opening) -> Opening:
    """Store BKPSDM's opening of a date (the route had the domain validate it)."""
    row = Opening(
        id=str(uuid.uuid4()),
        nip=opening.nip,
        work_date=opening.day,
        opened_by=opening.opened_by,
        reason=opening.reason.strip(),
        opened_at=opening.opened_at,
        until=opening.until,
    )
    uow.session.add(row)
    return row


# --------------------------------------------------------------------------- SKP targets
# Each change of a target is announced (SkpTargetChanged) in the same transaction: approval
# owns the report decisions and needs the targets to tell whether a month realised them all.


def _announce_target(uow: UnitOfWork, row: SkpTarget, now: datetime, deleted: bool) -> None:
    uow.emit(
        SkpTargetChanged(
            occurred_at=now, producer=PRODUCER, nip=row.nip, target_id=row.id, year=row.year,
            target_quantity=row.target_quantity, deleted=deleted,
        )
    )  # fmt: skip


def create_target(
    uow: UnitOfWork, target: domain.SkpTarget, by: str | None, now: datetime
) -> SkpTarget:
    row = SkpTarget(
        id=target.id,
        nip=target.nip,
        year=target.year,
        activity=target.activity.strip(),
        indicator=target.indicator.strip(),
        target_quantity=target.target_quantity,
        created_by=by,
        updated_at=now,
    )
    uow.session.add(row)
    _announce_target(uow, row, now, deleted=False)
    return row


def update_target(uow: UnitOfWork, row: SkpTarget, target: domain.SkpTarget, now: datetime) -> None:
    row.year, row.activity, row.indicator = target.year, target.activity.strip(), target.indicator
    row.target_quantity = target.target_quantity
    row.updated_at = now
    uow.session.add(row)
    _announce_target(uow, row, now, deleted=False)


def delete_target(uow: UnitOfWork, row: SkpTarget) -> None:
    uow.session.delete(row)
    _announce_target(uow, row, uow.clock(), deleted=True)


def announce_targets(uow: UnitOfWork, now: datetime) -> int:
    """Every SKP target announced again (SkpTargetChanged): for approval, when its store
    began keeping them after they were made, or was restored from a backup. Approval keeps
    the latest announcement, so this changes nothing there that is already right."""
    count = 0
    for row in uow.session.exec(select(SkpTarget)):
        _announce_target(uow, row, now, deleted=False)
        count += 1
    return count


# --------------------------------------------------------------------------- migration import


def import_report_id(nip: str, day: date) -> str:
    """Deterministic: importing the same file twice creates each report once."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sikerja:import:{nip}:{day.isoformat()}"))


def import_reports(
    uow: UnitOfWork,
    good: list[tuple[int, str, date, str]],
    bad: list[dict[str, Any]],
    now: datetime,
    calendar_for: Callable[[int], WorkCalendar],
    *,
    decided_at: dict[int, datetime] | None = None,
    flagged: list[dict[str, Any]] | None = None,
) -> tuple[int, int]:
    """The migration's good lines (line, nip, date, status) as imported reports, each with
    ActivityReported carrying its historical decision (and its time, `decided_at` by line).
    A line whose date no scan or dinas luar unlocked joins `bad`. A line of an employee with
    no atasan known on that date is imported but joins `flagged`, not the accepted count:
    only approval knows whether BKPSDM named a penilai who decides it (issue 14).
    Returns (accepted, duplicate)."""
    accepted = duplicate = 0
    nips = sorted({nip for _, nip, _, _ in good})
    unlocked = queries.unlocked_set(uow, nips)
    periods = periods_by_nip(uow, nips)
    ids = [import_report_id(nip, day) for _, nip, day, _ in good]
    existing = queries.existing_ids(uow, ids)
    for (line, nip, day, status), report_id in zip(good, ids, strict=True):
        if report_id in existing:
            duplicate += 1
            continue
        if not queries.active_on(periods, nip, day):
            bad.append(
                {
                    "line": line,
                    "nip": nip,
                    "tanggal": day.isoformat(),
                    "code": gate.FilingCode.NOT_ACTIVE.value,
                    "reason": "di luar masa kerja pegawai itu pada data kepegawaian",
                }
            )
            continue
        if (nip, day) not in unlocked:
            bad.append(
                {
                    "line": line,
                    "nip": nip,
                    "tanggal": day.isoformat(),
                    "code": gate.FilingCode.NO_SCAN_YET.value,
                    "reason": "tidak ada sidik jari atau dinas luar pada tanggal itu",
                }
            )
            continue
        existing.add(report_id)
        row = Report(
            id=report_id,
            nip=nip,
            work_date=day,
            description=IMPORTED_DESCRIPTION,
            output="laporan kegiatan harian",
            quantity=1,
            minutes=0,
            status=domain.ReportStatus.PENDING.value,
            counts_for_tpp=calendar_for(day.year).is_working_day(day),
            imported=True,
            filed_at=now,
            updated_at=now,
        )
        uow.session.add(row)
        uow.emit(
            ActivityReported(
                occurred_at=now,
                imported_decision=IMPORT_STATUSES[status],
                imported_decided_at=(decided_at or {}).get(line),
                migration=True,  # history: its decision and TPP change notify nobody
                **_event_body(row),
            )
        )
        if flagged is not None and (problem := _no_atasan(periods.get(nip), day)):
            flagged.append(
                {"line": line, "nip": nip, "tanggal": day.isoformat(), "code": "no_atasan"}
                | {"reason": problem}
            )
            continue
        accepted += 1
    return accepted, duplicate


def _no_atasan(periods: list[Period] | None, day: date) -> str | None:
    """Why nobody but a penilai can decide an imported report: the employee is known and has
    no atasan that day (None: an atasan is known, or the employee not yet, and approval
    records the decision once the employee master says who the atasan is)."""
    if not periods:
        return None
    found = period_on(periods, day)
    if found is None or found.atasan_nip:
        return None
    return (
        "laporan dibuat, tetapi pegawai tidak memiliki atasan pada tanggal itu: keputusannya "
        "dicatat atas nama penilai yang ditetapkan BKPSDM di layanan persetujuan; tanpa "
        "penilai laporan masuk daftar 'belum dapat diputuskan' (GET /api/v1/undecidable)"
    )


# --------------------------------------------------------------------------- projections


def unlock_by_scan(uow: UnitOfWork, nip: str, day: date, scan_id: str, at: datetime) -> None:
    """A fingerprint opens its day for filing (the first scan of the day is the record)."""
    if uow.session.get(DayUnlock, (nip, day, "scan")) is None:
        uow.session.add(
            DayUnlock(nip=nip, work_date=day, source="scan", ref=scan_id, recorded_at=at)
        )


def unlock_by_dinas_luar(
    uow: UnitOfWork,
    nip: str,
    start: date,
    end: date,
    absence_id: str,
    at: datetime,
    cancelled: bool,
) -> None:
    """A dinas luar opens each of its days; its cancellation closes them again."""
    day = start
    while day <= end:
        row = uow.session.get(DayUnlock, (nip, day, "dinas_luar"))
        if row is None:
            row = DayUnlock(
                nip=nip,
                work_date=day,
                source="dinas_luar",
                ref=absence_id,
                recorded_at=at,
            )
        row.active = not cancelled
        uow.session.add(row)
        day += timedelta(days=1)


def record_decision(
    uow: UnitOfWork,
    report_id: str,
    nip: str,
    status: domain.ReportStatus,
    decided_by: str,
    as_plt_for: str | None,
    at: datetime,
    note: str | None,
) -> None:
    """Approval owns decisions: its word on the status is final. A decision that raced an
    edit or a withdrawal here was taken on a report approval still saw pending, and approval
    ignores the later edit/withdrawal of a decided report, so both stores converge on the
    decision. Approval's events of one NIP arrive in order (one topic, keyed by NIP)."""
    row = uow.session.get(Report, report_id)
    if row is None or row.nip != nip:
        return  # not ours (another deployment's report): nothing to update
    if row.decided_at is not None and at < row.decided_at:
        return  # an older decision replayed after a newer one
    row.status = status.value
    row.decided_by = decided_by
    row.decided_as_plt_for = as_plt_for
    row.decided_at = at
    row.decision_note = note
    if status is domain.ReportStatus.REVISION_REQUESTED:
        row.revision_requested_at = at
    row.updated_at = at
    uow.session.add(row)


def grant_delegation(
    uow: UnitOfWork,
    delegation_id: str,
    atasan_nip: str,
    plt_nip: str,
    start: date,
    end: date,
    at: datetime,
) -> None:
    """Record the window. Approval never changes a delegation once made, so a second copy
    of the grant (redelivered with a new event id) changes nothing; a revoke that came first
    stays in force."""
    row = uow.session.get(PltDelegation, delegation_id)
    if row is None:
        row = PltDelegation(id=delegation_id, atasan_nip=atasan_nip, plt_nip=plt_nip)
    elif row.granted_at is not None:
        return
    row.atasan_nip, row.plt_nip = atasan_nip, plt_nip
    row.start, row.end, row.granted_at = start, end, at
    uow.session.add(row)


def revoke_delegation(
    uow: UnitOfWork, delegation_id: str, atasan_nip: str, plt_nip: str, at: datetime
) -> None:
    """Revoked for good. A revoke for an unknown delegation is remembered (a row without a
    window) so that its grant, arriving late (a replay, a relay retry), stays revoked."""
    row = uow.session.get(PltDelegation, delegation_id)
    if row is None:
        row = PltDelegation(id=delegation_id, atasan_nip=atasan_nip, plt_nip=plt_nip)
    elif row.revoked_at is not None:
        return  # the first revoke stands
    row.revoked_at = at
    uow.session.add(row)
