"""Notifier's writes for the routes: a message marked read, an employee's channel set or
removed, a dead letter queued again. Each runs in the caller's unit of work and commits."""

from __future__ import annotations

from datetime import datetime, time

from services.notifier.models import ChannelConfig, Message
from services.shared.uow import UnitOfWork


def mark_read(uow: UnitOfWork, message: Message, now: datetime) -> Message:
    """The first reading time stays (marking again is harmless)."""
    if message.read_at is None:
        message.read_at = now
        uow.session.add(message)
        uow.commit()
    return message


def set_channel(
    uow: UnitOfWork,
    nip: str,
    channel: str,
    address: str,
    kinds: str | None,
    quiet_start: time | None,
    quiet_end: time | None,
    set_by: str | None,
    now: datetime,
) -> ChannelConfig:
    row = uow.session.get(ChannelConfig, nip) or ChannelConfig(
        nip=nip, channel=channel, address=address, updated_at=now
    )
    row.channel, row.address, row.updated_at = channel, address, now
    row.kinds, row.quiet_start, row.quiet_end = kinds, quiet_start, quiet_end
    row.set_by = set_by
    uow.session.add(row)
    uow.commit()
    return row


def remove_channel(uow: UnitOfWork, nip: str) -> None:
    row = uow.session.get(ChannelConfig, nip)
    if row is not None:
        uow.session.delete(row)
        uow.commit()


def retry_dead_letter(uow: UnitOfWork, message: Message) -> None:
    """Back to pending with its attempts reset: the delivery loop sends it again."""
    message.channel_state, message.attempts, message.next_attempt_at = "pending", 0, None
    uow.session.add(message)
    uow.commit()
