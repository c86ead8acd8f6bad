"""Attendance and employment periods (RULES.md "Employment within a month"): a day is closed
only for an employee active on that date; a scan on an inactive day is kept (no closing, no
cost); the OPD recap and the anomalies use the period of that date — on the in-memory broker."""

from __future__ import annotations

from datetime import UTC, date, datetime

from contracts import Topic
from contracts.events import EmployeeDeactivated
from services.attendance import scheduler
from services.attendance.config import AttendanceConfig
from services.kernel.calendar import WIB
from tests import factories
from tests.service.test_attendance_support import T0, Harness
from tests.support import who

A = "199001012015011001"
B = "198503152010122002"
C = "198807172014032003"


async def join(h: Harness, nip: str, first: date | None, opd: str = "DISKOMINFO", **kw: object):
    event = factories.employee(
        nip, at=T0, nama=f"Pegawai {nip[-3:]}", opd=opd, aktif_mulai=first, **kw
    )
    await h.broker.publish(event.to_bytes(), Topic.EMPLOYEES, key=nip.encode())


async def leave(h: Harness, nip: str, last: date) -> None:
    event = EmployeeDeactivated(occurred_at=T0, producer="siasn", nip=nip, aktif_sampai=last)
    await h.broker.publish(event.to_bytes(), Topic.EMPLOYEES, key=nip.encode())


async def closings(h: Harness, nip: str) -> list[tuple[str, str]]:
    await h.flush()
    return sorted(
        (e.work_date.isoformat(), e.status) for e in h.of("AttendanceDayClosed") if e.nip == nip
    )


async def test_the_closer_leaves_the_days_before_a_new_employees_first_day(
    harness: Harness,
) -> None:
    h = harness
    await join(h, B, None)  # an employee of long standing (open period)
    cfg = AttendanceConfig(close_lookback_days=7)
    # Monday 2026-01-12 10:00 WIB: the window is Mon 5 .. Sun 11 January; its working days
    # are 5, 6, 7, 8 and 9 January (no holiday that week).
    now = datetime(2026, 1, 12, 3, 0, tzinfo=UTC)
    scheduler.tick(h.kit, cfg, now)
    assert [d for d, _ in await closings(h, B)] == [
        "2026-01-05",
        "2026-01-06",
        "2026-01-07",
        "2026-01-08",
        "2026-01-09",
    ]
    # A joins attendance today, with a period starting today: none of the past week is theirs.
    await join(h, A, date(2026, 1, 12))
    assert scheduler.tick(h.kit, cfg, now) == []
    assert await closings(h, A) == []
    # C's period starts on Thursday the 8th: only the 8th and the 9th are closed for C.
    await join(h, C, date(2026, 1, 8))
    scheduler.tick(h.kit, cfg, now)
    assert await closings(h, C) == [
        ("2026-01-08", "tanpa_keterangan"),
        ("2026-01-09", "tanpa_keterangan"),
    ]


async def test_after_the_last_day_scans_are_kept_and_the_day_is_not_closed(
    harness: Harness,
) -> None:
    h = harness
    await join(h, A, None)
    await leave(h, A, date(2026, 1, 20))  # Tuesday the 20th is A's last day
    lines = [
        {"nip": A, "waktu": "2026-01-20 07:25:00"},
        {"nip": A, "waktu": "2026-01-20 16:05:00"},
        {"nip": A, "waktu": "2026-01-21 07:25:00"},  # Wednesday: no longer active
    ]
    r = await h.client.post("/api/v1/scans", json={"scans": lines})
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()] == ["accepted"] * 3
    for day in ("2026-01-20", "2026-01-21"):
        assert (await h.client.post(f"/api/v1/days/close?date={day}")).status_code == 200
    # 07:25 and 16:05 on the 20th: on time both ends; nothing is closed on the 21st.
    assert await closings(h, A) == [("2026-01-20", "present")]
    # The scans of the 21st are kept (A's own scans list shows them) ...
    scans = (await h.client.get(f"/api/v1/employees/{A}/scans?period=2026-01")).json()
    assert sum(1 for s in scans if s["work_date"] == "2026-01-21") == 1
    # ... and one more arriving late (a device backlog) re-closes nothing.
    late = {"nip": A, "waktu": "2026-01-21 16:00:00"}
    assert (await h.client.post("/api/v1/scans", json={"scans": [late]})).status_code == 200
    assert await closings(h, A) == [("2026-01-20", "present")]
    assert len([e for e in h.of("FingerprintRecorded") if e.nip == A]) == 4
    # A's month shows the 21st as outside the employment, not as a provisional TK.
    month = (await h.client.get(f"/api/v1/employees/{A}/month?period=2026-01")).json()
    by_date = {d["tanggal"]: d for d in month["hari"]}
    assert (by_date["2026-01-20"]["aktif"], by_date["2026-01-20"]["status"]) == (True, "present")
    assert (by_date["2026-01-21"]["aktif"], by_date["2026-01-21"]["status"]) == (False, None)
    assert by_date["2026-01-22"]["status"] is None  # Thursday: no scan, not TK either


