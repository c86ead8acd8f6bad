"""Day closing, re-closing (backlog scans, absences, calendar edits), absences with
documents, the absence import, the scheduler and the portal views — on the in-memory
broker."""

from __future__ import annotations

from tests.service.test_attendance_support import Harness
from tests.support import who

A = "199001012015011001"
B = "198503152010122002"
C = "198807172014032003"
MONDAY = "2026-01-05"  # a working day (Monday, no holiday)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


async def post_scans(h: Harness, *rows: tuple[str, str]) -> list[dict]:
    r = await h.client.post(
        "/api/v1/scans", json={"scans": [{"nip": n, "waktu": w} for n, w in rows]}
    )
    assert r.status_code == 200, r.text
    return r.json()


async def close(h: Harness, day: str = MONDAY) -> dict:
    r = await h.client.post(f"/api/v1/days/close?date={day}")
    assert r.status_code == 200, r.text
    return r.json()


async def closed(h: Harness, nip: str) -> list:
    await h.flush()
    return sorted(
        (e for e in h.of("AttendanceDayClosed") if e.nip == nip), key=lambda e: e.revision
    )


async def test_closing_states_the_facts_and_reclosing_only_emits_changes(harness: Harness) -> None:
    h = harness
    for nip in (A, B, C):
        await h.employee(nip)
    await post_scans(
        h, (A, f"{MONDAY} 07:45:59"), (A, f"{MONDAY} 15:59:30"), (B, f"{MONDAY} 13:00:00")
    )
    result = await close(h)
    assert result == {"date": MONDAY, "working_day": True, "employees": 3, "emitted": 3}
    (a,) = await closed(h, A)
    # 07:30:00 -> 07:45:59 is 15 whole minutes late; 15:59:30 -> 16:00:00 is 0 whole minutes.
    assert (a.status, a.revision, a.minutes_late, a.minutes_early) == ("present", 1, 15, 0)
    (b,) = await closed(h, B)
    # One scan after 12:00 is a check-out only; 13:00 -> 16:00 is 180 minutes early.
    assert (b.check_in, b.minutes_late, b.minutes_early) == (None, None, 180)
    (c,) = await closed(h, C)
    assert (c.status, c.check_in, c.check_out) == ("tanpa_keterangan", None, None)
    # Closing again with the same facts emits nothing.
    assert (await close(h))["emitted"] == 0
    # A backlog scan for C arrives after the day was closed: C's day alone is re-closed.
    lines = await post_scans(h, (C, f"{MONDAY} 07:20:00"))
    assert lines[0]["status"] == "accepted"
    _, c2 = await closed(h, C)
    assert (c2.revision, c2.status, c2.minutes_late, c2.minutes_early) == (2, "present", 0, None)
    # ... and the re-close names that scan's FingerprintRecorded as its cause.
    (late_scan,) = [e for e in h.of("FingerprintRecorded") if e.nip == C]
    assert c2.causation_id == late_scan.event_id
    assert len(await closed(h, A)) == 1


