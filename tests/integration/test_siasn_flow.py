"""On the real broker: a change in our SIASN, a sync, EmployeeUpserted, and other services'
employee projections follow (attendance and tpp); a leaver is deactivated there too."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from services.attendance.app import create as create_attendance
from services.shared.settings import Settings
from services.siasn.app import create as create_siasn
from services.siasn.config import SiasnSettings
from services.tpp.app import create as create_tpp
from sikerja_cli import fake_siasn
from sikerja_cli.demo_data import PAGU_BY_KELAS
from sikerja_cli.fake_siasn import from_demo
from tests.support import eventually, running, who

pytestmark = pytest.mark.integration
BKPSDM = who(None, "bkpsdm")


def projection(app: object) -> dict[str, tuple[str, str, bool]]:
    kit = app.state.kit  # type: ignore[attr-defined]
    with Session(kit.engine) as s:
        rows = s.exec(select(kit.tables.employee)).all()
    return {r.nip: (r.jabatan, r.opd, r.active) for r in rows}


async def test_a_change_in_siasn_reaches_every_projection(settings: Settings) -> None:
    fake = from_demo(employees=12, opds=2)
    async with fake_siasn.running(fake) as url:
        bridge = SiasnSettings(
            base_url=url,
            consumer_key=fake_siasn.CONSUMER_KEY,
            consumer_secret=fake_siasn.CONSUMER_SECRET,
            username=fake_siasn.USERNAME,
            password=fake_siasn.PASSWORD,
        )
        siasn = create_siasn(settings, bridge)
        attendance = create_attendance(settings)
        tpp = create_tpp(settings)
        async with running(siasn) as sc, running(attendance), running(tpp):
            for unit in fake.units():
                r = await sc.put(
                    f"/api/v1/siasn/units/{unit['id']}", json={"opd": unit["nama"]}, headers=BKPSDM
                )
                assert r.status_code == 200, r.text
            pagu = {"berlaku_mulai": "2020-01-01", "pagu": PAGU_BY_KELAS}
            assert (await sc.post("/api/v1/siasn/pagu", json=pagu, headers=BKPSDM)).is_success
            first = await sc.post("/api/v1/siasn/sync?wait=true", headers=BKPSDM)
            assert first.json()["upserted"] == 12, first.text

            async def both() -> list[dict[str, tuple[str, str, bool]]]:
                return [projection(attendance), projection(tpp)]

            await eventually(both, lambda ps: all(len(p) == 12 for p in ps))

            staff = [n for n, p in fake.people.items() if p["atasanNipBaru"]]
            promoted, gone = staff[0], staff[1]
            fake.people[promoted] |= {"jabatanNama": "Analis Kebijakan Ahli Muda"}
            del fake.people[gone]
            second = await sc.post("/api/v1/siasn/sync?wait=true", headers=BKPSDM)
            assert (second.json()["upserted"], second.json()["deactivated"]) == (1, 1)

            def followed(ps: list[dict[str, tuple[str, str, bool]]]) -> bool:
                return all(
                    p[promoted][0] == "Analis Kebijakan Ahli Muda" and p[gone][2] is False
                    for p in ps
                )

            await eventually(both, followed)
