"""TPP's HTTP API on an in-process app (no broker: events go through `kit.handle`, the same
path the consumer takes). Pagu 10.000.000 for Ani (OPD A) and 4.000.000 for Budi (OPD B)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
from openpyxl import load_workbook

from contracts.events import AttendanceDayClosed, EmployeeUpserted, Event, ReportApproved
from services.shared.kit import ServiceKit
from services.shared.settings import Settings
from services.tpp.app import create
from tests import factories
from tests.support import who

NOW = datetime(2026, 10, 6, 1, 0, tzinfo=UTC)
MON = date(2026, 10, 5)
BKPSDM = who("197001011995031001", "bkpsdm")
ANI, BUDI = factories.nip(), factories.nip()
OPD_A, OPD_B = "Dinas Kesehatan", "Badan Kepegawaian dan Pengembangan SDM"


async def handle(kit: ServiceKit, event: Event) -> None:
    assert await kit.handle(event.to_bytes()) == "handled"


@pytest.fixture
async def client(memory_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create(memory_settings)
    kit: ServiceKit = app.state.kit
    kit.migrate()
    for nip, opd, pagu in ((ANI, OPD_A, 10_000_000), (BUDI, OPD_B, 4_000_000)):
        await handle(
            kit,
            EmployeeUpserted(
                occurred_at=NOW,
                producer="siasn",
                nip=nip,
                nama=f"Pegawai {nip[-3:]}",
                opd=opd,
                jabatan="Analis",
                kelas_jabatan=9,
                tpp_pagu=pagu,
            ),
        )
        await handle(
            kit,
            AttendanceDayClosed(
                occurred_at=NOW,
                producer="attendance",
                nip=nip,
                work_date=MON,
                revision=1,
                status="present",
                minutes_late=37,
                minutes_early=0,
            ),
        )
        await handle(
            kit,
            ReportApproved(
                occurred_at=NOW,
                producer="approval",
                nip=nip,
                report_id=f"r-{nip}",
                work_date=MON,
                decided_by=factories.nip(),
            ),
        )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://tpp", headers=who(None, "system")
    ) as http:
        yield http


async def test_statement_opd_and_city(client: httpx.AsyncClient) -> None:
    got = await client.get(f"/api/v1/employees/{ANI}/statements/2026-10")
    assert got.status_code == 200, got.text
    body = got.json()
    # TL1: 0,25% × 10.000.000 = 25.000; report approved: no LKH line.
    assert body["lines"] == [
        {
            "date": "2026-10-05",
            "code": "TL1",
            "percent": "0.25",
            "amount": 25_000,
            "article": "Perwali Kota Bekasi 69/2019 Pasal 9 ayat (2) huruf a",
        }
    ]
    assert (body["pagu"], body["discipline"], body["productivity"]) == (
        10_000_000,
        4_000_000,
        6_000_000,
    )
    assert body["attendance_deduction_cap"] == 4_000_000
    assert body["productivity_deduction_cap"] == 6_000_000
    assert body["net"] == 9_975_000 and body["status"] == "berjalan"
    assert body["rules"] == "bekasi-perwali-69-2019"

    # Budi: TL1 0,25% × 4.000.000 = 10.000 → net 3.990.000
    opd = (await client.get(f"/api/v1/periods/2026-10/opds/{OPD_B}")).json()
    assert [s["net"] for s in opd["statements"]] == [3_990_000]
    assert opd["totals"]["net"] == 3_990_000 and opd["totals"]["employees"] == 1

    city = (await client.get("/api/v1/periods/2026-10")).json()
    # 9.975.000 + 3.990.000 = 13.965.000; deductions 25.000 + 10.000 = 35.000
    assert city["totals"]["net"] == 13_965_000
    assert city["totals"]["attendance_deduction"] == 35_000
    assert sorted(o["opd"] for o in city["opds"]) == sorted([OPD_A, OPD_B])
    assert city["status"] == "open"


async def test_errors_are_problem_json_in_bahasa(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"/api/v1/employees/{ANI}/statements/2026-09")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert "belum ada" in missing.json()["detail"]
    bad = await client.get(f"/api/v1/employees/{ANI}/statements/2026-13")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_period"
    # The kernel's refusal, said once (it was wrapped: "Periode '2026-13' tidak valid: periode
    # '2026-13' tidak valid; ...").
    assert bad.json()["detail"].count("2026-13") == 1 and "YYYY-MM" in bad.json()["detail"]
    other = await client.get(
        f"/api/v1/employees/{ANI}/statements/2026-10",
        headers=who(BUDI, "asn"),
    )
    assert other.status_code == 403
    denied = await client.post("/api/v1/periods/2026-10/close", headers=who(None, "asn"))
    assert denied.status_code == 403 and "BKPSDM" in denied.json()["detail"]
    unknown = await client.post(
        "/api/v1/periods/2026-10/recompute?rules=../../etc/passwd", headers=BKPSDM
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_rules"
    draft = await client.get("/api/v1/periods/2026-10/export.csv", headers=BKPSDM)
    assert draft.status_code == 409 and "belum ditutup" in draft.json()["detail"]


async def test_what_if_close_export(client: httpx.AsyncClient) -> None:
    what_if = await client.post(
        "/api/v1/periods/2026-10/recompute?rules=contoh-daerah-lain", headers=BKPSDM
    )
    assert what_if.status_code == 200, what_if.text
    body = what_if.json()
    assert body["stored"] is False and body["changed"] == 2
    ani = next(d for d in body["differences"] if d["nip"] == ANI)
    # contoh-daerah-lain: 37 minutes is TL2 (31–90) at 1% = 100.000 → net 9.900.000
    assert (ani["old_net"], ani["new_net"]) == (9_975_000, 9_900_000)
    # lines are keyed by (date, code): TL1 goes, TL2 comes
    assert [(c["kind"], c["code"]) for c in ani["changes"]] == [
        ("rules_changed", None),
        ("line_removed", "TL1"),
        ("line_added", "TL2"),
        ("net_changed", None),
    ]
    # nothing stored
    again = (await client.get(f"/api/v1/employees/{ANI}/statements/2026-10")).json()
    assert again["net"] == 9_975_000 and again["rules"] == "bekasi-perwali-69-2019"

    closed = await client.post("/api/v1/periods/2026-10/close", headers=BKPSDM)
    assert closed.status_code == 200, closed.text
    assert closed.json()["statements"] == 2 and closed.json()["total_net"] == 13_965_000
    twice = await client.post("/api/v1/periods/2026-10/close", headers=BKPSDM)
    assert twice.status_code == 409

    exported = await client.get("/api/v1/periods/2026-10/export.csv", headers=BKPSDM)
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["opd"], r["nip"], r["tpp_bersih"]) for r in rows] == [
        (OPD_B, BUDI, "3990000"),
        (OPD_A, ANI, "9975000"),
    ]

    xlsx = await client.get("/api/v1/periods/2026-10/export.xlsx", headers=BKPSDM)
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    # OPD B's name is 38 characters: cut to Excel's 31.
    assert book.sheetnames == ["Ringkasan", OPD_B[:31], OPD_A]
    sheet = book[OPD_A]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert values[0][:2] == [1, ANI] and values[0][-1] == 9_975_000
    assert values[-1][1] == "JUMLAH" and values[-1][-1] == 9_975_000
    assert sheet.cell(row=3, column=10).number_format == '"Rp"#,##0'
    summary = [[c.value for c in row] for row in book["Ringkasan"].iter_rows(min_row=3)]
    assert summary[-1][0] == "JUMLAH KOTA" and summary[-1][-1] == 13_965_000
