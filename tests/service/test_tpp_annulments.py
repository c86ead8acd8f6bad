"""BKPSDM's annulments over TPP's HTTP API (RULES.md "Annulled cuts"), in-process, events
through `kit.handle` as the consumer would.

By hand (Bekasi rule set), on Monday 2026-10-05:
- Ani, OPD A, pagu 10.000.000 (disiplin 4.000.000, produktivitas 6.000.000): 37 minutes late
  -> TL1 0,25% = 25.000; her report is approved, no LKH line; net 9.975.000.
- Budi, OPD A, pagu 4.000.000 (disiplin 1.600.000, produktivitas 2.400.000): absent without
  notice -> TK 5% = 200.000; the day is a required report day without an approved report
  -> LKH 2.400.000 / 1 = 2.400.000; net 4.000.000 - 200.000 - 2.400.000 = 1.400.000.
- Cici, OPD B, pagu 4.000.000: 37 minutes late -> TL1 10.000; report approved; net 3.990.000.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from contracts.events import Event, TppRecomputed
from services.shared.kit import ServiceKit
from services.shared.settings import Settings
from services.tpp.app import create
from tests import factories
from tests.support import emitted, who

NOW = datetime(2026, 10, 6, 1, 0, tzinfo=UTC)
MON = date(2026, 10, 5)
BKPSDM = who("197001011995031001", "bkpsdm")
ANI, BUDI, CICI = factories.nip(), factories.nip(), factories.nip()
OPD_A, OPD_B = "Dinas Kesehatan", "Dinas Pendidikan"
PDF = b"%PDF-1.4\n% berita acara kerusakan mesin\n"


async def handle(kit: ServiceKit, event: Event) -> None:
    assert await kit.handle(event.to_bytes()) == "handled"


@pytest.fixture
async def client(memory_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create(memory_settings)
    kit: ServiceKit = app.state.kit
    kit.migrate()
    for nip, opd, pagu in (
        (ANI, OPD_A, 10_000_000),
        (BUDI, OPD_A, 4_000_000),
        (CICI, OPD_B, 4_000_000),
    ):
        await handle(kit, factories.employee(nip, at=NOW, opd=opd, tpp_pagu=pagu))
    await handle(kit, factories.day_closed(ANI, MON, 1, NOW, late=37))
    await handle(kit, factories.approved(ANI, MON, NOW))
    await handle(kit, factories.day_closed(BUDI, MON, 1, NOW, "tanpa_keterangan"))
    await handle(kit, factories.day_closed(CICI, MON, 1, NOW, late=37))
    await handle(kit, factories.approved(CICI, MON, NOW))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tpp", headers=BKPSDM
    ) as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


def kit_of(client: httpx.AsyncClient) -> ServiceKit:
    return client.app.state.kit  # type: ignore[attr-defined,no-any-return]


async def annul(
    client: httpx.AsyncClient,
    document: bytes = PDF,
    headers: dict[str, str] | None = None,
    **fields: str,
) -> httpx.Response:
    data = {"tanggal": MON.isoformat(), "alasan": "Mesin sidik jari rusak", **fields}
    return await client.post(
        "/api/v1/annulments",
        data=data,
        files={"dokumen": ("berita-acara.pdf", document, "application/pdf")},
        headers=headers or BKPSDM,
    )


async def statement(client: httpx.AsyncClient, nip: str) -> dict[str, Any]:
    got = await client.get(f"/api/v1/employees/{nip}/statements/2026-10")
    assert got.status_code == 200, got.text
    return got.json()  # type: ignore[no-any-return]


def recomputed(client: httpx.AsyncClient) -> list[TppRecomputed]:
    return [e for e in emitted(kit_of(client)) if isinstance(e, TppRecomputed)]


async def test_annulling_one_nip_recomputes_at_once_with_the_annulment_as_cause(
    client: httpx.AsyncClient,
) -> None:
    before = len(recomputed(client))
    got = await annul(client, nip=ANI, kode="TL1")
    assert got.status_code == 201, got.text
    body = got.json()
    assert (body["nip"], body["kode"], body["status"], body["dihitung_ulang"]) == (
        ANI,
        "TL1",
        "aktif",
        1,
    )
    ani = await statement(client, ANI)
    assert ani["lines"][0]["amount"] == 0
    assert ani["lines"][0]["annulled_amount"] == 25_000
    assert ani["lines"][0]["annulled_reason"] == "Mesin sidik jari rusak"
    assert (ani["attendance_deduction"], ani["net"]) == (0, 10_000_000)
    events = recomputed(client)[before:]
    assert len(events) == 1
    event = events[0]
    assert (event.nip, event.old_net, event.new_net) == (ANI, 9_975_000, 10_000_000)
    assert event.cause_event_type == "AnnulmentRecorded"
    assert event.cause_annulment_id == body["id"]
    # the audit log names who and when; the event's cause is that log entry
    log = (await client.get("/api/v1/annulment-log")).json()
    assert [(e["tindakan"], e["oleh"], e["annulment_id"]) for e in log] == [
        ("dibuat", "197001011995031001", body["id"])
    ]
    assert str(event.cause_event_id) == log[0]["action_id"]
    # the ASN sees the annulled line on their own statement
    own = await client.get(
        f"/api/v1/employees/{ANI}/statements/2026-10", headers=who(ANI, "asn", OPD_A)
    )
    assert own.json()["lines"][0]["annulled_amount"] == 25_000


async def test_an_opd_annulment_without_a_code_annuls_every_line_of_that_opd_and_date(
    client: httpx.AsyncClient,
) -> None:
    # BKPSDM confirms attendance's device-outage proposal: the annulment cites it
    proposal = f"gangguan-mesin:{OPD_A}:2026-10-05"
    got = await annul(client, opd=OPD_A, usulan=proposal)
    assert got.status_code == 201, got.text
    assert got.json()["dihitung_ulang"] == 2
    assert got.json()["usulan"] == proposal
    budi = await statement(client, BUDI)
    # TK 200.000 and LKH 2.400.000 both stand at 0; the day stays a required report day
    assert [(ln["code"], ln["amount"], ln["annulled_amount"]) for ln in budi["lines"]] == [
        ("LKH", 0, 2_400_000),
        ("TK", 0, 200_000),
    ]
    assert (budi["required_report_days"], budi["approved_report_days"]) == (1, 0)
    assert budi["net"] == 4_000_000
    assert (await statement(client, ANI))["net"] == 10_000_000
    cici = await statement(client, CICI)  # OPD B: untouched
    assert cici["net"] == 3_990_000 and "annulled_amount" not in cici["lines"][0]
    causes = {e.nip: e.cause_event_type for e in recomputed(client)[-2:]}
    assert causes == {ANI: "AnnulmentRecorded", BUDI: "AnnulmentRecorded"}


async def test_an_opd_annulment_with_a_code_leaves_the_other_lines(
    client: httpx.AsyncClient,
) -> None:
    got = await annul(client, opd=OPD_A, kode="TK")
    assert got.status_code == 201, got.text
    budi = await statement(client, BUDI)
    # only TK goes: 4.000.000 - 2.400.000 (LKH stands) = 1.600.000
    assert budi["net"] == 1_600_000
    assert (await statement(client, ANI))["net"] == 9_975_000  # Ani has no TK line


async def test_revoking_brings_the_line_back_and_is_logged(client: httpx.AsyncClient) -> None:
    created = (await annul(client, nip=ANI, kode="TL1")).json()
    denied = await client.post(
        f"/api/v1/annulments/{created['id']}/revoke",
        json={"alasan": "salah input"},
        headers=who(None, "auditor"),
    )
    assert denied.status_code == 403
    revoked = await client.post(
        f"/api/v1/annulments/{created['id']}/revoke", json={"alasan": "Mesin ternyata normal"}
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "dicabut"
    ani = await statement(client, ANI)
    assert ani["net"] == 9_975_000 and ani["lines"][0]["amount"] == 25_000
    assert "annulled_amount" not in ani["lines"][0]
    last = recomputed(client)[-1]
    assert (last.old_net, last.new_net, last.cause_event_type) == (
        10_000_000,
        9_975_000,
        "AnnulmentRevoked",
    )
    assert last.cause_annulment_id == created["id"]
    again = await client.post(f"/api/v1/annulments/{created['id']}/revoke", json={"alasan": "lagi"})
    assert again.status_code == 409
    one = (await client.get(f"/api/v1/annulments/{created['id']}")).json()
    assert [e["tindakan"] for e in one["riwayat"]] == ["dibuat", "dicabut"]
    assert one["alasan_pencabutan"] == "Mesin ternyata normal"
    listed = await client.get("/api/v1/annulments", params={"status": "aktif"})
    assert listed.json() == []
    listed = await client.get("/api/v1/annulments", params={"status": "dicabut", "nip": ANI})
    assert [a["id"] for a in listed.json()] == [created["id"]]


async def test_after_close_an_annulment_is_a_pending_correction_applied_on_reopen(
    client: httpx.AsyncClient,
) -> None:
    closed = await client.post("/api/v1/periods/2026-10/close")
    assert closed.status_code == 200, closed.text
    before = len(recomputed(client))
    got = await annul(client, nip=ANI, kode="TL1")
    assert got.status_code == 201, got.text
    assert (got.json()["dihitung_ulang"], got.json()["koreksi_tertunda"]) == (0, 1)
    assert (await statement(client, ANI))["net"] == 9_975_000  # frozen
    assert len(recomputed(client)) == before
    pending = (await client.get("/api/v1/periods/2026-10/corrections")).json()
    assert [(c["nip"], c["event_type"]) for c in pending["corrections"]] == [
        (ANI, "AnnulmentRecorded")
    ]
    reopened = await client.post("/api/v1/periods/2026-10/reopen")
    assert reopened.status_code == 200, reopened.text
    change = reopened.json()["recomputed"][0]
    assert (change["nip"], change["old_net"], change["new_net"]) == (ANI, 9_975_000, 10_000_000)
    assert [c["kind"] for c in change["changes"]] == ["line_annulled", "net_changed"]
    last = recomputed(client)[-1]
    assert (last.nip, last.cause_event_type) == (ANI, "AnnulmentRecorded")
    assert last.cause_annulment_id == got.json()["id"]


async def test_only_bkpsdm_records_an_annulment(client: httpx.AsyncClient) -> None:
    for caller in (
        who(None, "auditor"),
        who(factories.nip(), "operator", OPD_A),
        who(ANI, "asn", OPD_A),
    ):
        got = await annul(client, headers=caller, nip=ANI)
        assert got.status_code == 403, got.text
        assert got.headers["content-type"].startswith("application/problem+json")
        assert "BKPSDM" in got.json()["detail"]
    assert (await statement(client, ANI))["net"] == 9_975_000


async def test_a_bad_document_or_bad_fields_are_refused_in_bahasa(
    client: httpx.AsyncClient,
) -> None:
    text = await annul(client, document=b"bukan pdf, hanya teks", nip=ANI)
    assert text.status_code == 422, text.text
    assert text.headers["content-type"].startswith("application/problem+json")
    assert "PDF, JPG atau PNG" in text.json()["detail"]
    missing = await client.post(
        "/api/v1/annulments", data={"tanggal": MON.isoformat(), "nip": ANI, "alasan": "x"}
    )
    assert missing.status_code == 422 and "wajib" in missing.json()["detail"]
    both = await annul(client, nip=ANI, opd=OPD_A)
    assert both.status_code == 422 and "tepat satu" in both.json()["detail"]
    code = await annul(client, nip=ANI, kode="XX")
    assert code.status_code == 422 and "TL1" in code.json()["detail"]
    nobody = await annul(client, opd="Dinas Fiktif")
    assert nobody.status_code == 422 and "tidak ada pegawai" in nobody.json()["detail"]
    future = await annul(client, nip=ANI, tanggal="2099-01-05")
    assert future.status_code == 422 and "belum terjadi" in future.json()["detail"]
    assert (await client.get("/api/v1/annulments")).json() == []
    assert (await statement(client, ANI))["net"] == 9_975_000
    twice = await annul(client, nip=ANI, kode="TL1")
    assert twice.status_code == 201
    same = await annul(client, nip=ANI, kode="TL1")
    assert same.status_code == 409


async def test_an_operator_reads_their_own_opd_and_downloads_the_document(
    client: httpx.AsyncClient,
) -> None:
    a = (await annul(client, opd=OPD_A)).json()
    b = (await annul(client, nip=CICI)).json()
    ops_a = who(factories.nip(), "operator", OPD_A)
    mine = await client.get("/api/v1/annulments", headers=ops_a)
    assert [x["id"] for x in mine.json()] == [a["id"]]
    other = await client.get("/api/v1/annulments", params={"opd": OPD_B}, headers=ops_a)
    assert other.status_code == 403
    assert (await client.get(f"/api/v1/annulments/{b['id']}", headers=ops_a)).status_code == 403
    doc = await client.get(f"/api/v1/annulments/{a['id']}/document", headers=ops_a)
    assert doc.status_code == 200 and doc.content == PDF
    assert doc.headers["content-type"] == "application/pdf"
    city = await client.get("/api/v1/annulments", params={"period": "2026-10"})
    assert {x["id"] for x in city.json()} == {a["id"], b["id"]}


async def test_the_payroll_export_shows_annulled_lines(client: httpx.AsyncClient) -> None:
    assert (await annul(client, nip=ANI, kode="TL1")).status_code == 201
    exported = await client.get("/api/v1/periods/2026-10/export.csv", params={"draft": "true"})
    assert exported.status_code == 200, exported.text
    rows = {r["nip"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert (rows[ANI]["tpp_bersih"], rows[ANI]["potongan_dibatalkan"]) == ("10000000", "25000")
    assert rows[BUDI]["potongan_dibatalkan"] == "0"
    xlsx = await client.get("/api/v1/periods/2026-10/export.xlsx", params={"draft": "true"})
    book = load_workbook(io.BytesIO(xlsx.content))
    sheet = book["Potongan Dibatalkan"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values == [
        [OPD_A, ANI, "Pegawai Uji", "2026-10-05", "TL1", 25_000, "Mesin sidik jari rusak"]
    ]


async def test_the_city_summary_counts_cut_lines_per_code_and_annulled_apart(
    client: httpx.AsyncClient,
) -> None:
    assert (await annul(client, opd=OPD_A, kode="TK")).status_code == 201
    city = (await client.get("/api/v1/periods/2026-10")).json()
    # TL1: Ani 25.000 + Cici 10.000 = 35.000 (2 lines); LKH: Budi 2.400.000 (1 line);
    # TK: Budi's 200.000 annulled, none standing.
    assert city["by_code"] == [
        {"code": "LKH", "count": 1, "amount": 2_400_000, "annulled_count": 0, "annulled_amount": 0},
        {"code": "TK", "count": 0, "amount": 0, "annulled_count": 1, "annulled_amount": 200_000},
        {"code": "TL1", "count": 2, "amount": 35_000, "annulled_count": 0, "annulled_amount": 0},
    ]
