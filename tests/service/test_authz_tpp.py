"""Authorization matrix of tpp's routes (issue 12), over HTTP with real tokens.

The subject is employee A of OPD X whose atasan is B; A's colleague C (OPD X, another atasan)
and D of OPD Y exist too. A statement and the day facts are a person's: A, A's atasan, X's
operator and the city readers. An OPD's sheet: X's operator and the city readers. The city's
month, the pending corrections, the rule sets, the what-if and the payroll export (which
covers the whole city, not one OPD): the city readers; one OPD's payroll export: its
operator too. Closing and reopening a month: BKPSDM and the service account only; an
auditor reads, never writes. Annulments: BKPSDM records and revokes; X's operator and the
city readers read those of X; the audit log is the city readers'.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime

import httpx
import pytest

from services.shared.kit import ServiceKit
from services.shared.settings import Settings
from services.tpp.app import create
from tests import factories
from tests.authz import CITY, CITY_WRITERS, Rule, check_rules, uncovered
from tests.support import who

NOW = datetime(2026, 10, 6, 1, 0, tzinfo=UTC)
MON = date(2026, 10, 5)
X, Y = "Dinas Kesehatan", "Dinas Pendidikan"
A, B, C, D = (factories.nip() for _ in range(4))
B2, OPS_X, OPS_Y, CITY_NIP = (factories.nip() for _ in range(4))

PDF = b"%PDF-1.4\n% berita acara\n"
PERSON = frozenset({"asn_self", "atasan_own", "operator_own"}) | CITY
OPD_READERS = frozenset({"operator_own"}) | CITY

RULES: list[Rule] = [
    Rule("GET", "/api/v1/employees/{nip}/days", PERSON),
    Rule("GET", "/api/v1/employees/{nip}/statements/{period}", PERSON),
    Rule("GET", "/api/v1/periods/{period}", CITY),
    Rule("GET", "/api/v1/periods/{period}/opds/{opd}", OPD_READERS),
    Rule("GET", "/api/v1/periods/{period}/corrections", CITY),
    Rule(
        "POST",
        "/api/v1/periods/{period}/recompute",
        CITY,
        params={"rules": "perwali-69-2019"},
        note="simulasi, tidak disimpan",
    ),
    Rule(
        "GET",
        "/api/v1/periods/{period}/export.xlsx",
        CITY,
        params={"draft": "true"},
        note="seluruh kota; operator memakai lembar OPD-nya",
    ),
    Rule(
        "GET",
        "/api/v1/periods/{period}/export.csv",
        CITY,
        params={"draft": "true"},
        note="seluruh kota; operator memakai lembar OPD-nya",
    ),
    Rule(
        "GET",
        "/api/v1/periods/{period}/opds/{opd}/export.xlsx",
        OPD_READERS,
        params={"draft": "true"},
        note="satu OPD: operator OPD itu saja, bukan OPD lain",
    ),
    Rule("GET", "/api/v1/rulesets", CITY),
    Rule("POST", "/api/v1/periods/{period}/close", CITY_WRITERS),
    Rule("POST", "/api/v1/periods/{period}/reopen", CITY_WRITERS),
    Rule(
        "POST",
        "/api/v1/annulments",
        CITY_WRITERS,
        files={
            "tanggal": (None, MON.isoformat()),
            "nip": (None, A),
            "kode": (None, "TL1"),
            "alasan": (None, "Mesin sidik jari rusak"),
            "dokumen": ("ba.pdf", PDF, "application/pdf"),
        },
        note="BKPSDM membatalkan potongan, dengan dokumen",
    ),
    Rule(
        "GET",
        "/api/v1/annulments",
        OPD_READERS,
        params={"opd": X},
        note="operator: OPD-nya saja; ASN melihat baris yang dibatalkan di rinciannya",
    ),
    Rule("GET", "/api/v1/annulments/{annulment_id}", OPD_READERS),
    Rule("GET", "/api/v1/annulments/{annulment_id}/document", OPD_READERS),
    Rule(
        "POST",
        "/api/v1/annulments/{annulment_id}/revoke",
        CITY_WRITERS,
        body={"alasan": "salah input"},
    ),
    Rule("GET", "/api/v1/annulment-log", CITY),
]

VALUES = {"nip": A, "period": "2026-10", "opd": X}


def headers_of(caller: str) -> Mapping[str, str]:
    return {
        "asn_self": who(A, "asn", X),
        "asn_other": who(C, "asn", X),
        "atasan_own": who(B, "atasan", X),
        "atasan_other": who(B2, "atasan", Y),
        "operator_own": who(OPS_X, "operator", X),
        "operator_other": who(OPS_Y, "operator", Y),
        "bkpsdm": who(CITY_NIP, "bkpsdm"),
        "auditor": who(CITY_NIP, "auditor"),
        "system": who(None, "system"),
    }[caller]


@pytest.fixture
async def client(memory_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create(memory_settings)
    kit: ServiceKit = app.state.kit
    kit.migrate()
    for nip, boss, opd in ((A, B, X), (C, B2, X), (D, B2, Y), (B, None, X)):
        await kit.handle(factories.employee(nip, boss, NOW, opd=opd, tpp_pagu=5_000_000).to_bytes())
        await kit.handle(factories.day_closed(nip, MON, 1, NOW, late=37).to_bytes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tpp"
    ) as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


async def test_every_route_is_in_the_matrix(client: httpx.AsyncClient) -> None:
    assert uncovered(client.app.openapi(), RULES) == []  # type: ignore[attr-defined]


async def test_the_matrix_holds(client: httpx.AsyncClient) -> None:
    # an annulment of A's late line, for the routes that read or revoke one
    made = await client.post(
        "/api/v1/annulments",
        data={"tanggal": MON.isoformat(), "nip": A, "alasan": "Listrik padam"},
        files={"dokumen": ("ba.pdf", PDF, "application/pdf")},
        headers=who(CITY_NIP, "bkpsdm"),
    )
    assert made.status_code == 201, made.text
    values = {**VALUES, "annulment_id": made.json()["id"]}
    failures = await check_rules(client, RULES, values, headers_of)
    assert failures == [], "\n".join(failures)


async def test_an_atasan_sees_only_their_subordinates_statement(
    client: httpx.AsyncClient,
) -> None:
    # the leak: the asn check was skipped for any caller whose token said `atasan`
    mine = await client.get(f"/api/v1/employees/{A}/statements/2026-10", headers=who(B, "atasan"))
    assert mine.status_code == 200, mine.text
    other = await client.get(f"/api/v1/employees/{D}/statements/2026-10", headers=who(B, "atasan"))
    assert other.status_code == 403, other.text
    assert other.headers["content-type"].startswith("application/problem+json")


async def test_another_persons_day_facts_and_another_opds_sheet_are_refused(
    client: httpx.AsyncClient,
) -> None:
    days = await client.get(f"/api/v1/employees/{A}/days", headers=who(C, "asn", X))
    assert days.status_code == 403, days.text
    sheet = await client.get(f"/api/v1/periods/2026-10/opds/{X}", headers=who(OPS_Y, "operator", Y))
    assert sheet.status_code == 403, sheet.text
    own = await client.get(f"/api/v1/periods/2026-10/opds/{X}", headers=who(OPS_X, "operator", X))
    assert own.status_code == 200, own.text
    assert {s["nip"] for s in own.json()["statements"]} == {A, B, C}


async def test_an_unknown_nip_looks_like_a_foreign_one(client: httpx.AsyncClient) -> None:
    unknown = factories.nip()
    for path in (f"/api/v1/employees/{unknown}/days", f"/api/v1/employees/{D}/days"):
        got = await client.get(path, headers=who(OPS_X, "operator", X))
        assert got.status_code == 403, got.text


async def test_an_operator_downloads_their_own_opds_payroll_and_no_other(
    client: httpx.AsyncClient,
) -> None:
    from openpyxl import load_workbook

    own = await client.get(
        f"/api/v1/periods/2026-10/opds/{X}/export.xlsx",
        params={"draft": "true"},
        headers=who(OPS_X, "operator", X),
    )
    assert own.status_code == 200, own.text
    assert own.headers["content-disposition"].endswith('"tpp-2026-10-dinas-kesehatan.xlsx"')
    book = load_workbook(io.BytesIO(own.content), read_only=True)
    assert book.sheetnames == ["Ringkasan", X]
    nips = {row[1] for row in book[X].iter_rows(min_row=3, values_only=True)} - {"JUMLAH"}
    assert nips == {A, B, C}  # D works in Y
    summary = list(book["Ringkasan"].iter_rows(values_only=True))
    assert summary[-1][:2] == ("JUMLAH OPD", 3)
    other = await client.get(
        f"/api/v1/periods/2026-10/opds/{Y}/export.xlsx",
        params={"draft": "true"},
        headers=who(OPS_X, "operator", X),
    )
    assert other.status_code == 403, other.text
    assert "OPD ini" in other.json()["detail"]
    # without draft, an open month is refused with what to do
    final = await client.get(
        f"/api/v1/periods/2026-10/opds/{X}/export.xlsx", headers=who(OPS_X, "operator", X)
    )
    assert final.status_code == 409 and "belum ditutup" in final.json()["detail"]


async def test_the_rule_sets_say_which_one_is_in_force(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/api/v1/rulesets", params={"period": "2026-10"}, headers=who(CITY_NIP, "bkpsdm")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    names = {x["name"]: x for x in body["rulesets"]}
    assert body["in_force"] == "bekasi-perwali-69-2019"
    assert names["bekasi-perwali-69-2019"]["in_force"] is True
    assert names["contoh-daerah-lain"]["in_force"] is False  # another region, never by date
    assert names["bekasi-perwali-69-2019"]["work_start"] == "07:30:00"
