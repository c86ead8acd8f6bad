"""TPP's subscribers with TestKafkaBroker: events in, statements and outbox events out.

The employee of every test has a pagu of Rp10.000.000, so by hand (Bekasi rule set):
disiplin = 40% = 4.000.000, produktivitas = 6.000.000, TL1 = 0,25% = 25.000.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import TestKafkaBroker
from sqlmodel import Session, select

from contracts.events import (
    EmployeeUpserted,
    Event,
    FingerprintRecorded,
    ReportApproved,
)
from services.shared.consumer import Delivery
from services.shared.kit import ServiceKit
from services.shared.outbox import BrokerPublisher
from services.shared.settings import Settings
from services.shared.uow import UnitOfWork
from services.tpp import periods, queries
from services.tpp.app import build_kit
from services.tpp.models import DayFact, PendingCorrection, Statement
from tests import factories
from tests.support import Clock

NOW = datetime(2026, 10, 6, 1, 0, tzinfo=UTC)
PAGU = 10_000_000
MON = date(2026, 10, 5)
TUE = date(2026, 10, 6)
PERIOD = "2026-10"


def make_kit(settings: Settings) -> ServiceKit:
    kit = build_kit(settings)
    kit.relay.publisher = BrokerPublisher(kit.broker)
    kit.migrate()
    return kit


def employee(nip: str) -> EmployeeUpserted:
    return factories.employee(
        nip,
        at=NOW,
        nama="Siti Aminah",
        opd="Dinas Komunikasi dan Informatika",
        kelas_jabatan=9,
        tpp_pagu=PAGU,
    )


def closed(nip: str, day: date, revision: int, status: str = "present", **facts: Any):
    return factories.day_closed(
        nip, day, revision, NOW, status, late=facts.get("late"), early=facts.get("early")
    )


def approved(nip: str, day: date) -> ReportApproved:
    return factories.approved(nip, day, NOW)


async def send(br: TestKafkaBroker, event: Event) -> None:
    await br.publish(event.to_bytes(), str(event.TOPIC), key=event.nip.encode())


def statement(kit: ServiceKit, nip: str) -> Statement | None:
    with Session(kit.engine) as s:
        return s.get(Statement, (nip, PERIOD))


def outbox(kit: ServiceKit, event_type: str) -> list[dict[str, Any]]:
    model = kit.tables.outbox
    with Session(kit.engine) as s:
        rows = s.exec(select(model).where(model.event_type == event_type).order_by(model.id)).all()
    return [json.loads(r.payload) for r in rows]


def lines(row: Statement) -> list[tuple[str, str, str, int]]:
    return [
        (ln["date"], ln["code"], ln["percent"], ln["amount"]) for ln in queries.statement_lines(row)
    ]


async def test_late_day_redelivery_old_revision_and_approval(memory_settings: Settings) -> None:
    kit = make_kit(memory_settings)
    nip = factories.nip()
    late = closed(nip, MON, 1, late=37)
    async with TestKafkaBroker(kit.broker) as br:
        await send(br, employee(nip))
        # A scan is provisional: no statement, no money.
        scan = factories.scan(
            nip, MON, datetime(2026, 10, 5, 0, 37, tzinfo=UTC), occurred_at=NOW, scan_id="s1"
        )
        await send(br, scan)
        assert statement(kit, nip) is None

        await send(br, late)
        row = statement(kit, nip)
        assert row is not None
        # 37 minutes late is the 16–60 band: TL1, 0,25% × 10.000.000 = 25.000.
        # One required report day without an approved report: LKH = 6.000.000 / 1.
        assert lines(row) == [
            ("2026-10-05", "LKH", "100.0000", 6_000_000),
            ("2026-10-05", "TL1", "0.25", 25_000),
        ]
        # net = 10.000.000 − 25.000 − 6.000.000 = 3.975.000
        assert row.net == 3_975_000
        assert row.attendance_cap == 4_000_000 and row.productivity_cap == 6_000_000
        first = outbox(kit, "TppRecomputed")
        assert len(first) == 1
        assert first[0]["old_net"] is None and first[0]["new_net"] == 3_975_000
        assert first[0]["cause_event_type"] == "AttendanceDayClosed"
        assert first[0]["cause_event_id"] == str(late.event_id)
        assert first[0]["causation_id"] == str(late.event_id)
        assert first[0]["rules"] == "bekasi-perwali-69-2019"

        # The same event again (redelivery): nothing changes, nothing is emitted.
        await send(br, late)
        assert statement(kit, nip).net == 3_975_000  # type: ignore[union-attr]
        assert len(outbox(kit, "TppRecomputed")) == 1

        # Revision 2 (scan corrected: on time) replaces it: net 10.000.000 − 6.000.000.
        await send(br, closed(nip, MON, 2, late=0))
        assert statement(kit, nip).net == 4_000_000  # type: ignore[union-attr]
        # An older revision arriving late (another event id) changes nothing.
        await send(br, closed(nip, MON, 1, late=200))
        assert statement(kit, nip).net == 4_000_000  # type: ignore[union-attr]
        assert [e["new_net"] for e in outbox(kit, "TppRecomputed")] == [3_975_000, 4_000_000]

        # The day's report approved: the LKH line goes, net = the whole pagu.
        decision = approved(nip, MON)
        await send(br, decision)
        row = statement(kit, nip)
        assert row is not None and lines(row) == [] and row.net == 10_000_000
        last = outbox(kit, "TppRecomputed")[-1]
        assert (last["old_net"], last["new_net"]) == (4_000_000, 10_000_000)
        assert last["causation_id"] == str(decision.event_id)
        assert last["cause_event_type"] == "ReportApproved"


async def test_day_before_employee_is_known_is_computed_when_it_arrives(
    memory_settings: Settings,
) -> None:
    kit = make_kit(memory_settings)
    nip = factories.nip()
    async with TestKafkaBroker(kit.broker) as br:
        await send(br, closed(nip, MON, 1, status="tanpa_keterangan"))
        assert statement(kit, nip) is None  # no pagu yet
        await send(br, employee(nip))
        row = statement(kit, nip)
        # TK = 5% × 10.000.000 = 500.000; LKH = 6.000.000 (1 required day, none approved)
        # net = 10.000.000 − 500.000 − 6.000.000 = 3.500.000
        assert row is not None and row.net == 3_500_000
        assert outbox(kit, "TppRecomputed")[-1]["cause_event_type"] == "EmployeeUpserted"


async def test_event_after_close_is_a_pending_correction_until_reopen(
    memory_settings: Settings,
) -> None:
    kit = make_kit(memory_settings)
    nip, other = factories.nip(), factories.nip()
    async with TestKafkaBroker(kit.broker) as br:
        await send(br, employee(nip))
        await send(br, employee(other))  # no facts at all this month
        await send(br, closed(nip, MON, 1, late=0))
        await send(br, approved(nip, MON))
        assert statement(kit, nip).net == PAGU  # type: ignore[union-attr]

        with kit.uow() as uow:
            result = periods.close_period(uow, PERIOD, "199001012015031001", NOW)
            uow.commit()
        assert result["statements"] == 2 and result["computed_at_close"] == 1
        closed_events = outbox(kit, "TppPeriodClosed")
        # The ASN without any closed day is paid the whole pagu (no line at all).
        assert sorted((e["nip"], e["net"], e["pagu"]) for e in closed_events) == sorted(
            [(nip, PAGU, PAGU), (other, PAGU, PAGU)]
        )

        tk = closed(nip, TUE, 1, status="tanpa_keterangan")
        await send(br, tk)
        row = statement(kit, nip)
        assert row is not None and row.frozen and row.net == PAGU  # not silently applied
        with Session(kit.engine) as s:
            pending = s.exec(select(PendingCorrection)).all()
        assert [(p.nip, p.event_id, p.applied_at) for p in pending] == [
            (nip, str(tk.event_id), None)
        ]
        recomputed_before = len(outbox(kit, "TppRecomputed"))

        with kit.uow() as uow:
            reopened = periods.reopen_period(uow, PERIOD, "199001012015031001", NOW)
            uow.commit()
        # TK on the 6th: 5% × 10.000.000 = 500.000; two required days, one approved:
        # LKH for the 6th = 6.000.000 / 2 = 3.000.000.
        # net = 10.000.000 − 500.000 − 3.000.000 = 6.500.000
        row = statement(kit, nip)
        assert row is not None and not row.frozen and row.net == 6_500_000
        assert reopened["recomputed"][0]["old_net"] == PAGU
        assert reopened["recomputed"][0]["new_net"] == 6_500_000
        kinds = [c["kind"] for c in reopened["recomputed"][0]["changes"]]
        assert kinds == ["line_added", "line_added", "net_changed"]
        events = outbox(kit, "TppRecomputed")
        assert len(events) == recomputed_before + 1
        assert events[-1]["causation_id"] == str(tk.event_id)


# -- one consumed batch: the kit hands many events to the handlers in one transaction ---------


def scan(nip: str, day: date, at: datetime) -> FingerprintRecorded:
    return factories.scan(nip, day, at, occurred_at=NOW)


async def consume(kit: ServiceKit, events: list[Event]) -> None:
    """One batch, as the kit's consumer gets it from one poll."""
    await kit.handle_batch([Delivery(body=e.to_bytes()) for e in events])


