"""Activity's API and subscribers in-process: the filing gate, the lifecycle, decisions coming
back from approval (TestKafkaBroker), evidence, a Plt's view, openings, SKP and the migration
import.

Calendar (October 2026, no national holiday in these days):
    Mo Tu We Th Fr Sa Su
              1  2  3  4
     5  6  7  8  9 10 11
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from faststream.kafka import TestKafkaBroker

from contracts import Topic
from contracts.events import (
    ActivityReported,
    DelegationGranted,
    DelegationRevoked,
    Event,
    FingerprintRecorded,
    RevisionRequested,
    SkpTargetChanged,
)
from services.activity.app import create
from services.activity.domain import ReportLimits
from services.activity.models import PltDelegation
from services.shared.consumer import Delivery
from services.shared.settings import Settings
from tests import factories
from tests.factories import employee
from tests.support import Clock, emitted, who, wib

MON, TUE, WED = date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7)
THU, FRI = date(2026, 10, 8), date(2026, 10, 9)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def scan(nip: str, day: date) -> FingerprintRecorded:
    at = wib(day, 7, 20)
    return factories.scan(nip, day, at, scan_id=f"{nip}-{day}")


def report_body(day: date = MON, **over: Any) -> dict[str, Any]:
    body = {
        "work_date": day.isoformat(),
        "description": "Menyusun notula rapat koordinasi",
        "output": "notula",
        "quantity": 1,
        "minutes": 120,
    }
    body.update(over)
    return body


@pytest.fixture
def env(memory_settings: Settings) -> dict[str, Any]:
    clock = Clock(wib(MON, 10))
    app = create(memory_settings, clock=clock, limits=ReportLimits(max_evidence_bytes=1024))
    kit = app.state.kit
    kit.migrate()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
    return {"app": app, "kit": kit, "clock": clock, "client": client}


async def test_filing_is_gated_by_the_scan_and_the_deadline(env: dict[str, Any]) -> None:
    kit, client, clock = env["kit"], env["client"], env["clock"]
    nip = factories.nip()
    me = who(nip, "asn")

    no_scan = await client.post("/api/v1/reports", json=report_body(), headers=me)
    assert no_scan.status_code == 409
    assert no_scan.headers["content-type"] == "application/problem+json"
    assert no_scan.json()["code"] == "no_scan_yet"
    assert "coba lagi" in no_scan.json()["detail"]

    await kit.handle(scan(nip, MON).to_bytes())  # the scan arrives a moment later
    ok = await client.post("/api/v1/reports", json=report_body(), headers=me)
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "pending"
    # deadline of Monday = Tuesday 23:59 WIB (next working day)
    assert "Selasa, 6 Oktober 2026 pukul 23.59 WIB" in ok.json()["message"]
    events = emitted(kit)
    assert [e.event_type for e in events] == ["ActivityReported"]
    assert isinstance(events[0], ActivityReported)
    assert events[0].report_id == ok.json()["id"] and events[0].producer == "activity"

    future = await client.post("/api/v1/reports", json=report_body(TUE), headers=me)
    assert future.status_code == 422 and future.json()["code"] == "future_date"

    clock.moment = wib(WED, 0, 0)  # Wednesday 00:00: Monday's deadline is over
    late = await client.post("/api/v1/reports", json=report_body(), headers=me)
    assert late.status_code == 409 and late.json()["code"] == "deadline_passed"
    assert "BKPSDM" in late.json()["detail"]

    # BKPSDM opens Monday again; the opening is recorded with who and why
    officer = factories.nip()
    opened = await client.post(
        f"/api/v1/employees/{nip}/openings",
        json={"work_date": MON.isoformat(), "reason": "Mesin sidik jari OPD rusak"},
        headers=who(officer, "bkpsdm"),
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["opened_by"] == officer
    again = await client.post("/api/v1/reports", json=report_body(), headers=me)
    assert again.status_code == 201 and "dibuka oleh BKPSDM" in again.json()["message"]


async def test_invalid_content_is_listed_per_field(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    nip = factories.nip()
    await kit.handle(scan(nip, MON).to_bytes())
    bad = await client.post(
        "/api/v1/reports",
        json=report_body(description=" ", minutes=0),
        headers=who(nip, "asn"),
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"description", "minutes_spent"}
    assert emitted(kit) == []  # nothing emitted for a refused filing


async def test_edit_withdraw_and_revision_loop(env: dict[str, Any]) -> None:
    kit, client, clock = env["kit"], env["client"], env["clock"]
    nip, atasan = factories.nip(), factories.nip()
    me = who(nip, "asn")
    await kit.handle(scan(nip, MON).to_bytes())
    first = (await client.post("/api/v1/reports", json=report_body(), headers=me)).json()
    second = (await client.post("/api/v1/reports", json=report_body(), headers=me)).json()

    edited = await client.put(
        f"/api/v1/reports/{first['id']}", json=report_body(quantity=3), headers=me
    )
    assert edited.status_code == 200 and edited.json()["revision"] == 1
    someone = await client.put(
        f"/api/v1/reports/{first['id']}", json=report_body(), headers=who(atasan, "atasan")
    )
    assert someone.status_code == 403

    withdrawn = await client.post(f"/api/v1/reports/{second['id']}/withdraw", headers=me)
    assert withdrawn.json()["status"] == "withdrawn"

    # approval asks for a revision on Thursday (after Monday's own deadline)
    clock.moment = wib(date(2026, 10, 8), 9)
    ask = RevisionRequested(
        occurred_at=clock.moment,
        producer="approval",
        nip=nip,
        report_id=first["id"],
        work_date=MON,
        decided_by=atasan,
        note="Lengkapi jumlah peserta rapat",
    )
    async with TestKafkaBroker(kit.broker) as br:
        await br.publish(ask.to_bytes(), Topic.APPROVAL, key=nip.encode())
        await br.publish(ask.to_bytes(), Topic.APPROVAL, key=nip.encode())  # redelivered
    row = (await client.get(f"/api/v1/reports/{first['id']}", headers=me)).json()
    assert row["status"] == "revision_requested"
    assert row["decision_note"] == "Lengkapi jumlah peserta rapat"

    # editing is refused now; revising is allowed until Friday 23:59 (request + 1 working day)
    refused = await client.put(f"/api/v1/reports/{first['id']}", json=report_body(), headers=me)
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_transition"
    revised = await client.post(
        f"/api/v1/reports/{first['id']}/revise",
        json=report_body(description="Notula rapat, 24 peserta"),
        headers=me,
    )
    assert revised.status_code == 200, revised.text
    assert revised.json()["status"] == "pending" and revised.json()["revision"] == 2
    kinds = [e.event_type for e in emitted(kit)]
    assert kinds == [
        "ActivityReported",
        "ActivityReported",
        "ActivityRevised",
        "ActivityWithdrawn",
        "ActivityRevised",
    ]

    approved = factories.approved(
        nip, MON, wib(date(2026, 10, 8), 11), report_id=first["id"], decided_by=atasan
    )
    async with TestKafkaBroker(kit.broker) as br:
        await br.publish(approved.to_bytes(), Topic.APPROVAL, key=nip.encode())
        # the older revision request replayed with a new id changes nothing
        replay = ask.model_copy(update={"event_id": uuid.uuid4()})
        await br.publish(replay.to_bytes(), Topic.APPROVAL, key=nip.encode())
    final = (await client.get(f"/api/v1/reports/{first['id']}", headers=me)).json()
    assert final["status"] == "approved" and final["decided_by"] == atasan


async def test_evidence_upload_and_visibility(env: dict[str, Any], tmp_path: Path) -> None:
    kit, client = env["kit"], env["client"]
    nip, atasan, stranger = factories.nip(), factories.nip(), factories.nip()
    await kit.handle(employee(nip, atasan).to_bytes())
    await kit.handle(scan(nip, MON).to_bytes())
    me = who(nip, "asn")
    rid = (await client.post("/api/v1/reports", json=report_body(), headers=me)).json()["id"]

    up = await client.post(
        f"/api/v1/reports/{rid}/evidence",
        files={"file": ("foto.png", PNG, "image/png")},
        headers=me,
    )
    assert up.status_code == 201, up.text
    assert up.json()["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert up.json()["size"] == 108  # 8 magic bytes + 100
    stored = list((tmp_path / "evidence" / "activity" / nip / rid).iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == PNG

    dup = await client.post(
        f"/api/v1/reports/{rid}/evidence",
        files={"file": ("lagi.png", PNG, "image/png")},
        headers=me,
    )
    assert dup.status_code == 409
    fake = await client.post(
        f"/api/v1/reports/{rid}/evidence",
        files={"file": ("virus.png", b"MZ" + b"\x00" * 50, "image/png")},
        headers=me,
    )
    assert fake.status_code == 415
    exe = await client.post(
        f"/api/v1/reports/{rid}/evidence",
        files={"file": ("a.exe", b"MZ", "application/octet-stream")},
        headers=me,
    )
    assert exe.status_code == 415
    big = await client.post(
        f"/api/v1/reports/{rid}/evidence",
        files={"file": ("besar.pdf", b"%PDF" + b"x" * 1100, "application/pdf")},
        headers=me,
    )
    assert big.status_code == 413  # limit of this app: 1024 bytes
    assert len(list((tmp_path / "evidence" / "activity" / nip / rid).iterdir())) == 1

    evidence_id = up.json()["id"]
    for nip_, role, status in [
        (nip, "asn", 200),
        (atasan, "atasan", 200),
        (None, "bkpsdm", 200),
        (None, "auditor", 200),
        (stranger, "atasan", 403),
        (stranger, "operator", 403),
    ]:
        got = await client.get(f"/api/v1/evidence/{evidence_id}", headers=who(nip_, role))
        assert got.status_code == status, (role, got.text)
        if status == 200:
            assert got.content == PNG


def granted(atasan: str, plt: str, start: date = TUE, end: date = THU) -> DelegationGranted:
    return DelegationGranted(
        occurred_at=wib(MON, 8),
        producer="approval",
        nip=atasan,
        delegation_id=str(uuid.uuid4()),
        plt_nip=plt,
        start=start,
        end=end,
    )


def revoked(grant: DelegationGranted, at: datetime | None = None) -> DelegationRevoked:
    return DelegationRevoked(
        occurred_at=at or wib(WED, 8),
        producer="approval",
        nip=grant.nip,
        delegation_id=grant.delegation_id,
        plt_nip=grant.plt_nip,
    )


async def publish(kit: Any, *events: Event) -> None:
    async with TestKafkaBroker(kit.broker) as br:
        for event in events:
            await br.publish(event.to_bytes(), str(event.TOPIC), key=event.nip.encode())


async def _report_with_evidence(env: dict[str, Any], staff: str, boss: str) -> tuple[str, str]:
    kit, client = env["kit"], env["client"]
    await kit.handle(employee(staff, boss).to_bytes())
    await kit.handle(scan(staff, MON).to_bytes())
    me = who(staff, "asn")
    rid = (await client.post("/api/v1/reports", json=report_body(), headers=me)).json()["id"]
    up = await client.post(
        f"/api/v1/reports/{rid}/evidence",
        files={"file": ("foto.png", PNG, "image/png")},
        headers=me,
    )
    assert up.status_code == 201, up.text
    return rid, up.json()["id"]


async def _plt_statuses(
    client: httpx.AsyncClient, plt: str, staff: str, rid: str, eid: str
) -> list[int]:
    """What the Plt gets from the report, the month's list, the evidence list and the file."""
    paths = [
        f"/api/v1/reports/{rid}",
        f"/api/v1/employees/{staff}/reports?period=2026-10",
        f"/api/v1/reports/{rid}/evidence",
        f"/api/v1/evidence/{eid}",
    ]
    return [(await client.get(p, headers=who(plt, "atasan"))).status_code for p in paths]


