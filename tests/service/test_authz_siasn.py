"""Authorization matrix of siasn (issue 12): the employee master import decides every
person's OPD, atasan and TPP pagu, so only BKPSDM (and a job's service account) may send it.

An OPD operator may not import even their own OPD's rows: the pagu and the atasan are
BKPSDM's decisions (an operator is an employee of that OPD, and would set their own pagu).
The leak the issue found: an asn raised their own pagu and made a colleague their atasan."""

from __future__ import annotations

import httpx

from services.shared.settings import Settings
from services.siasn.app import create
from tests.authz import CITY, CITY_WRITERS, SELF_AND_ABOVE, Rule, check_rules, uncovered
from tests.support import who

X, Y = "DISKOMINFO", "DINKES"
A = "199001012015011001"  # the subject, of X
B = "198503152010122002"  # A's atasan
C = "198807172014032003"  # A's colleague

CALLER_TOKENS = {
    "asn_self": (A, "asn", X),
    "asn_other": (C, "asn", X),
    "atasan_own": (B, "atasan", X),
    "atasan_other": ("197505052000031004", "atasan", Y),
    "operator_own": ("198001012005011006", "operator", X),
    "operator_other": ("198001012005011007", "operator", Y),
    "bkpsdm": ("196001011985011001", "bkpsdm", None),
    "auditor": ("196001011985011002", "auditor", None),
    "system": (None, "system", None),
}


def headers_of(caller: str) -> dict[str, str]:
    return who(*CALLER_TOKENS[caller])


HEADER = "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu\n"
EMPLOYEES = (
    HEADER
    + f"{B},Budi,{X},Kepala Bidang,12,,9000000\n"
    + f"{A},Ani,{X},Pranata Komputer,7,{B},5300000\n"
    + f"{C},Citra,{X},Pranata Komputer,7,{B},5300000\n"
).encode()

RULES: list[Rule] = [
    Rule(
        "POST",
        "/api/v1/employees/import",
        CITY_WRITERS,
        content=EMPLOYEES,
        headers={"content-type": "text/csv"},
        note="data induk: OPD, atasan dan pagu TPP ditetapkan BKPSDM",
    ),
    # The bridge to BKN's SIASN: BKPSDM's tables and the sync are BKPSDM's; what went out
    # (results, backlog, sync runs) is read by the city's readers.
    Rule("POST", "/api/v1/siasn/sync", CITY_WRITERS),
    Rule("GET", "/api/v1/siasn/sync", CITY),
    Rule("PUT", "/api/v1/siasn/units/{unor_id}", CITY_WRITERS, {"unor_id": "U1"}, body={"opd": X}),
    Rule(
        "GET",
        "/api/v1/siasn/units",
        CITY | {"operator_own", "operator_other"},
        note="tabel rujukan kota",
    ),
    Rule(
        "POST",
        "/api/v1/siasn/pagu",
        CITY_WRITERS,
        body={"berlaku_mulai": "2026-01-01", "pagu": {"7": 5_300_000}},
    ),
    Rule("GET", "/api/v1/siasn/pagu", CITY),
    Rule(
        "GET",
        "/api/v1/siasn/results",
        SELF_AND_ABOVE,
        params={"nip": A},
        note="operator: OPD-nya; ASN: dirinya; atasan: juga bawahannya (per bulan hasil)",
    ),
    Rule("GET", "/api/v1/siasn/backlog", CITY),
]


def client_of(settings: Settings) -> httpx.AsyncClient:
    app = create(settings)
    app.state.kit.migrate()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


async def test_every_route_is_in_the_matrix(memory_settings: Settings) -> None:
    assert uncovered(create(memory_settings).openapi(), RULES) == []


async def test_the_matrix_holds(memory_settings: Settings) -> None:
    async with client_of(memory_settings) as c:
        assert await check_rules(c, RULES, {}, headers_of) == []


async def test_an_asn_cannot_raise_their_pagu_or_pick_their_atasan(
    memory_settings: Settings,
) -> None:
    async with client_of(memory_settings) as c:
        r = await c.post(
            "/api/v1/employees/import", content=EMPLOYEES, headers=headers_of("bkpsdm")
        )
        assert r.status_code == 200 and r.json()["changed"] == 3, r.text
        forged = HEADER + f"{A},Ani,{X},Pranata Komputer,7,{C},95000000\n"
        for caller in ("asn_self", "atasan_own", "operator_own"):
            r = await c.post("/api/v1/employees/import", content=forged, headers=headers_of(caller))
            assert r.status_code == 403, caller
            assert r.headers["content-type"] == "application/problem+json"
            assert "berwenang" in r.json()["detail"]
        # the master still says what BKPSDM sent: re-sending it changes nothing
        again = await c.post(
            "/api/v1/employees/import", content=EMPLOYEES, headers=headers_of("bkpsdm")
        )
        assert again.json()["changed"] == 0