def day_fact(kit: ServiceKit, nip: str, day: date) -> DayFact | None:
    with Session(kit.engine) as s:
        return s.get(DayFact, (nip, day))


def mixed_batch(a: str, b: str) -> list[Event]:
    """A's Monday: two scans out of order, revision 1 (37 min late), revision 2 (on time),
    then an older revision 1 (another event id, 200 min late) that must change nothing.
    B: a scan on Monday that is never closed, Tuesday closed TK, then its report approved."""
    return [
        scan(a, MON, datetime(2026, 10, 5, 0, 50, tzinfo=UTC)),
        closed(a, MON, 1, late=37),
        scan(a, MON, datetime(2026, 10, 5, 0, 40, tzinfo=UTC)),
        closed(a, MON, 2, late=0),
        closed(a, MON, 1, late=200),
        scan(b, MON, datetime(2026, 10, 5, 1, 0, tzinfo=UTC)),
        closed(b, TUE, 1, status="tanpa_keterangan"),
        approved(b, TUE),
    ]


async def test_one_batch_applies_days_in_order_and_recomputes_each_month_once(
    memory_settings: Settings,
) -> None:
    kit = make_kit(memory_settings)
    a, b = factories.nip(), factories.nip()
    await consume(kit, [employee(a), employee(b)])
    assert outbox(kit, "TppRecomputed") == []  # no facts yet: nothing to compute
    events = mixed_batch(a, b)
    await consume(kit, events)

    fact = day_fact(kit, a, MON)
    assert fact is not None
    assert (fact.revision, fact.status, fact.minutes_late) == (2, "present", 0)
    assert fact.scans_seen == 2
    assert fact.first_scan_at == datetime(2026, 10, 5, 0, 40, tzinfo=UTC)
    assert fact.last_scan_at == datetime(2026, 10, 5, 0, 50, tzinfo=UTC)
    provisional = day_fact(kit, b, MON)
    assert provisional is not None
    assert (provisional.revision, provisional.status, provisional.scans_seen) == (0, "open", 1)

    # A: Monday on time (revision 2), no report: LKH 6.000.000 -> 10.000.000 − 6.000.000.
    assert statement(kit, a).net == 4_000_000  # type: ignore[union-attr]
    # B: Tuesday TK 5% × 10.000.000 = 500.000; its report approved, Monday (provisional)
    # is not a money day: net = 10.000.000 − 500.000 = 9.500.000.
    assert statement(kit, b).net == 9_500_000  # type: ignore[union-attr]
    # One TppRecomputed per employee-month, caused by the last event that changed it.
    got = {e["nip"]: e for e in outbox(kit, "TppRecomputed")}
    assert len(outbox(kit, "TppRecomputed")) == 2
    assert (got[a]["old_net"], got[a]["new_net"]) == (None, 4_000_000)
    assert got[a]["cause_event_id"] == str(events[3].event_id)  # revision 2
    assert (got[b]["old_net"], got[b]["new_net"]) == (None, 9_500_000)
    assert got[b]["cause_event_id"] == str(events[7].event_id)  # the approval
    assert got[b]["cause_event_type"] == "ReportApproved"

    # The same batch again (redelivery after a crash before the offset commit): no effect.
    await consume(kit, events)
    assert len(outbox(kit, "TppRecomputed")) == 2
    assert day_fact(kit, a, MON).scans_seen == 2  # type: ignore[union-attr]


