"""TPP carries the migration marker (issue 14): a statement changed by a fact of a BKPSDM
migration import emits TppRecomputed with `migration`, so the notifier tells nobody; any
other cause does not."""

from __future__ import annotations

from faststream.kafka import TestKafkaBroker

from services.shared.settings import Settings
from tests import factories
from tests.service.test_tpp_handlers import MON, NOW, TUE, employee, make_kit, outbox, send


async def test_the_marker_follows_its_cause(memory_settings: Settings) -> None:
    kit = make_kit(memory_settings)
    nip = factories.nip()
    async with TestKafkaBroker(kit.broker) as br:
        await send(br, employee(nip))
        history = factories.day_closed(nip, MON, 1, NOW, "present").model_copy(
            update={"migration": True}
        )
        await send(br, history)
        imported = factories.approved(nip, MON, NOW).model_copy(update={"migration": True})
        await send(br, imported)
        await send(br, factories.day_closed(nip, TUE, 1, NOW, "present"))
    recomputed = outbox(kit, "TppRecomputed")
    assert [(e["cause_event_type"], e["migration"]) for e in recomputed] == [
        ("AttendanceDayClosed", True),
        ("ReportApproved", True),
        ("AttendanceDayClosed", False),
    ]
