"""The notifier on real channels: a real SMTP server (aiosmtpd) and a real gateway webhook
(uvicorn) on loopback count what arrives. Events go through TestKafkaBroker, the clock is
injected (nobody waits for 15:00 or for ten minutes of outage), Redis is down (SQL path)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from faststream.kafka import TestKafkaBroker
from sqlmodel import Session, select

from contracts.events import (
    ActivityReported,
    EmployeeUpserted,
    Event,
    FingerprintRecorded,
    ReportRejected,
)
from services.notifier import delivery
from services.notifier.app import create
from services.notifier.cache import DayCache
from services.notifier.config import NotifierSettings
from services.notifier.domain import WIB, Kind, Notice, warning_key
from services.notifier.models import Delivery, JobLease, Message
from services.shared.lease import Fenced, acquire
from services.shared.settings import Settings
from tests import factories
from tests.receivers import SmtpReceiver, WebhookReceiver
from tests.support import who

MON = date(2026, 10, 5)  # a Monday, a working day
DEAD_REDIS = "redis://127.0.0.1:1/0"
SECRET = "rahasia-gateway"
PORTAL = "https://sikerja.bekasikota.go.id"


def at_wib(hh: int, mm: int = 0, day: date = MON) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=WIB)


class Harness:
    """One notifier replica with real senders and a clock the test moves."""

    def __init__(self, settings: Settings, config: NotifierSettings) -> None:
        self.now = at_wib(8)
        self.app = create(
            settings,
            clock=lambda: self.now,
            config=config,
            cache=DayCache(DEAD_REDIS, timeout_s=0.2),
            scheduler=False,
        )
        self.notifier = self.app.state.notifier
        self.kit = self.notifier.kit
        self.kit.migrate()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://svc",
            headers=who(None, "system"),  # as a job calls; a role under test sends its own
        )
        self.br: Any = None

    async def send(self, *events: Event) -> None:
        for event in events:
            await self.br.publish(event.to_bytes(), event.TOPIC.value, key=event.key)

    async def channel(self, nip: str, channel: str, address: str, **prefs: Any) -> None:
        res = await self.client.put(
            f"/api/v1/channels/{nip}",
            json={"channel": channel, "address": address, **prefs},
            headers=who(nip, "asn"),
        )
        assert res.status_code == 200, res.text

    async def drain(self) -> int:
        """Dispatch until a pass sends nothing (what the dispatcher loop does)."""
        total = 0
        while sent := await self.notifier.dispatch():
            total += sent
        return total

    async def inbox(self, nip: str) -> list[dict[str, Any]]:
        res = await self.client.get(f"/api/v1/inbox/{nip}")
        assert res.status_code == 200, res.text
        return list(res.json()["messages"])

    def states(self) -> dict[str, int]:
        with Session(self.kit.engine) as s:
            rows = s.exec(select(Message.channel_state)).all()
        out: dict[str, int] = {}
        for state in rows:
            out[state] = out.get(state, 0) + 1
        return out


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
async def gateway() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver(SECRET) as receiver:
        yield receiver


def config_for(smtp: SmtpReceiver, gateway: WebhookReceiver, **extra: Any) -> NotifierSettings:
    return NotifierSettings(
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,  # aiosmtpd on loopback has no certificate
        gateway_url=gateway.url,
        gateway_secret=SECRET,
        portal_base_url=PORTAL,
        **extra,
    )


@pytest.fixture
async def h(
    memory_settings: Settings, smtp: SmtpReceiver, gateway: WebhookReceiver
) -> AsyncIterator[Harness]:
    harness = Harness(memory_settings, config_for(smtp, gateway))
    async with TestKafkaBroker(harness.kit.broker) as br:
        harness.br = br
        yield harness
    await harness.client.aclose()


def scan(nip: str, at: datetime) -> FingerprintRecorded:
    return FingerprintRecorded(
        occurred_at=at,
        producer="attendance",
        nip=nip,
        scan_id=uuid.uuid4().hex,
        scanned_at=at,
        work_date=at.astimezone(WIB).date(),
    )


def report(nip: str, at: datetime) -> ActivityReported:
    return ActivityReported(
        occurred_at=at,
        producer="activity",
        nip=nip,
        report_id=uuid.uuid4().hex,
        work_date=at.astimezone(WIB).date(),
        description="Menyusun laporan",
    )


async def test_scan_at_eight_and_no_report_one_warning_on_inbox_and_channel(
    h: Harness, smtp: SmtpReceiver, gateway: WebhookReceiver
) -> None:
    by_mail, by_wa, reported = factories.nip(), factories.nip(), factories.nip()
    await h.channel(by_mail, "email", f"{by_mail}@example.go.id")
    await h.channel(by_wa, "whatsapp", "+6281200000001")
    await h.channel(reported, "whatsapp", "+6281200000002")
    await h.send(scan(by_mail, at_wib(8)), scan(by_wa, at_wib(8)), scan(reported, at_wib(8)))
    await h.send(report(reported, at_wib(14)))  # filed at 14:00: no warning

    for minute in (0, 1, 30):  # the 15:00 tick, the next minute, a second run later on
        h.now = at_wib(15, minute)
        await h.notifier.tick(h.now)
        await h.drain()

    assert [m["kind"] for m in await h.inbox(by_mail)] == ["lkh_belum_diisi"]
    assert [m["kind"] for m in await h.inbox(by_wa)] == ["lkh_belum_diisi"]
    assert await h.inbox(reported) == []
    assert len(smtp.arrivals) == 1 and smtp.per_address() == {f"{by_mail}@example.go.id": 1}
    assert len(gateway.arrivals) == 1 and gateway.per_address() == {"+6281200000001": 1}
    assert gateway.bad_signatures == 0

    mail = smtp.arrivals[0]
    assert mail.get_content_type() == "text/plain"
    text = mail.get_content()
    assert "belum mengisi laporan kegiatan" in text
    assert f"{PORTAL}/laporan/baru?tanggal={MON.isoformat()}" in text
    wa = next(iter(gateway.by_key.values()))
    assert wa["channel"] == "whatsapp" and "Silakan isi laporan kegiatan" in wa["text"]
    # the delivery log: written "sending" before, "sent" after, with the key the channel got
    log = (await h.client.get("/api/v1/deliveries", params={"nip": by_wa})).json()
    sent = [d for d in log if d["channel"] == "whatsapp"]
    assert [d["status"] for d in sent] == ["sent"]
    assert sent[0]["idempotency_key"] == wa["idempotency_key"]
    assert sent[0]["detail"].startswith("200 ")  # the gateway's answer
    assert str(mail["Message-ID"]).startswith("<") and "@" in str(mail["Message-ID"])


async def test_redelivered_rejection_is_one_notice(h: Harness, smtp: SmtpReceiver) -> None:
    a = factories.nip()
    await h.channel(a, "email", "a@example.go.id")
    rejected = ReportRejected(
        occurred_at=at_wib(10),
        producer="approval",
        nip=a,
        work_date=MON,
        report_id="r1",
        decided_by=factories.nip(),
        reason="Uraian terlalu singkat.",
    )
    await h.send(rejected)
    await h.drain()
    await h.send(rejected)  # the broker redelivers it
    await h.drain()
    assert [m["kind"] for m in await h.inbox(a)] == ["laporan_ditolak"]
    assert len(smtp.arrivals) == 1
    assert "Uraian terlalu singkat." in smtp.arrivals[0].get_content()


async def test_gateway_down_ten_minutes_all_delivered_after_none_twice(
    h: Harness, smtp: SmtpReceiver, gateway: WebhookReceiver
) -> None:
    wa = [factories.nip() for _ in range(20)]
    mail = factories.nip()
    for i, nip in enumerate(wa):
        await h.channel(nip, "whatsapp", f"+62812000{i:05d}")
    await h.channel(mail, "email", "m@example.go.id")
    await h.send(*(scan(n, at_wib(8)) for n in [*wa, mail]))

    gateway.down = True
    start = at_wib(15)
    h.now = start
    await h.notifier.tick(h.now)
    while h.now < start + timedelta(minutes=10):
        await h.drain()
        h.now += timedelta(seconds=15)
    # the dead gateway did not stall e-mail: the breaker is per channel
    assert smtp.per_address() == {"m@example.go.id": 1}
    assert gateway.refused > 0 and gateway.arrivals == []
    assert h.notifier.dispatcher.breaker("whatsapp").state != "closed"

    gateway.down = False
    while h.states().get("pending", 0) and h.now < start + timedelta(hours=2):
        await h.drain()
        h.now += timedelta(seconds=15)
    assert h.states() == {"sent": 21}
    assert sorted(gateway.per_address().values()) == [1] * 20
    assert len(gateway.arrivals) == 20  # none twice, not even a re-send of one key
    assert len(smtp.arrivals) == 1
    dead = (await h.client.get("/api/v1/dead-letters")).json()
    assert dead == []


async def test_dead_letter_after_n_attempts_visible_and_counted(
    memory_settings: Settings, smtp: SmtpReceiver, gateway: WebhookReceiver
) -> None:
    h = Harness(
        memory_settings, config_for(smtp, gateway, max_send_attempts=3, breaker_failures=100)
    )
    a = factories.nip()
    async with TestKafkaBroker(h.kit.broker) as br:
        h.br = br
        await h.channel(a, "sms", "+6281300000000")
        await h.send(scan(a, at_wib(8)))
        before = _dead_count("lkh_belum_diisi", "sms")
        gateway.down = True
        h.now = at_wib(15)
        await h.notifier.tick(h.now)
        for _ in range(40):  # backoff: 30 s, 60 s (halved at most by the jitter)
            await h.drain()
            h.now += timedelta(seconds=15)
        assert h.states() == {"dead": 1}
        assert _dead_count("lkh_belum_diisi", "sms") == before + 1
        (dead,) = (await h.client.get("/api/v1/dead-letters")).json()
        assert dead["nip"] == a and dead["attempts"] == 3
        assert dead["last_answer"].startswith("503")
        log = (await h.client.get("/api/v1/deliveries", params={"nip": a})).json()
        assert sorted(d["status"] for d in log if d["channel"] == "sms") == [
            "dead",
            "failed",
            "failed",
        ]
        # the inbox has it all along; an operator sends it again once the gateway is back
        assert len(await h.inbox(a)) == 1
        gateway.down = False
        retry = await h.client.post(f"/api/v1/dead-letters/{dead['id']}/retry")
        assert retry.status_code == 200, retry.text
        await h.drain()
        assert h.states() == {"sent": 1} and gateway.per_address() == {"+6281300000000": 1}
        asn = await h.client.get("/api/v1/dead-letters", headers=who(a, "asn"))
        assert asn.status_code == 403
    await h.client.aclose()


async def test_a_refusal_for_good_is_dead_at_once(h: Harness, gateway: WebhookReceiver) -> None:
    a = factories.nip()
    await h.channel(a, "whatsapp", "+6281400000000")
    await h.send(scan(a, at_wib(8)))
    gateway.answer_status = 400  # "nomor tidak terdaftar": trying again cannot help
    h.now = at_wib(15)
    await h.notifier.tick(h.now)
    await h.drain()
    assert h.states() == {"dead": 1} and gateway.refused == 1


def _dead_count(kind: str, channel: str) -> float:
    return delivery.DEAD_LETTERS.labels(kind, channel)._value.get()


async def test_crash_between_send_and_record_resends_the_same_key(
    h: Harness, gateway: WebhookReceiver
) -> None:
    a = factories.nip()
    await h.channel(a, "whatsapp", "+6281500000000")
    await h.send(scan(a, at_wib(8)))
    h.now = at_wib(15)
    await h.notifier.tick(h.now)
    real_record = h.notifier.dispatcher._record
    h.notifier.dispatcher._record = lambda *args: None  # the process dies after the send
    assert await h.notifier.dispatch() == 1
    h.notifier.dispatcher._record = real_record
    assert h.states() == {"sending": 1}
    h.now += timedelta(minutes=1)
    assert await h.drain() == 0  # a fresh claim is not stolen
    h.now += timedelta(minutes=5)  # the sweep: a claim older than stale_claim_s
    assert await h.drain() == 1
    assert h.states() == {"sent": 1}
    # the gateway got the same key twice and keeps one message
    assert len(gateway.arrivals) == 2 and len(set(gateway.arrivals)) == 1
    assert gateway.per_address() == {"+6281500000000": 1}
    log = (await h.client.get("/api/v1/deliveries", params={"nip": a})).json()
    statuses = [d["status"] for d in log if d["channel"] == "whatsapp"]
    assert sorted(statuses) == ["interrupted", "sent"]


async def test_a_replica_that_wakes_after_losing_its_lease_writes_nothing(
    memory_settings: Settings, smtp: SmtpReceiver, gateway: WebhookReceiver
) -> None:
    config = config_for(smtp, gateway, job_lease_s=60)
    first = Harness(memory_settings, config)
    second = Harness(memory_settings, config)  # a second replica on the same store
    a = factories.nip()
    async with TestKafkaBroker(first.kit.broker) as br:
        first.br = br
        await first.send(scan(a, at_wib(8)))
    first.now = at_wib(15)
    stale = acquire(first.kit.engine, JobLease, "warnings", first.notifier.owner, first.now, 60)
    assert stale is not None
    # `first` pauses past its lease; `second` takes the job over at 15:02
    second.now = at_wib(15, 2)
    taking = acquire(second.kit.engine, JobLease, "warnings", second.notifier.owner, second.now, 60)
    assert taking is not None and taking.token > stale.token
    # `first` wakes with its old token: its batch is refused before it writes a row
    first.now = at_wib(15, 3)
    with pytest.raises(Fenced):
        await first.notifier.run_warnings(first.now, stale)
    with Session(first.kit.engine) as s:
        assert s.exec(select(Message)).all() == []
    done = await second.notifier.run_warnings(second.now, taking)
    assert done["created"] == 1
    for harness in (first, second):
        await harness.client.aclose()


async def test_preferences_kinds_and_quiet_hours(h: Harness, smtp: SmtpReceiver) -> None:
    quiet, picky = factories.nip(), factories.nip()
    await h.channel(quiet, "email", "q@example.go.id", quiet_start="14:00", quiet_end="16:30")
    await h.channel(picky, "email", "p@example.go.id", kinds=["laporan_ditolak"])
    await h.send(scan(quiet, at_wib(8)), scan(picky, at_wib(8)))
    h.now = at_wib(15)
    await h.notifier.tick(h.now)
    await h.drain()
    assert smtp.arrivals == []  # one is in quiet hours, the other does not want warnings
    assert len(await h.inbox(quiet)) == 1 and len(await h.inbox(picky)) == 1  # inbox: all
    h.now = at_wib(16, 30)
    await h.drain()
    assert smtp.per_address() == {"q@example.go.id": 1}
    assert h.states() == {"sent": 1, "skipped": 1}
    half = await h.client.put(
        f"/api/v1/channels/{quiet}",
        json={"channel": "email", "address": "q@example.go.id", "quiet_start": "21:00"},
    )
    assert half.status_code == 422


async def test_the_opd_operator_sets_the_channel_of_their_own_people(h: Harness) -> None:
    operator, staff, elsewhere = factories.nip(), factories.nip(), factories.nip()

    def employee(nip: str, opd: str) -> EmployeeUpserted:
        return EmployeeUpserted(
            occurred_at=datetime(2026, 10, 1, tzinfo=UTC),
            producer="siasn",
            nip=nip,
            nama="N",
            opd=opd,
            kelas_jabatan=7,
            atasan_nip=None,
            tpp_pagu=1,
        )

    await h.send(employee(operator, "DINKES"), employee(staff, "DINKES"))
    await h.send(employee(elsewhere, "DISDIK"))
    as_operator = who(operator, "operator", "DINKES")
    body = {"channel": "sms", "address": "+6281600000000"}
    ok = await h.client.put(f"/api/v1/channels/{staff}", json=body, headers=as_operator)
    assert ok.status_code == 200 and ok.json()["set_by"] == operator
    other = await h.client.put(f"/api/v1/channels/{elsewhere}", json=body, headers=as_operator)
    assert other.status_code == 403
    assert other.json()["detail"].startswith("Operator hanya dapat")
    asn = who(factories.nip(), "asn")
    assert (
        await h.client.put(f"/api/v1/channels/{staff}", json=body, headers=asn)
    ).status_code == 403
    own = who(staff, "asn")
    mine = {**body, "quiet_start": "21:00", "quiet_end": "06:00"}
    got = await h.client.put(f"/api/v1/channels/{staff}", json=mine, headers=own)
    assert got.status_code == 200 and got.json()["quiet_start"] == time(21).isoformat()


async def test_a_chunk_racing_another_replica_stores_each_key_once(h: Harness) -> None:
    a, b = factories.nip(), factories.nip()
    notices = [
        Notice(a, Kind.LKH_MISSING, MON, "t", "b", warning_key(Kind.LKH_MISSING, a, MON)),
        Notice(b, Kind.LKH_MISSING, MON, "t", "b", warning_key(Kind.LKH_MISSING, b, MON)),
    ]
    # the second copy of `a` stands for the row another replica inserts meanwhile
    with h.kit.uow() as uow:
        stored = delivery.add_messages(uow.session, [*notices, notices[0]], at_wib(15))
        uow.commit()
    assert sorted(m.nip for m in stored) == sorted([a, b])
    with Session(h.kit.engine) as s:
        assert sorted(m.nip for m in s.exec(select(Message)).all()) == sorted([a, b])
        inbox_rows = s.exec(select(Delivery).where(Delivery.channel == "inbox")).all()
        assert len(inbox_rows) == 2
