"""Authorization matrix of approval (issue 12): every route × the callers of tests/authz.py,
over HTTP with real tokens. The subject is employee A (OPD X, atasan B, also of OPD X).

What its users expect: an atasan decides their subordinates' reports (or, as Plt, those of
the atasan they stand in for today) and names or revokes their own Plt; every employee has a
queue of their own and sees the delegations naming them; A's report in the queue is seen by
A, B, B's Plt, the operator of A's OPD and the city; one atasan's queue by that atasan, the
operator of their OPD and the city (the notifier's service account among them). The audit
log, the overdue list and the period locks are the city's; reopening a month is BKPSDM's.

A Plt delegated by B for today is an `atasan_other` who stands in for B: the second pass runs
the same rules with the Plt as `atasan_other`, allowed where `PLT_ALLOWED` says so.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import httpx

from contracts.events import ActivityReported
from services.approval.app import create as create_approval
from services.kernel.calendar import WIB
from services.shared.settings import Settings
from tests import factories
from tests.authz import CITY, Rule, check_rules, headers_of, people, uncovered
from tests.factories import employee
from tests.support import who

MON = date(2026, 10, 5)
NOW = datetime(2026, 10, 5, 14, 0, tzinfo=WIB)
OPD_X, OPD_Y = "Dinas Uji", "Dinas Lain"

PERSONS = frozenset({"asn_self", "asn_other", "atasan_own", "atasan_other"})
READERS = frozenset({"asn_self", "atasan_own", "operator_own"}) | CITY
DECIDERS = frozenset({"atasan_own"})
B_OR_BKPSDM = frozenset({"atasan_own", "bkpsdm"})

RULES: list[Rule] = [
    Rule(
        "GET",
        "/api/v1/queue",
        PERSONS | {"bkpsdm"},
        note="antreannya sendiri; BKPSDM: pegawai tanpa atasan yang penilainya BKPSDM",
    ),
    Rule(
        "GET",
        "/api/v1/atasan/{atasan_nip}/queue",
        frozenset({"atasan_own", "operator_own"}) | CITY,
        note="atasan itu sendiri; operator OPD-nya dan atasannya pada tanggal tiap laporan",
    ),
    Rule("GET", "/api/v1/overdue", CITY),
    Rule(
        "GET",
        "/api/v1/reports/{report_id}",
        READERS,
        note="atasan dan operator OPD pada tanggal laporan, dan Plt atasannya hari ini",
    ),
    Rule(
        "POST",
        "/api/v1/reports/{report_id}/approve",
        DECIDERS,
        values={"report_id": "{r0}"},
        note="dan Plt atasannya hari ini",
    ),
    Rule(
        "POST",
        "/api/v1/reports/{report_id}/reject",
        DECIDERS,
        values={"report_id": "{r1}"},
        body={"reason": "Kurang jelas"},
        note="dan Plt atasannya hari ini",
    ),
    Rule(
        "POST",
        "/api/v1/reports/{report_id}/request-revision",
        DECIDERS,
        values={"report_id": "{r2}"},
        body={"note": "Lengkapi"},
        note="dan Plt atasannya hari ini",
    ),
    Rule(
        "POST",
        "/api/v1/reports/bulk-approve",
        PERSONS | {"bkpsdm"},
        body={"report_ids": ["{r3}"]},
        note="per laporan: hanya bawahannya, sebagai Plt atau sebagai penilai",
    ),
    Rule(
        "POST",
        "/api/v1/delegations",
        B_OR_BKPSDM,
        body={
            "atasan_nip": "{atasan_nip}",
            "plt_nip": "{plt_nip}",
            "start": "2026-10-01",
            "end": "2026-10-31",
        },
        note="untuk atasan itu sendiri",
    ),
    Rule("POST", "/api/v1/delegations/announce", frozenset({"bkpsdm", "system"})),
    Rule(
        "PUT",
        "/api/v1/kinerja/{nip}/{period}",
        B_OR_BKPSDM,
        values={"period": "2026-10"},
        body={"hasil_kerja": "sesuai", "perilaku_kerja": "sesuai"},
        note="hasil kinerja bulanan untuk SIASN; dan Plt atasannya hari ini",
    ),
    Rule("GET", "/api/v1/kinerja", PERSONS, note="bawahannya sendiri, dan sebagai Plt hari ini"),
    Rule(
        "GET",
        "/api/v1/kinerja/{nip}/{period}",
        READERS,
        values={"period": "2026-10"},
        note="dan Plt atasannya hari ini",
    ),
    Rule(
        "POST",
        "/api/v1/kinerja/{period}/confirm-proposals",
        PERSONS | {"bkpsdm"},
        values={"period": "2026-10"},
        body={"nips": ["{nip}"]},
        note="per ASN: hanya bawahannya atau sebagai Plt",
    ),
    Rule("GET", "/api/v1/delegations", PERSONS | CITY, note="selain kota: yang menyebut dirinya"),
    Rule("DELETE", "/api/v1/delegations/{delegation_id}", B_OR_BKPSDM),
    Rule("GET", "/api/v1/audit", frozenset({"bkpsdm", "auditor"})),
    Rule(
        "POST",
        "/api/v1/periods/{period}/reopen",
        frozenset({"bkpsdm"}),
        values={"period": "2026-09"},
        body={"reason": "Koreksi"},
    ),
    Rule("GET", "/api/v1/periods/{period}/locks", CITY, values={"period": "2026-09"}),
    Rule(
        "POST",
        "/api/v1/penilai",
        frozenset({"bkpsdm"}),
        body={"nip": "{head_nip}", "penilai": "BKPSDM"},
        note="penilai pegawai tanpa atasan (Kepala OPD, Sekda)",
    ),
    Rule("GET", "/api/v1/penilai", CITY),
    Rule("DELETE", "/api/v1/penilai/{penilai_id}", frozenset({"bkpsdm"})),
    Rule("GET", "/api/v1/without-atasan", CITY, note="Kepala OPD, Sekda: yang perlu penilai"),
    Rule("GET", "/api/v1/undecidable", CITY, note="laporan tanpa atasan dan tanpa penilai"),
]
DECISIONS = frozenset(("POST", r.path) for r in RULES if r.allowed == DECIDERS)
PLT_ALLOWED = DECISIONS | {
    ("GET", "/api/v1/reports/{report_id}"),
    ("GET", "/api/v1/kinerja/{nip}/{period}"),
    ("PUT", "/api/v1/kinerja/{nip}/{period}"),
}


def filled(rules: list[Rule], values: dict[str, str]) -> list[Rule]:
    """The rules with their own values and bodies resolved against this round's values."""

    def fill(x: Any) -> Any:
        if isinstance(x, str):
            return x.format(**values)
        if isinstance(x, list):
            return [fill(v) for v in x]
        if isinstance(x, dict):
            return {k: fill(v) for k, v in x.items()}
        return x

    return [replace(r, values=fill(dict(r.values)), body=fill(r.body)) for r in rules]


