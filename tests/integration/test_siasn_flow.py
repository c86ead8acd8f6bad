"""On the real broker: a change in our SIASN, a sync, EmployeeUpserted, and every other
service's employee projection follows (attendance, activity, approval, tpp, notifier, portal),
as periods; a leaver's period ends there too."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from services.activity.app import create as create_activity
from services.approval.app import create as create_approval
from services.attendance.app import create as create_attendance
from services.notifier.app import create as create_notifier
from services.portal.app import create as create_portal
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


def periods(app: object, nip: str) -> list[tuple[date | None, date | None, str]]:
    """The NIP's periods in a service's own projection: (first, last, jabatan)."""
    kit = app.state.kit  # type: ignore[attr-defined]
    table = kit.tables.employee_period
    with Session(kit.engine) as s:
        rows = s.exec(select(table).where(table.nip == nip)).all()
    return sorted(
        ((r.first_day, r.last_day, r.jabatan) for r in rows), key=lambda p: p[0] or date.min
    )


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
        # the sync's WIB day is 2026-12-01 (18:30 UTC on the 30th)
        siasn = create_siasn(
            settings, bridge, clock=lambda: datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
        )
        others = [
            create(settings)
            for create in (
                create_attendance, create_activity, create_approval, create_tpp,
                create_notifier, create_portal,
            )
        ]  # fmt: skip
        async with AsyncExitStack() as stack:
            sc = await stack.enter_async_context(running(siasn))
            for app in others:
                await stack.enter_async_context(running(app))
            for unit in fake.units():
                r = await sc.put(
                    f"/api/v1/siasn/units/{unit['id']}", json={"opd": unit["nama"]}, headers=BKPSDM
                )
                assert r.status_code == 200, r.text
            pagu = {"berlaku_mulai": "2020-01-01", "pagu": PAGU_BY_KELAS}
            assert (await sc.post("/api/v1/siasn/pagu", json=pagu, headers=BKPSDM)).is_success
            first = await sc.post("/api/v1/siasn/sync?wait=true", headers=BKPSDM)
            assert first.json()["upserted"] == 12, first.text

            async def every() -> list[dict[str, tuple[str, str, bool]]]:
                return [projection(app) for app in others]

            await eventually(every, lambda ps: all(len(p) == 12 for p in ps))

            staff = [n for n, p in fake.people.items() if p["atasanNipBaru"]]
            promoted, gone = staff[0], staff[1]
            jabatan = fake.people[promoted]["jabatanNama"]
            fake.people[promoted] |= {"jabatanNama": "Analis Kebijakan Ahli Muda"}
            del fake.people[gone]
            second = await sc.post("/api/v1/siasn/sync?wait=true", headers=BKPSDM)
            assert (second.json()["upserted"], second.json()["deactivated"]) == (1, 1)

            def followed(ps: list[dict[str, tuple[str, str, bool]]]) -> bool:
                return all(
                    p[promoted][0] == "Analis Kebijakan Ahli Muda" and p[gone][2] is False
                    for p in ps
                )

            await eventually(every, followed)
            # as periods: our SIASN's tmtJabatan (01-01-2024) did not move with the new
            # jabatan, so it starts on the sync's day; the leaver's last day is the day before
            for service in others:
                assert periods(service, promoted) == [
                    (date(2024, 1, 1), date(2026, 11, 30), jabatan),
                    (date(2026, 12, 1), None, "Analis Kebijakan Ahli Muda"),
                ]
                assert [p[:2] for p in periods(service, gone)] == [
                    (date(2024, 1, 1), date(2026, 11, 30))
                ]


async def test_period_close_and_confirmation_deliver_exactly_once_through_an_outage(
    settings: Settings,
) -> None:
    fake = from_demo(employees=10, opds=1)
    async with fake_siasn.running(fake) as url:
        bridge = SiasnSettings(
            base_url=url,
            consumer_key=fake_siasn.CONSUMER_KEY,
            consumer_secret=fake_siasn.CONSUMER_SECRET,
            username=fake_siasn.USERNAME,
            password=fake_siasn.PASSWORD,
            attempts=2,
            timeout_s=5,
            deliver_interval_s=0.2,
            retry_base_s=0.2,
            retry_cap_s=1.0,
        )
        siasn = create_siasn(settings, bridge)
        approval = create_approval(settings)
        tpp = create_tpp(settings)
        async with running(siasn) as sc, running(approval) as ap, running(tpp) as tp:
            for unit in fake.units():
                await sc.put(
                    f"/api/v1/siasn/units/{unit['id']}", json={"opd": unit["nama"]}, headers=BKPSDM
                )
            pagu = {"berlaku_mulai": "2020-01-01", "pagu": PAGU_BY_KELAS}
            await sc.post("/api/v1/siasn/pagu", json=pagu, headers=BKPSDM)
            assert (await sc.post("/api/v1/siasn/sync?wait=true", headers=BKPSDM)).is_success

            async def known() -> list[dict[str, tuple[str, str, bool]]]:
                return [projection(approval), projection(tpp)]

            await eventually(known, lambda ps: all(len(p) == 10 for p in ps))
            fake.switches = fake_siasn.Switches(error_rate=1.0)  # BKN is down
            staff = [(n, p["atasanNipBaru"]) for n, p in fake.people.items() if p["atasanNipBaru"]]
            closed = await tp.post("/api/v1/periods/2026-10/close", headers=BKPSDM)
            assert closed.status_code == 200, closed.text

            # the close's summary reaches approval: each atasan sees a proposal per
            # subordinate. By hand: nobody has a day fact in October, so no required report
            # day and no attendance line; nobody has an SKP target: hasil sesuai, perilaku
            # di atas, predikat Baik (2)
            by_atasan: dict[str, list[str]] = {}
            for nip, atasan in staff:
                by_atasan.setdefault(atasan, []).append(nip)

            async def proposals() -> list[dict[str, Any]]:
                rows: list[dict[str, Any]] = []
                for atasan in by_atasan:
                    r = await ap.get(
                        "/api/v1/kinerja?period=2026-10", headers=who(atasan, "atasan")
                    )
                    rows += r.json()
                return rows

            listed = await eventually(
                proposals,
                lambda rows: len(rows) == len(staff) and all(r["proposal"] for r in rows),
            )
            assert {r["nip"] for r in listed} == {n for n, _ in staff}
            assert {
                (p["hasil_kerja"], p["perilaku_kerja"], p["predikat"])
                for p in (r["proposal"] for r in listed)
            } == {("sesuai", "di_atas", 2)}
            for atasan, nips in by_atasan.items():
                r = await ap.post(
                    "/api/v1/kinerja/2026-10/confirm-proposals",
                    json={"nips": nips},
                    headers=who(atasan, "atasan"),
                )
                assert [x["ok"] for x in r.json()["results"]] == [True] * len(nips), r.text

            async def backlog() -> dict[str, object]:
                r = await sc.get("/api/v1/siasn/backlog", headers=BKPSDM)
                body: dict[str, object] = r.json()
                return body

            await eventually(backlog, lambda b: b["total"] == len(staff))
            await eventually(lambda: _calls(fake), lambda c: c >= 3 * len(staff))  # retrying
            assert fake.received == {}
            assert set(fake.calls) >= {"5xx"}

            fake.switches = fake_siasn.Switches(error_rate=0.2)  # back, flaky
            await eventually(backlog, lambda b: b["total"] == 0)
            # further passes find nothing to send: each result reached SIASN once
            calls = fake.calls["api"]
            deliverer = siasn.state.siasn_delivery
            start = deliverer.passes
            await eventually(lambda: _passes(deliverer), lambda n: n >= start + 3)
            assert fake.calls["api"] == calls
            assert fake.received == {f"save:{fake_siasn.pns_id(n)}": 1 for n, _ in staff}
            r = await sc.get("/api/v1/siasn/results?period=2026-10", headers=BKPSDM)
            rows = {x["nip"]: x for x in r.json()}
            assert {rows[n]["state"] for n, _ in staff} == {"terkirim"}
            assert {rows[n]["predikat"] for n, _ in staff} == {2}
            assert all(rows[n]["siasn_id"] == fake_siasn.pns_id(n) for n, _ in staff)
            # the kepala has no atasan to confirm: closed, waiting, not in the backlog
            kepala = set(rows) - {n for n, _ in staff}
            assert kepala and {rows[n]["state"] for n in kepala} == {"menunggu"}


async def _calls(fake: fake_siasn.FakeSiasn) -> int:
    return fake.calls["api"]


async def _passes(deliverer: object) -> int:
    return int(deliverer.passes)  # type: ignore[attr-defined]