async def test_absence_decides_the_day_and_cancel_reverts_it(harness: Harness) -> None:
    h = harness
    await h.employee(A)
    await post_scans(h, (A, f"{MONDAY} 09:00:00"), (A, f"{MONDAY} 16:05:00"))
    await close(h)
    r = await h.client.post(
        "/api/v1/absences",
        json={"nip": A, "mulai": "2026-01-05", "selesai": "2026-01-06", "jenis": "dinas_luar"},
        headers=who(None, "operator", "DISKOMINFO"),
    )
    assert r.status_code == 201, r.text
    absence = r.json()
    assert absence["hari_ditutup_ulang"] == 1  # only the 5th was closed
    # the kind stays the contract's value; people read its label
    assert (absence["jenis"], absence["jenis_label"]) == ("dinas_luar", "Dinas luar")
    month = (await h.client.get(f"/api/v1/employees/{A}/month?period=2026-01")).json()
    by_date = {d["tanggal"]: d for d in month["hari"]}
    assert (by_date[MONDAY]["status"], by_date[MONDAY]["status_label"]) == (
        "dinas_luar",
        "Dinas luar",
    )
    sunday = by_date["2026-01-04"]
    assert (sunday["status"], sunday["status_label"]) == ("non_working", "Bukan hari kerja")
    recap = (await h.client.get(f"/api/v1/opds/DISKOMINFO/days/{MONDAY}")).json()
    assert [(p["status"], p["status_label"]) for p in recap["pegawai"]] == [
        ("dinas_luar", "Dinas luar")
    ]
    revs = await closed(h, A)
    # Rev 1: 07:30 -> 09:00 is 90 min late. Rev 2: dinas luar, no late/early minutes.
    assert [(e.revision, e.status, e.minutes_late) for e in revs] == [
        (1, "present", 90),
        (2, "dinas_luar", 0),
    ]
    recorded = [e for e in h.of("AbsenceRecorded") if e.nip == A]
    assert len(recorded) == 1 and recorded[0].kind == "dinas_luar"
    assert revs[1].causation_id == recorded[0].event_id
    cancel = await h.client.post(f"/api/v1/absences/{absence['absence_id']}/cancel")
    assert cancel.status_code == 200 and cancel.json()["dibatalkan"] is True
    again = await h.client.post(f"/api/v1/absences/{absence['absence_id']}/cancel")
    assert again.status_code == 409
    revs = await closed(h, A)
    assert [(e.revision, e.status) for e in revs][-1] == (3, "present")
    assert [e.cancelled for e in h.of("AbsenceRecorded")] == [False, True]


async def test_absence_validation_and_document(harness: Harness) -> None:
    h = harness
    base = {"nip": A, "mulai": "2026-01-05", "selesai": "2026-01-05", "jenis": "cuti_sakit"}
    bad = await h.client.post("/api/v1/absences", json={**base, "jenis": "libur_sendiri"})
    assert bad.status_code == 422 and "tidak dikenal" in bad.json()["detail"]
    backwards = await h.client.post("/api/v1/absences", json={**base, "mulai": "2026-01-07"})
    assert "sebelum tanggal mulai" in backwards.json()["detail"]
    asn = await h.client.post("/api/v1/absences", json=base, headers=who(None, "asn"))
    assert asn.status_code == 403
    ok = await h.client.post(
        "/api/v1/absences", data=base, files={"dokumen": ("surat.png", PNG, "image/png")}
    )
    assert ok.status_code == 201, ok.text
    doc = await h.client.get(f"/api/v1/absences/{ok.json()['absence_id']}/document")
    assert doc.status_code == 200 and doc.content == PNG
    assert list((h.kit.settings.data_dir / "evidence" / "attendance").iterdir())
    # The harness limits documents to 4096 bytes.
    big = await h.client.post(
        "/api/v1/absences", data=base, files={"dokumen": ("a.pdf", b"%PDF-" + b"0" * 5000)}
    )
    assert big.status_code == 413
    exe = await h.client.post(
        "/api/v1/absences", data=base, files={"dokumen": ("a.pdf", b"MZ\x90\x00")}
    )
    assert exe.status_code == 415
    listed = (await h.client.get(f"/api/v1/absences?nip={A}&period=2026-01")).json()
    assert len(listed) == 1 and listed[0]["dokumen"] is True


async def test_absence_import_reports_each_line_and_is_idempotent(harness: Harness) -> None:
    h = harness
    text = (
        "nip,mulai,selesai,jenis\n"
        f"{A},2026-01-05,2026-01-07,cuti_tahunan\n"
        f"{B},2026-01-05,2026-01-04,cuti_sakit\n"
        "123,2026-01-05,2026-01-05,cuti_sakit\n"
        f"{C},05/01/2026,05/01/2026,izin_tidak_sah\n"
        f"{C},2026-01-06,2026-01-06,bolos\n"
    )
    headers = {"content-type": "text/csv", **who(None, "bkpsdm")}
    r = await h.client.post("/api/v1/absences/import", content=text, headers=headers)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["accepted"], report["duplicate"], report["rejected"]) == (2, 0, 3)
    by_line = {line["line"]: line for line in report["lines"]}
    assert by_line[3]["status"] == "rejected" and "sebelum" in by_line[3]["reason"]
    assert "18 digit" in by_line[4]["reason"]
    assert "tidak dikenal" in by_line[6]["reason"]
    again = (await h.client.post("/api/v1/absences/import", content=text, headers=headers)).json()
    assert (again["accepted"], again["duplicate"], again["rejected"]) == (0, 2, 3)
    wrong = await h.client.post("/api/v1/absences/import", content="a,b\n1,2\n", headers=headers)
    assert wrong.status_code == 422