async def seed(c: httpx.AsyncClient, kit: Any, cast: dict[str, Any]) -> dict[str, str]:
    """Four fresh reports of A in B's queue and a spare delegation to revoke."""
    staff, boss, plt = (cast[k][0] for k in ("asn_self", "atasan_own", "plt"))
    ids = [str(uuid.uuid4()) for _ in range(4)]
    for rid in ids:
        await kit.handle(
            ActivityReported(
                occurred_at=NOW,
                producer="activity",
                nip=staff,
                report_id=rid,
                work_date=MON,
                description="Rapat",
            ).to_bytes()
        )
    window = {"atasan_nip": boss, "plt_nip": plt, "start": "2026-11-01", "end": "2026-11-30"}
    bkpsdm = headers_of(cast)("bkpsdm")
    spare = await c.post("/api/v1/delegations", json=window, headers=bkpsdm)
    assert spare.status_code == 201, spare.text
    # a fresh head (no atasan) to name a penilai for, and a penilai to remove
    head, other_head = factories.nip(), factories.nip()
    made = await c.post(
        "/api/v1/penilai", json={"nip": other_head, "penilai": "BKPSDM"}, headers=bkpsdm
    )
    assert made.status_code == 201, made.text
    return {
        "head_nip": head,
        "penilai_id": made.json()["id"],
        "nip": cast["asn_self"][0],
        "atasan_nip": boss,
        "plt_nip": plt,
        "report_id": ids[0],
        **{f"r{i}": rid for i, rid in enumerate(ids)},
        "delegation_id": spare.json()["id"],
    }


