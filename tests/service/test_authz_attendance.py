"""Authorization matrix of attendance (issue 12): every route × the callers of tests/authz.py,
over HTTP with real tokens, and the leaks the issue found, each as its own test.

The subject is A of OPD X (atasan B); a colleague C of X; an atasan D of OPD Y; operators of
X and of Y. The ADMS device routes (/iclock) carry no token: a registered device's serial
number is their door, whoever sends a token along."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from contracts import Topic
from services.attendance.app import create
from tests import factories
from tests.authz import (
    CITY,
    CITY_WRITERS,
    EVERYONE,
    OPD_STAFF,
    SELF_AND_ABOVE,
    Rule,
    check_rules,
    uncovered,
)
from tests.service.test_attendance_support import Harness, make_harness
from tests.support import key_settings, who

X, Y = "DISKOMINFO", "DINKES"
A = "199001012015011001"  # the subject, of X
B = "198503152010122002"  # A's atasan, of X
C = "198807172014032003"  # A's colleague, of X
D = "197505052000031004"  # an atasan of Y
E = "199202022016021005"  # D's subordinate, of Y
OP_X = "198001012005011006"
OP_Y = "198001012005011007"
MONDAY = "2026-01-05"
SN_X, SN_Y = "SNX001", "SNY001"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100

CALLER_TOKENS = {
    "asn_self": (A, "asn", X),
    "asn_other": (C, "asn", X),
    "atasan_own": (B, "atasan", X),
    "atasan_other": (D, "atasan", Y),
    "operator_own": (OP_X, "operator", X),
    "operator_other": (OP_Y, "operator", Y),
    "bkpsdm": ("196001011985011001", "bkpsdm", None),
    "auditor": ("196001011985011002", "auditor", None),
    "system": (None, "system", None),
}


def headers_of(caller: str) -> dict[str, str]:
    return who(*CALLER_TOKENS[caller])


SCAN_CSV = f"nip,waktu\n{A},{MONDAY} 07:40:00\n".encode()
ABSENCE_CSV = f"nip,mulai,selesai,jenis\n{A},2026-01-07,2026-01-07,dinas_luar\n".encode()
OPD_READERS = frozenset({"operator_own"}) | CITY

RULES: list[Rule] = [
    # scans
    Rule(
        "POST",
        "/api/v1/scans",
        OPD_STAFF,
        body={"scans": [{"nip": "{nip}", "waktu": f"{MONDAY} 07:30:00"}]},
        note="tiap NIP harus pegawai OPD operator",
    ),
    Rule("GET", "/api/v1/employees/{nip}/scans", SELF_AND_ABOVE),
    Rule(
        "POST",
        "/api/v1/scans/import",
        OPD_STAFF,
        files={"file": ("pindaian.csv", SCAN_CSV, "text/csv")},
        note="baris NIP di luar OPD operator ditolak per baris",
    ),
    Rule(
        "POST",
        "/api/v1/scans/import",
        CITY_WRITERS,
        params={"migrasi": "true"},
        files={"file": ("pindaian.csv", SCAN_CSV, "text/csv")},
        note="migrasi=true: data riwayat tanpa pemberitahuan, hanya BKPSDM",
    ),
    Rule("GET", "/api/v1/scans/quarantine", OPD_READERS, params={"opd": X}),
    Rule(
        "GET",
        "/api/v1/scans/excessive",
        OPD_READERS | {"operator_other"},
        params={"period": "2026-01"},
        note="operator hanya melihat NIP OPD-nya",
    ),
    # absences
    Rule(
        "POST",
        "/api/v1/absences",
        OPD_STAFF,
        body={"nip": A, "mulai": "2026-01-06", "selesai": "2026-01-06", "jenis": "dinas_luar"},
    ),
    Rule(
        "GET",
        "/api/v1/absences",
        SELF_AND_ABOVE,
        params={"nip": A},
        note="tanpa NIP: ASN/atasan dirinya, operator OPD-nya, BKPSDM/auditor semua",
    ),
    Rule("GET", "/api/v1/absences/{absence_id}", SELF_AND_ABOVE),
    Rule("GET", "/api/v1/absences/{absence_id}/document", SELF_AND_ABOVE),
    Rule(
        "POST",
        "/api/v1/absences/{absence_id}/cancel",
        OPD_STAFF,
        values={"absence_id": "{spare_absence}"},
    ),
    Rule(
        "POST",
        "/api/v1/absences/import",
        OPD_STAFF,
        files={"file": ("absen.csv", ABSENCE_CSV, "text/csv")},
        note="baris NIP di luar OPD operator ditolak per baris",
    ),
    # calendar
    Rule("GET", "/api/v1/calendar", EVERYONE, params={"year": 2026}),
    Rule(
        "POST",
        "/api/v1/calendar/holidays",
        CITY_WRITERS,
        body={"tanggal": "2026-01-09", "nama": "Libur daerah"},
    ),
    Rule("DELETE", "/api/v1/calendar/holidays/{tanggal}", CITY_WRITERS),
    Rule(
        "POST",
        "/api/v1/calendar/working-days",
        CITY_WRITERS,
        body={"tanggal": "2026-01-10", "nama": "Sabtu pengganti"},
    ),
    Rule("DELETE", "/api/v1/calendar/overrides/{tanggal}", CITY_WRITERS),
    Rule("POST", "/api/v1/calendar/{year}/announce", CITY_WRITERS),
    # days
    Rule("POST", "/api/v1/days/close", CITY_WRITERS, params={"date": MONDAY}),
    Rule("POST", "/api/v1/days/close-range", CITY_WRITERS, params={"start": MONDAY, "end": MONDAY}),
    Rule("GET", "/api/v1/employees/{nip}/month", SELF_AND_ABOVE, params={"period": "2026-01"}),
    Rule("GET", "/api/v1/opds/{opd}/days/{tanggal}", OPD_READERS),
    Rule("GET", "/api/v1/anomalies", CITY, params={"period": "2026-01"}),
    Rule("GET", "/api/v1/opds/attendance", CITY, params={"period": "2026-01"}),
    # device registry
    Rule(
        "POST",
        "/api/v1/devices",
        OPD_STAFF,
        body={"sn": SN_X, "opd": X, "lokasi": "Lobi"},
        note="operator: OPD mesin sekarang dan OPD barunya harus OPD-nya",
    ),
    Rule(
        "GET",
        "/api/v1/devices",
        OPD_READERS,
        params={"opd": X},
        note="tanpa OPD: operator melihat mesin OPD-nya saja; ASN dan atasan tidak",
    ),
    Rule("POST", "/api/v1/devices/{sn}/commands", OPD_STAFF, body={"perintah": "CHECK"}),
    Rule("GET", "/api/v1/devices/{sn}/commands", OPD_READERS),
    Rule(
        "GET",
        "/api/v1/device-outages",
        OPD_READERS,
        params={"period": "2026-01", "opd": X},
        note="usulan untuk BKPSDM; operator: OPD-nya saja",
    ),
    # the devices themselves: no token, a registered SN
    Rule("GET", "/iclock/cdata", EVERYONE, params={"SN": SN_X}, note="mesin, tanpa token"),
    Rule(
        "POST",
        "/iclock/cdata",
        EVERYONE,
        params={"SN": SN_X, "table": "ATTLOG"},
        content=b"",
        note="mesin, tanpa token",
    ),
    Rule("GET", "/iclock/getrequest", EVERYONE, params={"SN": SN_X}, note="mesin, tanpa token"),
    Rule("POST", "/iclock/devicecmd", EVERYONE, params={"SN": SN_X}, content=b"", note="mesin"),
]


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with make_harness(tmp_path, max_scans_per_nip_day=2) as found:
        yield found


async def people(h: Harness) -> None:
    for nip, boss, opd in ((A, B, X), (B, None, X), (C, B, X), (D, None, Y), (E, D, Y)):
        event = factories.employee(nip, boss, opd=opd, tpp_pagu=5_000_000)
        await h.broker.publish(event.to_bytes(), Topic.EMPLOYEES, key=nip.encode())


async def test_every_route_is_in_the_matrix(tmp_path: Path) -> None:
    from services.shared.settings import Settings

    settings = Settings(
        kafka_bootstrap="127.0.0.1:1",
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        **key_settings(),
    )
    assert uncovered(create(settings).openapi(), RULES) == []


async def test_the_matrix_holds(h: Harness) -> None:
    await people(h)
    c = h.client
    for sn, opd in ((SN_X, X), (SN_Y, Y)):
        r = await c.post("/api/v1/devices", json={"sn": sn, "opd": opd})
        assert r.status_code == 201, r.text
    r = await c.post(
        "/api/v1/absences",
        data={"nip": A, "mulai": "2026-01-08", "selesai": "2026-01-08", "jenis": "cuti_sakit"},
        files={"dokumen": ("surat.png", PNG, "image/png")},
    )
    assert r.status_code == 201, r.text
    sick = r.json()["absence_id"]
    spare = (
        await c.post(
            "/api/v1/absences",
            json={
                "nip": A,
                "mulai": "2026-01-12",
                "selesai": "2026-01-12",
                "jenis": "cuti_tahunan",
            },
        )
    ).json()["absence_id"]
    values = {
        "nip": A,
        "opd": X,
        "sn": SN_X,
        "absence_id": sick,
        "spare_absence": spare,
        "tanggal": "2026-01-09",
        "year": "2026",
    }
    rules = [
        Rule(
            r.method,
            r.path,
            r.allowed,
            values={k: v.format(**values) for k, v in r.values.items()},
            body=_filled(r.body, values),
            params=r.params,
            files=r.files,
            content=r.content,
            note=r.note,
        )
        for r in RULES
    ]
    assert await check_rules(c, rules, values, headers_of) == []


def _filled(body: object, values: dict[str, str]) -> object:
    if isinstance(body, str):
        return body.format(**values)
    if isinstance(body, list):
        return [_filled(b, values) for b in body]
    if isinstance(body, dict):
        return {k: _filled(v, values) for k, v in body.items()}
    return body


# --- the leaks of the issue, one by one --------------------------------------------------


async def test_an_asn_cannot_add_scans_for_anyone(h: Harness) -> None:
    await people(h)
    scan = {"scans": [{"nip": C, "waktu": f"{MONDAY} 07:00:00"}]}
    r = await h.client.post("/api/v1/scans", json=scan, headers=headers_of("asn_self"))
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    mine = await h.client.get(f"/api/v1/employees/{C}/scans")
    assert mine.json() == []


async def test_an_operator_adds_scans_only_for_their_opd(h: Harness) -> None:
    await people(h)
    mixed = {"scans": [{"nip": A, "waktu": f"{MONDAY} 07:00:00"}]}
    r = await h.client.post("/api/v1/scans", json=mixed, headers=headers_of("operator_other"))
    assert r.status_code == 403
    # a batch of both OPDs: the foreign and unknown lines are refused, the own line kept
    both = {
        "scans": [
            {"nip": A, "waktu": f"{MONDAY} 07:00:00"},
            {"nip": E, "waktu": f"{MONDAY} 07:01:00"},
            {"nip": "199901012020011099", "waktu": f"{MONDAY} 07:02:00"},
        ]
    }
    r = await h.client.post("/api/v1/scans", json=both, headers=headers_of("operator_own"))
    assert r.status_code == 200, r.text
    assert [line["status"] for line in r.json()] == ["accepted", "rejected", "rejected"]
    assert (await h.client.get(f"/api/v1/employees/{E}/scans")).json() == []


async def test_scans_month_and_absences_of_another_person_are_refused(h: Harness) -> None:
    await people(h)
    r = await h.client.post(
        "/api/v1/absences",
        data={"nip": A, "mulai": "2026-01-08", "selesai": "2026-01-08", "jenis": "cuti_sakit"},
        files={"dokumen": ("surat.png", PNG, "image/png")},
    )
    sick = r.json()["absence_id"]
    colleague = headers_of("asn_other")
    for path in (
        f"/api/v1/employees/{A}/scans",
        f"/api/v1/employees/{A}/month?period=2026-01",
        f"/api/v1/absences?nip={A}",
        f"/api/v1/absences/{sick}",
        f"/api/v1/absences/{sick}/document",
    ):
        res = await h.client.get(path, headers=colleague)
        assert res.status_code == 403, path
    # without a NIP an asn gets their own absences only, never the city's
    res = await h.client.get("/api/v1/absences", headers=colleague)
    assert res.status_code == 200 and res.json() == []
    # an unknown NIP looks the same as a foreign one to an operator
    unknown = await h.client.get(
        "/api/v1/employees/199901012020011099/scans", headers=headers_of("operator_own")
    )
    assert unknown.status_code == 403


async def test_an_operator_cannot_rehome_or_command_another_opds_device(h: Harness) -> None:
    await people(h)
    c = h.client
    assert (await c.post("/api/v1/devices", json={"sn": SN_X, "opd": X})).status_code == 201
    theirs = headers_of("operator_other")
    r = await c.post(
        "/api/v1/devices", json={"sn": SN_X, "opd": Y, "zona_waktu": "8"}, headers=theirs
    )
    assert r.status_code == 403
    for command in ("REBOOT", "CLEAR LOG"):
        r = await c.post(
            f"/api/v1/devices/{SN_X}/commands", json={"perintah": command}, headers=theirs
        )
        assert r.status_code == 403
    # an unknown SN looks the same to them as a foreign one
    r = await c.post("/api/v1/devices/NOPE/commands", json={"perintah": "CHECK"}, headers=theirs)
    assert r.status_code == 403
    listing = (await c.get("/api/v1/devices", headers=headers_of("bkpsdm"))).json()
    assert [(d["sn"], d["opd"], d["zona_waktu"]) for d in listing] == [(SN_X, X, "7")]
    # the own operator may register a new device and move theirs within their OPD only
    mine = headers_of("operator_own")
    assert (
        await c.post("/api/v1/devices", json={"sn": "SNX002", "opd": X}, headers=mine)
    ).status_code == 201
    r = await c.post("/api/v1/devices", json={"sn": SN_X, "opd": Y}, headers=mine)
    assert r.status_code == 403


async def test_device_listing_is_per_opd_and_hidden_from_asn(h: Harness) -> None:
    await people(h)
    c = h.client
    for sn, opd in ((SN_X, X), (SN_Y, Y)):
        assert (await c.post("/api/v1/devices", json={"sn": sn, "opd": opd})).status_code == 201
    assert (await c.get("/api/v1/devices", headers=headers_of("asn_self"))).status_code == 403
    assert (await c.get("/api/v1/devices", headers=headers_of("atasan_own"))).status_code == 403
    mine = await c.get("/api/v1/devices", headers=headers_of("operator_own"))
    assert [d["sn"] for d in mine.json()] == [SN_X]
    city = await c.get("/api/v1/devices", headers=headers_of("auditor"))
    assert sorted(d["sn"] for d in city.json()) == [SN_X, SN_Y]


async def test_excessive_scans_show_an_operator_their_opd_only(h: Harness) -> None:
    await people(h)
    times = ("07:00:00", "07:01:00", "07:02:00")
    scans = [{"nip": n, "waktu": f"{MONDAY} {t}"} for n in (A, E) for t in times]
    assert (await h.client.post("/api/v1/scans", json={"scans": scans})).status_code == 200
    r = await h.client.get(
        "/api/v1/scans/excessive?period=2026-01", headers=headers_of("operator_other")
    )
    assert [d["nip"] for d in r.json()["nip_hari"]] == [E]


async def test_imports_refuse_an_operators_foreign_lines(h: Harness) -> None:
    await people(h)
    mine = headers_of("operator_own")
    scans = f"nip,waktu\n{A},{MONDAY} 07:40:00\n{E},{MONDAY} 07:41:00\n".encode()
    r = await h.client.post(
        "/api/v1/scans/import", files={"file": ("p.csv", scans, "text/csv")}, headers=mine
    )
    assert r.status_code == 200, r.text
    assert (r.json()["accepted"], [e["line"] for e in r.json()["errors"]]) == (1, [3])
    absences = "nip,mulai,selesai,jenis\n" + "".join(
        f"{n},2026-01-07,2026-01-07,dinas_luar\n" for n in (A, E)
    )
    r = await h.client.post(
        "/api/v1/absences/import",
        files={"file": ("a.csv", absences.encode(), "text/csv")},
        headers=mine,
    )
    assert r.status_code == 200, r.text
    assert [line["status"] for line in r.json()["lines"]] == ["accepted", "rejected"]
