"""Activity's filing-gate query on the real stores: the day's unlocks and BKPSDM's openings
come back from one UNION query with their types (UTC instants stay tz-aware)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from services.activity.app import build_kit
from services.activity.models import DayUnlock, Opening
from services.activity.queries import day_facts
from services.shared.settings import Settings
from services.shared.uow import UnitOfWork

NIP, OTHER = "198001012005011001", "198001012005011002"
DAY = date(2026, 10, 5)


async def test_day_facts_reads_unlocks_and_openings_in_one_query(
    store_url: str, tmp_path: Path
) -> None:
    kit = build_kit(Settings(data_dir=tmp_path, database_url=store_url))
    kit.migrate()
    at = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)
    with kit.uow() as uow:
        uow.session.add(DayUnlock(nip=NIP, work_date=DAY, source="dinas_luar", recorded_at=at))
        uow.session.add(DayUnlock(nip=NIP, work_date=DAY, source="scan", recorded_at=at))
        uow.session.add(
            DayUnlock(nip=OTHER, work_date=DAY, source="scan", recorded_at=at)  # not NIP's
        )
        uow.session.add(
            Opening(
                id="o-1",
                nip=NIP,
                work_date=DAY,
                opened_by="199001012015011001",
                reason="mesin rusak",
                opened_at=at,
                until=at + timedelta(days=2),
            )
        )
        uow.commit()

    def read(uow: UnitOfWork) -> object:
        return day_facts(uow, NIP, DAY)

    unlock, openings = await kit.run_store(read)  # type: ignore[misc]
    assert unlock is not None and unlock.source.value == "scan"  # the scan wins
    assert [(i, o.opened_by, o.reason) for i, o in openings] == [
        ("o-1", "199001012015011001", "mesin rusak")
    ]
    assert openings[0][1].until == at + timedelta(days=2)
    assert openings[0][1].until.tzinfo is not None
    nothing = await kit.run_store(lambda uow: day_facts(uow, NIP, DAY + timedelta(days=1)))
    assert nothing == (None, [])
    await kit.stop()
    kit.engine.dispose()
