"""Putting messages in the inbox and sending them on the configured channel.

The in-app inbox (SQL) always gets the message, in the same transaction that decided it.
The configured channel (email/WhatsApp/Telegram/SMS) is sent afterwards by the dispatcher,
outside any transaction, through a pluggable `Sender`; the delivery log keeps every attempt.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from services.kernel.calendar import WIB
from services.notifier.cache import DayCache
from services.notifier.domain import Notice, rate_limited
from services.notifier.models import ChannelConfig, Delivery, Message
from services.shared.logs import get_logger

log = get_logger("sikerja.notifier.delivery")

CHANNELS = ("email", "whatsapp", "telegram", "sms")
INBOX = "inbox"
STALE_CLAIM = timedelta(minutes=5)  # a dispatcher that died mid-send: pick the message again


class Sender(Protocol):
    """A channel to the outside world. Raises on failure (the attempt is logged as failed)."""

    async def send(self, channel: str, address: str, title: str, body: str) -> None: ...


class LogSender:
    """Writes what would be sent to the log: no network here."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, str]] = []

    async def send(self, channel: str, address: str, title: str, body: str) -> None:
        self.sent.append((channel, address, title, body))
        log.info("message sent (log only)", channel=channel, address=address, title=title)


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


def hour_window(now: datetime) -> tuple[str, datetime]:
    """The rate limit's window: the current clock hour in WIB (key, start instant)."""
    local = now.astimezone(WIB).replace(minute=0, second=0, microsecond=0)
    return local.strftime("%Y%m%d%H"), local


def _claim_pending(session: Session, now: datetime, batch: int) -> list[int]:
    """Mark up to `batch` messages as being sent by us; a conditional UPDATE per row keeps
    two replicas from sending the same message."""
    candidates = session.execute(
        select(col(Message.id), col(Message.channel_state))
        .where(
            or_(
                Message.channel_state == "pending",
                (col(Message.channel_state) == "sending")
                & (col(Message.channel_claimed_at) < now - STALE_CLAIM),
            )
        )
        .order_by(col(Message.id))
        .limit(batch)
    ).all()
    claimed = []
    for message_id, state in candidates:
        result = session.execute(
            update(Message)
            .where(Message.id == message_id, Message.channel_state == state)
            .values(channel_state="sending", channel_claimed_at=now)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(message_id)
    session.commit()
    return claimed


def _attempts_in_sql(session: Session, nip: str, since: datetime) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.nip == nip,
                Delivery.channel != INBOX,
                Delivery.attempted_at >= since,
            )
        ).scalar_one()
    )


async def dispatch_pending(
    engine: Engine,
    cache: DayCache,
    sender: Sender,
    now: datetime,
    *,
    limit_per_hour: int,
    max_attempts: int,
    batch: int = 100,
) -> int:
    """Send messages waiting for the configured channel; returns the attempts made."""
    with Session(engine, expire_on_commit=False) as session:
        ids = _claim_pending(session, now, batch)
    attempts = 0
    hour, hour_start = hour_window(now)
    for message_id in ids:
        with Session(engine, expire_on_commit=False) as session:
            message = session.get(Message, message_id)
            config = session.get(ChannelConfig, message.nip) if message else None
            if message is None:
                continue
            if config is None:  # the channel was removed meanwhile: the inbox has it
                message.channel_state = "done"
                session.add(message)
                session.commit()
                continue
            count = await cache.count_attempt(message.nip, hour)
            if count is None:  # Redis down: count this hour's attempts in the delivery log
                count = _attempts_in_sql(session, message.nip, hour_start) + 1
            status, detail = "sent", ""
            if rate_limited(count, limit_per_hour):
                status = "rate_limited"
                detail = (
                    f"lebih dari {limit_per_hour} pesan per jam; pesan tetap ada di kotak masuk"
                )
            else:
                try:
                    await sender.send(config.channel, config.address, message.title, message.body)
                except Exception as exc:  # noqa: BLE001
                    status, detail = "failed", repr(exc)[:500]
            session.add(
                Delivery(
                    message_id=message_id,
                    nip=message.nip,
                    channel=config.channel,
                    address=config.address,
                    status=status,
                    detail=detail,
                    attempted_at=now,
                )
            )
            session.flush()
            attempts += 1
            failures = 0
            if status == "failed":
                failures = int(
                    session.execute(
                        select(func.count())
                        .select_from(Delivery)
                        .where(Delivery.message_id == message_id, Delivery.status == "failed")
                    ).scalar_one()
                )
            retry = status == "failed" and failures < max_attempts
            message.channel_state = "pending" if retry else "done"
            session.add(message)
            session.commit()
    return attempts