async def test_a_batch_ends_where_the_same_events_one_by_one_end(
    memory_settings: Settings, tmp_path: Path
) -> None:
    one_by_one = make_kit(memory_settings)
    a, b = factories.nip(), factories.nip()
    events = [employee(a), employee(b), *mixed_batch(a, b)]
    for event in events:
        await consume(one_by_one, [event])
    url = f"sqlite:///{tmp_path}/batched-{{service}}.db"
    batched = make_kit(memory_settings.model_copy(update={"database_url": url}))
    await consume(batched, events)
    for nip in (a, b):
        x, y = statement(one_by_one, nip), statement(batched, nip)
        assert x is not None and y is not None
        assert (x.net, lines(x)) == (y.net, lines(y))
        for day in (MON, TUE):
            fx, fy = day_fact(one_by_one, nip, day), day_fact(batched, nip, day)
            assert (fx is None) == (fy is None)
            if fx is not None and fy is not None:
                assert fx.model_dump() == fy.model_dump()
    # One by one, A's month changed twice (3.975.000, then 4.000.000) and B's twice (TK
    # without report 10.000.000 − 500.000 − 6.000.000 = 3.500.000, then 9.500.000);
    # batched, each month once, to the same final net.
    assert [e["new_net"] for e in outbox(one_by_one, "TppRecomputed")] == [
        3_975_000,
        4_000_000,
        3_500_000,
        9_500_000,
    ]
    assert sorted(e["new_net"] for e in outbox(batched, "TppRecomputed")) == [
        4_000_000,
        9_500_000,
    ]


