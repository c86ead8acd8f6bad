"""TPP's consumer with employment periods (RULES.md "Employment within a month"), on
TestKafkaBroker: a transfer, a leave or a calendar change recomputes the month.

April 2026 (national calendar): 21 working days, Good Friday (3 April) a holiday; 10 working
days up to the 15th, 11 from the 16th; 13 up to Monday the 20th. Bekasi rule set:
disiplin 40%, TK 5%, TL1 0.25%, LKH = produktivitas / required days.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from faststream.kafka import TestKafkaBroker
from sqlmodel import Session, select

from contracts.events import (
    CITY_KEY,
    CalendarHoliday,
    EmployeeDeactivated,
    Event,
    WorkCalendarChanged,
)
from services.kernel.calendar import indonesia_calendar, month_days
from services.shared.kit import ServiceKit
from services.shared.outbox import BrokerPublisher
from services.shared.settings import Settings
from services.tpp import periods, queries
from services.tpp.app import build_kit
from services.tpp.models import Statement
from tests import factories

NOW = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
PERIOD = "2026-04"
WORKING = [d for d in month_days(2026, 4) if indonesia_calendar(2026).is_working_day(d)]


def april(n: int) -> date:
    return date(2026, 4, n)


def make_kit(settings: Settings) -> ServiceKit:
    kit = build_kit(settings)
    kit.relay.publisher = BrokerPublisher(kit.broker)
    kit.migrate()
    return kit


async def send(br: TestKafkaBroker, event: Event) -> None:
    await br.publish(event.to_bytes(), str(event.TOPIC), key=event.nip.encode())


def statement(kit: ServiceKit, nip: str) -> Statement | None:
    with Session(kit.engine) as s:
        return s.get(Statement, (nip, PERIOD))


def recomputed(kit: ServiceKit) -> list[dict[str, Any]]:
    model = kit.tables.outbox
    with Session(kit.engine) as s:
        rows = s.exec(
            select(model).where(model.event_type == "TppRecomputed").order_by(model.id)
        ).all()
    return [json.loads(r.payload) for r in rows]


def lines(row: Statement) -> list[tuple[str, str, int]]:
    return [(ln["date"], ln["code"], ln["amount"]) for ln in queries.statement_lines(row)]


async def a_month(br: TestKafkaBroker, nip: str, tk: tuple[date, ...] = ()) -> None:
    """Every working day of April closed; TK on `tk`, 30 minutes late (TL1) on the 20th,
    on time otherwise; every present day's report approved."""
    for n, day in enumerate(WORKING):
        if day in tk:
            await send(br, factories.day_closed(nip, day, 1, NOW, "tanpa_keterangan"))
            continue
        late = 30 if day == april(20) else 0
        await send(br, factories.day_closed(nip, day, 1, NOW, late=late))
        await send(br, factories.approved(nip, day, NOW, report_id=f"r-{nip}-{n}"))


def test_the_example_month_has_21_working_days() -> None:
    assert len(WORKING) == 21 and april(3) not in WORKING


async def test_a_transfer_on_the_16th_recomputes_the_month(memory_settings: Settings) -> None:
    kit = make_kit(memory_settings)
    nip = factories.nip()
    async with TestKafkaBroker(kit.broker) as br:
        await send(br, factories.employee(nip, at=NOW, opd="Dinas A", tpp_pagu=4_000_000))
        await a_month(br, nip, tk=(april(14), april(22)))
        row = statement(kit, nip)
        assert row is not None and row.opd == "Dinas A"
        # One pagu, 4,000,000: TK 200,000 x 2, TL1 10,000; LKH 2,400,000 / 21 = 114,285.71
        # -> 114,286 x 2 = 228,572; net 4,000,000 - 410,000 - 228,572 = 3,361,428.
        assert row.net == 3_361_428

        transfer = factories.employee(
            nip, at=NOW, opd="Dinas B", tpp_pagu=6_000_000, aktif_mulai=april(16)
        )
        await send(br, transfer)
        row = statement(kit, nip)
        assert row is not None
        # pagu (10 x 4,000,000 + 11 x 6,000,000) / 21 = 5,047,619.05 -> 5,047,619;
        # disiplin 2,019,047.6 -> 2,019,048, produktivitas 3,028,571. TK 14th at the old
        # pagu 200,000; TL1 20th 0.25% x 6,000,000 = 15,000; TK 22nd 300,000.
        # LKH 3,028,571 / 21 = 144,217.67 -> 144,218 x 2.
        assert (row.pagu, row.discipline, row.productivity) == (5_047_619, 2_019_048, 3_028_571)
        assert lines(row) == [
            ("2026-04-14", "LKH", 144_218),
            ("2026-04-14", "TK", 200_000),
            ("2026-04-20", "TL1", 15_000),
            ("2026-04-22", "LKH", 144_218),
            ("2026-04-22", "TK", 300_000),
        ]
        # net 5,047,619 - 515,000 - 288,436 = 4,244,183, in the OPD of the last active day.
        assert row.net == 4_244_183
        assert row.opd == "Dinas B"
        last = recomputed(kit)[-1]
        assert (last["old_net"], last["new_net"]) == (3_361_428, 4_244_183)
        assert last["cause_event_type"] == "EmployeeUpserted"
        assert last["cause_event_id"] == str(transfer.event_id)
        with kit.uow() as uow:
            by_opd = {r.nip: r.opd for r in queries.period_statements(uow.session, PERIOD)}
        assert by_opd == {nip: "Dinas B"}


