"""Authorization matrix of activity (issue 12): every route × the callers of tests/authz.py,
over HTTP with real tokens. The subject is employee A (OPD X, atasan B).

What its users expect: an ASN files, edits, revises, withdraws and attaches evidence to their
own reports only; their file (reports, evidence, unlocked days, filing status, openings, SKP
targets and realisation) is read by them, their atasan (or the atasan's Plt for today), the
operator of their OPD, BKPSDM, auditors and service accounts. SKP targets are drafted by the
employee and corrected by the atasan or BKPSDM. A date is opened by BKPSDM or the operator of
the employee's OPD (whose device failed); the migration import is BKPSDM's.

A Plt delegated by B for today is an `atasan_other` who stands in for B: the second pass runs
the same rules with the Plt as `atasan_other`, allowed where `PLT_READS` says so. For an
employee without atasan (a Kepala OPD), the penilai BKPSDM named in approval reads the same
(a third pass, the penilai as `atasan_other`; nobody is `atasan_own` then).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime

import httpx

from contracts.events import DelegationGranted, PenilaiAssigned
from services.activity.app import create as create_activity
from services.kernel.calendar import WIB
from services.shared.settings import Settings
from tests import factories
from tests.authz import CITY, CITY_WRITERS, Rule, check_rules, headers_of, people, uncovered
from tests.factories import employee
from tests.support import who

MON = date(2026, 10, 5)
NOW = datetime(2026, 10, 5, 14, 0, tzinfo=WIB)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32
OPD_X, OPD_Y = "Dinas Uji", "Dinas Lain"

# everyone who files for themself (the subject-less POST /reports)
FILERS = frozenset({"asn_self", "asn_other", "atasan_own", "atasan_other"})
# who reads A's file
READERS = frozenset({"asn_self", "atasan_own", "operator_own"}) | CITY
OWNER = frozenset({"asn_self"})
SKP_WRITERS = frozenset({"asn_self", "atasan_own", "bkpsdm"})
OPENERS = frozenset({"operator_own", "bkpsdm"})

BODY = {"work_date": "2026-10-05", "description": "Rapat", "output": "notula", "minutes": 60}
TARGET = {"year": 2026, "activity": "Notula", "indicator": "notula", "target_quantity": 5}

RULES: list[Rule] = [
    Rule("POST", "/api/v1/reports", FILERS, body=BODY, note="untuk dirinya sendiri"),
    Rule("GET", "/api/v1/reports/{report_id}", READERS),
    Rule("PUT", "/api/v1/reports/{report_id}", OWNER, body=BODY),
    Rule("POST", "/api/v1/reports/{report_id}/revise", OWNER, body=BODY),
    Rule("POST", "/api/v1/reports/{report_id}/withdraw", OWNER, values={"report_id": "{rid2}"}),
    Rule("GET", "/api/v1/employees/{nip}/reports", READERS, params={"period": "2026-10"}),
    Rule("GET", "/api/v1/employees/{nip}/unlocked-days", READERS),
    Rule(
        "GET", "/api/v1/employees/{nip}/filing-status", READERS, params={"work_date": "2026-10-05"}
    ),
    Rule(
        "POST",
        "/api/v1/reports/{report_id}/evidence",
        OWNER,
        files={"file": ("b.png", PNG + b"2", "image/png")},
    ),
    Rule("GET", "/api/v1/reports/{report_id}/evidence", READERS),
    Rule("GET", "/api/v1/evidence/{evidence_id}", READERS),
    Rule(
        "POST",
        "/api/v1/employees/{nip}/openings",
        OPENERS,
        body={"work_date": "2026-10-05", "reason": "Mesin rusak"},
        note="operator dan BKPSDM dengan NIP",
    ),
    Rule("GET", "/api/v1/employees/{nip}/openings", READERS),
    Rule("GET", "/api/v1/openings", CITY, note="seluruh kota"),
    Rule("GET", "/api/v1/opds/filing", CITY, params={"period": "2026-10"}, note="seluruh kota"),
    Rule(
        "POST",
        "/api/v1/employees/{nip}/skp-targets",
        SKP_WRITERS,
        body=TARGET,
        note="atasan periode mana pun pada tahun target",
    ),
    Rule("GET", "/api/v1/employees/{nip}/skp-targets", READERS),
    Rule(
        "PUT",
        "/api/v1/skp-targets/{target_id}",
        SKP_WRITERS,
        body=TARGET,
        note="atasan periode pada tahun target; kedua tahun bila tahunnya diubah",
    ),
    Rule("GET", "/api/v1/employees/{nip}/skp-realisation", READERS, params={"period": "2026-10"}),
    Rule(
        "DELETE",
        "/api/v1/skp-targets/{target_id}",
        SKP_WRITERS,
        note="atasan periode mana pun pada tahun target",
    ),
    Rule("POST", "/api/v1/skp-targets/announce", CITY_WRITERS, note="untuk layanan persetujuan"),
    Rule(
        "POST",
        "/api/v1/reports/import",
        frozenset({"bkpsdm"}),
        params={"wait_s": 0},
        content=b"nip,tanggal,status\n{nip},2026-10-05,approved\n",
    ),
]
# what a Plt of B for today may do of A's: read their file (deciding is approval's)
PLT_READS = frozenset((r.method, r.path) for r in RULES if r.allowed == READERS)
RULES = [
    replace(r, note="dan Plt atasannya hari ini; pegawai tanpa atasan: penilainya")
    if (r.method, r.path) in PLT_READS
    else r
    for r in RULES
]


async def seed(c: httpx.AsyncClient, me: dict[str, str], nip: str) -> dict[str, str]:
    """A's reports (one to withdraw), an evidence file and an SKP target."""
    rid = (await c.post("/api/v1/reports", json=BODY, headers=me)).json()["id"]
    rid2 = (await c.post("/api/v1/reports", json=BODY, headers=me)).json()["id"]
    ev = await c.post(
        f"/api/v1/reports/{rid}/evidence",
        files={"file": ("a.png", PNG + uuid.uuid4().bytes, "image/png")},
        headers=me,
    )
    tid = await c.post(f"/api/v1/employees/{nip}/skp-targets", json=TARGET, headers=me)
    return {
        "nip": nip,
        "report_id": rid,
        "rid2": rid2,
        "evidence_id": ev.json()["id"],
        "target_id": tid.json()["id"],
    }


