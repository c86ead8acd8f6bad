"""Attendance's device-outage proposals (RULES.md "Annulled cuts"): an (OPD, working day)
on which no device of the OPD sent anything while its employees were due.

OPD X: employee A, device DEV-X. OPD Y: employee E, device DEV-Y. Both devices registered on
Saturday 2026-01-03, so Monday 5 to Wednesday 7 January are the days asked about (asked on
Thursday the 8th: the 8th itself has not ended).
- Mon 5: A scans on DEV-X; DEV-Y is silent            -> (Y, 5)
- Tue 6: DEV-X silent; DEV-Y calls in (a heartbeat)   -> (X, 6)
- Wed 7: both silent, but E is on leave (cuti)        -> (X, 7) only; Y had nobody due
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from tests import factories
from tests.service.test_attendance_support import T0, Harness, make_harness
from tests.support import Clock, who, wib

X, Y = "DISKOMINFO", "DINKES"
A = "199001012015011001"
E = "199202022016021005"
MON, TUE, WED, THU = (date(2026, 1, d) for d in (5, 6, 7, 8))


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    clock = Clock(T0)
    async with make_harness(tmp_path, clock=clock) as h:
        h.clock = clock  # type: ignore[attr-defined]
        yield h


async def test_silent_devices_of_an_opd_with_employees_due_are_proposed(harness: Harness) -> None:
    h = harness
    clock: Clock = h.clock  # type: ignore[attr-defined]
    for nip, opd in ((A, X), (E, Y)):
        event = factories.employee(nip, at=T0, opd=opd, tpp_pagu=5_000_000)
        await h.broker.publish(event.to_bytes(), "sikerja.employees", key=nip.encode())
    clock.moment = wib(date(2026, 1, 3), 9)
    for sn, opd in (("DEV-X", X), ("DEV-Y", Y)):
        r = await h.client.post("/api/v1/devices", json={"sn": sn, "opd": opd})
        assert r.status_code == 201, r.text
    clock.moment = wib(MON, 8)
    line = f"{A}\t2026-01-05 07:31:02\t0\t1\t0\n".encode()
    r = await h.client.post("/iclock/cdata?SN=DEV-X&table=ATTLOG", content=line)
    assert r.text == "OK"
    clock.moment = wib(TUE, 9)
    r = await h.client.get("/iclock/getrequest?SN=DEV-Y")
    assert r.status_code == 200, r.text
    leave = await h.client.post(
        "/api/v1/absences",
        json={"nip": E, "mulai": "2026-01-07", "selesai": "2026-01-07", "jenis": "cuti_tahunan"},
    )
    assert leave.status_code == 201, leave.text
    clock.moment = wib(THU, 10)

    got = await h.client.get("/api/v1/device-outages", params={"period": "2026-01"})
    assert got.status_code == 200, got.text
    assert [(o["opd"], o["tanggal"], o["mesin"], o["pegawai_wajib_hadir"]) for o in got.json()] == [
        (Y, "2026-01-05", ["DEV-Y"], 1),
        (X, "2026-01-06", ["DEV-X"], 1),
        (X, "2026-01-07", ["DEV-X"], 1),
    ]
    first = got.json()[0]
    assert first["usulan"] == "gangguan-mesin:DINKES:2026-01-05"
    assert "DINKES" in first["alasan_usulan"]

    # an operator reads their own OPD's only; another OPD's is refused
    ops_x = who("198001012005011006", "operator", X)
    own = await h.client.get("/api/v1/device-outages", params={"period": "2026-01"}, headers=ops_x)
    assert [o["tanggal"] for o in own.json()] == ["2026-01-06", "2026-01-07"]
    other = await h.client.get(
        "/api/v1/device-outages", params={"period": "2026-01", "opd": Y}, headers=ops_x
    )
    assert other.status_code == 403
    assert other.headers["content-type"].startswith("application/problem+json")
    asn = await h.client.get(
        "/api/v1/device-outages", params={"period": "2026-01"}, headers=who(A, "asn", X)
    )
    assert asn.status_code == 403
    auditor = await h.client.get(
        "/api/v1/device-outages",
        params={"period": "2026-01", "opd": X},
        headers=who(None, "auditor"),
    )
    assert len(auditor.json()) == 2


# The day's contact record (device_day): February 2026, no national holiday in these days.
#   Mo 2  Tu 3  We 4  Th 5  (asked on Friday the 6th)
FEB_SAT, FEB_MON, FEB_TUE, FEB_WED, FEB_FRI = (date(2026, 2, d) for d in (1, 2, 3, 4, 6))


async def _one_device_opd(h: Harness) -> None:
    clock: Clock = h.clock  # type: ignore[attr-defined]
    event = factories.employee(A, at=T0, opd=X, tpp_pagu=5_000_000)
    await h.broker.publish(event.to_bytes(), "sikerja.employees", key=A.encode())
    clock.moment = wib(FEB_SAT, 9)
    r = await h.client.post("/api/v1/devices", json={"sn": "DEV-X", "opd": X})
    assert r.status_code == 201, r.text


async def _proposed(h: Harness) -> list[str]:
    clock: Clock = h.clock  # type: ignore[attr-defined]
    clock.moment = wib(FEB_FRI, 10)
    got = await h.client.get("/api/v1/device-outages", params={"period": "2026-02", "opd": X})
    assert got.status_code == 200, got.text
    return [o["tanggal"] for o in got.json() if o["tanggal"] < "2026-02-05"]


async def test_a_day_with_contact_is_not_proposed_though_the_device_called_in_later(
    harness: Harness,
) -> None:
    """DEV-X calls in on Monday (handshake) and again on Wednesday, never on Tuesday, and
    nobody scans: Tuesday is proposed, Monday and Wednesday are not (the device was up).
    Keeping only the latest contact (Wednesday) proposed Monday too."""
    h = harness
    clock: Clock = h.clock  # type: ignore[attr-defined]
    await _one_device_opd(h)
    clock.moment = wib(FEB_MON, 7)
    assert (await h.client.get("/iclock/cdata?SN=DEV-X&options=all")).status_code == 200
    clock.moment = wib(FEB_WED, 16)
    assert (await h.client.get("/iclock/getrequest?SN=DEV-X")).text == "OK"
    assert await _proposed(h) == ["2026-02-03"]


async def test_a_heartbeat_without_scans_is_not_an_outage(harness: Harness) -> None:
    """Tuesday: DEV-X only sends heartbeats, nobody scans. The device was up: nobody
    scanning is people not scanning (their own days), not an outage. Monday and Wednesday
    it sends nothing at all: those are proposed."""
    h = harness
    clock: Clock = h.clock  # type: ignore[attr-defined]
    await _one_device_opd(h)
    for hour in (7, 12):
        clock.moment = wib(FEB_TUE, hour)
        assert (await h.client.get("/iclock/getrequest?SN=DEV-X")).text == "OK"
    clock.moment = wib(FEB_FRI, 6)  # a later contact (Friday) must not hide Tuesday's
    assert (await h.client.get("/iclock/getrequest?SN=DEV-X")).text == "OK"
    assert await _proposed(h) == ["2026-02-02", "2026-02-04"]
