"""siasn's employee import with periods (RULES.md "Employment within a month"): several
rows per NIP, each one EmployeeUpserted with its dates; overlapping rows refused per line;
an undated new NIP starts on the import's WIB day; a leaving ASN ended by aktif_sampai."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import FastAPI

from contracts.events import EmployeeDeactivated, EmployeeUpserted
from services.kernel.employment import Period
from services.shared.employees import find_employee, periods_of
from services.shared.settings import Settings
from services.siasn.app import create
from services.siasn.config import SiasnSettings
from tests.support import emitted, who

BKPSDM = who("196801011990031001", "bkpsdm")
A = "199001012015011001"
B = "198503152010122002"
C = "197001012000011001"
HEADER = "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu,aktif_mulai,aktif_sampai\n"


class Clock:
    def __init__(self) -> None:
        # 2026-11-30 18:30 UTC is 2026-12-01 01:30 WIB: the import day is the 1st
        self.now = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Siasn:
    app: FastAPI
    http: httpx.AsyncClient
    clock: Clock

    async def load(self, text: str) -> dict[str, object]:
        r = await self.http.post(
            "/api/v1/employees/import",
            content=text.encode(),
            headers={**BKPSDM, "content-type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        body: dict[str, object] = r.json()
        return body

    def upserts(self) -> list[EmployeeUpserted]:
        return [e for e in emitted(self.app.state.kit) if isinstance(e, EmployeeUpserted)]

    def periods(self, nip: str) -> list[Period]:
        with self.app.state.kit.uow() as uow:
            return periods_of(uow, nip)

    def active(self, nip: str) -> bool:
        with self.app.state.kit.uow() as uow:
            row = find_employee(uow, nip)
            assert row is not None
            return bool(row.active)


@pytest.fixture
async def siasn(memory_settings: Settings) -> AsyncIterator[Siasn]:
    clock = Clock()
    app = create(memory_settings, SiasnSettings(), clock=clock)
    app.state.kit.migrate()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        yield Siasn(app, http, clock)


def dates(events: list[EmployeeUpserted]) -> list[tuple[str, str, date | None, date | None]]:
    return [(e.nip, e.opd, e.aktif_mulai, e.aktif_sampai) for e in events]


async def test_several_rows_per_nip_become_one_dated_upsert_each(siasn: Siasn) -> None:
    body = await siasn.load(
        HEADER
        + f"{B},Budi,DISKOMINFO,Kepala Bidang,12,,9000000,2026-01-01,\n"
        + f"{A},Ani,DISKOMINFO,Pranata Komputer,7,{B},5300000,2026-01-01,2026-07-15\n"
        + f"{A},Ani,BAPPEDA,Pranata Komputer,7,{B},5300000,2026-07-16,\n"
    )
    assert body["accepted"] == 3 and body["changed"] == 3 and body["rejected"] == []
    assert dates(siasn.upserts()) == [
        (B, "DISKOMINFO", date(2026, 1, 1), None),
        (A, "DISKOMINFO", date(2026, 1, 1), date(2026, 7, 15)),
        (A, "BAPPEDA", date(2026, 7, 16), None),
    ]
    assert all(e.schema_version == 2 for e in siasn.upserts())
    # siasn's own projection holds both periods of A, as every consumer does
    got = [(p.first, p.last, p.opd) for p in siasn.periods(A)]
    assert got == [
        (date(2026, 1, 1), date(2026, 7, 15), "DISKOMINFO"),
        (date(2026, 7, 16), None, "BAPPEDA"),
    ]
    # the same file again: nothing changed, nothing announced
    again = await siasn.load(
        HEADER
        + f"{B},Budi,DISKOMINFO,Kepala Bidang,12,,9000000,2026-01-01,\n"
        + f"{A},Ani,DISKOMINFO,Pranata Komputer,7,{B},5300000,2026-01-01,2026-07-15\n"
        + f"{A},Ani,BAPPEDA,Pranata Komputer,7,{B},5300000,2026-07-16,\n"
    )
    assert again["changed"] == 0 and len(siasn.upserts()) == 3


async def test_overlapping_and_bad_dated_rows_are_refused_per_line_the_good_ones_kept(
    siasn: Siasn,
) -> None:
    body = await siasn.load(
        HEADER
        + f"{A},Ani,DISKOMINFO,Analis,7,,5300000,2026-01-01,2026-06-30\n"  # line 2
        + f"{A},Ani,BAPPEDA,Analis,7,,5300000,2026-06-15,\n"  # 3: overlaps line 2
        + f"{B},Budi,DISKOMINFO,Kepala,12,,9000000,2026-13-01,\n"  # 4: no 13th month
        + f"{C},Citra,DISKOMINFO,Staf,5,,3500000,2026-05-01,2026-04-30\n"  # 5: backwards
        + f"{A},Ani,BAPPEDA,Analis,7,,5300000,2026-07-01,\n"  # 6: after line 2, good
        + f"{C},Citra,DISKOMINFO,Staf,5,,3500000,01/05/2026,\n"  # 7: not YYYY-MM-DD
    )
    rejected = {r["line"]: r["reason"] for r in body["rejected"]}  # type: ignore[attr-defined]
    assert sorted(rejected) == [3, 4, 5, 7]
    assert "bertumpang tindih" in rejected[3] and "2026-01-01 s.d. 2026-06-30" in rejected[3]
    assert "aktif_mulai" in rejected[4] and "YYYY-MM-DD" in rejected[4]
    assert "lebih awal" in rejected[5]
    assert "aktif_mulai" in rejected[7]
    assert body["accepted"] == 2
    assert dates(siasn.upserts()) == [
        (A, "DISKOMINFO", date(2026, 1, 1), date(2026, 6, 30)),
        (A, "BAPPEDA", date(2026, 7, 1), None),
    ]


async def test_a_new_nip_without_aktif_mulai_starts_on_the_import_wib_day(siasn: Siasn) -> None:
    # the clock is 2026-11-30 18:30 UTC = 2026-12-01 01:30 WIB
    await siasn.load(
        "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu\n"
        + f"{A},Ani,DISKOMINFO,Analis,7,,5300000\n"
    )
    assert dates(siasn.upserts()) == [(A, "DISKOMINFO", date(2026, 12, 1), None)]
    # the next day the same undated row restates that period: nothing new
    siasn.clock.now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    again = await siasn.load(
        "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu\n"
        + f"{A},Ani,DISKOMINFO,Analis,7,,5300000\n"
    )
    assert again["changed"] == 0
    # a corrected name, undated: the same period (from the 1st), not a new one
    await siasn.load(
        "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu\n"
        + f"{A},Ani Lestari,DISKOMINFO,Analis,7,,5300000\n"
    )
    last = siasn.upserts()[-1]
    assert (last.nama, last.aktif_mulai, last.aktif_sampai) == (
        "Ani Lestari",
        date(2026, 12, 1),
        None,
    )
    assert [(p.first, p.last, p.nama) for p in siasn.periods(A)] == [
        (date(2026, 12, 1), None, "Ani Lestari")
    ]


async def test_a_leaving_asn_is_ended_by_aktif_sampai_and_comes_back_from_the_import_day(
    siasn: Siasn,
) -> None:
    await siasn.load(HEADER + f"{A},Ani,DISKOMINFO,Analis,7,,5300000,2026-01-01,\n")
    # she leaves: her last row gets aktif_sampai (aktif_mulai may stay empty)
    await siasn.load(HEADER + f"{A},Ani,DISKOMINFO,Analis,7,,5300000,,2026-11-20\n")
    assert dates(siasn.upserts())[-1] == (A, "DISKOMINFO", date(2026, 1, 1), date(2026, 11, 20))
    # a dated upsert restates only its days: the leave itself follows, with the same day
    last = emitted(siasn.app.state.kit)[-1]
    assert isinstance(last, EmployeeDeactivated) and last.aktif_sampai == date(2026, 11, 20)
    assert [(p.first, p.last) for p in siasn.periods(A)] == [(date(2026, 1, 1), date(2026, 11, 20))]
    assert not siasn.active(A)
    # the same file again changes nothing
    again = await siasn.load(HEADER + f"{A},Ani,DISKOMINFO,Analis,7,,5300000,,2026-11-20\n")
    assert again["changed"] == 0
    # back, undated and open: from the import day (2026-12-01 WIB), never over the gap
    await siasn.load(HEADER + f"{A},Ani,BAPPEDA,Analis,7,,5300000,,\n")
    assert dates(siasn.upserts())[-1] == (A, "BAPPEDA", date(2026, 12, 1), None)
    assert [(p.first, p.last) for p in siasn.periods(A)] == [
        (date(2026, 1, 1), date(2026, 11, 20)),
        (date(2026, 12, 1), None),
    ]
    assert siasn.active(A)
