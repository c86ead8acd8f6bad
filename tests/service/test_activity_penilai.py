"""The penilai BKPSDM named in approval for an employee without atasan (a Kepala OPD) reads
that employee's reports and evidence of the dates the penilai covers, as a Plt reads those
of the atasan they stand in for (approval's PenilaiAssigned / PenilaiRemoved, projected).

October 2026: Monday 5, Tuesday 6, Wednesday 7. The penilai covers Tuesday onwards."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from contracts.events import PenilaiAssigned, PenilaiRemoved
from tests import factories
from tests.service.test_activity_reports import MON, PNG, TUE, WED, env, report_body, scan
from tests.support import who, wib

__all__ = ["env"]  # the fixture, shared


async def test_the_penilai_reads_the_heads_reports_of_covered_dates(env: dict[str, Any]) -> None:
    kit, client, clock = env["kit"], env["client"], env["clock"]
    head, sekda = factories.nip(), factories.nip()
    await kit.handle(factories.employee(head, None, at=wib(MON, 6), opd="DINAS").to_bytes())
    ids: dict[date, str] = {}
    evidence: dict[date, str] = {}
    for day in (MON, TUE, WED):
        clock.moment = wib(day, 10)
        await kit.handle(scan(head, day).to_bytes())
        r = await client.post("/api/v1/reports", json=report_body(day), headers=who(head, "asn"))
        assert r.status_code == 201, r.text
        ids[day] = r.json()["id"]
        ev = await client.post(
            f"/api/v1/reports/{ids[day]}/evidence",
            files={"file": ("a.png", PNG + uuid.uuid4().bytes, "image/png")},
            headers=who(head, "asn"),
        )
        assert ev.status_code == 201, ev.text
        evidence[day] = ev.json()["id"]
    penilai_id = str(uuid.uuid4())
    assigned = PenilaiAssigned(
        occurred_at=wib(WED, 9),
        producer="approval",
        nip=head,
        penilai_id=penilai_id,
        penilai_nip=sekda,
        first=TUE,
        last=None,
    )
    assert await kit.handle(assigned.to_bytes()) == "handled"
    as_sekda = who(sekda, "atasan")

    async def status(path: str) -> int:
        return (await client.get(path, headers=as_sekda)).status_code

    # Monday is before the penilai's dates; Tuesday and Wednesday are theirs
    assert [await status(f"/api/v1/reports/{ids[d]}") for d in (MON, TUE, WED)] == [403, 200, 200]
    got = [await status(f"/api/v1/evidence/{evidence[d]}") for d in (MON, TUE, WED)]
    assert got == [403, 200, 200]
    listed = await client.get(f"/api/v1/employees/{head}/reports?period=2026-10", headers=as_sekda)
    assert listed.status_code == 200, listed.text
    assert sorted(r["id"] for r in listed.json()) == sorted([ids[TUE], ids[WED]])
    # another official is no penilai of the head
    other = who(factories.nip(), "atasan")
    assert (await client.get(f"/api/v1/reports/{ids[TUE]}", headers=other)).status_code == 403

    removed = PenilaiRemoved(
        occurred_at=wib(WED, 11),
        producer="approval",
        nip=head,
        penilai_id=penilai_id,
        penilai_nip=sekda,
    )
    assert await kit.handle(removed.to_bytes()) == "handled"
    assert [await status(f"/api/v1/reports/{ids[d]}") for d in (MON, TUE, WED)] == [403, 403, 403]
    # the same assignment redelivered after its removal stays removed
    again = assigned.model_copy(update={"event_id": uuid.uuid4()})
    assert await kit.handle(again.to_bytes()) == "handled"
    assert await status(f"/api/v1/reports/{ids[WED]}") == 403
