"""Scans that arrive before what they belong to (a device PIN not mapped yet, a NIP
attendance does not know yet) wait in quarantine and apply when the employee arrives:
never dropped, never credited to a stranger, exactly once under redelivery."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from contracts import Topic
from contracts.events import EmployeeUpserted
from services.attendance import scheduler
from services.attendance.config import AttendanceConfig
from services.attendance.models import QuarantinedScan, Scan
from tests import factories
from tests.service.test_attendance_support import T0, Harness, make_harness
from tests.support import Clock, wib

A = "199001012015011001"
B = "198503152010122002"
C = "198807172014032003"
MONDAY = "2026-01-05"  # a working day
CSV = {"content-type": "text/csv"}


async def register(h: Harness, sn: str, opd: str = "DISKOMINFO") -> None:
    await h.opd(opd)
    r = await h.client.post("/api/v1/devices", json={"sn": sn, "opd": opd})
    assert r.status_code == 201, r.text


async def push(h: Harness, sn: str, text: str) -> None:
    r = await h.client.post(f"/iclock/cdata?SN={sn}&table=ATTLOG", content=text.encode())
    assert (r.status_code, r.text) == (200, "OK")


async def held(h: Harness, **params: str) -> dict[str, Any]:
    r = await h.client.get("/api/v1/scans/quarantine", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def stored(h: Harness) -> list[tuple[str, str]]:
    with Session(h.kit.engine) as s:
        rows = s.exec(select(Scan).order_by(Scan.ts)).all()  # type: ignore[arg-type]
    return [(r.nip, r.ts.strftime("%Y-%m-%dT%H:%M:%SZ")) for r in rows]


def upserted(nip: str, pin: str | None = None) -> EmployeeUpserted:
    return factories.employee(
        nip, at=T0, nama="Pegawai", opd="DISKOMINFO", tpp_pagu=5_000_000, pin=pin
    )


async def deliver(h: Harness, event: EmployeeUpserted) -> None:
    await h.broker.publish(event.to_bytes(), Topic.EMPLOYEES, key=event.nip.encode())


async def test_unknown_pin_is_kept_then_published_when_the_pin_is_mapped(
    harness: Harness,
) -> None:
    h = harness
    await register(h, "K1")
    line = "1005\t2026-01-05 07:31:02\t0\t1\t0\t0\t0"
    await push(h, "K1", line + "\r\n")
    await push(h, "K1", line + "\r\n")  # the device resends: held once
    await h.flush()
    assert stored(h) == [] and h.of("FingerprintRecorded") == []
    view = await held(h, sn="K1")
    assert view["jumlah"] == {"menunggu": 1, "diterapkan": 0}
    (row,) = view["data"]
    assert (row["pin"], row["baris"], row["alasan"], row["status"]) == (
        "1005",
        line,
        "pin_unknown",
        "menunggu",
    )
    assert row["waktu"] == "2026-01-05T00:31:02+00:00" and row["opd"] == "DISKOMINFO"

    event = upserted(C, pin="1005")
    await deliver(h, event)
    await deliver(h, event)  # redelivered: the inbox skips it
    await h.flush()
    (scan,) = h.of("FingerprintRecorded")
    assert (scan.nip, scan.device_sn, scan.source) == (C, "K1", "adms")
    assert scan.scanned_at.strftime("%Y-%m-%dT%H:%M:%SZ") == "2026-01-05T00:31:02Z"
    assert stored(h) == [(C, "2026-01-05T00:31:02Z")]
    after = await held(h, sn="K1")
    assert after["jumlah"] == {"menunggu": 0, "diterapkan": 1}
    assert (after["data"][0]["status"], after["data"][0]["nip"]) == ("diterapkan", C)


async def test_nip_looking_stranger_is_kept_not_published_until_the_employee_arrives(
    harness: Harness,
) -> None:
    h = harness
    await register(h, "K1")
    await h.employee(B)
    await push(h, "K1", f"{A}\t{MONDAY} 07:31:02\t0\t1\n{B}\t{MONDAY} 07:40:00\t0\t1\n")
    await h.flush()
    # B is an employee; A only looks like one: not stored, not published.
    assert stored(h) == [(B, "2026-01-05T00:40:00Z")]
    assert [e.nip for e in h.of("FingerprintRecorded")] == [B]
    (row,) = (await held(h, status="menunggu"))["data"]
    assert (row["pin"], row["alasan"]) == (A, "employee_unknown")

    await h.employee(A)
    await h.employee(A)  # a second upsert (a new event) releases nothing again
    await h.flush()
    assert sorted(e.nip for e in h.of("FingerprintRecorded")) == sorted([A, B])
    assert stored(h) == [(A, "2026-01-05T00:31:02Z"), (B, "2026-01-05T00:40:00Z")]


async def test_import_before_the_employee_waits_and_applies_once_on_arrival(
    harness: Harness,
) -> None:
    h = harness
    lines = ["nip,waktu"]
    for day in range(5, 17):  # 12 scans of A, one a day
        lines.append(f"{A},2026-01-{day:02d} 07:30:00")
    lines.append("12345,2026-01-05 07:30:00")  # not a NIP: a bad line, not quarantine
    text = "\n".join(lines) + "\n"
    first = await h.client.post("/api/v1/scans/import", content=text, headers=CSV)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (0, 0, 1)
    assert body["menunggu_pegawai"] == 12
    assert {w["status"] for w in body["waiting"]} == {"menunggu"}
    assert [w["line"] for w in body["waiting"]] == list(range(2, 14))
    (error,) = body["errors"]
    assert error["line"] == 14 and "tidak valid" in error["reason"]
    again = (await h.client.post("/api/v1/scans/import", content=text, headers=CSV)).json()
    assert again["menunggu_pegawai"] == 12
    assert (await held(h))["jumlah"]["menunggu"] == 12  # held once, not twice
    await h.flush()
    assert h.of("FingerprintRecorded") == []

    event = upserted(A)
    await deliver(h, event)
    await deliver(h, event)
    await h.flush()
    events = h.of("FingerprintRecorded")
    assert len(events) == 12
    assert {(e.nip, e.source) for e in events} == {(A, "csv")}
    assert sorted(str(e.work_date) for e in events) == [f"2026-01-{d:02d}" for d in range(5, 17)]
    assert len(stored(h)) == 12
    assert (await held(h))["jumlah"] == {"menunggu": 0, "diterapkan": 12}
    # Now that A is known, the same file only finds duplicates.
    third = (await h.client.post("/api/v1/scans/import", content=text, headers=CSV)).json()
    assert (third["accepted"], third["duplicate"], third["menunggu_pegawai"]) == (0, 12, 0)


async def test_a_closed_day_is_reclosed_when_its_waiting_scans_apply(harness: Harness) -> None:
    h = harness
    await h.employee(B)
    text = f"nip,waktu\n{A},{MONDAY} 07:20:00\n{A},{MONDAY} 16:10:00\n"
    r = await h.client.post("/api/v1/scans/import", content=text, headers=CSV)
    assert r.json()["menunggu_pegawai"] == 2
    closed = await h.client.post(f"/api/v1/days/close?date={MONDAY}")
    assert closed.json()["employees"] == 1  # B only: A is not an employee yet
    await h.flush()
    assert [e.nip for e in h.of("AttendanceDayClosed")] == [B]

    await h.employee(A)
    await h.flush()
    (day,) = [e for e in h.of("AttendanceDayClosed") if e.nip == A]
    assert (str(day.work_date), day.status, day.revision) == (MONDAY, "present", 1)
    assert day.check_in.strftime("%H:%M") == "00:20"  # 07:20 WIB
    assert day.check_out.strftime("%H:%M") == "09:10"  # 16:10 WIB
    assert day.causation_id in {e.event_id for e in h.of("FingerprintRecorded")}


async def test_quarantine_is_listed_by_opd_device_and_status(harness: Harness) -> None:
    h = harness
    await register(h, "K1", "DISKOMINFO")
    await register(h, "K2", "BAPPEDA")
    await push(h, "K1", "7\t2026-01-05 07:00:00\t0\t1\n8\t2026-01-05 07:01:00\t0\t1\n")
    await push(h, "K2", "9\t2026-01-05 07:02:00\t0\t1\n")
    assert (await held(h))["jumlah"]["menunggu"] == 3
    diskominfo = await held(h, opd="DISKOMINFO")
    assert diskominfo["jumlah"]["menunggu"] == 2
    assert sorted(r["pin"] for r in diskominfo["data"]) == ["7", "8"]
    assert [r["pin"] for r in (await held(h, sn="K2"))["data"]] == ["9"]
    await h.employee(A, pin="8")
    assert [r["pin"] for r in (await held(h, status="diterapkan"))["data"]] == ["8"]
    assert (await held(h, opd="DISKOMINFO"))["jumlah"] == {"menunggu": 1, "diterapkan": 1}
    bad = await h.client.get("/api/v1/scans/quarantine", params={"status": "hilang"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


async def test_the_closer_releases_scans_whose_employee_is_already_known(
    harness: Harness,
) -> None:
    """A scan held while its EmployeeUpserted was applied in another transaction (the race
    the event handler cannot see) is released by the closer's next tick."""
    h = harness
    await register(h, "K1")
    await push(h, "K1", f"4242\t{MONDAY} 07:10:00\t0\t1\n")
    with Session(h.kit.engine) as s:  # the projection got the PIN, the release never ran
        employee = h.kit.tables.employee
        s.add(employee(nip=A, nama="A", opd="DISKOMINFO", pin="4242", active=True))
        s.commit()
    await asyncio.to_thread(scheduler.tick, h.kit, AttendanceConfig(), T0)
    await h.flush()
    assert [(e.nip, e.device_sn) for e in h.of("FingerprintRecorded")] == [(A, "K1")]
    assert (await held(h))["jumlah"] == {"menunggu": 0, "diterapkan": 1}


