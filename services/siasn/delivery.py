"""Delivering confirmed monthly results to SIASN, from the delivery log (models.KinerjaDelivery).

Each pass claims the due rows (state `siap`, or `gagal_sementara` whose wait is over), marks
them `mengirim` in one commit, then sends them through the adapter (bounded concurrency,
its own retries) and records each outcome in its own commit: SIASN's record id and
`terkirim`; `gagal_sementara` with a growing, jittered wait while SIASN is down; `ditolak`
with SIASN's reason when it refuses the record. A correction deletes SIASN's record first.

Nothing lost: a row leaves the backlog only with SIASN's record id. Nothing twice: a row is
sent again only after its record was deleted (a correction) or when no id came back. SIASN
takes no idempotency key, so one window remains: SIASN saved the record but its answer was
lost (a timeout, or a crash between its answer and our commit; `mengirim` rows are claimed
again by the next pass). Such a result is sent again, and BKPSDM sees the duplicate there.

One deliverer at a time per store, across replicas: each pass runs under the "siasn-delivery"
lease (services/shared/lease.py) and fences its writes. A pass starts by making `mengirim`
rows due again: under the lease, such rows were left by a holder that crashed or paused past
its lease (whose late writes the fence refuses).

A correction after delivery (tpp reopened the month, the atasan confirmed a new revision)
takes the same path whenever it comes: SIASN's record is deleted, then the new one is sent;
a second TppPeriodClosed for the month (the re-close) changes nothing.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from anyio import to_thread
from prometheus_client import Gauge
from sqlalchemy import func, or_, update
from sqlmodel import col, select

from services.kernel.calendar import month_days
from services.kernel.employment import Period, last_active
from services.shared import lease
from services.shared.db import EmployeeRow
from services.shared.employees import find_employee, periods_of
from services.shared.kit import ServiceKit
from services.shared.lease import Lease
from services.shared.logs import get_logger
from services.shared.uow import UnitOfWork
from services.siasn.adapter import KinerjaResult, SiasnClient, SiasnRejected, SiasnUnavailable
from services.siasn.domain import RATING_CODE, retry_delay_s
from services.siasn.models import (
    BACKLOG_STATES,
    DUE,
    REFUSED,
    RETRY,
    SENDING,
    SENT,
    JobLease,
    KinerjaDelivery,
    SiasnPerson,
)

log = get_logger("sikerja.siasn.delivery")
DELIVERY_LEASE = "siasn-delivery"
BACKLOG = Gauge(
    "sikerja_siasn_backlog", "Confirmed monthly results of closed periods not yet in SIASN"
)


@dataclass(frozen=True)
class Job:
    nip: str
    period: str
    revision: int
    result: KinerjaResult | None  # None: cannot be built (the reason in `problem`)
    delete_record_id: str | None
    problem: str = ""


@dataclass
class DeliveryPolicy:
    batch: int = 2000
    retry_base_s: float = 30.0
    retry_cap_s: float = 1800.0
    lease_s: float = 60.0


class Deliverer:
    def __init__(
        self,
        kit: ServiceKit,
        client: Callable[[], SiasnClient] | None,
        policy: DeliveryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.kit = kit
        self.client = client
        self.policy = policy or DeliveryPolicy()
        self.rng = rng or random.Random()
        self._lock = asyncio.Lock()
        self.passes = 0  # delivery passes done (observability, tests)
        self.owner = uuid.uuid4().hex  # this replica, in the lease

    # -- store -------------------------------------------------------------------------------
    def recover(self, held: Lease | None = None) -> int:
        """Rows a crash left `mengirim` are due again (see the module docstring)."""
        with self.kit.uow() as uow:
            self._fence(uow, held)
            n = uow.session.execute(
                update(KinerjaDelivery)
                .where(col(KinerjaDelivery.state) == SENDING)
                .values(state=DUE)
            ).rowcount  # type: ignore[attr-defined]
            uow.commit()
        return int(n or 0)

    def _fence(self, uow: UnitOfWork, held: Lease | None) -> None:
        if held is not None:
            lease.fence(uow.session, held, self.kit.clock(), self.policy.lease_s)

    def claim(self, now: datetime, held: Lease | None = None) -> list[Job]:
        with self.kit.uow() as uow:
            self._fence(uow, held)
            s = uow.session
            rows = s.exec(
                select(KinerjaDelivery)
                .where(
                    col(KinerjaDelivery.state).in_((DUE, RETRY)),
                    or_(
                        col(KinerjaDelivery.next_attempt_at).is_(None),
                        col(KinerjaDelivery.next_attempt_at) <= now,
                    ),
                )
                .limit(self.policy.batch)
            ).all()
            jobs = [self._job(uow, r) for r in rows]
            for r in rows:
                r.state, r.updated_at = SENDING, now
                s.add(r)
            uow.commit()
        return jobs

    def _job(self, uow: UnitOfWork, row: KinerjaDelivery) -> Job:
        session = uow.session
        person = session.get(SiasnPerson, row.nip)
        year, month = int(row.period[:4]), int(row.period[5:])
        # the penilai as they were in the month rated (their last period in it), not today;
        # someone with no period in that month: the latest known
        penilai: Period | EmployeeRow | None = None
        if row.confirmed_by:
            penilai = last_active(
                periods_of(uow, row.confirmed_by), list(month_days(year, month))
            ) or find_employee(uow, row.confirmed_by)
        penilai_person = session.get(SiasnPerson, row.confirmed_by) if row.confirmed_by else None
        if person is None:
            return Job(row.nip, row.period, row.revision, None, row.delete_record_id,
                       "ASN belum tercatat dari SIASN (sinkronkan dulu)")  # fmt: skip
        assert row.hasil_kerja and row.perilaku_kerja and row.predikat
        result = KinerjaResult(
            year=year,
            month=month,
            hasil=RATING_CODE[row.hasil_kerja],
            perilaku=RATING_CODE[row.perilaku_kerja],
            kuadran=row.predikat,
            pns_id=person.siasn_id,
            penilai_nip=row.confirmed_by or "",
            penilai_nama=penilai.nama if penilai else "",
            penilai_jabatan=penilai.jabatan if penilai else "",
            penilai_unor=penilai.opd if penilai else "",
            penilai_golongan=penilai_person.golongan if penilai_person else "",
        )
        return Job(row.nip, row.period, row.revision, result, row.delete_record_id)

    def _record(
        self, job: Job, outcome: str, value: str, now: datetime, held: Lease | None = None
    ) -> None:
        with self.kit.uow() as uow:
            self._fence(uow, held)
            row = uow.session.get(KinerjaDelivery, (job.nip, job.period))
            assert row is not None
            if outcome == "deleted":
                row.delete_record_id = None
            elif outcome == "sent":
                row.attempts += 1
                if row.revision == job.revision:
                    row.siasn_record_id, row.sent_revision = value, job.revision
                    row.state, row.last_error = SENT, ""
                else:  # corrected while in flight: what was sent goes, the newer one follows
                    row.delete_record_id, row.state, row.attempts = value, DUE, 0
            elif outcome == "retry":
                row.attempts += 1
                wait = self._wait(row.attempts)
                row.state, row.last_error = RETRY, value
                row.next_attempt_at = now + timedelta(seconds=wait)
            else:
                row.attempts += 1
                row.state, row.last_error = REFUSED, value
            row.updated_at = now
            uow.session.add(row)
            uow.commit()

    def _wait(self, attempts: int) -> float:
        p = self.policy
        return retry_delay_s(attempts, p.retry_base_s, p.retry_cap_s, self.rng.random())

    def backlog(self) -> dict[str, int]:
        with self.kit.uow() as uow:
            rows = uow.session.exec(
                select(KinerjaDelivery.state, func.count())
                .where(col(KinerjaDelivery.state).in_(BACKLOG_STATES))
                .group_by(KinerjaDelivery.state)
            ).all()
        counts = {state: int(n) for state, n in rows}
        BACKLOG.set(sum(counts.values()))
        return counts

    # -- sending -----------------------------------------------------------------------------
    async def deliver_once(self) -> int:
        """One pass over what is due; how many results SIASN accepted. Nothing while another
        replica holds the delivery lease."""
        if self.client is None:
            return 0
        async with (
            self._lock,
            lease.holding(
                self.kit.engine,
                JobLease,
                DELIVERY_LEASE,
                self.owner,
                self.kit.clock,
                self.policy.lease_s,
            ) as held,
        ):
            if held is None:
                return 0
            self.passes += 1
            await to_thread.run_sync(self.recover, held)
            jobs = await to_thread.run_sync(self.claim, self.kit.clock(), held)
            if not jobs:
                await to_thread.run_sync(self.backlog)
                return 0
            async with self.client() as client:
                outcomes = await asyncio.gather(*(self._send(client, j, held) for j in jobs))
            await to_thread.run_sync(self.backlog)
            return sum(outcomes)

    async def _send(self, client: SiasnClient, job: Job, held: Lease | None = None) -> int:
        record = partial(self._record, held=held)
        if job.result is None:
            await to_thread.run_sync(record, job, "refused", job.problem, self.kit.clock())
            return 0
        try:
            if job.delete_record_id:
                await client.delete_kinerja(job.delete_record_id)
                await to_thread.run_sync(record, job, "deleted", "", self.kit.clock())
            record_id = await client.save_kinerja(job.result)
        except SiasnUnavailable as exc:
            await to_thread.run_sync(record, job, "retry", str(exc), self.kit.clock())
            return 0
        except SiasnRejected as exc:
            await to_thread.run_sync(record, job, "refused", exc.message, self.kit.clock())
            return 0
        await to_thread.run_sync(record, job, "sent", record_id, self.kit.clock())
        return 1

    async def every(self, interval_s: float) -> None:
        while True:
            try:
                await self.deliver_once()
            except Exception as exc:  # noqa: BLE001 - the next pass tries again
                log.warning("siasn delivery pass failed", error=repr(exc))
            await asyncio.sleep(interval_s)
