"""The 09:00 reminder for the reports of an employee without atasan (a Kepala OPD) goes to
the penilai BKPSDM named in approval (PenilaiAssigned / PenilaiRemoved, projected here) for
the report's date; with no penilai nobody is reminded (BKPSDM sees them on its list)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
from faststream.kafka import TestKafkaBroker

from contracts.events import PenilaiAssigned, PenilaiRemoved
from services.shared.settings import Settings
from tests import factories
from tests.service.test_notifier_handlers import NOW, Harness, at_wib, filed


@pytest.fixture
async def h(memory_settings: Settings) -> AsyncIterator[Harness]:
    harness = Harness(memory_settings)
    async with TestKafkaBroker(harness.kit.broker) as br:
        harness.br = br
        yield harness
    await harness.client.aclose()
    await harness.notifier.cache.close()


async def test_the_reminder_of_a_heads_reports_goes_to_the_penilai(h: Harness) -> None:
    head, sekda, later = factories.nip(), factories.nip(), factories.nip()
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await h.send(
        factories.employee(head, None, at=NOW),
        # the Sekda decides the head's reports up to the 15th, another official from the 16th
        PenilaiAssigned(occurred_at=NOW, producer="approval", nip=head, penilai_id=first,
                        penilai_nip=sekda, last=date(2026, 10, 15)),
        PenilaiAssigned(occurred_at=NOW, producer="approval", nip=head, penilai_id=second,
                        penilai_nip=later, first=date(2026, 10, 16)),
    )  # fmt: skip
    # filed on Fri 16th; on Tue 20th they have waited two working days (19, 20)
    filed_at = at_wib(date(2026, 10, 16), 10)
    await h.send(
        filed(head, "r15", date(2026, 10, 15), filed_at),
        filed(head, "r16", date(2026, 10, 16), filed_at),
    )
    res = await h.client.post(
        "/api/v1/jobs/reminders/run", params={"at": at_wib(date(2026, 10, 20), 9).isoformat()}
    )
    assert res.json()["created"] == 2
    for penilai in (sekda, later):
        (msg,) = (await h.inbox(penilai))["messages"]
        assert "Ada 1 laporan" in msg["body"]

    # removed: the next day nobody is reminded of the 16th's report
    await h.send(
        PenilaiRemoved(occurred_at=NOW, producer="approval", nip=head, penilai_id=second,
                       penilai_nip=later),
    )  # fmt: skip
    res = await h.client.post(
        "/api/v1/jobs/reminders/run", params={"at": at_wib(date(2026, 10, 21), 9).isoformat()}
    )
    assert res.json()["created"] == 1
    assert len((await h.inbox(later))["messages"]) == 1  # only yesterday's
    assert len((await h.inbox(sekda))["messages"]) == 2