async def test_an_absence_recorded_before_its_employee_closes_its_closed_day_on_arrival(
    harness: Harness,
) -> None:
    """Absences are not refused for an unknown NIP (nothing waits); but the day closed
    before the employee arrived is closed for them when they do, once."""
    h = harness
    await h.employee(B)
    r = await h.client.post(
        "/api/v1/absences",
        json={"nip": A, "mulai": MONDAY, "selesai": MONDAY, "jenis": "cuti_tahunan"},
    )
    assert r.status_code == 201, r.text
    closed = await h.client.post(f"/api/v1/days/close?date={MONDAY}")
    assert closed.json()["employees"] == 1  # B only
    event = upserted(A)
    await deliver(h, event)
    await deliver(h, event)
    await h.employee(A)  # a later upsert of a known employee closes nothing again
    await h.flush()
    (day,) = [e for e in h.of("AttendanceDayClosed") if e.nip == A]
    assert (str(day.work_date), day.status, day.revision) == (MONDAY, "cuti_tahunan", 1)


async def test_a_garbled_long_pin_waits_with_its_line_instead_of_failing_the_push(
    harness: Harness,
) -> None:
    h = harness
    await register(h, "K1")
    await h.employee(A, pin="7")
    pin = "X" * 100
    await push(h, "K1", f"{pin}\t{MONDAY} 07:00:00\t0\t1\n7\t{MONDAY} 07:05:00\t0\t1\n")
    assert stored(h) == [(A, "2026-01-05T00:05:00Z")]
    (row,) = (await held(h))["data"]
    assert row["pin"] == pin[:64] and row["baris"].startswith(pin)