def filled(rules: list[Rule], values: dict[str, str]) -> list[Rule]:
    """The rules with their own values and CSV resolved against this round's values."""
    out = []
    for r in rules:
        own = {k: v.format(**values) for k, v in r.values.items()}
        content = r.content.replace(b"{nip}", values["nip"].encode()) if r.content else None
        out.append(replace(r, values=own, content=content))
    return out


async def test_every_route_is_in_the_matrix(memory_settings: Settings) -> None:
    app = create_activity(memory_settings, clock=lambda: NOW)
    assert uncovered(app.openapi(), RULES) == []


async def test_activity_matrix(memory_settings: Settings) -> None:
    app = create_activity(memory_settings, clock=lambda: NOW)
    kit = app.state.kit
    kit.migrate()
    cast = people(OPD_X, OPD_Y)
    staff, boss, plt = cast["asn_self"][0], cast["atasan_own"][0], cast["plt"][0]
    await kit.handle(employee(staff, boss, opd=OPD_X).to_bytes())
    await kit.handle(employee(cast["asn_other"][0], boss, opd=OPD_X).to_bytes())
    await kit.handle(  # approval's announcement of the Plt window covering today
        DelegationGranted(
            occurred_at=NOW,
            producer="approval",
            nip=boss,
            delegation_id=str(uuid.uuid4()),
            plt_nip=plt,
            start=date(2026, 10, 1),
            end=date(2026, 10, 31),
        ).to_bytes()
    )
    await kit.handle(factories.scan(staff, MON, NOW, scan_id="s1").to_bytes())
    me = headers_of(cast)("asn_self")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as c:
        values = await seed(c, me, staff)
        failures = await check_rules(c, filled(RULES, values), values, headers_of(cast))
        assert failures == [], "\n".join(failures)

        # the Plt of B, standing in as atasan_other: reads A's file, changes nothing of it
        as_plt = [
            replace(r, allowed=r.allowed | {"atasan_other"})
            if (r.method, r.path) in PLT_READS
            else r
            for r in RULES
        ]
        values = await seed(c, me, staff)
        plt_headers = headers_of(cast, plt=True)
        failures = await check_rules(c, filled(as_plt, values), values, plt_headers)
        assert failures == [], "\n".join(failures)


async def test_unknown_nip_looks_foreign(memory_settings: Settings) -> None:
    """An operator or asn asking for an unknown NIP gets the same 403 as for a foreign one."""
    app = create_activity(memory_settings, clock=lambda: NOW)
    app.state.kit.migrate()
    ghost = factories.nip()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as c:
        for headers in (who(factories.nip(), "operator", OPD_X), who(factories.nip(), "asn")):
            for path in ("reports?period=2026-10", "openings", "skp-targets"):
                r = await c.get(f"/api/v1/employees/{ghost}/{path}", headers=headers)
                assert r.status_code == 403, (path, r.text)
            r = await c.post(
                f"/api/v1/employees/{ghost}/openings",
                json={"work_date": "2026-10-05", "reason": "Mesin rusak"},
                headers=headers,
            )
            assert r.status_code == 403, r.text


async def test_activity_matrix_for_a_penilai(memory_settings: Settings) -> None:
    """A (no atasan) has a penilai named by BKPSDM from 1 October: the penilai, calling as
    atasan_other, reads A's file as an atasan would and changes nothing of it; B, the
    atasan of others, has no say over A."""
    app = create_activity(memory_settings, clock=lambda: NOW)
    kit = app.state.kit
    kit.migrate()
    cast = people(OPD_X, OPD_Y)
    staff, penilai = cast["asn_self"][0], cast["plt"][0]
    await kit.handle(employee(staff, None, opd=OPD_X).to_bytes())
    await kit.handle(
        PenilaiAssigned(
            occurred_at=NOW,
            producer="approval",
            nip=staff,
            penilai_id=str(uuid.uuid4()),
            penilai_nip=penilai,
            first=date(2026, 10, 1),
        ).to_bytes()
    )
    await kit.handle(factories.scan(staff, MON, NOW, scan_id="s1").to_bytes())
    me = headers_of(cast)("asn_self")

    def as_penilai(r: Rule) -> Rule:
        if (r.method, r.path) in PLT_READS:
            return replace(r, allowed=(r.allowed - {"atasan_own"}) | {"atasan_other"})
        if r.allowed == SKP_WRITERS:
            return replace(r, allowed=r.allowed - {"atasan_own"})
        return r

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as c:
        values = await seed(c, me, staff)
        rules = filled([as_penilai(r) for r in RULES], values)
        failures = await check_rules(c, rules, values, headers_of(cast, plt=True))
        assert failures == [], "\n".join(failures)
