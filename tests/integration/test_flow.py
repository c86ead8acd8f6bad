"""The kit's proving flow on the real broker: a scan posted to attendance's HTTP API becomes
FingerprintRecorded on Kafka, and activity's and tpp's own projections record it."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from services.activity.app import create as create_activity
from services.attendance.app import create as create_attendance
from services.shared.settings import Settings
from services.tpp.app import create as create_tpp
from tests import factories
from tests.infra import fresh_postgres_database
from tests.support import eventually, running, who

SYSTEM = who(None, "system")  # a job's token; tests of a role send their own

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def store_settings(request: pytest.FixtureRequest, settings: Settings, run_id: str) -> Settings:
    if request.param == "sqlite":
        return settings
    admin = request.getfixturevalue("postgres_admin_url")
    for service in ("attendance", "activity", "tpp"):
        url = fresh_postgres_database(admin, f"t{run_id}_{service}")
    return settings.model_copy(update={"database_url": url.replace("_tpp", "_{service}")})


async def test_scan_reaches_activity_and_tpp(store_settings: Settings) -> None:
    nip = factories.nip()
    attendance = create_attendance(store_settings)
    activity = create_activity(store_settings)
    tpp = create_tpp(store_settings)
    async with (
        running(attendance, SYSTEM) as att,
        running(activity, SYSTEM) as act,
        running(tpp, SYSTEM) as tp,
    ):
        # attendance credits scans only to employees it knows (others wait in quarantine)
        kit = attendance.state.kit
        with Session(kit.engine) as s:
            s.add(kit.tables.employee(nip=nip, nama="Pegawai Uji", opd="Dinas Uji"))
            s.commit()
        posted = await att.post(
            "/api/v1/scans",
            json={
                "scans": [
                    {"nip": nip, "waktu": "2026-10-05 07:41:10"},
                    {"nip": "123", "waktu": "2026-10-05 07:41:10"},
                ]
            },
        )
        assert posted.status_code == 200, posted.text
        lines = posted.json()
        assert [line["status"] for line in lines] == ["accepted", "rejected"]
        assert "18 digit" in lines[1]["reason"]

        async def unlocked() -> list[dict[str, str]]:
            return (await act.get(f"/api/v1/employees/{nip}/unlocked-days")).json()

        days = await eventually(unlocked, lambda d: len(d) == 1)
        assert days[0]["date"] == "2026-10-05" and days[0]["source"] == "scan"

        async def tpp_days() -> list[dict[str, object]]:
            return (await tp.get(f"/api/v1/employees/{nip}/days?period=2026-10")).json()

        facts = await eventually(tpp_days, lambda d: len(d) == 1)
        # 07:41:10 WIB is 00:41:10 UTC
        assert facts[0]["first_scan_at"] == "2026-10-05T00:41:10+00:00"
        assert facts[0]["scans_seen"] == 1

        # The same scan again is a duplicate: no second event, no second effect.
        again = await att.post(
            "/api/v1/scans", json={"scans": [{"nip": nip, "waktu": "2026-10-05 07:41:10"}]}
        )
        assert again.json()[0]["status"] == "duplicate"
        for client in (att, act, tp):
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