async def test_a_leave_on_the_20th_and_a_calendar_change(memory_settings: Settings) -> None:
    kit = make_kit(memory_settings)
    nip = factories.nip()
    async with TestKafkaBroker(kit.broker) as br:
        await send(br, factories.employee(nip, at=NOW, tpp_pagu=5_000_000))
        await a_month(br, nip)  # days after the leave were closed before it was known
        leave = EmployeeDeactivated(
            occurred_at=NOW, producer="siasn", nip=nip, aktif_sampai=april(20)
        )
        await send(br, leave)
        row = statement(kit, nip)
        assert row is not None
        # 13 active working days: pagu 13 x 5,000,000 / 21 = 3,095,238.10 -> 3,095,238;
        # TL1 on the 20th = 0.25% x 5,000,000 = 12,500; the days after carry nothing.
        assert row.pagu == 3_095_238
        assert lines(row) == [("2026-04-20", "TL1", 12_500)]
        assert row.required_report_days == 13
        assert row.net == 3_095_238 - 12_500
        assert recomputed(kit)[-1]["cause_event_id"] == str(leave.event_id)

        # BKPSDM makes the 30th a holiday: 20 working days, pagu 13 x 5,000,000 / 20.
        change = WorkCalendarChanged(
            occurred_at=NOW,
            producer="attendance",
            nip=CITY_KEY,
            year=2026,
            holidays=[CalendarHoliday(tanggal=april(30), nama="cuti bersama")],
        )
        await send(br, change)
        row = statement(kit, nip)
        assert row is not None and row.pagu == 3_250_000
        last = recomputed(kit)[-1]
        assert last["cause_event_type"] == "WorkCalendarChanged"
        assert last["new_net"] == 3_250_000 - 12_500


async def test_no_active_working_day_removes_the_statement(memory_settings: Settings) -> None:
    kit = make_kit(memory_settings)
    nip = factories.nip()
    async with TestKafkaBroker(kit.broker) as br:
        await send(br, factories.employee(nip, at=NOW, tpp_pagu=5_000_000))
        await send(br, factories.day_closed(nip, april(1), 1, NOW, "tanpa_keterangan"))
        row = statement(kit, nip)
        # TK 250,000, LKH 3,000,000 / 1: net 5,000,000 - 250,000 - 3,000,000 = 1,750,000
        assert row is not None and row.net == 1_750_000
        # The leave is known late: the last active day was 31 March.
        leave = EmployeeDeactivated(
            occurred_at=NOW, producer="siasn", nip=nip, aktif_sampai=date(2026, 3, 31)
        )
        await send(br, leave)
        assert statement(kit, nip) is None
        last = recomputed(kit)[-1]
        assert (last["old_net"], last["new_net"]) == (1_750_000, 0)
        assert last["cause_event_id"] == str(leave.event_id)


async def test_close_pays_whoever_was_active_in_the_month(memory_settings: Settings) -> None:
    kit = make_kit(memory_settings)
    leaver, gone, joiner = factories.nip(), factories.nip(), factories.nip()
    async with TestKafkaBroker(kit.broker) as br:
        for nip in (leaver, gone):
            await send(br, factories.employee(nip, at=NOW, tpp_pagu=5_000_000))
        await send(
            br, factories.employee(joiner, at=NOW, tpp_pagu=5_000_000, aktif_mulai=april(10))
        )
        await send(
            br,
            EmployeeDeactivated(
                occurred_at=NOW, producer="siasn", nip=leaver, aktif_sampai=april(20)
            ),
        )
        await send(
            br,
            EmployeeDeactivated(
                occurred_at=NOW, producer="siasn", nip=gone, aktif_sampai=date(2026, 3, 31)
            ),
        )
    with kit.uow() as uow:
        result = periods.close_period(uow, PERIOD, "199001012015031001", NOW)
        uow.commit()
    # No closed day at all: no line. The leaver (13 active working days): 13 x 5,000,000 / 21
    # = 3,095,238.10 -> 3,095,238; the joiner (15): 75,000,000 / 21 = 3,571,428.57 -> 3,571,429;
    # the one gone before April: no statement.
    assert result["computed_at_close"] == 2
    assert statement(kit, gone) is None
    assert statement(kit, leaver).net == 3_095_238  # type: ignore[union-attr]
    assert statement(kit, joiner).net == 3_571_429  # type: ignore[union-attr]