async def test_a_plt_sees_reports_and_evidence_while_the_delegation_runs(
    env: dict[str, Any],
) -> None:
    """Plt for Tue 6 .. Thu 8 October (inclusive), checked on the WIB date of the request."""
    kit, client, clock = env["kit"], env["client"], env["clock"]
    staff, boss, plt, other_plt = (factories.nip() for _ in range(4))
    rid, eid = await _report_with_evidence(env, staff, boss)
    grant = granted(boss, plt)
    copy = grant.model_copy(update={"event_id": uuid.uuid4()})
    # the same grant twice (the inbox skips it), then a copy with a new id (the handler does)
    await publish(kit, grant, grant, copy, granted(factories.nip(), other_plt))

    denied = await client.get(f"/api/v1/reports/{rid}", headers=who(plt, "atasan"))
    assert denied.status_code == 403  # Monday: the window has not begun
    assert denied.headers["content-type"] == "application/problem+json"
    assert "Plt" in denied.json()["detail"]

    clock.moment = wib(TUE, 0, 0)  # Tuesday from midnight WIB (still Monday in UTC)
    assert await _plt_statuses(client, plt, staff, rid, eid) == [200, 200, 200, 200]
    listed = await client.get(
        f"/api/v1/employees/{staff}/reports?period=2026-10", headers=who(plt, "atasan")
    )
    assert [r["id"] for r in listed.json()] == [rid]  # a report dated before the window too
    got = await client.get(f"/api/v1/evidence/{eid}", headers=who(plt, "atasan"))
    assert got.content == PNG
    # a Plt of another atasan has no view of this employee
    assert await _plt_statuses(client, other_plt, staff, rid, eid) == [403, 403, 403, 403]

    clock.moment = wib(THU, 23, 59)  # the last day counts
    assert await _plt_statuses(client, plt, staff, rid, eid) == [200, 200, 200, 200]
    clock.moment = wib(FRI, 0, 30)  # Friday in WIB, still Thursday in UTC: over
    assert await _plt_statuses(client, plt, staff, rid, eid) == [403, 403, 403, 403]

    clock.moment = wib(WED, 9)
    assert await _plt_statuses(client, plt, staff, rid, eid) == [200, 200, 200, 200]
    # the employee moves to another atasan: the old atasan's Plt loses the view
    await kit.handle(employee(staff, factories.nip()).to_bytes())
    assert await _plt_statuses(client, plt, staff, rid, eid) == [403, 403, 403, 403]
    await kit.handle(employee(staff, boss).to_bytes())
    assert await _plt_statuses(client, plt, staff, rid, eid) == [200, 200, 200, 200]

    # revoked, then the grant redelivered late: it stays revoked
    late_grant = grant.model_copy(update={"event_id": uuid.uuid4()})
    await publish(kit, revoked(grant), revoked(grant), late_grant)
    assert await _plt_statuses(client, plt, staff, rid, eid) == [403, 403, 403, 403]
    with kit.uow() as uow:
        row = uow.session.get(PltDelegation, grant.delegation_id)
        assert row is not None and (row.start, row.end) == (TUE, THU)
        assert row.revoked_at == wib(WED, 8)


