"""Approval announces the penilai it keeps (PenilaiAssigned / PenilaiRemoved on its topic,
keyed by the employee's NIP) so that activity lets an official penilai read the reports they
decide. BKPSDM as penilai is not announced: BKPSDM reads the whole city anyway."""

from __future__ import annotations

from datetime import date
from typing import Any

from contracts.events import PenilaiAssigned, PenilaiRemoved
from tests import factories
from tests.factories import employee
from tests.service.test_approval_periods import env, publish, set_penilai
from tests.support import emitted, who

__all__ = ["env"]  # the fixture, shared


async def test_an_official_penilai_is_announced_and_its_removal_too(env: dict[str, Any]) -> None:
    kit, client = env["kit"], env["client"]
    head, other_head, sekda, officer = (factories.nip() for _ in range(4))
    await publish(kit, employee(head, None), employee(other_head, None))
    made = await set_penilai(client, officer, head, sekda, mulai="2026-10-01", sampai="2026-12-31")
    assert made.status_code == 201, made.text
    by_bkpsdm = await set_penilai(client, officer, other_head, "BKPSDM", nama="", jabatan="")
    assert by_bkpsdm.status_code == 201, by_bkpsdm.text
    (event,) = emitted(kit)
    assert isinstance(event, PenilaiAssigned)
    assert (event.nip, event.penilai_nip, event.penilai_id) == (head, sekda, made.json()["id"])
    assert (event.first, event.last) == (date(2026, 10, 1), date(2026, 12, 31))

    for _ in range(2):  # removing twice announces once
        gone = await client.delete(
            f"/api/v1/penilai/{made.json()['id']}", headers=who(officer, "bkpsdm")
        )
        assert gone.status_code == 200, gone.text
    await client.delete(f"/api/v1/penilai/{by_bkpsdm.json()['id']}", headers=who(officer, "bkpsdm"))
    removed = emitted(kit)[1:]
    assert len(removed) == 1 and isinstance(removed[0], PenilaiRemoved)
    assert (removed[0].nip, removed[0].penilai_nip, removed[0].penilai_id) == (
        head,
        sekda,
        made.json()["id"],
    )