async def test_calendar_edit_recloses_the_date(harness: Harness) -> None:
    h = harness
    await h.employee(A)
    await post_scans(h, (A, f"{MONDAY} 07:00:00"), (A, f"{MONDAY} 16:30:00"))
    await close(h)
    asn = await h.client.post(
        "/api/v1/calendar/holidays", json={"tanggal": MONDAY}, headers=who(None, "asn")
    )
    assert asn.status_code == 403
    add = await h.client.post(
        "/api/v1/calendar/holidays", json={"tanggal": MONDAY, "nama": "Cuti bersama daerah"}
    )
    assert add.status_code == 200 and add.json()["hari_kerja"] is False
    revs = await closed(h, A)
    assert [(e.revision, e.status) for e in revs] == [(1, "present"), (2, "non_working")]
    cal = (await h.client.get("/api/v1/calendar?year=2026")).json()
    assert {"tanggal": MONDAY, "nama": "Cuti bersama daerah", "sumber": "bkpsdm"} in cal[
        "hari_libur"
    ]
    # New Year's Day is a national holiday: removing it makes it a working day.
    assert any(d["tanggal"] == "2026-01-01" for d in cal["hari_libur"])
    gone = await h.client.delete(f"/api/v1/calendar/holidays/{MONDAY}")
    assert gone.json()["hari_kerja"] is True
    revs = await closed(h, A)
    assert [(e.revision, e.status) for e in revs][-1] == (3, "present")
    ny = await h.client.delete("/api/v1/calendar/holidays/2026-01-01")
    assert ny.json()["hari_kerja"] is True
    sat = await h.client.post("/api/v1/calendar/working-days", json={"tanggal": "2026-01-10"})
    assert sat.json()["hari_kerja"] is True
    not_holiday = await h.client.delete("/api/v1/calendar/holidays/2026-01-07")
    assert not_holiday.status_code == 404
    # Every change announced the year's whole set of BKPSDM changes, newest last.
    await h.flush()
    snapshots = sorted(h.of("WorkCalendarChanged"), key=lambda e: e.occurred_at)
    assert [(e.nip, e.year) for e in snapshots] == [("0" * 18, 2026)] * 4
    first, last = snapshots[0], snapshots[-1]
    assert [(d.tanggal.isoformat(), d.nama) for d in first.holidays] == [
        (MONDAY, "Cuti bersama daerah")
    ]
    assert first.working_days == []
    assert last.holidays == []  # BKPSDM's own holiday was removed again
    assert [d.isoformat() for d in last.working_days] == ["2026-01-01", "2026-01-10"]
    # announced again on request (a service that joined later): the same content
    asn_again = await h.client.post("/api/v1/calendar/2026/announce", headers=who(None, "asn"))
    assert asn_again.status_code == 403
    again = await h.client.post("/api/v1/calendar/2026/announce")
    assert again.status_code == 200 and again.json()["hari_kerja_tambahan"] == 2
    await h.flush()
    latest = max(h.of("WorkCalendarChanged"), key=lambda e: e.occurred_at)
    assert latest.event_id != last.event_id
    assert (latest.holidays, latest.working_days) == (last.holidays, last.working_days)