async def test_a_revoke_before_its_grant_keeps_it_revoked(env: dict[str, Any]) -> None:
    kit, client, clock = env["kit"], env["client"], env["clock"]
    staff, boss, plt = factories.nip(), factories.nip(), factories.nip()
    rid, eid = await _report_with_evidence(env, staff, boss)
    clock.moment = wib(WED, 9)

    # the revoke overtook its grant, in separate batches and within one batch
    first, second, third = granted(boss, plt), granted(boss, plt), granted(boss, plt)
    await publish(kit, revoked(first))
    await publish(kit, first)
    await kit.handle_batch(
        [Delivery(body=e.to_bytes()) for e in (revoked(second), second, third, revoked(third))]
    )
    assert await _plt_statuses(client, plt, staff, rid, eid) == [403, 403, 403, 403]
    with kit.uow() as uow:
        rows = [uow.session.get(PltDelegation, g.delegation_id) for g in (first, second, third)]
    assert all(r is not None and r.revoked_at is not None for r in rows)
    assert all(r is not None and (r.start, r.end) == (TUE, THU) for r in rows)

    # a delegation nobody revoked still opens them: the refusals above were the revokes'
    await publish(kit, granted(boss, plt))
    assert await _plt_statuses(client, plt, staff, rid, eid) == [200, 200, 200, 200]


