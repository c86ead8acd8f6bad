"""The month's kinerja result in approval: the proposal from tpp's close (TppPeriodClosed's
summary) and activity's SKP targets (SkpTargetChanged), both consumed on TestKafkaBroker;
the atasan's (or their Plt's) confirmation, a change needing a reason; each confirmation a
new revision announced as KinerjaResultConfirmed for siasn.

Expected ratings by hand from docs/rules.md "Monthly kinerja result" (thresholds 95 / 75 / 5
of the Bekasi rule set) and the SKP reading of services/approval/domain.py (a yearly target
is realised in month M when approved quantity through M × 12 >= target × M)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from faststream.kafka import TestKafkaBroker

from contracts.events import (
    ActivityReported,
    Event,
    KinerjaResultConfirmed,
    SkpTargetChanged,
    TppPeriodClosed,
)
from services.approval.app import create
from services.shared.settings import Settings
from tests import factories
from tests.factories import employee
from tests.support import Clock, emitted, who, wib

PERIOD = "2026-10"
PAGU = 3_000_000  # 5 % = 150.000


@pytest.fixture
def app_client(memory_settings: Settings) -> tuple[Any, httpx.AsyncClient]:
    app = create(memory_settings, clock=Clock(wib(date(2026, 11, 3), 9)))
    app.state.kit.migrate()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
    return app.state.kit, client


async def publish(kit: Any, *events: Event) -> None:
    async with TestKafkaBroker(kit.broker) as br:
        for event in events:
            await br.publish(event.to_bytes(), str(event.TOPIC), key=event.nip.encode())


def closed(nip: str, at: datetime | None = None, **summary: int) -> TppPeriodClosed:
    """tpp's close of October for `nip` with the month's summary."""
    fields = {"required_days": 20, "approved_days": 20, "attendance_deduction": 0,
              "attendance_lines": 0, "tk_days": 0, **summary}  # fmt: skip
    return TppPeriodClosed(
        occurred_at=at or datetime(2026, 11, 2, 3, tzinfo=UTC), producer="tpp", nip=nip,
        period=PERIOD, rules="bekasi-perwali-69-2019", pagu=PAGU, net=PAGU,
        closed_by="196001011985011001", **fields,
    )  # fmt: skip


def target(nip: str, target_id: str, quantity: int, minute: int = 0, **over: Any) -> Event:
    return SkpTargetChanged(
        occurred_at=datetime(2026, 1, 5, 2, minute, tzinfo=UTC), producer="activity", nip=nip,
        target_id=target_id, year=2026, target_quantity=quantity, **over,
    )  # fmt: skip


def report(nip: str, day: date, target_id: str, quantity: int) -> ActivityReported:
    return ActivityReported(
        occurred_at=wib(day, 16), producer="activity", nip=nip, report_id=str(uuid.uuid4()),
        work_date=day, description="Menyusun telaahan", output="telaahan", quantity=quantity,
        skp_target_id=target_id,
    )  # fmt: skip


async def test_proposal_from_the_closed_month_and_the_skp_targets(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    kit, client = app_client
    staff, boss = factories.nip(), factories.nip()
    t1, t2 = str(uuid.uuid4()), str(uuid.uuid4())
    reports = [report(staff, date(2026, 10, 5), t1, 10), report(staff, date(2026, 10, 6), t2, 19)]
    await publish(
        kit, employee(staff, boss), employee(boss), target(staff, t1, 12),
        target(staff, t2, 24), *reports,
    )  # fmt: skip
    ids = [r.report_id for r in reports]
    r = await client.post(
        "/api/v1/reports/bulk-approve", json={"report_ids": ids}, headers=who(boss, "atasan")
    )
    assert [x["ok"] for x in r.json()["results"]] == [True, True], r.text

    mine = await client.get(f"/api/v1/kinerja?period={PERIOD}", headers=who(boss, "atasan"))
    assert mine.status_code == 200, mine.text
    [before] = mine.json()
    assert (before["nip"], before["status"], before["proposal"]) == (staff, "belum_ditutup", None)

    # 19 of 20 days = 95 %, no attendance line. SKP in October (M = 10): t1 12 a year needs
    # 10 by October's end and has 10; t2 24 a year needs 20 and has 19: not every target is
    # realised, so hasil kerja is sesuai; perilaku di atas -> Baik (2).
    await publish(kit, closed(staff, approved_days=19))
    one = (
        await client.get(f"/api/v1/kinerja/{staff}/{PERIOD}", headers=who(boss, "atasan"))
    ).json()
    assert one["status"] == "menunggu_penetapan"
    assert (one["proposal"]["hasil_kerja"], one["proposal"]["perilaku_kerja"]) == (
        "sesuai", "di_atas",
    )  # fmt: skip
    assert (one["proposal"]["predikat"], one["proposal"]["predikat_nama"]) == (2, "Baik")
    assert one["summary"]["skp_all_realised"] is False
    assert (one["summary"]["required_days"], one["summary"]["approved_days"]) == (20, 19)

    # t2 lowered to 22 a year: 19 × 12 = 228 >= 22 × 10 = 220, every target realised -> di
    # atas + di atas = Sangat Baik (1)
    await publish(kit, target(staff, t2, 22, minute=1))
    one = (
        await client.get(f"/api/v1/kinerja/{staff}/{PERIOD}", headers=who(boss, "atasan"))
    ).json()
    assert (one["proposal"]["hasil_kerja"], one["proposal"]["predikat"]) == ("di_atas", 1)
    # an older announcement of t2 (replayed) does not undo the newer one
    await publish(kit, target(staff, t2, 24))
    one = (
        await client.get(f"/api/v1/kinerja/{staff}/{PERIOD}", headers=who(boss, "atasan"))
    ).json()
    assert one["proposal"]["hasil_kerja"] == "di_atas"
    # a re-close after a reopening replaces the summary: 14 of 20 = 70 % -> di bawah
    await publish(kit, closed(staff, datetime(2026, 11, 5, tzinfo=UTC), approved_days=14))
    one = (
        await client.get(f"/api/v1/kinerja/{staff}/{PERIOD}", headers=who(boss, "atasan"))
    ).json()
    assert (one["proposal"]["hasil_kerja"], one["proposal"]["predikat"]) == ("di_bawah", 3)


async def test_atasan_confirms_as_proposed_and_a_change_needs_a_reason(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    kit, client = app_client
    staff, atasan, other, early = (factories.nip() for _ in range(4))
    # 14 of 20 = 70 % -> hasil di bawah; 150.000 = exactly 5 % of 3.000.000 with three
    # attendance lines and no TK day -> perilaku sesuai; -> Butuh Perbaikan (3)
    await publish(
        kit, employee(staff, atasan), employee(early, atasan),
        closed(staff, approved_days=14, attendance_lines=3, attendance_deduction=150_000),
    )  # fmt: skip
    as_proposed = {"hasil_kerja": "di_bawah", "perilaku_kerja": "sesuai"}
    url = f"/api/v1/kinerja/{staff}/{PERIOD}"
    r = await client.put(url, json=as_proposed, headers=who(other, "atasan"))
    assert r.status_code == 403
    r = await client.put(url, json=as_proposed, headers=who(atasan, "atasan"))
    assert r.status_code == 200, r.text
    assert (r.json()["revision"], r.json()["reason"]) == (1, "")

    changed = {"hasil_kerja": "sesuai", "perilaku_kerja": "sesuai"}
    r = await client.put(url, json=changed, headers=who(atasan, "atasan"))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "reason_required"
    assert "berbeda dari usulan" in r.json()["detail"] and "alasan" in r.json()["detail"]
    r = await client.put(
        url, json={**changed, "reason": "  target SKP tercapai lewat tugas tambahan "},
        headers=who(atasan, "atasan"),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["revision"], r.json()["reason"]) == (
        2,
        "target SKP tercapai lewat tugas tambahan",
    )

    one = (await client.get(url, headers=who(staff, "asn"))).json()
    assert one["status"] == "ditetapkan"
    assert one["proposal"]["predikat"] == 3
    result = one["result"]
    assert (result["hasil_kerja"], result["predikat"], result["predikat_nama"]) == (
        "sesuai", 2, "Baik",
    )  # fmt: skip
    assert (result["confirmed_by"], result["as_proposed"], result["revision"]) == (
        atasan, False, 2,
    )  # fmt: skip

    # no proposal yet (October not closed for `early`): every rating needs a reason
    r = await client.put(
        f"/api/v1/kinerja/{early}/{PERIOD}", json=as_proposed, headers=who(atasan, "atasan")
    )
    assert (r.status_code, r.json()["code"]) == (422, "reason_required")
    assert "belum ditutup" in r.json()["detail"]

    events = [e for e in emitted(kit) if isinstance(e, KinerjaResultConfirmed)]
    assert [(e.nip, e.period, e.hasil_kerja, e.revision, e.confirmed_by) for e in events] == [
        (staff, PERIOD, "di_bawah", 1, atasan),
        (staff, PERIOD, "sesuai", 2, atasan),
    ]
    bad = await client.put(
        f"/api/v1/kinerja/{staff}/2026-13",
        json={"hasil_kerja": "baik", "perilaku_kerja": "sesuai"},
        headers=who(atasan, "atasan"),
    )
    assert bad.status_code == 422


async def test_a_plt_confirms_proposals_in_bulk_for_the_delegated_dates(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    kit, client = app_client
    staff, colleague, boss, plt, stranger = (factories.nip() for _ in range(5))
    await publish(
        kit, employee(staff, boss), employee(colleague, boss), employee(stranger, factories.nip()),
        closed(staff), closed(stranger),
    )  # fmt: skip
    bulk = f"/api/v1/kinerja/{PERIOD}/confirm-proposals"
    body = {"nips": [staff, colleague, stranger]}
    # a delegation over October does not cover today (3 November): no authority
    window = {"atasan_nip": boss, "plt_nip": plt, "start": "2026-10-01", "end": "2026-10-31"}
    made = await client.post("/api/v1/delegations", json=window, headers=who(boss, "atasan"))
    assert made.status_code == 201, made.text
    r = await client.post(bulk, json=body, headers=who(plt, "asn"))
    assert [x["code"] for x in r.json()["results"]] == ["forbidden"] * 3

    window |= {"start": "2026-11-01", "end": "2026-11-30"}
    made = await client.post("/api/v1/delegations", json=window, headers=who(boss, "atasan"))
    assert made.status_code == 201, made.text
    listed = (await client.get(f"/api/v1/kinerja?period={PERIOD}", headers=who(plt, "asn"))).json()
    assert {(x["nip"], x["as_plt_for"]) for x in listed} == {(staff, boss), (colleague, boss)}
    r = await client.post(bulk, json=body, headers=who(plt, "asn"))
    assert r.status_code == 200, r.text
    codes = {x["nip"]: x["code"] for x in r.json()["results"]}
    assert codes == {staff: "ok", colleague: "no_proposal", stranger: "forbidden"}
    again = await client.post(bulk, json={"nips": [staff]}, headers=who(boss, "atasan"))
    assert again.json()["results"][0]["code"] == "already_confirmed"

    one = (await client.get(f"/api/v1/kinerja/{staff}/{PERIOD}", headers=who(plt, "asn"))).json()
    # 20 of 20 days but no SKP target for 2026: sesuai; no attendance line: di atas
    assert (one["result"]["hasil_kerja"], one["result"]["perilaku_kerja"]) == ("sesuai", "di_atas")
    assert (one["result"]["confirmed_by"], one["result"]["as_plt_for"]) == (plt, boss)
    assert one["result"]["as_proposed"] is True
    events = [e for e in emitted(kit) if isinstance(e, KinerjaResultConfirmed)]
    assert [(e.nip, e.confirmed_by, e.reason) for e in events] == [(staff, plt, "")]
