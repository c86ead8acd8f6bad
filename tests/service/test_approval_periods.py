"""Approval by the report's date (issue 14): the atasan of the period in force on the report's
date routes and decides it; an employee without atasan (a Kepala OPD, the Sekda) is decided
by the penilai BKPSDM sets; migrated decisions keep their historical time and are marked.

Calendar (October 2026): Mon 12, Thu 15, Fri 16, Mon 19, Tue 20. The transfer takes effect
on Friday 16: reports dated up to Thursday 15 belong to the old atasan, from the 16th to the
new one, whenever the transfer became known.
"""

from __future__ import annotations

import csv
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from faststream.kafka import TestKafkaBroker

from contracts.events import ActivityReported, Event, ReportApproved, ReportRejected
from services.approval.app import create
from services.shared.settings import Settings
from sikerja_cli import loader, simulate
from sikerja_cli.demo_data import generate
from tests import factories
from tests.factories import employee
from tests.support import Clock, emitted, who, wib

OCT1, MON12, THU15, FRI16, MON19, TUE20 = (date(2026, 10, d) for d in (1, 12, 15, 16, 19, 20))


def reported(nip: str, day: date, **over: Any) -> ActivityReported:
    fields: dict[str, Any] = {
        "occurred_at": wib(day, 16),
        "producer": "activity",
        "nip": nip,
        "report_id": str(uuid.uuid4()),
        "work_date": day,
        "description": "Menyusun notula rapat",
    }
    fields.update(over)
    return ActivityReported(**fields)


@pytest.fixture
def env(memory_settings: Settings) -> dict[str, Any]:
    clock = Clock(wib(TUE20, 9))
    app = create(memory_settings, clock=clock)
    kit = app.state.kit
    kit.migrate()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
    return {"kit": kit, "clock": clock, "client": client}


async def publish(kit: Any, *events: Event) -> None:
    async with TestKafkaBroker(kit.broker) as br:
        for event in events:
            await br.publish(event.to_bytes(), str(event.TOPIC), key=event.nip.encode())


async def queue_ids(client: httpx.AsyncClient, nip: str, role: str = "atasan") -> set[str]:
    r = await client.get("/api/v1/queue", headers=who(nip, role))
    assert r.status_code == 200, r.text
    return {q["report_id"] for q in r.json()}


# --------------------------------------------------------------------------- transfer by date


