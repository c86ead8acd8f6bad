"""Approval's subscribers (TestKafkaBroker) and decisions API in-process: the queue from
activity's events, transfers, imported decisions, Plt, the period lock and its reopening,
bulk approval and the audit log.

Calendar (October 2026): Mon 5 .. Fri 9, Mon 12; no national holiday on these days.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from faststream.kafka import TestKafkaBroker
from sqlmodel import Session

from contracts.events import (
    ActivityReported,
    ActivityRevised,
    ActivityWithdrawn,
    DelegationGranted,
    DelegationRevoked,
    Event,
    ReportApproved,
    ReportRejected,
    TppPeriodClosed,
)
from services.approval.app import create
from services.approval.models import QueueEntry
from services.shared.settings import Settings
from tests import factories
from tests.factories import employee
from tests.support import Clock, emitted, who, wib

MON = date(2026, 10, 5)


def reported(nip: str, day: date = MON, **over: Any) -> ActivityReported:
    fields: dict[str, Any] = {
        "occurred_at": wib(day, 16),
        "producer": "activity",
        "nip": nip,
        "report_id": str(uuid.uuid4()),
        "work_date": day,
        "description": "Menyusun notula rapat",
        "output": "notula",
        "minutes": 90,
    }
    fields.update(over)
    return ActivityReported(**fields)


@pytest.fixture
def env(memory_settings: Settings) -> dict[str, Any]:
    clock = Clock(wib(date(2026, 10, 7), 9))  # Wednesday
    app = create(memory_settings, clock=clock)
    kit = app.state.kit
    kit.migrate()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
    return {"kit": kit, "clock": clock, "client": client}


async def publish(kit: Any, *events: Event) -> None:
    async with TestKafkaBroker(kit.broker) as br:
        for event in events:
            await br.publish(event.to_bytes(), str(event.TOPIC), key=event.nip.encode())


async def test_queue_follows_activity_events_and_transfers(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    staff, boss, new_boss = factories.nip(), factories.nip(), factories.nip()
    first = reported(staff)
    second = reported(staff, description="Rapat")
    revision = ActivityRevised(
        **{**first.model_dump(exclude={"event_id", "event_type"}), "description": "Notula v2"},
        revision=1,
    )
    old_revision = revision.model_copy(update={"event_id": uuid.uuid4(), "revision": 0})
    await publish(
        kit,
        employee(staff, boss),
        first,
        first,  # redelivered: one queue entry
        second,
        revision,
        old_revision,  # an older revision arriving late is ignored
        ActivityWithdrawn(
            occurred_at=wib(MON, 17),
            producer="activity",
            nip=staff,
            report_id=second.report_id,
            work_date=MON,
        ),
    )
    queue = (await client.get("/api/v1/queue", headers=who(boss, "atasan"))).json()
    assert [(q["report_id"], q["description"], q["revision"]) for q in queue] == [
        (first.report_id, "Notula v2", 1)
    ]
    # filed Monday, today Wednesday: working days in (Mon, Wed] = Tue, Wed = 2
    assert queue[0]["age_working_days"] == 2

    # transfer: the employee now reports to new_boss; the open report moves with them
    await publish(kit, employee(staff, new_boss, datetime(2026, 10, 6, tzinfo=UTC)))
    assert (await client.get("/api/v1/queue", headers=who(boss, "atasan"))).json() == []
    moved = (await client.get("/api/v1/queue", headers=who(new_boss, "atasan"))).json()
    assert [q["report_id"] for q in moved] == [first.report_id]
    old = await client.post(
        f"/api/v1/reports/{first.report_id}/approve", headers=who(boss, "atasan")
    )
    assert old.status_code == 403 and old.json()["code"] == "forbidden"
    ok = await client.post(
        f"/api/v1/reports/{first.report_id}/approve", headers=who(new_boss, "atasan")
    )
    assert ok.status_code == 200, ok.text
    events = emitted(kit)
    assert len(events) == 1 and isinstance(events[0], ReportApproved)
    assert (events[0].decided_by, events[0].as_plt_for, events[0].nip) == (new_boss, None, staff)
    again = await client.post(
        f"/api/v1/reports/{first.report_id}/approve", headers=who(new_boss, "atasan")
    )
    assert again.status_code == 409 and again.json()["code"] == "not_pending"


async def test_reject_and_revision_need_text_and_plt_decides_as_plt(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    staff, boss, plt = factories.nip(), factories.nip(), factories.nip()
    a, b = reported(staff), reported(staff)
    await publish(kit, employee(staff, boss), a, b)

    empty = await client.post(
        f"/api/v1/reports/{a.report_id}/reject", json={"reason": "  "}, headers=who(boss, "atasan")
    )
    assert empty.status_code == 422 and empty.json()["code"] == "reason_required"
    no_note = await client.post(
        f"/api/v1/reports/{a.report_id}/request-revision", json={}, headers=who(boss, "atasan")
    )
    assert no_note.status_code == 422 and no_note.json()["code"] == "note_required"

    # Plt for Tue 6 .. Thu 8 October (today is Wednesday 7): decides as Plt
    before = await client.post(f"/api/v1/reports/{a.report_id}/approve", headers=who(plt, "atasan"))
    assert before.status_code == 403
    made = await client.post(
        "/api/v1/delegations",
        json={"atasan_nip": boss, "plt_nip": plt, "start": "2026-10-06", "end": "2026-10-08"},
        headers=who(boss, "atasan"),
    )
    assert made.status_code == 201, made.text
    plt_queue = (await client.get("/api/v1/queue", headers=who(plt, "atasan"))).json()
    assert {q["as_plt_for"] for q in plt_queue} == {boss} and len(plt_queue) == 2
    rej = await client.post(
        f"/api/v1/reports/{a.report_id}/reject",
        json={"reason": "Bukan kegiatan hari itu"},
        headers=who(plt, "atasan"),
    )
    assert rej.status_code == 200 and rej.json()["as_plt_for"] == boss
    rev = await client.post(
        f"/api/v1/reports/{b.report_id}/request-revision",
        json={"note": "Tambahkan jumlah peserta"},
        headers=who(boss, "atasan"),
    )
    assert rev.status_code == 200
    granted, *events = emitted(kit)
    assert isinstance(granted, DelegationGranted)
    assert [(e.event_type, e.as_plt_for) for e in events] == [  # type: ignore[attr-defined]
        ("ReportRejected", boss),
        ("RevisionRequested", None),
    ]
    assert isinstance(events[0], ReportRejected) and events[0].reason == "Bukan kegiatan hari itu"

    # after the window the Plt has no authority (Friday 9)
    env["clock"].moment = wib(date(2026, 10, 9), 9)
    revised = ActivityRevised(
        **b.model_dump(exclude={"event_id", "event_type", "occurred_at"}),
        occurred_at=wib(date(2026, 10, 8), 10),
        revision=1,
    )
    await publish(kit, revised)
    late = await client.post(f"/api/v1/reports/{b.report_id}/approve", headers=who(plt, "atasan"))
    assert late.status_code == 403

    audit = await client.get(f"/api/v1/audit?nip={staff}", headers=who(None, "auditor"))
    assert [(r["action"], r["actor_nip"], r["as_plt_for"]) for r in audit.json()] == [
        ("reject", plt, boss),
        ("request_revision", boss, None),
    ]
    assert "sebagai Plt untuk" in audit.json()[0]["summary"]
    denied = await client.get("/api/v1/audit", headers=who(boss, "atasan"))
    assert denied.status_code == 403


async def test_delegations_are_announced_through_the_outbox(env: dict[str, Any]) -> None:
    """Activity learns of a Plt only from these events: the grant and the revoke go into the
    outbox with the row change, keyed by the delegating atasan."""
    kit, client, clock = env["kit"], env["client"], env["clock"]
    boss, plt, stranger = factories.nip(), factories.nip(), factories.nip()
    window = {"atasan_nip": boss, "plt_nip": plt, "start": "2026-10-06", "end": "2026-10-08"}

    refused = await client.post("/api/v1/delegations", json=window, headers=who(stranger, "atasan"))
    assert refused.status_code == 403
    invalid = await client.post(
        "/api/v1/delegations",
        json={**window, "end": "2026-10-05"},
        headers=who(boss, "atasan"),
    )
    assert invalid.status_code == 422
    assert emitted(kit) == []  # nothing announced for a refused delegation

    made = await client.post("/api/v1/delegations", json=window, headers=who(boss, "atasan"))
    assert made.status_code == 201, made.text
    delegation_id = made.json()["id"]
    (granted,) = emitted(kit)
    assert isinstance(granted, DelegationGranted)
    assert (granted.nip, granted.key, granted.producer) == (boss, boss.encode(), "approval")
    assert (granted.delegation_id, granted.plt_nip) == (delegation_id, plt)
    assert (granted.start, granted.end) == (date(2026, 10, 6), date(2026, 10, 8))
    assert granted.occurred_at == clock.moment

    clock.moment = wib(date(2026, 10, 7), 15)
    gone = await client.delete(f"/api/v1/delegations/{delegation_id}", headers=who(boss, "atasan"))
    assert gone.status_code == 200 and gone.json()["revoked_at"] is not None
    again = await client.delete(f"/api/v1/delegations/{delegation_id}", headers=who(None, "bkpsdm"))
    assert again.status_code == 200  # already revoked: nothing changes, nothing announced
    _, revoked = emitted(kit)
    assert isinstance(revoked, DelegationRevoked)
    assert (revoked.nip, revoked.delegation_id, revoked.plt_nip) == (boss, delegation_id, plt)
    assert revoked.occurred_at == clock.moment

    # Announced again on BKPSDM's request: only delegations not revoked and not over.
    later = {**window, "start": "2026-10-09", "end": "2026-10-10"}
    kept = await client.post("/api/v1/delegations", json=later, headers=who(boss, "atasan"))
    over = {**window, "start": "2026-10-01", "end": "2026-10-02"}
    await client.post("/api/v1/delegations", json=over, headers=who(None, "bkpsdm"))
    by_boss = await client.post("/api/v1/delegations/announce", headers=who(boss, "atasan"))
    assert by_boss.status_code == 403
    announced = await client.post("/api/v1/delegations/announce", headers=who(None, "bkpsdm"))
    assert announced.json() == {"announced": 1}
    last = emitted(kit)[-1]
    assert isinstance(last, DelegationGranted) and last.delegation_id == kept.json()["id"]


async def test_period_lock_and_reopen(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    staff, boss, officer = factories.nip(), factories.nip(), factories.nip()
    sept = reported(staff, date(2026, 9, 30))
    closed = TppPeriodClosed(
        occurred_at=wib(date(2026, 10, 5), 8),
        producer="tpp",
        nip=staff,
        period="2026-09",
        rules="bekasi-perwali-69-2019",
        pagu=3_000_000,
        net=2_900_000,
        closed_by="bkpsdm",
    )
    await publish(kit, employee(staff, boss), sept, closed)
    locked = await client.post(
        f"/api/v1/reports/{sept.report_id}/approve", headers=who(boss, "atasan")
    )
    assert locked.status_code == 409 and locked.json()["code"] == "period_locked"
    no_reason = await client.post(
        "/api/v1/periods/2026-09/reopen", json={"reason": ""}, headers=who(officer, "bkpsdm")
    )
    assert no_reason.status_code == 422
    not_bkpsdm = await client.post(
        "/api/v1/periods/2026-09/reopen", json={"reason": "x"}, headers=who(boss, "atasan")
    )
    assert not_bkpsdm.status_code == 403
    reopened = await client.post(
        "/api/v1/periods/2026-09/reopen",
        json={"reason": "Koreksi keputusan atasan"},
        headers=who(officer, "bkpsdm"),
    )
    assert reopened.status_code == 201
    ok = await client.post(f"/api/v1/reports/{sept.report_id}/approve", headers=who(boss, "atasan"))
    assert ok.status_code == 200, ok.text
    # tpp closes again later: locked once more
    again = closed.model_copy(
        update={"event_id": uuid.uuid4(), "occurred_at": wib(date(2026, 10, 8), 8)}
    )
    other = reported(staff, date(2026, 9, 29))
    await publish(kit, other, again)
    env["clock"].moment = wib(date(2026, 10, 8), 9)
    relocked = await client.post(
        f"/api/v1/reports/{other.report_id}/approve", headers=who(boss, "atasan")
    )
    assert relocked.status_code == 409 and relocked.json()["code"] == "period_locked"


async def test_bulk_approve_reports_per_item(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    staff, stranger, boss = factories.nip(), factories.nip(), factories.nip()
    mine1, mine2, theirs = reported(staff), reported(staff), reported(stranger)
    await publish(
        kit, employee(staff, boss), employee(stranger, factories.nip()), mine1, mine2, theirs
    )
    r = await client.post(
        "/api/v1/reports/bulk-approve",
        json={
            "report_ids": [
                mine1.report_id,
                theirs.report_id,
                "tidak-ada",
                mine1.report_id,
                mine2.report_id,
            ]
        },
        headers=who(boss, "atasan"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(x["ok"], x["code"]) for x in body["results"]] == [
        (True, "ok"),
        (False, "forbidden"),
        (False, "not_found"),
        (False, "duplicate"),
        (True, "ok"),
    ]
    assert (body["approved"], body["refused"]) == (2, 3)
    assert sorted(e.report_id for e in emitted(kit)) == sorted(  # type: ignore[attr-defined]
        [mine1.report_id, mine2.report_id]
    )


async def test_imported_decisions_wait_for_the_atasan(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    staff, boss = factories.nip(), factories.nip()
    approved = reported(staff, imported_decision="approved")
    rejected = reported(staff, date(2026, 10, 6), imported_decision="rejected")
    pending = reported(staff, date(2026, 10, 6))
    # the reports arrive before the employee's record: decisions wait for the atasan
    await publish(kit, approved, rejected, pending)
    assert emitted(kit) == []
    await publish(kit, employee(staff, boss))
    events = emitted(kit)
    assert sorted((e.event_type, e.report_id) for e in events) == sorted(  # type: ignore[attr-defined]
        [("ReportApproved", approved.report_id), ("ReportRejected", rejected.report_id)]
    )
    assert all(e.decided_by == boss for e in events)  # type: ignore[attr-defined]
    assert {e.causation_id for e in events} == {approved.event_id, rejected.event_id}
    queue = (await client.get("/api/v1/queue", headers=who(boss, "atasan"))).json()
    assert [q["report_id"] for q in queue] == [pending.report_id]
    audit = (await client.get("/api/v1/audit", headers=who(None, "bkpsdm"))).json()
    assert {r["source"] for r in audit} == {"import"}


# -- one consumed batch: the kit hands many events to the handlers in one transaction ---------


def consume(kit: Any, *events: Event) -> None:
    """One batch as the kit's batch consumer applies it (inbox claims, each handler, one
    commit), minus its fallback to one event at a time, which would hide a failing batch."""
    with kit.uow() as uow:
        for event, fresh in zip(events, uow.claim_many(list(events)), strict=True):
            if fresh:
                kit.handlers[type(event)](uow, event)
        uow.commit()


def entry(kit: Any, report_id: str) -> QueueEntry | None:
    with Session(kit.engine) as s:
        return s.get(QueueEntry, report_id)


def revised(of: ActivityReported, revision: int, **over: Any) -> ActivityRevised:
    fields = of.model_dump(exclude={"event_id", "event_type", "imported_decision"})
    return ActivityRevised(**{**fields, **over}, revision=revision)


def withdrawn(of: ActivityReported) -> ActivityWithdrawn:
    return ActivityWithdrawn(
        occurred_at=wib(of.work_date, 17),
        producer="activity",
        nip=of.nip,
        report_id=of.report_id,
        work_date=of.work_date,
    )


def test_batch_keeps_the_first_report_of_an_id(env: dict[str, Any]) -> None:
    kit = env["kit"]
    staff, boss = factories.nip(), factories.nip()
    first = reported(staff)
    again = reported(staff, report_id=first.report_id, description="Salinan lain")
    other = reported(staff)
    consume(kit, employee(staff, boss), first, first, again, other)
    row = entry(kit, first.report_id)
    assert row is not None
    assert (row.description, row.atasan_nip, row.status) == (first.description, boss, "pending")
    assert row.reported_event_id == str(first.event_id)
    assert entry(kit, other.report_id) is not None
    # a later batch reporting a known id leaves the entry as it is
    consume(kit, reported(staff, report_id=first.report_id, description="Terlambat"))
    assert entry(kit, first.report_id).description == first.description  # type: ignore[union-attr]


def test_batch_revision_after_report_applies(env: dict[str, Any]) -> None:
    kit = env["kit"]
    staff, boss = factories.nip(), factories.nip()
    report = reported(staff)
    consume(
        kit,
        employee(staff, boss),
        report,
        revised(report, 1, description="Notula v2", minutes=120),
        report,  # redelivered after the revision: nothing changes
    )
    row = entry(kit, report.report_id)
    assert row is not None
    assert (row.description, row.minutes, row.revision) == ("Notula v2", 120, 1)
    assert (row.status, row.atasan_nip) == ("pending", boss)
    # a revision that overtook its report, in one batch: the report finds the entry there
    late = reported(staff)
    consume(kit, revised(late, 1, description="Duluan"), late)
    row = entry(kit, late.report_id)
    assert row is not None and (row.description, row.revision) == ("Duluan", 1)


def test_batch_withdrawal_after_report_applies(env: dict[str, Any]) -> None:
    kit = env["kit"]
    staff, boss = factories.nip(), factories.nip()
    gone, kept = reported(staff), reported(staff)
    consume(kit, employee(staff, boss), gone, kept, withdrawn(gone))
    assert entry(kit, gone.report_id).status == "withdrawn"  # type: ignore[union-attr]
    assert entry(kit, kept.report_id).status == "pending"  # type: ignore[union-attr]


async def test_batch_transfer_after_report_moves_it(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    staff, boss, new_boss = factories.nip(), factories.nip(), factories.nip()
    consume(kit, employee(staff, boss))
    before, after = reported(staff), reported(staff, date(2026, 10, 6))
    consume(kit, before, employee(staff, new_boss, datetime(2026, 10, 6, tzinfo=UTC)), after)
    assert entry(kit, before.report_id).atasan_nip == new_boss  # type: ignore[union-attr]
    assert entry(kit, after.report_id).atasan_nip == new_boss  # type: ignore[union-attr]
    assert (await client.get("/api/v1/queue", headers=who(boss, "atasan"))).json() == []
    moved = (await client.get("/api/v1/queue", headers=who(new_boss, "atasan"))).json()
    assert sorted(q["report_id"] for q in moved) == sorted([before.report_id, after.report_id])


def test_batch_imported_decisions_keep_their_order(env: dict[str, Any]) -> None:
    kit = env["kit"]
    staff, boss = factories.nip(), factories.nip()
    plain = reported(staff)
    # the same report imported after its plain copy: the plain one came first and wins
    late_import = reported(staff, report_id=plain.report_id, imported_decision="approved")
    imported = reported(staff, date(2026, 10, 6), imported_decision="rejected")
    consume(kit, plain, late_import, imported, employee(staff, boss))
    assert entry(kit, plain.report_id).status == "pending"  # type: ignore[union-attr]
    assert entry(kit, imported.report_id).status == "rejected"  # type: ignore[union-attr]
    events = emitted(kit)
    assert [(e.event_type, e.report_id, e.decided_by) for e in events] == [  # type: ignore[attr-defined]
        ("ReportRejected", imported.report_id, boss)
    ]
