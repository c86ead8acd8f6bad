"""TPP's subscribers with TestKafkaBroker: events in, statements and outbox events out.

The employee of every test has a pagu of Rp10.000.000, so by hand (Bekasi rule set):
disiplin = 40% = 4.000.000, produktivitas = 6.000.000, TL1 = 0,25% = 25.000.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from faststream.kafka import TestKafkaBroker
from sqlmodel import Session, select

from contracts.events import (
    AttendanceDayClosed,
    EmployeeUpserted,
    Event,
    FingerprintRecorded,
    ReportApproved,
)
from services.shared.messaging import BrokerPublisher, ServiceKit
from services.shared.settings import Settings
from services.tpp import statements
from services.tpp.app import build_kit
from services.tpp.models import PendingCorrection, Statement
from tests import factories

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
    return EmployeeUpserted(
        occurred_at=NOW,
        producer="siasn",
        nip=nip,
        nama="Siti Aminah",
        opd="Dinas Komunikasi dan Informatika",
        kelas_jabatan=9,
        tpp_pagu=PAGU,
    )


def closed(nip: str, day: date, revision: int, status: str = "present", **facts: Any):
    return AttendanceDayClosed(
        occurred_at=NOW,
        producer="attendance",
        nip=nip,
        work_date=day,
        revision=revision,
        status=status,
        minutes_late=facts.get("late", 0 if status == "present" else None),
        minutes_early=facts.get("early", 0 if status == "present" else None),
    )


def approved(nip: str, day: date) -> ReportApproved:
    return ReportApproved(
        occurred_at=NOW,
        producer="approval",
        nip=nip,
        report_id=f"r-{uuid.uuid4().hex[:8]}",
        work_date=day,
        decided_by=factories.nip(),
    )


async def send(br: TestKafkaBroker, event: Event) -> None:
    await br.publish(event.to_bytes(), str(event.TOPIC), key=event.nip.encode())


def statement(kit: ServiceKit, nip: str) -> Statement | None:
    with Session(kit.engine) as s:
        return s.get(Statement, (nip, PERIOD))


def outbox(kit: ServiceKit, event_type: str) -> list[dict[str, Any]]:
    model = kit.base.Outbox  # type: ignore[attr-defined]
    with Session(kit.engine) as s:
        rows = s.exec(select(model).where(model.event_type == event_type).order_by(model.id)).all()
    return [json.loads(r.payload) for r in rows]


def lines(row: Statement) -> list[tuple[str, str, str, int]]:
    return [
        (ln["date"], ln["code"], ln["percent"], ln["amount"])
        for ln in statements.statement_lines(row)
    ]


async def test_late_day_redelivery_old_revision_and_approval(memory_settings: Settings) -> None:
    kit = make_kit(memory_settings)
    nip = factories.nip()
    late = closed(nip, MON, 1, late=37)
    async with TestKafkaBroker(kit.broker) as br:
        await send(br, employee(nip))
        # A scan is provisional: no statement, no money.
        scan = FingerprintRecorded(
            occurred_at=NOW,
            producer="attendance",
            nip=nip,
            scan_id="s1",
            scanned_at=datetime(2026, 10, 5, 0, 37, tzinfo=UTC),
            work_date=MON,
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
            result = statements.close_period(uow, PERIOD, "199001012015031001", NOW)
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
            reopened = statements.reopen_period(uow, PERIOD, "199001012015031001", NOW)
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
