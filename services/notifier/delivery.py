"""Putting messages in the inbox and sending them on the configured channel.

The in-app inbox (SQL) always gets the message, in the same transaction that decided it.
The configured channel (email/WhatsApp/Telegram/SMS) is sent afterwards by the dispatcher,
outside any transaction, through a `Sender` (services/notifier/channels.py):

1. claim (one transaction): up to a batch of due messages become "sending" under our claim
   token, and a delivery row "sending" with the message's idempotency key is written for each
   BEFORE anything leaves; preferences, quiet hours, an open circuit breaker and the hourly
   limit are decided here;
2. send, concurrently, at each channel's configured rate;
3. record (one transaction): sent, or failed with exponential backoff and jitter, or dead
   after N attempts; only the holder of the claim token may record (fencing).

A dispatcher that dies between 1 and 3 leaves "sending": after `stale_claim_s` any replica
re-claims it and sends again with the same key, which the receiver drops if it already has it.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiolimiter import AsyncLimiter
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import Engine, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from services.kernel.calendar import WIB
from services.notifier import domain
from services.notifier.cache import DayCache
from services.notifier.channels import Breaker, LogSender, Outgoing, Sender, SendError
from services.notifier.config import NotifierSettings
from services.notifier.domain import Notice, rate_limited
from services.notifier.models import ChannelConfig, Delivery, Message
from services.shared.logs import get_logger

__all__ = [
    "CHANNELS",
    "INBOX",
    "Dispatcher",
    "LogSender",
    "Sender",
    "add_message",
    "add_messages",
]

log = get_logger("sikerja.notifier.delivery")

CHANNELS = ("email", "whatsapp", "telegram", "sms")
INBOX = "inbox"

SENT = Counter("sikerja_notifier_sent", "Messages handed to a channel", ["kind", "channel"])
FAILURES = Counter(
    "sikerja_notifier_failures", "Channel sends that failed", ["channel", "retryable"]
)
DEAD_LETTERS = Counter(
    "sikerja_notifier_dead_letters", "Messages given up on a channel", ["kind", "channel"]
)
LATENCY = Histogram(
    "sikerja_notifier_delivery_latency_seconds",
    "From the cause (the event, or the job's run) to the channel's acceptance",
    ["kind", "channel"],
    buckets=(1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600),
)
BREAKER_OPEN = Gauge(
    "sikerja_notifier_breaker_open", "1 while a channel's breaker is open", ["channel"]
)


def add_message(
    session: Session, notice: Notice, now: datetime, cause_event_id: str | None = None
) -> Message | None:
    """Store `notice` in the inbox (and log it); None when its dedup key is already taken.

    A savepoint keeps the surrounding transaction (a handler's inbox claim, a job's batch)
    alive when the unique key refuses a duplicate.
    """
    if session.execute(
        select(col(Message.id)).where(Message.dedup_key == notice.dedup_key)
    ).first():
        return None
    has_channel = session.get(ChannelConfig, notice.nip) is not None
    message = Message(
        nip=notice.nip,
        kind=notice.kind.value,
        ref_date=notice.ref_date,
        title=notice.title,
        body=notice.body,
        dedup_key=notice.dedup_key,
        cause_event_id=cause_event_id,
        created_at=now,
        channel_state="pending" if has_channel else "none",
    )
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        return None  # another replica stored it first: the unique key is the truth
    assert message.id is not None
    session.add(
        Delivery(
            message_id=message.id,
            nip=notice.nip,
            channel=INBOX,
            status="stored",
            attempted_at=now,
        )
    )
    return message


def add_messages(session: Session, notices: list[Notice], now: datetime) -> list[Message]:
    """`add_message` for a job's chunk: three queries and one flush instead of a few per
    notice. Keys already taken are left out; a key another replica stores at the same
    moment makes the chunk fall back to one savepoint per notice."""
    keys = [n.dedup_key for n in notices]
    taken = set(
        session.execute(select(col(Message.dedup_key)).where(col(Message.dedup_key).in_(keys)))
        .scalars()
        .all()
    )
    fresh = [n for n in notices if n.dedup_key not in taken]
    if not fresh:
        return []
    with_channel = set(
        session.execute(
            select(col(ChannelConfig.nip)).where(col(ChannelConfig.nip).in_({n.nip for n in fresh}))
        ).scalars()
    )
    messages = [
        Message(
            nip=n.nip,
            kind=n.kind.value,
            ref_date=n.ref_date,
            title=n.title,
            body=n.body,
            dedup_key=n.dedup_key,
            created_at=now,
            channel_state="pending" if n.nip in with_channel else "none",
        )
        for n in fresh
    ]
    try:
        with session.begin_nested():
            session.add_all(messages)
            session.flush()
    except IntegrityError:  # a replica raced us on some key: one at a time, skipping those
        return [m for n in fresh if (m := add_message(session, n, now)) is not None]
    session.add_all(
        Delivery(message_id=m.id or 0, nip=m.nip, channel=INBOX, status="stored", attempted_at=now)
        for m in messages
    )
    return messages


def hour_window(now: datetime) -> tuple[str, datetime]:
    """The rate limit's window: the current clock hour in WIB (key, start instant)."""
    local = now.astimezone(WIB).replace(minute=0, second=0, microsecond=0)
    return local.strftime("%Y%m%d%H"), local


