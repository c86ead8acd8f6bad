"""Activity and employment periods (RULES.md "Employment within a month"): filing is gated by
the employee's periods, and a report is seen by the atasan and OPD of its date; the migration
import marks its reports (issue 14). In-process, like test_activity_reports.py.

Calendar (October 2026, no national holiday in these days):
    Mo Tu We Th Fr Sa Su
              1  2  3  4
     5  6  7  8  9 10 11
"""

from __future__ import annotations

from datetime import date
from typing import Any

from contracts.events import ActivityReported, EmployeeDeactivated
from tests import factories
from tests.service.test_activity_reports import FRI, MON, THU, TUE, WED, env, report_body, scan
from tests.support import emitted, who, wib

__all__ = ["env"]  # the fixture, shared


async def test_filing_outside_the_employees_periods_is_refused(env: dict[str, Any]) -> None:
    kit, client, clock = env["kit"], env["client"], env["clock"]
    new, gone = factories.nip(), factories.nip()
    await kit.handle(factories.employee(new, at=wib(MON, 6), aktif_mulai=TUE).to_bytes())
    await kit.handle(factories.employee(gone, at=wib(MON, 6)).to_bytes())
    end = EmployeeDeactivated(occurred_at=wib(MON, 6), producer="siasn", nip=gone, aktif_sampai=MON)
    await kit.handle(end.to_bytes())
    clock.moment = wib(TUE, 10)
    for nip, day in ((new, MON), (new, TUE), (gone, MON), (gone, TUE)):
        await kit.handle(scan(nip, day).to_bytes())  # every scan is kept and opens its day
    # `new` starts on Tuesday: Monday is refused; `gone` left after Monday: Tuesday is.
    for nip, day in ((new, MON), (gone, TUE)):
        r = await client.post("/api/v1/reports", json=report_body(day), headers=who(nip, "asn"))
        assert r.status_code == 409, r.text
        problem = r.json()
        assert problem["code"] == "not_active"
        assert "tidak tercatat sebagai pegawai aktif" in problem["detail"]
        assert "operator kepegawaian OPD Anda atau BKPSDM" in problem["detail"]
        status = await client.get(
            f"/api/v1/employees/{nip}/filing-status?work_date={day}", headers=who(nip, "asn")
        )
        assert (status.json()["allowed"], status.json()["code"]) == (False, "not_active")
    for nip, day in ((new, TUE), (gone, MON)):
        r = await client.post("/api/v1/reports", json=report_body(day), headers=who(nip, "asn"))
        assert r.status_code == 201, r.text
    # A BKPSDM opening lifts the scan and the deadline, not the employment.
    opened = await client.post(
        f"/api/v1/employees/{new}/openings",
        json={"work_date": MON.isoformat(), "reason": "Mesin rusak"},
        headers=who(factories.nip(), "bkpsdm"),
    )
    assert opened.status_code == 201, opened.text
    again = await client.post("/api/v1/reports", json=report_body(MON), headers=who(new, "asn"))
    assert again.json()["code"] == "not_active"


async def test_a_report_is_seen_by_the_atasan_and_opd_of_its_date(env: dict[str, Any]) -> None:
    kit, client, clock = env["kit"], env["client"], env["clock"]
    staff, old_boss, new_boss = (factories.nip() for _ in range(3))
    await kit.handle(factories.employee(staff, old_boss, at=wib(MON, 6), opd="LAMA").to_bytes())
    moved = factories.employee(staff, new_boss, at=wib(MON, 6), opd="BARU", aktif_mulai=WED)
    await kit.handle(moved.to_bytes())  # transferred from Wednesday
    ids: dict[date, str] = {}
    for day in (MON, WED):
        clock.moment = wib(day, 10)
        await kit.handle(scan(staff, day).to_bytes())
        r = await client.post("/api/v1/reports", json=report_body(day), headers=who(staff, "asn"))
        assert r.status_code == 201, r.text
        ids[day] = r.json()["id"]
    readers = {
        "old atasan": who(old_boss, "atasan"),
        "new atasan": who(new_boss, "atasan"),
        "old operator": who(None, "operator", "LAMA"),
        "new operator": who(None, "operator", "BARU"),
    }
    seen = {}
    for name, headers in readers.items():
        seen[name] = [
            (await client.get(f"/api/v1/reports/{ids[d]}", headers=headers)).status_code
            for d in (MON, WED)
        ]
    assert seen == {
        "old atasan": [200, 403],
        "new atasan": [403, 200],
        "old operator": [200, 403],
        "new operator": [403, 200],
    }
    # The month's list: each reader gets the reports of their days.
    for name, day in (("old atasan", MON), ("new atasan", WED)):
        listed = await client.get(
            f"/api/v1/employees/{staff}/reports?period=2026-10", headers=readers[name]
        )
        assert [r["id"] for r in listed.json()] == [ids[day]], name
    stranger = await client.get(
        f"/api/v1/employees/{staff}/reports?period=2026-10", headers=who(factories.nip(), "atasan")
    )
    assert stranger.status_code == 403