async def test_skp_targets_and_monthly_realisation(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    nip, atasan = factories.nip(), factories.nip()
    me = who(nip, "asn")
    target = await client.post(
        f"/api/v1/employees/{nip}/skp-targets",
        json={
            "year": 2026,
            "activity": "Notula rapat",
            "indicator": "notula",
            "target_quantity": 8,
        },
        headers=me,
    )
    assert target.status_code == 201, target.text
    tid = target.json()["id"]
    await kit.handle(scan(nip, MON).to_bytes())
    ids = []
    for qty in (2, 1):
        r = await client.post(
            "/api/v1/reports", json=report_body(quantity=qty, skp_target_id=tid), headers=me
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    # only the first one is approved
    await kit.handle(
        factories.approved(nip, MON, wib(MON, 15), report_id=ids[0], decided_by=atasan).to_bytes()
    )
    recap = await client.get(f"/api/v1/employees/{nip}/skp-realisation?period=2026-10", headers=me)
    assert recap.status_code == 200
    # approved quantity 2 of target 8: 2 / 8 × 100 = 25.00 %
    assert recap.json() == [
        {
            "target_id": tid,
            "activity": "Notula rapat",
            "indicator": "notula",
            "target_quantity": 8,
            "quantity": 2,
            "percent": "25.00",
            "cumulative_quantity": 2,
            "cumulative_percent": "25.00",
        }
    ]
    in_use = await client.delete(f"/api/v1/skp-targets/{tid}", headers=me)
    assert in_use.status_code == 409


async def test_each_skp_target_change_is_announced_for_approval(env: dict[str, Any]) -> None:
    """Approval proposes the monthly kinerja result from its own decisions and the targets:
    each create, change and delete of a target is announced (SkpTargetChanged)."""
    kit, client = env["kit"], env["client"]
    nip = factories.nip()
    me = who(nip, "asn")
    body = {"year": 2026, "activity": "Telaahan", "indicator": "telaahan", "target_quantity": 12}
    made = await client.post(f"/api/v1/employees/{nip}/skp-targets", json=body, headers=me)
    tid = made.json()["id"]
    changed = await client.put(
        f"/api/v1/skp-targets/{tid}", json={**body, "target_quantity": 24}, headers=me
    )
    assert changed.status_code == 200, changed.text
    assert (await client.delete(f"/api/v1/skp-targets/{tid}", headers=me)).status_code == 204
    refused = await client.post(
        f"/api/v1/employees/{nip}/skp-targets", json={**body, "target_quantity": 0}, headers=me
    )
    assert refused.status_code == 422  # nothing announced for a refused target
    events = [e for e in emitted(kit) if isinstance(e, SkpTargetChanged)]
    assert [(e.nip, e.target_id, e.year, e.target_quantity, e.deleted) for e in events] == [
        (nip, tid, 2026, 12, False),
        (nip, tid, 2026, 24, False),
        (nip, tid, 2026, 24, True),
    ]
    # BKPSDM announces the targets there are again (for approval's restored store)
    kept = await client.post(f"/api/v1/employees/{nip}/skp-targets", json=body, headers=me)
    assert (await client.post("/api/v1/skp-targets/announce", headers=me)).status_code == 403
    r = await client.post("/api/v1/skp-targets/announce", headers=who(None, "bkpsdm"))
    assert r.json() == {"announced": 1}
    again = [e for e in emitted(kit) if isinstance(e, SkpTargetChanged)][-2:]
    assert [(e.target_id, e.target_quantity, e.deleted) for e in again] == [
        (kept.json()["id"], 12, False),
        (kept.json()["id"], 12, False),
    ]


async def test_migration_import(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    a, b = factories.nip(), factories.nip()
    await kit.handle(scan(a, date(2026, 10, 1)).to_bytes())
    await kit.handle(scan(a, date(2026, 10, 2)).to_bytes())
    oct1 = date(2026, 10, 1)
    dinas_luar = factories.absence(b, "dinas_luar", oct1, oct1, wib(oct1, 6), absence_id="dl1")
    await kit.handle(dinas_luar.to_bytes())
    csv_text = (
        "nip,tanggal,status\n"
        f"{a},2026-10-01,approved\n"
        f"{a},2026-10-02,rejected\n"
        f"{b},2026-10-01,pending\n"
        f"{b},2026-10-02,approved\n"  # no scan, no dinas luar: refused
        "123,2026-10-01,approved\n"
        f"{a},2026-10-09,approved\n"  # after the clock's Monday 5 October
    )
    headers = {"content-type": "text/csv", **who(None, "bkpsdm")}
    refused = await client.post(
        "/api/v1/reports/import?wait_s=0", content=csv_text, headers=who(a, "asn")
    )
    assert refused.status_code == 403
    r = await client.post("/api/v1/reports/import?wait_s=0", content=csv_text, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (3, 0, 3)
    assert [(e["line"], e["code"]) for e in body["errors"]] == [
        (5, "no_scan_yet"),
        (6, "invalid_nip"),
        (7, "future_date"),
    ]
    events = [e for e in emitted(kit) if isinstance(e, ActivityReported)]
    assert sorted((e.nip == a, e.imported_decision) for e in events) == [
        (False, None),
        (True, "approved"),
        (True, "rejected"),
    ]
    again = await client.post("/api/v1/reports/import?wait_s=0", content=csv_text, headers=headers)
    assert (again.json()["accepted"], again.json()["duplicate"]) == (0, 3)


async def test_migration_import_flags_employees_without_atasan(env: dict[str, Any]) -> None:
    """Issue 14: a head's imported decision is not 'accepted' (activity cannot know whether
    approval has a penilai for them): it is imported and flagged per line. The optional
    `diputuskan` column travels as the decision's historical time."""
    kit, client = env["kit"], env["client"]
    staff, boss, head, stranger = (factories.nip() for _ in range(4))
    oct1, oct2 = date(2026, 10, 1), date(2026, 10, 2)
    for nip in (staff, head, stranger):
        await kit.handle(scan(nip, oct1).to_bytes())
        await kit.handle(scan(nip, oct2).to_bytes())
    await kit.handle(employee(staff, boss).to_bytes())
    await kit.handle(employee(head, None).to_bytes())  # a Kepala OPD: no atasan
    csv_text = (
        "nip,tanggal,status,diputuskan\n"
        f"{staff},2026-10-01,approved,2026-10-02 09:15\n"
        f"{head},2026-10-01,approved,2026-10-01T17:00:00+07:00\n"
        f"{stranger},2026-10-01,rejected,\n"  # not in the master yet: approval waits for it
        f"{staff},2026-10-02,approved,2026-10-01 09:00\n"  # decided before the report's day
        f"{head},2026-10-02,approved,kemarin\n"
    )
    headers = {"content-type": "text/csv", **who(None, "bkpsdm")}
    r = await client.post("/api/v1/reports/import?wait_s=0", content=csv_text, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["flagged"], body["rejected"]) == (2, 1, 2)
    assert [(w["line"], w["code"]) for w in body["warnings"]] == [(3, "no_atasan")]
    assert "penilai" in body["warnings"][0]["reason"]
    assert [(e["line"], e["code"]) for e in body["errors"]] == [
        (5, "invalid_decided_at"),
        (6, "invalid_decided_at"),
    ]
    events = {e.nip: e for e in emitted(kit) if isinstance(e, ActivityReported)}
    assert events[staff].imported_decided_at == wib(oct2, 9, 15)
    assert events[head].imported_decided_at == wib(oct1, 17)
    assert events[stranger].imported_decided_at is None
    assert events[head].imported_decision == "approved"  # imported all the same


async def test_two_filings_at_the_same_instant_cannot_both_pass_the_minutes_check(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The day's minutes are read, checked and added in one serialized step: with the read
    held open long enough for the other filing to arrive, only one of two 800-minute reports
    fits in a day of 1,440 minutes (in one process the two share a batch or follow each
    other; between processes UnitOfWork.serialize_many holds the day, see
    tests/integration/test_store_serialize.py)."""
    import asyncio
    import time as time_mod

    from services.activity import queries

    kit, client = env["kit"], env["client"]
    nip = factories.nip()
    async with TestKafkaBroker(kit.broker):
        await kit.broker.publish(scan(nip, MON), Topic.ATTENDANCE.value, key=nip.encode())
    read = queries.minutes_many

    def slow_read(*args: Any, **kwargs: Any) -> dict[Any, int]:
        minutes = read(*args, **kwargs)
        time_mod.sleep(0.3)
        return minutes

    monkeypatch.setattr(queries, "minutes_many", slow_read)
    first, second = await asyncio.gather(
        client.post("/api/v1/reports", json=report_body(minutes=800), headers=who(nip, "asn")),
        client.post("/api/v1/reports", json=report_body(minutes=800), headers=who(nip, "asn")),
    )
    assert sorted([first.status_code, second.status_code]) == [201, 422]
    refused = first if first.status_code == 422 else second
    assert "800 menit" in refused.json()["detail"]


async def test_a_bkpsdm_holiday_moves_the_filing_deadline(env: dict[str, Any]) -> None:
    """The deadline is the next working day by the city's calendar, not only the national
    one: Tuesday made cuti bersama by BKPSDM gives Monday's report until Wednesday."""
    from contracts.events import CITY_KEY, CalendarHoliday, WorkCalendarChanged

    kit, client, clock = env["kit"], env["client"], env["clock"]
    nip = factories.nip()
    async with TestKafkaBroker(kit.broker) as br:
        await br.publish(scan(nip, MON).to_bytes(), Topic.ATTENDANCE.value, key=nip.encode())
    clock.moment = wib(WED, 10)
    late = await client.post("/api/v1/reports", json=report_body(), headers=who(nip, "asn"))
    assert late.status_code == 409 and late.json()["code"] == "deadline_passed"
    cuti_bersama = WorkCalendarChanged(
        occurred_at=wib(TUE, 8),
        producer="attendance",
        nip=CITY_KEY,
        year=2026,
        holidays=[CalendarHoliday(tanggal=TUE, nama="Cuti bersama daerah")],
    )
    async with TestKafkaBroker(kit.broker) as br:
        await br.publish(cuti_bersama.to_bytes(), Topic.CALENDAR.value, key=CITY_KEY.encode())
    filed = await client.post("/api/v1/reports", json=report_body(), headers=who(nip, "asn"))
    assert filed.status_code == 201, filed.text
    assert "sampai Rabu, 7 Oktober 2026 pukul 23.59 WIB" in filed.json()["message"]


async def test_an_edit_counts_the_other_reports_of_the_day_not_itself(
    env: dict[str, Any],
) -> None:
    kit, client = env["kit"], env["client"]
    nip = factories.nip()
    me = who(nip, "asn")
    async with TestKafkaBroker(kit.broker) as br:
        await br.publish(scan(nip, MON).to_bytes(), Topic.ATTENDANCE.value, key=nip.encode())
    first = await client.post("/api/v1/reports", json=report_body(minutes=800), headers=me)
    second = await client.post("/api/v1/reports", json=report_body(minutes=600), headers=me)
    assert (first.status_code, second.status_code) == (201, 201)
    url = f"/api/v1/reports/{second.json()['id']}"
    fits = await client.put(url, json=report_body(minutes=640), headers=me)  # 800 + 640
    assert fits.status_code == 200, fits.text
    too_long = await client.put(url, json=report_body(minutes=641), headers=me)
    assert too_long.status_code == 422 and "800 menit" in too_long.json()["detail"]