async def test_scans_pushed_by_a_system_for_an_unknown_nip_wait_for_the_employee(
    harness: Harness,
) -> None:
    h = harness
    await h.employee(B)
    rows = [(A, f"{MONDAY} 07:15:00"), (B, f"{MONDAY} 07:16:00"), ("123", f"{MONDAY} 07:17:00")]
    r = await h.client.post(
        "/api/v1/scans", json={"scans": [{"nip": n, "waktu": w} for n, w in rows]}
    )
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()] == ["menunggu", "accepted", "rejected"]
    await h.flush()
    assert [e.nip for e in h.of("FingerprintRecorded")] == [B]
    await h.employee(A)
    await h.flush()
    (a,) = [e for e in h.of("FingerprintRecorded") if e.nip == A]
    assert (a.source, a.scanned_at.strftime("%H:%M:%S")) == ("api", "00:15:00")


async def test_released_scans_are_received_by_the_kits_clock(tmp_path: Path) -> None:
    """The release runs in event handling: it dates its work by the kit's clock (injected),
    never by the wall clock; the scan keeps when it was first received."""
    clock = Clock(wib(date(2026, 1, 5), 9, 15))
    async with make_harness(tmp_path, clock=clock) as h:
        await register(h, "K1")
        await push(h, "K1", "1005\t2026-01-05 07:31:02\t0\t1\t0\t0\t0\r\n")
        clock.moment = wib(date(2026, 1, 5), 9, 40)
        await deliver(h, upserted(C, pin="1005"))
        await h.flush()
        with Session(h.kit.engine) as s:
            (scan,) = s.exec(select(Scan)).all()
            (held_row,) = s.exec(select(QuarantinedScan)).all()
        assert scan.received_at == wib(date(2026, 1, 5), 9, 15)
        assert held_row.applied_at == clock.moment
