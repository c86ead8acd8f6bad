"""Notifier's subscribers: scans and reports feed the day sets (SQL, mirrored to Redis),
activity and approval events the pending-report projection, decisions and TPP changes an
inbox message at once, employee events the kit's employee projection (atasan_nip), approval's
penilai whom the reminder of a head's reports goes to. Events
marked `migration` (a BKPSDM import of history) notify nobody (issue 14)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from sqlmodel import col, select

from contracts.events import (
    ActivityReported,
    ActivityRevised,
    ActivityWithdrawn,
    Event,
    FingerprintRecorded,
    ReportApproved,
    ReportRejected,
    RevisionRequested,
    TppRecomputed,
)
from services.notifier import domain
from services.notifier.cache import DayCache
from services.notifier.delivery import add_message
from services.notifier.models import CacheGap, ReportState, ScanDay
from services.shared.calendar_book import CalendarBook, calendar_handler
from services.shared.employees import on_employee
from services.shared.handlers import Handlers
from services.shared.penilai import on_penilai_assigned, on_penilai_removed
from services.shared.uow import UnitOfWork


def _later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


def _gap(uow: UnitOfWork, day: date) -> None:
    """Redis missed an update of `day`: the next job run rebuilds it from SQL."""
    if uow.session.get(CacheGap, day) is None:
        uow.session.add(CacheGap(work_date=day))


def _report(uow: UnitOfWork, report_id: str, nip: str, work_date: date) -> ReportState:
    row = uow.session.get(ReportState, report_id)
    if row is None:
        row = ReportState(report_id=report_id, nip=nip, work_date=work_date)
    return row


def handlers(
    cache: DayCache, book: CalendarBook, wake: Callable[[], None] = lambda: None
) -> Handlers:
    """`cache`: the Redis mirror; `book`: the service's calendar; `wake`: nudges the channel
    dispatcher after a message."""

    async def sync_filed(uow: UnitOfWork, nip: str, days: Iterable[date | None]) -> None:
        # Redis holds membership; SQL holds the reports, so the count is SQL's (idempotent).
        uow.session.flush()
        for day in {d for d in days if d is not None}:
            rows = uow.session.execute(
                select(col(ReportState.filed_at), col(ReportState.withdrawn_at)).where(
                    ReportState.nip == nip,
                    ReportState.work_date == day,
                )
            ).all()
            active = sum(1 for f, w in rows if f is not None and domain.is_active_report(f, w))
            if not await cache.set_filed(day, nip, active > 0):
                _gap(uow, day)

    async def on_scan(uow: UnitOfWork, event: FingerprintRecorded) -> None:
        if event.migration:
            return  # history loaded by BKPSDM: nobody is warned about it
        if uow.session.get(ScanDay, (event.nip, event.work_date)) is None:
            uow.session.add(ScanDay(nip=event.nip, work_date=event.work_date))
        if not await cache.add_scan(event.work_date, event.nip):
            _gap(uow, event.work_date)

    async def on_filed(uow: UnitOfWork, event: ActivityReported | ActivityRevised) -> None:
        row = _report(uow, event.report_id, event.nip, event.work_date)
        old_date = row.work_date
        if row.filed_at is None or event.occurred_at > row.filed_at:
            # the latest filing wins: a revision restarts the atasan's wait
            row.filed_at = event.occurred_at
            row.filed_on = domain.local_date(event.occurred_at)
            row.work_date = event.work_date
        if isinstance(event, ActivityReported) and event.imported_decision is not None:
            row.decided_at = _later(row.decided_at, event.occurred_at)  # decided in the past
        uow.session.add(row)
        await sync_filed(uow, event.nip, (old_date, row.work_date))

    async def on_withdrawn(uow: UnitOfWork, event: ActivityWithdrawn) -> None:
        row = _report(uow, event.report_id, event.nip, event.work_date)
        row.withdrawn_at = _later(row.withdrawn_at, event.occurred_at)
        uow.session.add(row)
        await sync_filed(uow, event.nip, (row.work_date, event.work_date))

    def decided(
        uow: UnitOfWork, event: ReportApproved | ReportRejected | RevisionRequested
    ) -> None:
        row = _report(uow, event.report_id, event.nip, event.work_date)
        row.decided_at = _later(row.decided_at, event.occurred_at)
        uow.session.add(row)

    def on_approved(uow: UnitOfWork, event: ReportApproved) -> None:
        decided(uow, event)

    def on_rejected(uow: UnitOfWork, event: ReportRejected) -> None:
        decided(uow, event)
        if event.migration:
            return  # a historical decision loaded by a migration: no notice
        notice = domain.rejection_notice(
            event.nip, event.work_date, event.reason, str(event.event_id)
        )
        _notify(uow, notice, event)

    def on_revision(uow: UnitOfWork, event: RevisionRequested) -> None:
        decided(uow, event)
        if event.migration:
            return
        notice = domain.revision_notice(event.nip, event.work_date, event.note, str(event.event_id))
        _notify(uow, notice, event)

    def on_tpp(uow: UnitOfWork, event: TppRecomputed) -> None:
        if event.migration:
            return  # a change caused by loading history: the present is not touched
        notice = domain.tpp_notice(
            event.nip,
            event.period,
            event.old_net,
            event.new_net,
            event.cause_event_type,
            str(event.event_id),
            domain.local_date(event.occurred_at),
        )
        if notice is not None:
            _notify(uow, notice, event)

    def _notify(uow: UnitOfWork, notice: domain.Notice, event: Event) -> None:
        # created_at is the event's time: handlers do not read the clock
        message = add_message(uow.session, notice, event.occurred_at, str(event.event_id))
        if message is not None and message.channel_state == "pending":
            wake()

    return Handlers(
        on_employee,
        calendar_handler(book),
        on_scan,
        on_filed,
        on_withdrawn,
        on_approved,
        on_rejected,
        on_revision,
        on_tpp,
        on_penilai_assigned,
        on_penilai_removed,
    )