async def test_close_refuses_days_not_ended_and_close_range(harness: Harness) -> None:
    h = harness
    await h.employee(A)
    future = await h.client.post("/api/v1/days/close?date=2099-12-31")
    assert future.status_code == 409
    r = await h.client.post("/api/v1/days/close-range?start=2026-01-01&end=2026-01-11")
    assert r.status_code == 200, r.text
    body = r.json()
    # 1 Jan is a holiday, 3-4 and 10-11 Jan are weekends: working days 2, 5, 6, 7, 8, 9 Jan.
    assert [d["date"] for d in body["days"] if d["working_day"]] == [
        "2026-01-02",
        "2026-01-05",
        "2026-01-06",
        "2026-01-07",
        "2026-01-08",
        "2026-01-09",
    ]
    assert body["emitted"] == 6


async def test_portal_views_and_anomalies(harness: Harness) -> None:
    h = harness
    await h.employee(A, opd="DISKOMINFO")
    await h.employee(B, opd="DISKOMINFO")
    await h.opd("BAPPEDA")  # a device is registered only to an OPD someone belongs to
    for sn, opd, lokasi in (("K1", "DISKOMINFO", "Gedung A"), ("K2", "BAPPEDA", "Gedung B")):
        r = await h.client.post("/api/v1/devices", json={"sn": sn, "opd": opd, "lokasi": lokasi})
        assert r.status_code == 201, r.text
    # A scans at K1, then 10 minutes later at K2 (another OPD, another building).
    await h.client.post(
        "/iclock/cdata?SN=K1&table=ATTLOG", content=f"{A}\t{MONDAY} 07:20:00\t0\t1\n"
    )
    await h.client.post(
        "/iclock/cdata?SN=K2&table=ATTLOG", content=f"{A}\t{MONDAY} 07:30:00\t0\t1\n"
    )
    await close(h)
    month = (await h.client.get(f"/api/v1/employees/{A}/month?period=2026-01")).json()
    day5 = next(d for d in month["hari"] if d["tanggal"] == MONDAY)
    # Check-in 07:20:00 (0 late), check-out 07:30:00 is 510 minutes before 16:00.
    assert (day5["status"], day5["jam_masuk"], day5["jam_pulang"]) == (
        "present",
        "07:20:00",
        "07:30:00",
    )
    assert (day5["menit_terlambat"], day5["menit_pulang_cepat"], day5["revisi"]) == (0, 510, 1)
    # January 2026: 22 weekdays minus New Year's Day (Thu 1st) and Isra Mi'raj (Fri 16th)
    assert month["hari_kerja"] == 20
    recap = (await h.client.get(f"/api/v1/opds/DISKOMINFO/days/{MONDAY}")).json()
    assert recap["rekap"] == {"present": 1, "tanpa_keterangan": 1}
    assert (
        await h.client.get("/api/v1/employees/197001012000011999/month?period=2026-01")
    ).status_code == 404
    forbidden = await h.client.get("/api/v1/anomalies?period=2026-01", headers=who(None, "asn"))
    assert forbidden.status_code == 403
    report = (
        await h.client.get("/api/v1/anomalies?period=2026-01", headers=who(None, "auditor"))
    ).json()
    assert report["jumlah"] == {"device_hop": 1, "foreign_device": 1}


async def test_scheduler_tick_closes_ended_days_and_late_joiners(harness: Harness) -> None:
    from datetime import UTC, datetime

    from services.attendance import scheduler
    from services.attendance.config import AttendanceConfig

    h = harness
    await h.employee(A)
    cfg = AttendanceConfig(close_lookback_days=3)
    # 2026-01-06 10:00 WIB (03:00Z): the window is 3, 4 and 5 January; only the 5th works.
    now = datetime(2026, 1, 6, 3, 0, tzinfo=UTC)
    first = scheduler.tick(h.kit, cfg, now)
    assert [(r.day.isoformat(), r.working, r.emitted) for r in first] == [
        ("2026-01-03", False, 0),
        ("2026-01-04", False, 0),
        ("2026-01-05", True, 1),
    ]
    assert scheduler.tick(h.kit, cfg, now) == []  # nothing left to do
    await h.employee(B)  # joins the projection after the 5th was closed
    late = scheduler.tick(h.kit, cfg, now)
    assert [(r.day.isoformat(), r.employees, r.emitted) for r in late] == [("2026-01-05", 1, 1)]
    (b,) = await closed(h, B)
    assert b.status == "tanpa_keterangan"