async def test_the_migration_import_marks_its_reports_and_keeps_to_the_periods(
    env: dict[str, Any],
) -> None:
    kit, client = env["kit"], env["client"]
    a = factories.nip()
    await kit.handle(
        # with an atasan: a line nobody could decide is flagged, not accepted (approval-periods)
        factories.employee(
            a, factories.nip(), at=wib(MON, 6), aktif_mulai=date(2026, 10, 2)
        ).to_bytes()
    )
    for day in (date(2026, 10, 1), date(2026, 10, 2)):
        await kit.handle(scan(a, day).to_bytes())
    csv_text = f"nip,tanggal,status\n{a},2026-10-01,approved\n{a},2026-10-02,rejected\n"
    headers = {"content-type": "text/csv", **who(None, "bkpsdm")}
    r = await client.post("/api/v1/reports/import?wait_s=0", content=csv_text, headers=headers)
    body = r.json()
    # 1 October is before the period (from the 2nd): refused with the gate's code
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert [(e["line"], e["code"]) for e in body["errors"]] == [(2, "not_active")]
    (event,) = [e for e in emitted(kit) if isinstance(e, ActivityReported)]
    assert (event.work_date, event.imported_decision, event.migration) == (
        date(2026, 10, 2),
        "rejected",
        True,
    )


async def test_on_time_filing_per_opd_counts_each_day_in_the_opd_of_that_date(
    env: dict[str, Any],
) -> None:
    kit, client, clock = env["kit"], env["client"], env["clock"]
    p, q, r = factories.nip(), factories.nip(), factories.nip()
    for nip, opd in ((p, "LAMA"), (q, "LAMA"), (r, "BARU")):
        event = factories.employee(nip, at=wib(MON, 6), opd=opd, aktif_mulai=MON)
        await kit.handle(event.to_bytes())
    moved = factories.employee(p, at=wib(MON, 6), opd="BARU", aktif_mulai=WED)
    await kit.handle(moved.to_bytes())  # p moves to BARU from Wednesday
    for nip in (p, q, r):
        for day in (MON, TUE, WED, THU, FRI):
            await kit.handle(scan(nip, day).to_bytes())

    async def file(nip: str, day: date, at: Any) -> None:
        clock.moment = at
        got = await client.post("/api/v1/reports", json=report_body(day), headers=who(nip, "asn"))
        assert got.status_code == 201, got.text

    await file(p, MON, wib(MON, 10))  # on the day
    await file(p, TUE, wib(WED, 9))  # the next morning: within the deadline (Wed 23:59)
    await file(p, WED, wib(WED, 16))  # on the day, in BARU now
    await file(q, MON, wib(MON, 15))
    await file(q, MON, wib(MON, 16))  # a second report of the same date: one day still
    for day in (MON, TUE, WED, THU, FRI):
        await file(r, day, wib(day, 15))
    # q's Tuesday after its deadline, through a BKPSDM opening, on Monday the 12th
    clock.moment = wib(date(2026, 10, 12), 8)
    opened = await client.post(
        f"/api/v1/employees/{q}/openings",
        json={"work_date": TUE.isoformat(), "reason": "Mesin rusak"},
        headers=who(factories.nip(), "bkpsdm"),
    )
    assert opened.status_code == 201, opened.text
    await file(q, TUE, wib(date(2026, 10, 12), 9))
    clock.moment = wib(date(2026, 10, 12), 10)
    got = await client.get("/api/v1/opds/filing?period=2026-10", headers=who(None, "bkpsdm"))
    assert got.status_code == 200, got.text
    body = got.json()
    # Monday the 12th, 10.00 WIB: the deadlines of 5-8 October have passed (Thursday's is
    # Friday 23:59); Friday the 9th's (Monday the 12th 23:59) has not: not judged. 1 and 2
    # October: nobody was active yet.
    assert body["hari_dinilai"] == [
        "2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07", "2026-10-08"
    ]  # fmt: skip
    # LAMA: p Mon (hari itu), p Tue (sebelum batas); q Mon (hari itu), q Tue (lewat batas),
    #   q Wed and Thu (none): 6 days, on time 3 -> 50.0 %.
    # BARU: p Wed (hari itu), p Thu (none); r Mon..Thu (hari itu): 6 days, on time 5 ->
    #   83.33 -> 83.3 %. City: 12 days, on time 8 -> 66.67 -> 66.7 %.
    assert body["opds"] == [
        {"opd": "BARU", "hari_wajib": 6, "hari_itu": 5, "sebelum_batas": 0, "lewat_batas": 0,
         "diimpor": 0, "tidak_ada": 1, "tepat_waktu": 5, "persen_tepat_waktu": 83.3},
        {"opd": "LAMA", "hari_wajib": 6, "hari_itu": 2, "sebelum_batas": 1, "lewat_batas": 1,
         "diimpor": 0, "tidak_ada": 2, "tepat_waktu": 3, "persen_tepat_waktu": 50.0},
    ]  # fmt: skip
    assert body["jumlah"] == {
        "hari_wajib": 12, "hari_itu": 7, "sebelum_batas": 1, "lewat_batas": 1, "diimpor": 0,
        "tidak_ada": 3, "tepat_waktu": 8, "persen_tepat_waktu": 66.7,
    }  # fmt: skip
    refused = await client.get("/api/v1/opds/filing?period=2026-10", headers=who(p, "asn"))
    assert refused.status_code == 403
    bad = await client.get("/api/v1/opds/filing?period=2026-13", headers=who(None, "auditor"))
    assert bad.status_code == 422