async def test_a_transfer_on_the_16th_moves_the_employee_in_the_opd_recap(
    harness: Harness,
) -> None:
    h = harness
    await join(h, B, None, opd="DISKOMINFO")
    await join(h, C, None, opd="BAPPEDA")
    await join(h, A, None, opd="DISKOMINFO")
    await join(h, A, date(2026, 1, 16), opd="BAPPEDA")  # transferred from the 16th
    lines = [{"nip": A, "waktu": f"2026-01-{d} 07:00:00"} for d in (15, 19)]
    assert (await h.client.post("/api/v1/scans", json={"scans": lines})).status_code == 200

    async def staff(opd: str, day: str) -> list[str]:
        r = await h.client.get(f"/api/v1/opds/{opd}/days/{day}")
        assert r.status_code == 200, r.text
        return [p["nip"] for p in r.json()["pegawai"]]

    assert sorted(await staff("DISKOMINFO", "2026-01-15")) == sorted([A, B])
    assert await staff("BAPPEDA", "2026-01-15") == [C]
    for day in ("2026-01-16", "2026-01-19"):
        assert await staff("DISKOMINFO", day) == [B]
        assert sorted(await staff("BAPPEDA", day)) == sorted([A, C])


CSV = {"content-type": "text/csv"}


async def test_a_migration_import_loads_history_marked_and_closes_its_days(
    harness: Harness,
) -> None:
    h = harness
    await join(h, A, None)
    await join(h, B, None)
    text = (
        "nip,waktu\n"
        f"{A},2026-10-01 07:00:00\n"
        f"{A},2026-10-01 16:00:00\n"
        f"{B},2026-10-02 07:45:00\n"
        f"{A},2026-10-06 07:10:00\n"
        f"{C},2026-10-05 07:00:00\n"  # C is not an employee yet: waits
    )
    # An operator may import scans, not a migration (it notifies nobody).
    operator = who(None, "operator", "DISKOMINFO")
    refused = await h.client.post(
        "/api/v1/scans/import?migrasi=true", content=text, headers={**CSV, **operator}
    )
    assert refused.status_code == 403
    r = await h.client.post("/api/v1/scans/import?migrasi=true", content=text, headers=CSV)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["migrasi"], body["accepted"], body["menunggu_pegawai"]) == (True, 4, 1)
    await h.flush()
    scans = h.of("FingerprintRecorded")
    assert len(scans) == 4 and all(e.migration for e in scans)
    # the historical time is kept: 2026-10-01 07:00 WIB is 00:00 UTC
    assert min(e.scanned_at for e in scans) == datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
    # The file spans Thu 1 .. Tue 6 October: working days 1, 2, 5 and 6 (3-4 the weekend,
    # no holiday), closed for A and B at once although the closer looks back a week only.
    # A: the 1st 07:00-16:00 on time, the 2nd and 5th no scan, the 6th 07:10 (0 late,
    # one morning scan: no check-out). B: only the 2nd, 07:45 (15 minutes late).
    closed = [e for e in h.of("AttendanceDayClosed")]
    assert all(e.migration for e in closed)
    assert await closings(h, A) == [
        ("2026-10-01", "present"),
        ("2026-10-02", "tanpa_keterangan"),
        ("2026-10-05", "tanpa_keterangan"),
        ("2026-10-06", "present"),
    ]
    late = next(e for e in closed if e.nip == B and e.work_date == date(2026, 10, 2))
    assert (late.status, late.minutes_late) == ("present", 15)
    assert [d for d, _ in await closings(h, B)] == [
        "2026-10-01",
        "2026-10-02",
        "2026-10-05",
        "2026-10-06",
    ]
    # C arrives: its waiting line is released as migration and its day closed as such.
    await join(h, C, None)
    await h.flush()
    (c_scan,) = [e for e in h.of("FingerprintRecorded") if e.nip == C]
    assert c_scan.migration
    c_closed = [e for e in h.of("AttendanceDayClosed") if e.nip == C]
    assert [(e.work_date.isoformat(), e.status, e.migration) for e in c_closed] == [
        ("2026-10-05", "present", True)
    ]


