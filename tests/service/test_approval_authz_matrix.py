"""Authorization matrix of activity's and approval's routes: every route × the owner (ASN),
their direct atasan, another atasan, a Plt delegated for today, an operator, BKPSDM and an
auditor. A refused caller gets 403 problem+json; an allowed caller gets anything else
(a 409 because someone allowed before them already decided is still "allowed").

Denied callers are tried before allowed ones on every route, so a state change made by an
allowed caller (a decision, a deletion) can never turn a 403 into a 404/409.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from contracts.events import (
    ActivityReported,
    DelegationGranted,
    EmployeeUpserted,
    FingerprintRecorded,
)
from services.activity.app import create as create_activity
from services.approval.app import create as create_approval
from services.kernel.calendar import WIB
from services.shared.settings import Settings
from tests import factories
from tests.support import who

MON = date(2026, 10, 5)
NOW = datetime(2026, 10, 5, 14, 0, tzinfo=WIB)
ROLES = ("asn", "atasan", "other_atasan", "plt", "operator", "bkpsdm", "auditor")
PERSONS = {"asn", "atasan", "other_atasan", "plt"}
# who reads an employee's file at activity: the Plt too, while the atasan's delegation runs
VIEWERS = {"asn", "atasan", "plt", "bkpsdm", "auditor"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32


def employee(nip: str, atasan: str | None) -> EmployeeUpserted:
    return EmployeeUpserted(
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        producer="siasn",
        nip=nip,
        nama="Pegawai",
        opd="Dinas",
        kelas_jabatan=7,
        atasan_nip=atasan,
        tpp_pagu=3_000_000,
    )


@pytest.fixture
def people() -> dict[str, tuple[str, str]]:
    """role -> (nip, the role in their token)."""
    return {
        "asn": (factories.nip(), "asn"),
        "atasan": (factories.nip(), "atasan"),
        "other_atasan": (factories.nip(), "atasan"),
        "plt": (factories.nip(), "atasan"),
        "operator": (factories.nip(), "operator"),
        "bkpsdm": (factories.nip(), "bkpsdm"),
        "auditor": (factories.nip(), "auditor"),
    }


def headers(people: dict[str, tuple[str, str]], role: str) -> dict[str, str]:
    nip, token_role = people[role]
    return who(nip, token_role)


async def check(
    client: httpx.AsyncClient,
    people: dict[str, tuple[str, str]],
    routes: list[tuple[str, str, dict[str, Any], set[str]]],
) -> list[str]:
    wrong: list[str] = []
    for method, path, kwargs, allowed in routes:
        order = [r for r in ROLES if r not in allowed] + [r for r in ROLES if r in allowed]
        for role in order:
            r = await client.request(method, path, headers=headers(people, role), **kwargs)
            refused = r.status_code == 403
            if refused != (role not in allowed):
                wrong.append(f"{method} {path} as {role}: {r.status_code} {r.text[:120]}")
            if refused and r.headers["content-type"] != "application/problem+json":
                wrong.append(f"{method} {path} as {role}: 403 without problem+json")
    return wrong


async def test_activity_matrix(memory_settings: Settings, people: dict[str, Any]) -> None:
    app = create_activity(memory_settings, clock=lambda: NOW)
    kit = app.state.kit
    kit.migrate()
    staff, boss, plt = people["asn"][0], people["atasan"][0], people["plt"][0]
    await kit.handle(employee(staff, boss).to_bytes())
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
    await kit.handle(
        FingerprintRecorded(
            occurred_at=NOW,
            producer="attendance",
            nip=staff,
            scan_id="s1",
            scanned_at=NOW,
            work_date=MON,
        ).to_bytes()
    )
    me = headers(people, "asn")
    body = {"work_date": "2026-10-05", "description": "Rapat", "output": "notula", "minutes": 60}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as c:
        rid = (await c.post("/api/v1/reports", json=body, headers=me)).json()["id"]
        rid2 = (await c.post("/api/v1/reports", json=body, headers=me)).json()["id"]
        ev = await c.post(
            f"/api/v1/reports/{rid}/evidence",
            files={"file": ("a.png", PNG, "image/png")},
            headers=me,
        )
        target = {"year": 2026, "activity": "Notula", "indicator": "notula", "target_quantity": 5}
        tid = (
            await c.post(f"/api/v1/employees/{staff}/skp-targets", json=target, headers=me)
        ).json()["id"]
        csv = {"content": f"nip,tanggal,status\n{staff},2026-10-05,approved\n"}
        routes = [
            ("POST", "/api/v1/reports", {"json": body}, PERSONS),
            ("GET", f"/api/v1/reports/{rid}", {}, VIEWERS),
            ("PUT", f"/api/v1/reports/{rid}", {"json": body}, {"asn"}),
            ("POST", f"/api/v1/reports/{rid}/revise", {"json": body}, {"asn"}),
            ("POST", f"/api/v1/reports/{rid2}/withdraw", {}, {"asn"}),
            ("GET", f"/api/v1/employees/{staff}/reports?period=2026-10", {}, VIEWERS),
            ("GET", f"/api/v1/employees/{staff}/unlocked-days", {}, VIEWERS),
            ("GET", f"/api/v1/employees/{staff}/filing-status?work_date=2026-10-05", {}, VIEWERS),
            (
                "POST",
                f"/api/v1/reports/{rid}/evidence",
                {"files": {"file": ("b.png", PNG + b"2", "image/png")}},
                {"asn"},
            ),
            ("GET", f"/api/v1/reports/{rid}/evidence", {}, VIEWERS),
            ("GET", f"/api/v1/evidence/{ev.json()['id']}", {}, VIEWERS),
            (
                "POST",
                f"/api/v1/employees/{staff}/openings",
                {"json": {"work_date": "2026-10-05", "reason": "Mesin rusak"}},
                {"bkpsdm"},
            ),
            ("GET", f"/api/v1/employees/{staff}/openings", {}, VIEWERS),
            (
                "POST",
                f"/api/v1/employees/{staff}/skp-targets",
                {"json": target},
                {"asn", "atasan", "bkpsdm"},
            ),
            ("GET", f"/api/v1/employees/{staff}/skp-targets", {}, VIEWERS),
            ("PUT", f"/api/v1/skp-targets/{tid}", {"json": target}, {"asn", "atasan", "bkpsdm"}),
            ("GET", f"/api/v1/employees/{staff}/skp-realisation?period=2026-10", {}, VIEWERS),
            ("DELETE", f"/api/v1/skp-targets/{tid}", {}, {"asn", "atasan", "bkpsdm"}),
            ("POST", "/api/v1/reports/import?wait_s=0", csv, {"bkpsdm"}),
        ]
        assert await check(c, people, routes) == []


async def test_approval_matrix(memory_settings: Settings, people: dict[str, Any]) -> None:
    app = create_approval(memory_settings, clock=lambda: NOW)
    kit = app.state.kit
    kit.migrate()
    staff, boss, plt = people["asn"][0], people["atasan"][0], people["plt"][0]
    await kit.handle(employee(staff, boss).to_bytes())
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
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://svc"
    ) as c:
        window = {"atasan_nip": boss, "plt_nip": plt, "start": "2026-10-01", "end": "2026-10-31"}
        made = await c.post("/api/v1/delegations", json=window, headers=headers(people, "bkpsdm"))
        assert made.status_code == 201, made.text
        spare = await c.post("/api/v1/delegations", json=window, headers=headers(people, "bkpsdm"))
        deciders = {"atasan", "plt"}
        routes = [
            ("GET", "/api/v1/queue", {}, PERSONS),
            ("GET", f"/api/v1/atasan/{boss}/queue", {}, {"atasan", "bkpsdm", "auditor"}),
            ("GET", "/api/v1/overdue", {}, {"bkpsdm", "auditor"}),
            ("GET", f"/api/v1/reports/{ids[0]}", {}, {"asn", "atasan", "plt", "bkpsdm", "auditor"}),
            ("POST", f"/api/v1/reports/{ids[0]}/approve", {}, deciders),
            ("POST", f"/api/v1/reports/{ids[1]}/reject", {"json": {"reason": "x"}}, deciders),
            (
                "POST",
                f"/api/v1/reports/{ids[2]}/request-revision",
                {"json": {"note": "x"}},
                deciders,
            ),
            ("POST", "/api/v1/reports/bulk-approve", {"json": {"report_ids": [ids[3]]}}, PERSONS),
            ("POST", "/api/v1/delegations", {"json": window}, {"atasan", "bkpsdm"}),
            ("GET", "/api/v1/delegations", {}, PERSONS | {"bkpsdm", "auditor"}),
            ("GET", "/api/v1/audit", {}, {"bkpsdm", "auditor"}),
            (
                "POST",
                "/api/v1/periods/2026-09/reopen",
                {"json": {"reason": "Koreksi"}},
                {"bkpsdm"},
            ),
            ("GET", "/api/v1/periods/2026-09/locks", {}, {"bkpsdm", "auditor"}),
            ("DELETE", f"/api/v1/delegations/{spare.json()['id']}", {}, {"atasan", "bkpsdm"}),
        ]
        assert await check(c, people, routes) == []

        # bulk approval answers 200 to any employee but refuses, per item, what is not theirs
        fresh = str(uuid.uuid4())
        await kit.handle(
            ActivityReported(
                occurred_at=NOW,
                producer="activity",
                nip=staff,
                report_id=fresh,
                work_date=MON,
                description="Rapat",
            ).to_bytes()
        )
        for role, code in [("asn", "forbidden"), ("other_atasan", "forbidden"), ("plt", "ok")]:
            r = await c.post(
                "/api/v1/reports/bulk-approve",
                json={"report_ids": [fresh]},
                headers=headers(people, role),
            )
            assert r.json()["results"][0]["code"] == code, (role, r.text)
