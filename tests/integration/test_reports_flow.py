"""The report flow on the real broker: a scan posted to attendance unlocks the day at
activity, the ASN files the report, it reaches the atasan's queue at approval, the atasan
approves, and ReportApproved reaches activity's report and tpp's decision projection. A Plt
named at approval may open the report at activity until the delegation is revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import Session

from contracts.events import EmployeeUpserted, Event, FingerprintRecorded
from services.activity.app import create as create_activity
from services.approval.app import create as create_approval
from services.attendance.app import create as create_attendance
from services.kernel.calendar import WIB
from services.shared.settings import Settings
from services.tpp.app import create as create_tpp
from services.tpp.models import ReportDecision
from tests import factories
from tests.support import eventually, running, who

pytestmark = pytest.mark.integration


async def test_scan_file_approve_reaches_tpp(settings: Settings) -> None:
    staff, boss = factories.nip(), factories.nip()
    scanned = (datetime.now(UTC) - timedelta(minutes=1)).astimezone(WIB)
    day = scanned.date().isoformat()
    attendance, activity = create_attendance(settings), create_activity(settings)
    approval, tpp = create_approval(settings), create_tpp(settings)
    staff_h = who(staff, "asn")
    boss_h = who(boss, "atasan")
    async with (
        running(attendance) as att,
        running(activity) as act,
        running(approval) as apr,
        running(tpp),
    ):
        # the employee master (siasn's event) on this test's own topics
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
        await producer.start()
        try:
            upsert = EmployeeUpserted(
                occurred_at=datetime.now(UTC),
                producer="siasn",
                nip=staff,
                nama="Staf Uji",
                opd="Dinas Uji",
                kelas_jabatan=7,
                atasan_nip=boss,
                tpp_pagu=3_000_000,
            )
            topic = settings.topic(str(upsert.TOPIC))
            await producer.send_and_wait(topic, upsert.to_bytes(), key=upsert.key)
        finally:
            await producer.stop()
        att_kit = attendance.state.kit

        async def attendance_knows() -> bool:
            with Session(att_kit.engine) as s:
                return s.get(att_kit.tables.employee, staff) is not None

        # before that, the scan would wait in quarantine instead of being accepted
        await eventually(attendance_knows, bool)
        posted = await att.post(
            "/api/v1/scans",
            json={"scans": [{"nip": staff, "waktu": scanned.strftime("%Y-%m-%d %H:%M:%S")}]},
        )
        assert posted.json()[0]["status"] == "accepted", posted.text

        body = {
            "work_date": day,
            "description": "Rapat koordinasi",
            "output": "notula",
            "minutes": 60,
        }

        async def file() -> Any:
            return await act.post("/api/v1/reports", json=body, headers=staff_h)

        # until FingerprintRecorded is projected the refusal says the scan has not arrived yet
        filed = await eventually(
            file, lambda r: r.status_code == 201 or r.json().get("code") != "no_scan_yet"
        )
        assert filed.status_code == 201, filed.text
        report_id = filed.json()["id"]

        async def queue() -> list[dict[str, Any]]:
            return (await apr.get("/api/v1/queue", headers=boss_h)).json()

        waiting = await eventually(queue, lambda q: any(i["report_id"] == report_id for i in q))
        assert waiting[0]["nip"] == staff and waiting[0]["age_working_days"] == 0

        approved = await apr.post(f"/api/v1/reports/{report_id}/approve", headers=boss_h)
        assert approved.status_code == 200, approved.text

        async def activity_status() -> str:
            return (await act.get(f"/api/v1/reports/{report_id}", headers=staff_h)).json()["status"]

        await eventually(activity_status, lambda s: s == "approved")

        async def tpp_decision() -> tuple[str, str] | None:
            with Session(tpp.state.kit.engine) as s:
                row = s.get(ReportDecision, report_id)
                return (row.nip, row.status) if row is not None else None

        assert await eventually(tpp_decision, lambda d: d is not None) == (staff, "approved")


async def test_plt_named_at_approval_opens_the_report_at_activity(settings: Settings) -> None:
    staff, boss, plt = factories.nip(), factories.nip(), factories.nip()
    now = datetime.now(UTC)
    today = now.astimezone(WIB).date()
    activity, approval = create_activity(settings), create_approval(settings)
    staff_h = who(staff, "asn")
    boss_h = who(boss, "atasan")
    plt_h = who(plt, "atasan")
    async with running(activity) as act, running(approval) as apr:
        facts: list[Event] = [
            EmployeeUpserted(
                occurred_at=now,
                producer="siasn",
                nip=staff,
                nama="Staf Uji",
                opd="Dinas Uji",
                kelas_jabatan=7,
                atasan_nip=boss,
                tpp_pagu=3_000_000,
            ),
            FingerprintRecorded(
                occurred_at=now,
                producer="attendance",
                nip=staff,
                scan_id=f"{staff}-{today}",
                scanned_at=now - timedelta(minutes=1),
                work_date=today,
            ),
        ]
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
        await producer.start()
        try:
            for event in facts:
                topic = settings.topic(str(event.TOPIC))
                await producer.send_and_wait(topic, event.to_bytes(), key=event.key)
        finally:
            await producer.stop()
        body = {
            "work_date": today.isoformat(),
            "description": "Rapat",
            "output": "notula",
            "minutes": 60,
        }

        async def file() -> Any:
            return await act.post("/api/v1/reports", json=body, headers=staff_h)

        filed = await eventually(
            file, lambda r: r.status_code == 201 or r.json().get("code") != "no_scan_yet"
        )
        assert filed.status_code == 201, filed.text
        report = f"/api/v1/reports/{filed.json()['id']}"
        assert (await act.get(report, headers=plt_h)).status_code == 403

        window = {
            "atasan_nip": boss,
            "plt_nip": plt,
            "start": (today - timedelta(days=1)).isoformat(),
            "end": (today + timedelta(days=1)).isoformat(),
        }
        made = await apr.post("/api/v1/delegations", json=window, headers=boss_h)
        assert made.status_code == 201, made.text

        async def plt_view() -> int:
            return (await act.get(report, headers=plt_h)).status_code

        await eventually(plt_view, lambda status: status == 200)
        gone = await apr.delete(f"/api/v1/delegations/{made.json()['id']}", headers=boss_h)
        assert gone.status_code == 200, gone.text
        await eventually(plt_view, lambda status: status == 403)