async def test_transfer_on_the_16th_routes_each_report_by_its_date(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    staff, old, new = factories.nip(), factories.nip(), factories.nip()
    r12, r15, r16, r19 = (reported(staff, d) for d in (MON12, THU15, FRI16, MON19))
    await publish(kit, employee(staff, old, aktif_mulai=OCT1), r12, r15, r16, r19)
    assert await queue_ids(client, old) == {r.report_id for r in (r12, r15, r16, r19)}

    # the transfer to `new` from the 16th becomes known: the 16th and 19th move, 12 and 15 stay
    await publish(kit, employee(staff, new, aktif_mulai=FRI16))
    assert await queue_ids(client, old) == {r12.report_id, r15.report_id}
    assert await queue_ids(client, new) == {r16.report_id, r19.report_id}

    # reports filed after the transfer is known go by their own date too
    late15, late20 = reported(staff, THU15), reported(staff, TUE20)
    await publish(kit, late15, late20)
    assert await queue_ids(client, old) == {r12.report_id, r15.report_id, late15.report_id}
    assert await queue_ids(client, new) == {r16.report_id, r19.report_id, late20.report_id}


async def test_report_before_the_transfer_is_decided_by_the_old_atasan(
    env: dict[str, Any],
) -> None:
    kit, client = env["kit"], env["client"]
    staff, old, new = factories.nip(), factories.nip(), factories.nip()
    r12 = reported(staff, MON12)
    await publish(
        kit, employee(staff, old, aktif_mulai=OCT1), r12, employee(staff, new, aktif_mulai=FRI16)
    )
    refused = await client.post(
        f"/api/v1/reports/{r12.report_id}/approve", headers=who(new, "atasan")
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "forbidden"
    assert "tidak berwenang" in refused.json()["detail"]
    ok = await client.post(f"/api/v1/reports/{r12.report_id}/approve", headers=who(old, "atasan"))
    assert ok.status_code == 200, ok.text
    (event,) = emitted(kit)
    assert isinstance(event, ReportApproved) and event.decided_by == old
    assert event.migration is False


# --------------------------------------------------------------------------- the top: penilai


async def set_penilai(
    client: httpx.AsyncClient, officer: str, nip: str, penilai: str, **over: Any
) -> httpx.Response:
    body = {"nip": nip, "penilai": penilai, "nama": "Penjabat Penilai", "jabatan": "Sekda"}
    return await client.post(
        "/api/v1/penilai", json={**body, **over}, headers=who(officer, "bkpsdm")
    )


async def test_head_is_decided_by_the_penilai_nip(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    head, sekda, officer, stranger = (factories.nip() for _ in range(4))
    r12, r15 = reported(head, MON12), reported(head, THU15)
    await publish(kit, employee(head, None), r12, r15)

    # before BKPSDM names a penilai nobody decides, and the report is on BKPSDM's list
    for caller, role in ((sekda, "atasan"), (officer, "bkpsdm"), (head, "atasan")):
        r = await client.post(f"/api/v1/reports/{r12.report_id}/approve", headers=who(caller, role))
        assert r.status_code == 403, (role, r.text)
        assert "tidak berwenang" in r.json()["detail"]
    listed = await client.get("/api/v1/undecidable", headers=who(officer, "bkpsdm"))
    assert listed.status_code == 200, listed.text
    assert {x["report_id"] for x in listed.json()} == {r12.report_id, r15.report_id}
    assert all("penilai" in x["reason"] for x in listed.json())

    made = await set_penilai(client, officer, head, sekda)
    assert made.status_code == 201, made.text
    assert made.json()["penilai"] == sekda and made.json()["set_by"] == officer
    assert await queue_ids(client, sekda) == {r12.report_id, r15.report_id}
    assert (await client.get("/api/v1/undecidable", headers=who(officer, "bkpsdm"))).json() == []

    wrong = await client.post(
        f"/api/v1/reports/{r12.report_id}/approve", headers=who(stranger, "atasan")
    )
    assert wrong.status_code == 403 and "tidak berwenang" in wrong.json()["detail"]
    bkpsdm = await client.post(
        f"/api/v1/reports/{r12.report_id}/approve", headers=who(officer, "bkpsdm")
    )
    assert bkpsdm.status_code == 403  # the penilai is the Sekda, not BKPSDM
    ok = await client.post(f"/api/v1/reports/{r12.report_id}/approve", headers=who(sekda, "atasan"))
    assert ok.status_code == 200, ok.text
    assert (ok.json()["decided_by"], ok.json()["as_penilai"]) == (sekda, sekda)
    # (the penilai's own announcement, PenilaiAssigned, came first)
    (event,) = [e for e in emitted(kit) if isinstance(e, ReportApproved)]
    assert event.as_penilai == sekda

    # removed: nobody decides again
    gone = await client.delete(
        f"/api/v1/penilai/{made.json()['id']}", headers=who(officer, "bkpsdm")
    )
    assert gone.status_code == 200 and gone.json()["removed_at"] is not None
    late = await client.post(
        f"/api/v1/reports/{r15.report_id}/approve", headers=who(sekda, "atasan")
    )
    assert late.status_code == 403


async def test_head_is_decided_by_bkpsdm_as_penilai(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    head, officer, other_officer, staff, boss = (factories.nip() for _ in range(5))
    r12 = reported(head, MON12)
    mine = reported(staff, MON12)
    await publish(kit, employee(head, None), employee(staff, boss), r12, mine)
    made = await set_penilai(client, officer, head, "BKPSDM", nama="", jabatan="")
    assert made.status_code == 201, made.text
    assert await queue_ids(client, other_officer, "bkpsdm") == {r12.report_id}

    # BKPSDM is the penilai of the head only, not of an employee who has an atasan
    foreign = await client.post(
        f"/api/v1/reports/{mine.report_id}/approve", headers=who(officer, "bkpsdm")
    )
    assert foreign.status_code == 403 and "tidak berwenang" in foreign.json()["detail"]
    self_decide = await client.post(
        f"/api/v1/reports/{r12.report_id}/approve", headers=who(head, "atasan")
    )
    assert self_decide.status_code == 403
    rej = await client.post(
        f"/api/v1/reports/{r12.report_id}/reject",
        json={"reason": "Tidak sesuai SKP"},
        headers=who(other_officer, "bkpsdm"),
    )
    assert rej.status_code == 200, rej.text
    assert (rej.json()["decided_by"], rej.json()["as_penilai"]) == (other_officer, "BKPSDM")
    (event,) = emitted(kit)
    assert isinstance(event, ReportRejected) and event.as_penilai == "BKPSDM"
    audit = (await client.get(f"/api/v1/audit?nip={head}", headers=who(None, "auditor"))).json()
    assert [(a["actor_nip"], a["as_penilai"]) for a in audit] == [(other_officer, "BKPSDM")]
    assert "sebagai penilai (BKPSDM)" in audit[0]["summary"]


async def test_penilai_set_refuses_bad_input_in_bahasa(env: dict[str, Any]) -> None:
    client = env["client"]
    head, officer, sekda = factories.nip(), factories.nip(), factories.nip()
    own = await set_penilai(client, officer, head, head)
    assert own.status_code == 422 and own.json()["code"] == "self_penilai"
    bad = await set_penilai(client, officer, head, "123")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_penilai"
    no_name = await set_penilai(client, officer, head, sekda, nama=" ")
    assert no_name.status_code == 422 and "nama" in no_name.json()["detail"].lower()
    window = await set_penilai(
        client, officer, head, sekda, mulai="2026-10-10", sampai="2026-10-01"
    )
    assert window.status_code == 422
    first = await set_penilai(client, officer, head, sekda, mulai="2026-10-01")
    assert first.status_code == 201, first.text
    overlap = await set_penilai(client, officer, head, "BKPSDM", mulai="2026-10-16")
    assert overlap.status_code == 409 and "penilai" in overlap.json()["detail"]
    denied = await client.post(
        "/api/v1/penilai",
        json={"nip": head, "penilai": sekda, "nama": "X", "jabatan": "Y"},
        headers=who(sekda, "atasan"),
    )
    assert denied.status_code == 403


async def test_penilai_dated_like_a_period(env: dict[str, Any]) -> None:
    """A penilai from the 16th decides the reports dated from the 16th only."""
    kit, client = env["kit"], env["client"]
    head, officer, sekda = factories.nip(), factories.nip(), factories.nip()
    r15, r16 = reported(head, THU15), reported(head, FRI16)
    await publish(kit, employee(head, None), r15, r16)
    made = await set_penilai(client, officer, head, sekda, mulai="2026-10-16")
    assert made.status_code == 201, made.text
    assert await queue_ids(client, sekda) == {r16.report_id}
    early = await client.post(
        f"/api/v1/reports/{r15.report_id}/approve", headers=who(sekda, "atasan")
    )
    assert early.status_code == 403
    listed = (await client.get("/api/v1/undecidable", headers=who(officer, "bkpsdm"))).json()
    assert [x["report_id"] for x in listed] == [r15.report_id]


# --------------------------------------------------------------------------- migration imports


async def test_imported_decision_of_a_head_with_penilai_keeps_its_time(
    env: dict[str, Any],
) -> None:
    kit, client = env["kit"], env["client"]
    head, officer = factories.nip(), factories.nip()
    await publish(kit, employee(head, None))
    assert (await set_penilai(client, officer, head, "BKPSDM")).status_code == 201
    historical = wib(MON12, 15, 30)
    imported = reported(
        head,
        MON12,
        occurred_at=wib(TUE20, 8),  # the import ran on the 20th
        imported_decision="approved",
        imported_decided_at=historical,
    )
    await publish(kit, imported)
    (event,) = emitted(kit)
    assert isinstance(event, ReportApproved)
    assert (event.occurred_at, event.migration) == (historical, True)
    assert (event.decided_by, event.as_penilai) == (officer, "BKPSDM")
    audit = (await client.get(f"/api/v1/audit?nip={head}", headers=who(None, "auditor"))).json()
    assert [(a["source"], datetime.fromisoformat(a["at"])) for a in audit] == [
        ("import", historical)
    ]
    item = (
        await client.get(f"/api/v1/reports/{imported.report_id}", headers=who(None, "bkpsdm"))
    ).json()
    # filed (at the latest) when decided: Mon 12 -> today Tue 20 is Tue..Fri + Mon, Tue = 6
    assert item["status"] == "approved" and item["age_working_days"] == 6


async def test_imported_decision_without_a_time_is_dated_to_its_day(env: dict[str, Any]) -> None:
    """An import without a decision time: the end of the report's day, not the import's time."""
    kit = env["kit"]
    staff, boss = factories.nip(), factories.nip()
    imported = reported(staff, MON12, occurred_at=wib(TUE20, 8), imported_decision="rejected")
    await publish(kit, employee(staff, boss), imported)
    (event,) = emitted(kit)
    assert isinstance(event, ReportRejected) and event.migration is True
    assert event.occurred_at == wib(MON12, 23, 59)
    assert event.decided_by == boss


async def test_imported_decision_of_a_head_without_penilai_is_flagged(
    env: dict[str, Any],
) -> None:
    kit, client = env["kit"], env["client"]
    head, officer = factories.nip(), factories.nip()
    historical = wib(MON12, 10)
    imported = reported(
        head,
        MON12,
        occurred_at=wib(TUE20, 8),
        imported_decision="approved",
        imported_decided_at=historical,
    )
    await publish(kit, employee(head, None), imported)
    assert emitted(kit) == []  # nobody to decide: not dropped, not recorded
    listed = await client.get("/api/v1/undecidable", headers=who(None, "auditor"))
    assert listed.status_code == 200
    (flag,) = listed.json()
    assert (flag["report_id"], flag["imported_decision"]) == (imported.report_id, "approved")
    assert "penilai" in flag["reason"]
    denied = await client.get("/api/v1/undecidable", headers=who(head, "atasan"))
    assert denied.status_code == 403

    # BKPSDM names a penilai: the waiting decision is recorded at its historical time
    assert (await set_penilai(client, officer, head, "BKPSDM")).status_code == 201
    (event,) = emitted(kit)
    assert isinstance(event, ReportApproved)
    assert (event.occurred_at, event.migration, event.as_penilai) == (historical, True, "BKPSDM")
    assert (await client.get("/api/v1/undecidable", headers=who(None, "auditor"))).json() == []


# --------------------------------------------------------------------------- live = simulate


async def test_demo_heads_are_decided_live_as_simulate_counts_them(
    memory_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo city through approval as `sikerja demo` loads it (the loader names BKPSDM the
    penilai of every head, then the migration's decisions arrive): every employee's approved
    days, the three heads' among them, are those `sikerja simulate` pays for. Before issue 14
    the heads' imported approvals were dropped (Rp 10.8 M each in the demo)."""
    folder = tmp_path / "demo"
    generate(folder, employees=40, opds=3, period="2026-10", seed=7)
    counted: dict[str, set[date]] = {}
    real = simulate.month_statement

    def spy(nip: str, period: str, own: Any, working: Any, days: Any, approved: set[date],
            *rest: Any) -> Any:  # fmt: skip
        counted[nip] = set(approved)
        return real(nip, period, own, working, days, approved, *rest)

    monkeypatch.setattr(simulate, "month_statement", spy)
    sim = simulate.run_simulation(folder, "2026-10")
    refused = {r.line for r in sim.rejected_inputs if r.file == "reports.csv"}

    app = create(memory_settings, clock=lambda: wib(date(2026, 11, 5), 9))
    kit = app.state.kit
    kit.migrate()
    with (folder / "employees.csv").open(encoding="utf-8", newline="") as fh:
        people = list(csv.DictReader(fh))
    heads = {p["nip"] for p in people if not p["atasan_nip"]}
    assert len(heads) == 3 and any(counted[h] for h in heads)
    consume(kit, *(employee(p["nip"], p["atasan_nip"] or None, opd=p["opd"]) for p in people))

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
    for body in loader.head_penilai(folder):
        made = await client.post(
            "/api/v1/penilai", json=body, headers=who(loader.BKPSDM_NIP, "bkpsdm")
        )
        assert made.status_code == 201, made.text

    imported_at = wib(date(2026, 11, 5), 8)
    with (folder / "reports.csv").open(encoding="utf-8", newline="") as fh:
        rows = [(line, r) for line, r in enumerate(csv.DictReader(fh), start=2)]
    events = [
        reported(
            r["nip"],
            date.fromisoformat(r["tanggal"]),
            occurred_at=imported_at,
            imported_decision=None if r["status"] == "pending" else r["status"],
        )
        for line, r in rows
        if line not in refused and r["tanggal"].startswith("2026-10")
    ]
    for i in range(0, len(events), 400):
        consume(kit, *events[i : i + 400])

    live: dict[str, set[date]] = {}
    for e in emitted(kit):
        if isinstance(e, ReportApproved):
            assert e.migration is True
            live.setdefault(e.nip, set()).add(e.work_date)
    assert {nip: live.get(nip, set()) for nip in counted} == counted
    undecidable = await client.get("/api/v1/undecidable", headers=who(None, "auditor"))
    assert undecidable.json() == []


def consume(kit: Any, *events: Event) -> None:
    """One batch as the kit's batch consumer applies it (inbox claims, handlers, one commit)."""
    with kit.uow() as uow:
        for event, fresh in zip(events, uow.claim_many(list(events)), strict=True):
            if fresh:
                kit.handlers[type(event)](uow, event)
        uow.commit()
