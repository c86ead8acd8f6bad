"""The notifier's jobs: the 15:00 warnings, the 09:00 reminders and the channel dispatcher,
run by the scheduler (the only caller of the wall clock) or by an operator for a given time.

Every run is idempotent: messages carry a unique dedup key in SQL (Redis SET NX only saves
work), so running a job twice, on two replicas or after a restart sends nothing twice. Across
replicas a job runs under a lease with a fencing token (services/shared/lease.py) checked in
every chunk of its batch; the channel sends are the dispatcher's (delivery.py), per message.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.kernel.calendar import WIB, WorkCalendar, indonesia_calendar
from services.kernel.employment import Period, period_on
from services.kernel.ruleset import RuleSet
from services.notifier import domain
from services.notifier.cache import DayCache
from services.notifier.config import NotifierSettings
from services.notifier.delivery import Dispatcher, Sender, add_messages
from services.notifier.domain import Kind, Notice, PendingReport, local_date
from services.notifier.models import (
    CacheGap,
    JobLease,
    JobRun,
    Message,
    ReportState,
    ScanDay,
)
from services.shared import lease
from services.shared.db import PenilaiRow
from services.shared.employees import periods_by_nip
from services.shared.kit import ServiceKit
from services.shared.lease import Fenced, Lease
from services.shared.logs import get_logger
from services.shared.penilai import standing

log = get_logger("sikerja.notifier.jobs")

WARNINGS, REMINDERS = "warnings", "reminders"


@dataclass
class Notifier:
    """Everything the jobs, the handlers and the API share in one service instance."""

    kit: ServiceKit
    cache: DayCache
    sender: Sender
    config: NotifierSettings
    ruleset: RuleSet
    clock: Callable[[], datetime]
    calendar_for: Callable[[int], WorkCalendar] = indonesia_calendar
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)  # this replica, in leases
    dispatcher: Dispatcher = field(init=False)

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(
            self.kit.engine, self.cache, self.sender, self.config, lambda: self.clock()
        )

    # -- day sets ------------------------------------------------------------------------------
    def sql_day_sets(self, session: Session, day: date) -> tuple[set[str], set[str]]:
        """SQL's truth for `day`: NIPs with a scan, NIPs with an active report."""
        scanned = set(
            session.execute(select(col(ScanDay.nip)).where(ScanDay.work_date == day)).scalars()
        )
        rows = session.execute(
            select(
                col(ReportState.nip), col(ReportState.filed_at), col(ReportState.withdrawn_at)
            ).where(ReportState.work_date == day)
        ).all()
        filed = {
            nip
            for nip, filed_at, withdrawn_at in rows
            if filed_at is not None and domain.is_active_report(filed_at, withdrawn_at)
        }
        return scanned, filed

    async def warm(self, day: date) -> bool:
        """Rebuild the day's Redis sets from SQL unless they are ready and complete."""
        with Session(self.kit.engine) as session:
            gap = session.get(CacheGap, day) is not None
            if not gap and await self.cache.is_ready(day):
                return True
            scanned, filed = self.sql_day_sets(session, day)
            # the day's dedup keys too: a Redis that lost them must not claim them afresh
            keys = session.execute(
                select(col(Message.dedup_key)).where(Message.ref_date == day)
            ).scalars()
            if not await self.cache.rebuild(day, scanned, filed, list(keys)):
                return False
            if gap:
                session.execute(CacheGap.__table__.delete().where(col(CacheGap.work_date) == day))
                session.commit()
        return True

    async def missing_reports(self, day: date) -> tuple[set[str], str]:
        """NIPs scanned on `day` without a report: Redis SDIFF, or SQL when Redis cannot."""
        with Session(self.kit.engine) as session:
            gap = session.get(CacheGap, day) is not None
        if not gap:
            found = await self.cache.scanned_not_filed(day)
            if found is not None:
                return found, "redis"
        with Session(self.kit.engine) as session:
            scanned, filed = self.sql_day_sets(session, day)
        await self.warm(day)  # next time the fast path works
        return scanned - filed, "sql"

    # -- storing notices -----------------------------------------------------------------------
    async def store(self, notices: Iterable[Notice], held: Lease | None = None) -> list[Message]:
        """Claim each notice in Redis (fast path), store the new ones in chunks of
        `job_chunk`, one transaction each; under a job's lease every chunk is fenced."""
        fresh: list[Notice] = []
        claimed: list[str] = []
        for notice in notices:
            got = await self.cache.claim(notice.dedup_key)
            if got is False:
                continue  # Redis says sent already (SQL would refuse it anyway)
            if got:
                claimed.append(notice.dedup_key)
            fresh.append(notice)
        stored: list[Message] = []
        chunk = max(self.config.job_chunk, 1)
        for start in range(0, len(fresh), chunk):
            part = fresh[start : start + chunk]
            try:
                with self.kit.uow() as uow:
                    now = self.clock()
                    if held is not None:
                        lease.fence(uow.session, held, now, self.config.job_lease_s)
                    done = add_messages(uow.session, part, now)
                    uow.commit()
            except BaseException:
                # the rest was not stored: a later run must not be skipped by Redis
                ours = set(claimed)
                rest = [n.dedup_key for n in fresh[start:] if n.dedup_key in ours]
                await self.cache.release(rest)
                raise
            stored.extend(done)
            if any(m.channel_state == "pending" for m in done):
                self.wake.set()  # the dispatcher starts on the first chunk
        return stored

    def _sent(self, session: Session, kind: Kind, day: date) -> set[str]:
        return set(
            session.execute(
                select(col(Message.nip)).where(Message.kind == kind.value, Message.ref_date == day)
            ).scalars()
        )

    # -- the jobs ------------------------------------------------------------------------------
    async def run_warnings(self, at: datetime, held: Lease | None = None) -> dict[str, Any]:
        """15:00: a warning to every NIP scanned on the WIB date of `at` without a report
        and active on that date."""
        day = local_date(at)
        calendar = self.calendar_for(day.year)
        result: dict[str, Any] = {"job": WARNINGS, "date": day.isoformat(), "source": None}
        if not calendar.is_working_day(day) or at.astimezone(WIB).time() < (self.config.warning_at):
            return {**result, "due": 0, "created": 0, "skipped": "not_due"}
        missing, source = await self.missing_reports(day)
        missing = await asyncio.to_thread(self.active_on, day, missing)
        with Session(self.kit.engine) as session:
            sent = self._sent(session, Kind.LKH_MISSING, day)
        notices = domain.due_warnings(
            at,
            missing,
            (),  # `missing` is already scanned minus filed (SDIFF or SQL)
            calendar,
            sent,
            at=self.config.warning_at,
            deadline_working_days=self.ruleset.filing_deadline_working_days,
            deadline_time=self.ruleset.filing_deadline_time,
        )
        stored = await self.store(notices, held)
        log.info("warnings run", date=day.isoformat(), due=len(notices), created=len(stored))
        return {**result, "source": source, "due": len(notices), "created": len(stored)}

    def active_on(self, day: date, nips: set[str]) -> set[str]:
        """Those of `nips` active on `day` (RULES.md "Employment within a month"): a scan on
        a day outside the employee's periods earns nothing, so nobody is warned to file for
        it. A NIP this projection does not know yet is kept: attendance records scans of
        known employees only, the notifier merely has not heard of them."""
        if not nips:
            return nips
        with self.kit.uow() as uow:
            periods = periods_by_nip(uow, nips)
        return {n for n in nips if n not in periods or period_on(periods[n], day) is not None}

    def pending_reports(self, session: Session) -> list[PendingReport]:
        """The reports waiting for a decision, each with the atasan of its date (the one
        who decides it: a report dated before a transfer stays with the old atasan); the
        latest period's atasan when no period covers that date; without atasan, the penilai
        approval named for that date (PenilaiAssigned)."""
        employee = self.kit.tables.employee
        rows = session.execute(
            select(ReportState).where(col(ReportState.filed_at).is_not(None))
        ).scalars()
        waiting = [
            r
            for r in rows
            if r.filed_at is not None
            and domain.is_waiting(r.filed_at, r.decided_at, r.withdrawn_at)
        ]
        nips = {r.nip for r in waiting}
        atasan: dict[str, str | None] = (
            dict(
                session.execute(
                    select(col(employee.nip), col(employee.atasan_nip)).where(
                        col(employee.nip).in_(nips)
                    )
                ).all()
            )
            if nips
            else {}
        )
        periods: dict[str, list[Period]] = {}
        if nips:
            with self.kit.uow() as uow:
                periods = periods_by_nip(uow, nips)

        penilai: dict[str, list[PenilaiRow]] = {}
        if nips and (table := self.kit.tables.penilai) is not None:
            for row in session.exec(standing(table, nips=nips)):
                penilai.setdefault(row.nip, []).append(row)

        def atasan_of(nip: str, day: date) -> str | None:
            period = period_on(periods.get(nip, ()), day)
            boss = period.atasan_nip if period is not None else atasan.get(nip)
            if boss is not None:
                return boss
            # no atasan (a Kepala OPD): the penilai approval names for that date decides
            return next(
                (
                    p.penilai_nip
                    for p in penilai.get(nip, ())
                    if (p.first_day is None or p.first_day <= day)
                    and (p.last_day is None or day <= p.last_day)
                ),
                None,
            )

        out = []
        for r in waiting:
            filed_on = r.filed_on or local_date(r.filed_at)
            work_date = r.work_date or filed_on
            out.append(
                PendingReport(
                    report_id=r.report_id,
                    nip=r.nip,
                    atasan_nip=atasan_of(r.nip, work_date),
                    work_date=work_date,
                    filed_on=filed_on,
                )
            )
        return out

    async def run_reminders(self, at: datetime, held: Lease | None = None) -> dict[str, Any]:
        """09:00: one reminder to every atasan with reports waiting too long."""
        day = local_date(at)
        calendar = self.calendar_for(day.year)
        with Session(self.kit.engine) as session:
            pending = self.pending_reports(session)
            sent = self._sent(session, Kind.ATASAN_REMINDER, day)
        notices = domain.due_reminders(
            at,
            pending,
            calendar,
            at=self.config.reminder_at,
            sent=sent,
            max_wait_working_days=self.config.reminder_max_wait_working_days,
        )
        stored = await self.store(notices, held)
        log.info("reminders run", date=day.isoformat(), due=len(notices), created=len(stored))
        return {
            "job": REMINDERS,
            "date": day.isoformat(),
            "due": len(notices),
            "created": len(stored),
        }

    # -- the scheduler -------------------------------------------------------------------------
    def _mark_ran(self, job: str, day: date, created: int, held: Lease) -> None:
        with Session(self.kit.engine) as session:
            lease.fence(session, held, self.clock(), self.config.job_lease_s)
            session.add(JobRun(job=job, run_date=day, ran_at=self.clock(), created=created))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()  # another replica recorded it first

    def _ran(self, job: str, day: date) -> bool:
        with Session(self.kit.engine) as session:
            return session.get(JobRun, (job, day)) is not None

    async def run_leased(self, job: str, at: datetime, *, mark: bool = False) -> dict[str, Any]:
        """Run `job` as of `at` under its lease: one replica at a time, and a replica whose
        lease was taken over (it paused too long) writes nothing more. `mark`: record the
        day as done (the scheduler's runs)."""
        run = self.run_warnings if job == WARNINGS else self.run_reminders
        base = {"job": job, "date": local_date(at).isoformat(), "due": 0, "created": 0}
        held = lease.acquire(
            self.kit.engine, JobLease, job, self.owner, self.clock(), self.config.job_lease_s
        )
        if held is None:
            return {**base, "skipped": "leased"}  # another replica is running it
        try:
            if mark and self._ran(job, local_date(at)):
                return {**base, "skipped": "done"}
            result = await run(at, held)
            if mark:
                self._mark_ran(job, local_date(at), result["created"], held)
            return result
        except Fenced:
            log.warning("job lease taken over; this run stops", job=job, token=held.token)
            return {**base, "skipped": "fenced"}
        finally:
            lease.release(self.kit.engine, held, self.clock())

    async def tick(self, now: datetime) -> list[dict[str, Any]]:
        """Run what is due at `now` and has not run today (a missed 15:00 runs on start)."""
        day = local_date(now)
        local = now.astimezone(WIB).time()
        if not self.calendar_for(day.year).is_working_day(day):
            return []
        done = []
        due = ((WARNINGS, self.config.warning_at), (REMINDERS, self.config.reminder_at))
        for job, at in due:
            if local >= at and not self._ran(job, day):
                result = await self.run_leased(job, now, mark=True)
                if "skipped" not in result or result["skipped"] == "not_due":
                    done.append(result)
        return done

    async def run_scheduler(self) -> None:
        """Wakes every `tick_s`: warms the day's Redis sets at a new day, runs due jobs."""
        warmed: date | None = None
        while True:
            try:
                now = self.clock()
                if local_date(now) != warmed and await self.warm(local_date(now)):
                    warmed = local_date(now)
                await self.tick(now)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.error("scheduler tick failed", error=repr(exc))
            await asyncio.sleep(self.config.tick_s)

    async def dispatch(self) -> int:
        return await self.dispatcher.dispatch()

    async def run_dispatcher(self) -> None:
        """Sends to configured channels when woken (a new message) or every interval."""
        while True:
            try:
                if await self.dispatch():
                    continue  # a full pass: more may be waiting (a 15:00 batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.error("dispatch failed", error=repr(exc))
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self.config.dispatch_interval_s)
            except TimeoutError:
                pass

    async def run_background(self) -> None:
        """The scheduler and the dispatcher; closes Redis when cancelled."""
        try:
            await asyncio.gather(self.run_scheduler(), self.run_dispatcher())
        finally:
            await self.cache.close()
            close = getattr(self.sender, "aclose", None)
            if close is not None:
                await close()  # the gateway's HTTP connections
