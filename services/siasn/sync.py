"""The sync from SIASN: read the city's ASN through the adapter (async, bounded), then in one
transaction diff against the store and emit only the changes (EmployeeUpserted,
EmployeeDeactivated) through the outbox, as periods with their dates (domain.diff says
which date each change takes). One sync at a time per process, and across replicas under
the sync lease; BKPSDM's "sync now" and the schedule share it.

Which ASN are the city's: every unit of SIASN's unit reference (`ref-unor`), listed unit by
unit, as public SIASN client libraries do. A unit BKPSDM has not mapped to an OPD is still
read: its ASN are reported as refused ("unit belum dipetakan"), so a new unit shows up
instead of silently dropping its people.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from anyio import to_thread
from sqlmodel import select

from contracts.events import EmployeeDeactivated
from services.kernel.calendar import WIB
from services.shared import lease
from services.shared.employees import all_periods, apply_employee_event
from services.shared.kit import ServiceKit
from services.shared.lease import Lease
from services.shared.logs import get_logger
from services.siasn import domain
from services.siasn.adapter import SiasnClient, SiasnEmployee, SiasnError, gather_bounded
from services.siasn.models import JobLease, PaguVersion, SiasnPerson, SyncRun, UnitOpd

log = get_logger("sikerja.siasn.sync")
SYNC_LEASE = "siasn-sync"
LEFT_REASON = "tidak lagi tercatat di SIASN"


@dataclass
class CityRead:
    """What one read of SIASN gave: the records, and the NIPs listed but not readable."""

    people: list[SiasnEmployee] = field(default_factory=list)
    unreadable: list[domain.Rejected] = field(default_factory=list)

    @property
    def seen(self) -> set[str]:
        return {p.nip for p in self.people} | {r.nip for r in self.unreadable}


async def read_city(client: SiasnClient) -> CityRead:
    """Every ASN of every unit. A unit that cannot be listed fails the whole read (a partial
    list would turn its people into leavers); one person that cannot be read does not."""
    units = await client.units()

    async def members(unor_id: str) -> list[str]:
        return [nip async for nip in client.unit_members(unor_id)]

    listed = await asyncio.gather(*(members(u.id) for u in units))
    nips = sorted({nip for group in listed for nip in group})
    out = CityRead()
    for nip, got in await gather_bounded(nips, client.employee):
        if isinstance(got, SiasnEmployee):
            out.people.append(got)
        elif got is None:
            out.unreadable.append(domain.Rejected(nip, "tidak ditemukan di data utama SIASN"))
        elif isinstance(got, SiasnError):
            out.unreadable.append(domain.Rejected(nip, str(got)))
        else:
            raise got
    return out


@dataclass(frozen=True)
class SyncSummary:
    run_id: int
    read: int
    upserted: int
    deactivated: int
    unchanged: int
    rejected: list[domain.Rejected]


def apply_read(
    kit: ServiceKit,
    city: CityRead,
    run_id: int,
    now: datetime,
    held: Lease | None = None,
    lease_s: float = 60.0,
) -> SyncSummary:
    """Diff `city` against the store and emit the changes, in one transaction (fenced by
    the sync's lease when `held` is given). Each change is applied to siasn's own projection
    the way every consumer applies it (periods included)."""
    on = now.astimezone(WIB).date()
    employee = kit.tables.employee
    with kit.uow() as uow:
        if held is not None:
            lease.fence(uow.session, held, now, lease_s)
        s = uow.session
        known_rows = s.exec(select(employee)).all()
        periods = all_periods(uow)
        persons = {p.nip: p for p in s.exec(select(SiasnPerson)).all()}
        unit_opd = {u.unor_id: u.opd for u in s.exec(select(UnitOpd)).all()}
        pagu = [
            domain.PaguEntry(p.kelas_jabatan, p.berlaku_mulai, p.pagu)
            for p in s.exec(select(PaguVersion)).all()
        ]
        read_nips = {p.nip for p in city.people}
        others = {e.nip: e.atasan_nip for e in known_rows if e.active and e.nip not in read_nips}
        rows, refused = domain.resolve(
            (_record(p) for p in city.people),
            unit_opd,
            pagu,
            on,
            others,
            {e.nip: e.pin for e in known_rows},
        )
        tmt = {p.nip: p.tmt_jabatan for p in city.people}
        changes = domain.diff(periods, rows, persons, city.seen, on, tmt, pagu)
        for row in changes.upserts:
            upserted = row.upserted(now)
            apply_employee_event(uow, upserted)
            uow.emit(upserted)
        for nip in changes.leavers:
            left = EmployeeDeactivated(
                occurred_at=now,
                producer="siasn",
                nip=nip,
                reason=LEFT_REASON,
                aktif_sampai=changes.last_day,
            )
            apply_employee_event(uow, left)
            uow.emit(left)
        by_nip = {p.nip: p for p in city.people}
        for row in rows:
            p = by_nip[row.nip]
            person = persons.get(row.nip) or SiasnPerson(
                nip=row.nip, siasn_id=p.siasn_id, unor_id=p.unor_id, last_seen_at=now
            )
            person.siasn_id, person.unor_id, person.golongan = p.siasn_id, p.unor_id, p.golongan
            person.last_seen_at = now
            s.add(person)
        rejected = [*refused, *city.unreadable]
        run = s.get(SyncRun, run_id)
        assert run is not None
        run.finished_at, run.status = now, "selesai"
        run.read, run.upserted = len(city.people), len(changes.upserts)
        run.deactivated, run.unchanged = len(changes.leavers), changes.unchanged
        run.rejected_json = json.dumps([{"nip": r.nip, "reason": r.reason} for r in rejected])
        s.add(run)
        uow.commit()
    return SyncSummary(
        run_id,
        len(city.people),
        len(changes.upserts),
        len(changes.leavers),
        changes.unchanged,
        rejected,
    )


def _record(p: SiasnEmployee) -> domain.SiasnRecord:
    return domain.SiasnRecord(
        nip=p.nip,
        nama=p.nama,
        unor_id=p.unor_id,
        jabatan=p.jabatan,
        kelas_jabatan=p.kelas_jabatan,
        atasan_nip=p.atasan_nip,
        tmt_jabatan=p.tmt_jabatan,
    )


class SyncBusy(Exception):
    """A sync is already running."""


class SyncRunner:
    """Runs syncs one at a time: `run()` for "sync now" and the schedule. One at a time
    across replicas too: a sync runs under the "siasn-sync" lease and its one write is
    fenced (a replica that paused past its lease writes nothing)."""

    def __init__(
        self,
        kit: ServiceKit,
        client: Callable[[], SiasnClient] | None,
        lease_s: float = 60.0,
    ) -> None:
        self.kit = kit
        self.client = client  # None: no SIASN configured
        self.lease_s = lease_s
        self.owner = uuid.uuid4().hex  # this replica, in the lease
        self._lock = asyncio.Lock()

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def begin(self, trigger: str) -> int:
        with self.kit.uow() as uow:
            run = SyncRun(started_at=self.kit.clock(), trigger=trigger)
            uow.session.add(run)
            uow.commit()
            assert run.id is not None
            return run.id

    async def run(self, trigger: str, run_id: int | None = None) -> SyncSummary:
        if self.client is None:
            raise SiasnError("SIASN belum dikonfigurasi (SIKERJA_SIASN_BASE_URL kosong)")
        if self._lock.locked() and run_id is None:
            raise SyncBusy("sinkronisasi SIASN sedang berjalan")
        client = self.client
        async with (
            self._lock,
            lease.holding(
                self.kit.engine, JobLease, SYNC_LEASE, self.owner, self.kit.clock, self.lease_s
            ) as held,
        ):
            if held is None:  # the scheduled round of another replica, or its "sync now"
                busy = SyncBusy("sinkronisasi SIASN sedang berjalan di replika lain")
                if run_id is not None:
                    await to_thread.run_sync(self._failed, run_id, busy)
                raise busy
            rid = run_id if run_id is not None else await to_thread.run_sync(self.begin, trigger)
            try:
                async with client() as siasn:
                    city = await read_city(siasn)
                summary = await to_thread.run_sync(
                    apply_read, self.kit, city, rid, self.kit.clock(), held, self.lease_s
                )
            except Exception as exc:
                await to_thread.run_sync(self._failed, rid, exc)
                raise
            log.info(
                "siasn sync done",
                read=summary.read,
                upserted=summary.upserted,
                deactivated=summary.deactivated,
                rejected=len(summary.rejected),
            )
            return summary

    def _failed(self, run_id: int, exc: BaseException) -> None:
        with self.kit.uow() as uow:
            run = uow.session.get(SyncRun, run_id)
            if run is not None:
                run.status, run.finished_at = "gagal", self.kit.clock()
                run.error = str(exc)[:500]
                uow.session.add(run)
            uow.commit()

    async def every(self, interval_s: float) -> None:
        """The scheduled sync: forever, every `interval_s` (a failure waits for the next)."""
        while True:
            await asyncio.sleep(interval_s)
            if self._lock.locked():
                continue
            try:
                await self.run("jadwal")
            except SyncBusy:
                continue  # another replica's round
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                log.warning("scheduled siasn sync failed", error=repr(exc))