async def test_a_batch_keeps_a_closed_month_as_pending_correction(
    memory_settings: Settings,
) -> None:
    kit = make_kit(memory_settings)
    nip = factories.nip()
    await consume(kit, [employee(nip), closed(nip, MON, 1, late=0), approved(nip, MON)])
    with kit.uow() as uow:
        periods.close_period(uow, PERIOD, "199001012015031001", NOW)
        uow.commit()
    before = len(outbox(kit, "TppRecomputed"))
    tk = closed(nip, TUE, 1, status="tanpa_keterangan")
    await consume(kit, [scan(nip, TUE, datetime(2026, 10, 6, 0, 30, tzinfo=UTC)), tk])
    row = statement(kit, nip)
    assert row is not None and row.frozen and row.net == PAGU  # not silently applied
    with Session(kit.engine) as s:
        pending = s.exec(select(PendingCorrection)).all()
    assert [(p.event_id, p.work_date) for p in pending] == [(str(tk.event_id), TUE)]
    # The scan still shows on the provisional row; the close did not replace it.
    fact = day_fact(kit, nip, TUE)
    assert fact is not None and (fact.revision, fact.scans_seen) == (0, 1)
    assert len(outbox(kit, "TppRecomputed")) == before


def test_uow_once_runs_one_callback_per_key_before_commit(memory_settings: Settings) -> None:
    kit = make_kit(memory_settings)

    class Probe:
        def __init__(self) -> None:
            self.runs = 0

        def __call__(self, uow: UnitOfWork) -> None:
            self.runs += 1

    with kit.uow() as uow:
        first, again = uow.once("k", Probe), uow.once("k", Probe)
        other = uow.once("other", Probe)
        assert first is again and first is not other and first.runs == 0
        uow.commit()
    assert (first.runs, other.runs) == (1, 1)
    with pytest.raises(RuntimeError), kit.uow() as uow:
        dropped = uow.once("k", Probe)
        raise RuntimeError("rolled back")
    assert dropped.runs == 0  # a rolled back unit of work never runs its callbacks


async def test_event_handling_dates_its_work_by_the_kits_clock(memory_settings: Settings) -> None:
    """A recompute or a kept correction caused by an event is dated by the processing clock
    (the kit's, injected), not by the wall clock nor by the event's occurred_at."""
    processed = datetime(2026, 11, 3, 2, 15, tzinfo=UTC)
    kit = build_kit(memory_settings, clock=Clock(processed))
    kit.relay.publisher = BrokerPublisher(kit.broker)
    kit.migrate()
    nip = factories.nip()
    await consume(kit, [employee(nip), closed(nip, MON, 1, late=37)])
    row = statement(kit, nip)
    assert row is not None and row.computed_at == processed
    assert [e["occurred_at"] for e in outbox(kit, "TppRecomputed")] == ["2026-11-03T02:15:00Z"]
    with kit.uow() as uow:
        periods.close_period(uow, PERIOD, "199001012015031001", NOW)
        uow.commit()
    await consume(kit, [closed(nip, TUE, 1, status="tanpa_keterangan"), approved(nip, MON)])
    with Session(kit.engine) as s:
        pending = s.exec(select(PendingCorrection)).all()
    assert [p.received_at for p in pending] == [processed, processed]


async def test_the_close_carries_the_month_summary_for_the_kinerja_proposal(
    memory_settings: Settings,
) -> None:
    """TppPeriodClosed says what the kinerja proposal reads. By hand (pagu 10.000.000): Mon
    late 37 min = TL1 0,25 % = 25.000; Tue TK = 5 % = 500.000, and its report is missing (an
    LKH line, not an attendance line). Required report days 2, approved 1; attendance lines
    2 (TL1, TK), TK days 1, attendance deduction 525.000."""
    kit = make_kit(memory_settings)
    nip = factories.nip()
    async with TestKafkaBroker(kit.broker) as br:
        await send(br, employee(nip))
        await send(br, closed(nip, MON, 1, late=37))
        await send(br, closed(nip, TUE, 1, status="tanpa_keterangan"))
        await send(br, approved(nip, MON))
        with kit.uow() as uow:
            periods.close_period(uow, PERIOD, "199001012015031001", NOW)
            uow.commit()
    [event] = outbox(kit, "TppPeriodClosed")
    summary = {k: event[k] for k in ("required_days", "approved_days", "attendance_deduction",
                                     "attendance_lines", "tk_days")}  # fmt: skip
    assert summary == {
        "required_days": 2,
        "approved_days": 1,
        "attendance_deduction": 525_000,
        "attendance_lines": 2,
        "tk_days": 1,
    }
