"""The sync from SIASN: read the city's ASN through the adapter (async, bounded), then in one
transaction diff against the store and emit only the changes (EmployeeUpserted,
EmployeeDeactivated) through the outbox. One sync at a time per process; BKPSDM's "sync
now" and the schedule share it.

Which ASN are the city's: every unit of SIASN's unit reference (`ref-unor`), listed unit by
unit, as public SIASN client libraries do. A unit BKPSDM has not mapped to an OPD is still
read: its ASN are reported as refused ("unit belum dipetakan"), so a new unit shows up
instead of silently dropping its people.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from anyio import to_thread
from sqlmodel import select

from contracts.events import EmployeeDeactivated, EmployeeUpserted
from services.kernel.calendar import WIB
from services.shared.kit import ServiceKit
from services.shared.logs import get_logger
from services.siasn import domain
from services.siasn.adapter import SiasnClient, SiasnEmployee, SiasnError, gather_bounded
from services.siasn.models import PaguVersion, SiasnPerson, SyncRun, UnitOpd

log = get_logger("sikerja.siasn.sync")
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


def apply_read(kit: ServiceKit, city: CityRead, run_id: int, now: datetime) -> SyncSummary:
    """Diff `city` against the store and emit the changes, in one transaction."""
    on = now.astimezone(WIB).date()
    employee = kit.tables.employee
    with kit.uow() as uow:
        s = uow.session
        known_rows = s.exec(select(employee)).all()
        known = {e.nip: (_row_of(e), e.active) for e in known_rows}
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
        changes = domain.diff(known, rows, persons, city.seen)
        current = {e.nip: e for e in known_rows}
        for row in changes.upserts:
            fields: dict[str, Any] = {
                "nama": row.nama,
                "opd": row.opd,
                "jabatan": row.jabatan,
                "kelas_jabatan": row.kelas_jabatan,
                "atasan_nip": row.atasan_nip,
                "tpp_pagu": row.tpp_pagu,
                "pin": row.pin,
            }
            target = current.get(row.nip) or employee(nip=row.nip, **fields)
            for key, value in fields.items():
                setattr(target, key, value)
            target.active, target.updated_at = True, now
            s.add(target)
            uow.emit(EmployeeUpserted(occurred_at=now, producer="siasn", nip=row.nip, **fields))
        for nip in changes.leavers:
            gone = current[nip]
            gone.active, gone.updated_at = False, now
            s.add(gone)
            uow.emit(
                EmployeeDeactivated(occurred_at=now, producer="siasn", nip=nip, reason=LEFT_REASON)
            )
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


def _row_of(e: Any) -> domain.EmployeeRow:
    return domain.EmployeeRow(
        nip=e.nip,
        nama=e.nama,
        opd=e.opd,
        jabatan=e.jabatan,
        kelas_jabatan=e.kelas_jabatan,
        atasan_nip=e.atasan_nip,
        tpp_pagu=e.tpp_pagu,
        pin=e.pin,
    )


def _record(p: SiasnEmployee) -> domain.SiasnRecord:
    return domain.SiasnRecord(
        nip=p.nip,
        nama=p.nama,
        unor_id=p.unor_id,
        jabatan=p.jabatan,
        kelas_jabatan=p.kelas_jabatan,
        atasan_nip=p.atasan_nip,
    )


class SyncBusy(Exception):
    """A sync is already running."""


class SyncRunner:
    """Runs syncs one at a time: `run()` for "sync now" and the schedule."""

    def __init__(self, kit: ServiceKit, client: Callable[[], SiasnClient] | None) -> None:
        self.kit = kit
        self.client = client  # None: no SIASN configured
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
        async with self._lock:
            rid = run_id if run_id is not None else await to_thread.run_sync(self.begin, trigger)
            try:
                async with self.client() as client:
                    city = await read_city(client)
                summary = await to_thread.run_sync(
                    apply_read, self.kit, city, rid, self.kit.clock()
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
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                log.warning("scheduled siasn sync failed", error=repr(exc))