@dataclass
class _Planned:
    """A message claimed for one send: its delivery row is already written ("sending")."""

    message_id: int
    delivery_id: int
    kind: str
    created_at: datetime
    failures: int
    out: Outgoing


@dataclass
class _Outcome:
    status: str  # sent, failed, deferred
    detail: str = ""
    retryable: bool = True


@dataclass
class Dispatcher:
    """Sends messages waiting for their configured channel (every replica runs one)."""

    engine: Engine
    cache: DayCache
    sender: Sender
    config: NotifierSettings
    clock: Callable[[], datetime]
    rng: random.Random = field(default_factory=random.Random)
    breakers: dict[str, Breaker] = field(default_factory=dict)
    limiters: dict[str, AsyncLimiter] = field(default_factory=dict)

    def breaker(self, channel: str) -> Breaker:
        if channel not in self.breakers:
            c = self.config
            self.breakers[channel] = Breaker(c.breaker_failures, c.breaker_cooldown_s)
        return self.breakers[channel]

    def limiter(self, channel: str) -> AsyncLimiter:
        if channel not in self.limiters:
            c = self.config
            rate = c.email_rate_per_s if channel == "email" else c.gateway_rate_per_s
            self.limiters[channel] = AsyncLimiter(max(rate, 0.001), 1.0)
        return self.limiters[channel]

    async def dispatch(self) -> int:
        """One pass: claim, send, record. Returns the sends attempted."""
        token = str(uuid.uuid4())
        planned = await self._claim(self.clock(), token)
        if not planned:
            return 0
        semaphore = asyncio.Semaphore(self.config.send_concurrency)
        outcomes = await asyncio.gather(*(self._send(p, semaphore) for p in planned))
        self._record(list(zip(planned, outcomes, strict=True)), token)
        return sum(1 for o in outcomes if o.status != "deferred")

    # -- 1. claim --------------------------------------------------------------------------------
    async def _claim(self, now: datetime, token: str) -> list[_Planned]:
        stale = now - timedelta(seconds=self.config.stale_claim_s)
        with Session(self.engine, expire_on_commit=False) as session:
            candidates = session.execute(
                select(col(Message.id), col(Message.channel_state), col(Message.claim_token))
                .where(
                    or_(
                        (col(Message.channel_state) == "pending")
                        & or_(
                            col(Message.next_attempt_at).is_(None),
                            col(Message.next_attempt_at) <= now,
                        ),
                        (col(Message.channel_state) == "sending")
                        & (col(Message.channel_claimed_at) < stale),
                    )
                )
                .order_by(col(Message.id))
                .limit(self.config.dispatch_batch)
            ).all()
            # one UPDATE for the fresh ones; one each for the stale claims (their token)
            fresh = [m for m, state, _ in candidates if state == "pending"]
            if fresh:
                session.execute(
                    update(Message)
                    .where(col(Message.id).in_(fresh), col(Message.channel_state) == "pending")
                    .values(channel_state="sending", channel_claimed_at=now, claim_token=token)
                )
            resumed: list[int] = []
            for message_id, state, old_token in candidates:
                if state != "sending":
                    continue
                same_claim = (
                    col(Message.claim_token).is_(None)
                    if old_token is None
                    else col(Message.claim_token) == old_token
                )
                result = session.execute(
                    update(Message)
                    .where(col(Message.id) == message_id, col(Message.channel_state) == state)
                    .where(same_claim)
                    .values(channel_state="sending", channel_claimed_at=now, claim_token=token)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    resumed.append(message_id)
            claimed = list(
                session.execute(
                    select(col(Message.id)).where(
                        col(Message.id).in_([c[0] for c in candidates]),
                        col(Message.claim_token) == token,
                    )
                ).scalars()
            )
            if not claimed:
                session.commit()
                return []
            if resumed:  # the sweep: a dispatcher died mid-send; its rows say so
                session.execute(
                    update(Delivery)
                    .where(col(Delivery.message_id).in_(resumed), col(Delivery.status) == "sending")
                    .values(status="interrupted", detail="pengirim berhenti; dikirim ulang")
                )
            messages = (
                session.execute(
                    select(Message).where(col(Message.id).in_(claimed)).order_by(col(Message.id))
                )
                .scalars()
                .all()
            )
            nips = {m.nip for m in messages}
            configs = {
                c.nip: c
                for c in session.execute(
                    select(ChannelConfig).where(col(ChannelConfig.nip).in_(nips))
                ).scalars()
            }
            planned: list[tuple[Message, Delivery, Outgoing]] = []
            for message in messages:
                assert message.id is not None
                config = configs.get(message.nip)
                step = await self._decide(session, message, config, now, message.id in resumed)
                if step is None:
                    continue
                planned.append(step)
            session.commit()
            return [
                _Planned(
                    message_id=m.id or 0,
                    delivery_id=d.id or 0,
                    kind=m.kind,
                    created_at=m.created_at,
                    failures=m.attempts,
                    out=out,
                )
                for m, d, out in planned
            ]

    async def _decide(
        self,
        session: Session,
        message: Message,
        config: ChannelConfig | None,
        now: datetime,
        resumed: bool,
    ) -> tuple[Message, Delivery, Outgoing] | None:
        """What happens to one claimed message; the delivery row when it is to be sent."""

        def release(state: str, next_at: datetime | None = None) -> None:
            message.channel_state, message.claim_token = state, None
            message.next_attempt_at = next_at
            session.add(message)

        def row(status: str, detail: str = "", key: str | None = None) -> Delivery:
            assert config is not None and message.id is not None
            delivery = Delivery(
                message_id=message.id,
                nip=message.nip,
                channel=config.channel,
                address=config.address,
                status=status,
                detail=detail,
                idempotency_key=key,
                attempted_at=now,
            )
            session.add(delivery)
            return delivery

        if config is None:  # the channel was removed meanwhile: the inbox has it
            release("done")
            return None
        if not domain.wants(config.kinds, message.kind):
            release("skipped")
            row("skipped", "tidak dipilih dalam preferensi; ada di kotak masuk")
            return None
        quiet = domain.quiet_until(now, config.quiet_start, config.quiet_end)
        if quiet is not None:
            release("pending", quiet)
            return None
        breaker = self.breaker(config.channel)
        if not breaker.allow(now):
            release("pending", breaker.retry_at())
            return None
        if message.attempts == 0 and not resumed:  # the hourly limit counts messages, once
            hour, hour_start = hour_window(now)
            count = await self.cache.count_attempt(message.nip, hour)
            if count is None:  # Redis down: count this hour's messages in the delivery log
                count = _messages_in_sql(session, message.nip, hour_start) + 1
            if rate_limited(count, self.config.rate_limit_per_hour):
                release("done")
                limit = self.config.rate_limit_per_hour
                row("rate_limited", f"lebih dari {limit} pesan per jam; ada di kotak masuk")
                return None
        key = domain.idempotency_key(message.dedup_key)
        delivery = row("sending", key=key)  # its id comes with the claim's commit
        link = domain.portal_link(self.config.portal_base_url, message.kind, message.ref_date)
        out = Outgoing(
            idempotency_key=key,
            channel=config.channel,
            address=config.address,
            nip=message.nip,
            kind=message.kind,
            title=message.title,
            text=domain.channel_text(message.title, message.body, link),
            link=link,
        )
        return message, delivery, out

    # -- 2. send ---------------------------------------------------------------------------------
    async def _send(self, planned: _Planned, semaphore: asyncio.Semaphore) -> _Outcome:
        channel = planned.out.channel
        breaker = self.breaker(channel)
        async with semaphore:
            if breaker.state == "open":  # opened meanwhile by another send of this batch
                return _Outcome("deferred", "saluran sedang terganggu; dicoba lagi nanti")
            async with self.limiter(channel):
                try:
                    answer = await self.sender.send(planned.out)
                except SendError as exc:
                    outcome = _Outcome("failed", exc.detail[:500], exc.retryable)
                except Exception as exc:  # noqa: BLE001 - a sender bug is a failed attempt
                    outcome = _Outcome("failed", repr(exc)[:500], True)
                else:
                    outcome = _Outcome("sent", str(answer)[:500])
        if outcome.status == "sent" or outcome.retryable:
            breaker.record(outcome.status == "sent", self.clock())
            BREAKER_OPEN.labels(channel).set(1 if breaker.state == "open" else 0)
        if outcome.status == "failed":
            FAILURES.labels(channel, str(outcome.retryable).lower()).inc()
        return outcome

    # -- 3. record -------------------------------------------------------------------------------
    def _record(self, results: list[tuple[_Planned, _Outcome]], token: str) -> None:
        now = self.clock()
        c = self.config
        with Session(self.engine) as session:
            for planned, outcome in results:
                channel = planned.out.channel
                values: dict[str, object] = {"claim_token": None}
                status, detail = outcome.status, outcome.detail
                if outcome.status == "sent":
                    values["channel_state"] = "sent"
                    SENT.labels(planned.kind, channel).inc()
                    latency = (now - planned.created_at).total_seconds()
                    LATENCY.labels(planned.kind, channel).observe(max(latency, 0.0))
                elif outcome.status == "deferred":
                    retry = self.breaker(channel).retry_at()
                    values.update(channel_state="pending", next_attempt_at=retry)
                else:
                    failures = planned.failures + 1
                    values["attempts"] = failures
                    if not outcome.retryable or failures >= c.max_send_attempts:
                        values["channel_state"] = status = "dead"
                        DEAD_LETTERS.labels(planned.kind, channel).inc()
                        log.warning(
                            "message dead-lettered", message_id=planned.message_id, error=detail
                        )
                    else:
                        wait = domain.backoff_s(
                            failures, c.retry_base_s, c.retry_cap_s, self.rng.random()
                        )
                        values.update(
                            channel_state="pending",
                            next_attempt_at=now + timedelta(seconds=wait),
                        )
                held = session.execute(
                    update(Message)
                    .where(col(Message.id) == planned.message_id, col(Message.claim_token) == token)
                    .values(**values)
                )
                if held.rowcount != 1:  # type: ignore[attr-defined]
                    # another replica took the message over (we were too slow): it decides
                    detail = f"{detail} (klaim sudah diambil alih)".strip()
                session.execute(
                    update(Delivery)
                    .where(col(Delivery.id) == planned.delivery_id)
                    .values(status=status, detail=detail)
                )
            session.commit()


def _messages_in_sql(session: Session, nip: str, since: datetime) -> int:
    """Messages handed to this NIP's channel since `since` (first attempts only)."""
    return int(
        session.execute(
            select(func.count(func.distinct(Delivery.message_id))).where(
                Delivery.nip == nip,
                Delivery.channel != INBOX,
                Delivery.attempted_at >= since,
                col(Delivery.status).in_(("sending", "sent", "failed", "dead", "interrupted")),
            )
        ).scalar_one()
    )