async def test_a_migration_takes_ended_dates_only(harness: Harness) -> None:
    h = harness
    await join(h, A, None)
    today = datetime.now(UTC).astimezone(WIB).date()  # the harness runs on the wall clock
    text = f"nip,waktu\n{A},{today.isoformat()} 00:00:01\n{A},2026-10-01 07:00:00\n"
    r = await h.client.post("/api/v1/scans/import?migrasi=true", content=text, headers=CSV)
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert body["errors"][0]["line"] == 2 and "sudah lewat" in body["errors"][0]["reason"]


async def test_the_month_per_opd_counts_each_day_in_the_opd_of_that_date(
    harness: Harness,
) -> None:
    h = harness
    await join(h, B, None, opd="DISKOMINFO")
    await join(h, C, None, opd="BAPPEDA")
    await join(h, A, None, opd="DISKOMINFO")
    await join(h, A, date(2026, 1, 16), opd="BAPPEDA")  # transferred from the 16th
    lines = [
        {"nip": A, "waktu": "2026-01-12 07:20:00"},  # on time
        {"nip": A, "waktu": "2026-01-12 16:05:00"},
        {"nip": A, "waktu": "2026-01-13 08:00:00"},  # 30 minutes late
        {"nip": A, "waktu": "2026-01-13 16:05:00"},
        {"nip": A, "waktu": "2026-01-19 07:25:00"},  # on time, in BAPPEDA now
        {"nip": A, "waktu": "2026-01-19 16:05:00"},
        {"nip": A, "waktu": "2026-01-20 07:45:00"},  # 15 minutes late
        {"nip": A, "waktu": "2026-01-20 16:05:00"},
        {"nip": B, "waktu": "2026-01-12 07:00:00"},
        {"nip": B, "waktu": "2026-01-12 16:05:00"},
    ]
    assert (await h.client.post("/api/v1/scans", json={"scans": lines})).status_code == 200
    for nip, first, last, kind in (
        (A, "2026-01-14", "2026-01-14", "cuti_tahunan"),
        (C, "2026-01-19", "2026-01-20", "dinas_luar"),
    ):
        body = {"nip": nip, "mulai": first, "selesai": last, "jenis": kind}
        assert (await h.client.post("/api/v1/absences", json=body)).status_code == 201
    r = await h.client.post("/api/v1/days/close-range?start=2026-01-12&end=2026-01-20")
    assert r.status_code == 200, r.text
    got = await h.client.get("/api/v1/opds/attendance?period=2026-01")
    assert got.status_code == 200, got.text
    # Working days closed: 12, 13, 14, 15, 19, 20 (16 January is Isra Mi'raj).
    # DISKOMINFO: A on 12 (hadir), 13 (terlambat), 14 (cuti), 15 (TK) = 4 days;
    #   B on 12 hadir, 13 14 15 19 20 TK = 6 days. 10 days: hadir 2, terlambat 1, TK 6,
    #   absences 1; rate (2 + 1) / 10 = 30.0 %.
    # BAPPEDA: A on 19 (hadir), 20 (terlambat) = 2 days; C on 12 13 14 15 TK, 19 20 dinas
    #   luar = 6 days. 8 days: hadir 1, terlambat 1, TK 4, absences 2; rate 2 / 8 = 25.0 %.
    # City: 18 days, hadir 3, terlambat 2, TK 10, absences 3; rate 5 / 18 = 27.78 -> 27.8 %.
    body = got.json()
    assert body["periode"] == "2026-01"
    assert body["opds"] == [
        {
            "opd": "BAPPEDA",
            "hari_pegawai": 8,
            "hadir": 1,
            "terlambat": 1,
            "tanpa_keterangan": 4,
            "ketidakhadiran": 2,
            "rincian_ketidakhadiran": {"dinas_luar": 2},
            "tingkat_kehadiran": 25.0,
        },
        {
            "opd": "DISKOMINFO",
            "hari_pegawai": 10,
            "hadir": 2,
            "terlambat": 1,
            "tanpa_keterangan": 6,
            "ketidakhadiran": 1,
            "rincian_ketidakhadiran": {"cuti_tahunan": 1},
            "tingkat_kehadiran": 30.0,
        },
    ]
    assert body["jumlah"] == {
        "hari_pegawai": 18,
        "hadir": 3,
        "terlambat": 2,
        "tanpa_keterangan": 10,
        "ketidakhadiran": 3,
        "rincian_ketidakhadiran": {"cuti_tahunan": 1, "dinas_luar": 2},
        "tingkat_kehadiran": 27.8,
    }
    bad = await h.client.get("/api/v1/opds/attendance?period=2026-13")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    asn = await h.client.get("/api/v1/opds/attendance?period=2026-01", headers=who(A, "asn"))
    assert asn.status_code == 403