async def test_every_route_is_in_the_matrix(memory_settings: Settings) -> None:
    app = create_approval(memory_settings, clock=lambda: NOW)
    assert uncovered(app.openapi(), RULES) == []


async def test_approval_matrix(memory_settings: Settings) -> None:
    app = create_approval(memory_settings, clock=lambda: NOW)
    kit = app.state.kit
    kit.migrate()
    cast = people(OPD_X, OPD_Y)
    staff, boss, plt = (cast[k][0] for k in ("asn_self", "atasan_own", "plt"))
    await kit.handle(employee(staff, boss, opd=OPD_X).to_bytes())
    await kit.handle(employee(cast["asn_other"][0], boss, opd=OPD_X).to_bytes())
    await kit.handle(employee(boss, factories.nip(), opd=OPD_X).to_bytes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as c:
        window = {"atasan_nip": boss, "plt_nip": plt, "start": "2026-10-01", "end": "2026-10-31"}
        made = await c.post("/api/v1/delegations", json=window, headers=headers_of(cast)("bkpsdm"))
        assert made.status_code == 201, made.text
        rules = RULES
        values = await seed(c, kit, cast)
        failures = await check_rules(c, filled(rules, values), values, headers_of(cast))
        assert failures == [], "\n".join(failures)

        # the Plt of B, standing in as atasan_other: sees and decides A's reports
        as_plt = [
            replace(r, allowed=r.allowed | {"atasan_other"})
            if (r.method, r.path) in PLT_ALLOWED
            else r
            for r in rules
        ]
        values = await seed(c, kit, cast)
        plt_headers = headers_of(cast, plt=True)
        failures = await check_rules(c, filled(as_plt, values), values, plt_headers)
        assert failures == [], "\n".join(failures)


async def test_bulk_approval_refuses_per_item_what_is_not_theirs(
    memory_settings: Settings,
) -> None:
    """Bulk approval answers 200 to any employee (and BKPSDM, a penilai) but refuses, per
    item, what is not theirs."""
    app = create_approval(memory_settings, clock=lambda: NOW)
    kit = app.state.kit
    kit.migrate()
    cast = people(OPD_X, OPD_Y)
    staff, boss, plt = (cast[k][0] for k in ("asn_self", "atasan_own", "plt"))
    await kit.handle(employee(staff, boss, opd=OPD_X).to_bytes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as c:
        window = {"atasan_nip": boss, "plt_nip": plt, "start": "2026-10-01", "end": "2026-10-31"}
        made = await c.post("/api/v1/delegations", json=window, headers=headers_of(cast)("bkpsdm"))
        assert made.status_code == 201, made.text
        values = await seed(c, kit, cast)
        for caller, code in [
            ("asn_self", "forbidden"),
            ("asn_other", "forbidden"),
            ("atasan_other", "forbidden"),
            ("bkpsdm", "forbidden"),  # A has an atasan: BKPSDM is nobody's penilai here
            ("plt", "ok"),
        ]:
            r = await c.post(
                "/api/v1/reports/bulk-approve",
                json={"report_ids": [values["r3"]]},
                headers=headers_of(cast)(caller),
            )
            assert r.json()["results"][0]["code"] == code, (caller, r.text)


async def test_unknown_atasan_looks_foreign(memory_settings: Settings) -> None:
    """An operator asking for an unknown atasan's queue gets the same 403 as for a foreign one."""
    app = create_approval(memory_settings, clock=lambda: NOW)
    app.state.kit.migrate()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as c:
        r = await c.get(
            f"/api/v1/atasan/{factories.nip()}/queue",
            headers=who(factories.nip(), "operator", OPD_X),
        )
        assert r.status_code == 403, r.text
