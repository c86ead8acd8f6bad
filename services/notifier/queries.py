"""Notifier's reads for the routes: an inbox, a message, a channel, the delivery log and the
dead letters (an operator's limited to their OPD's people). Each runs in the caller's unit of
work; nothing here writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from services.notifier.models import ChannelConfig, Delivery, Message
from services.shared.uow import UnitOfWork


def inbox(uow: UnitOfWork, nip: str, limit: int) -> tuple[list[Message], int]:
    """The newest `limit` messages of `nip` and the number of unread ones."""
    rows = list(
        uow.session.execute(
            select(Message)
            .where(Message.nip == nip)
            .order_by(col(Message.created_at).desc(), col(Message.id).desc())
            .limit(limit)
        ).scalars()
    )
    unread = uow.session.execute(
        select(func.count())
        .select_from(Message)
        .where(Message.nip == nip, col(Message.read_at).is_(None))
    ).scalar_one()
    return rows, int(unread)


def message(uow: UnitOfWork, message_id: int) -> Message | None:
    return uow.session.get(Message, message_id)


def channel(uow: UnitOfWork, nip: str) -> ChannelConfig | None:
    return uow.session.get(ChannelConfig, nip)


def _nips_of(uow: UnitOfWork, opd: str) -> Any:
    """The NIPs of one OPD in the projection (a subquery)."""
    employee = uow.tables.employee
    return select(col(employee.nip)).where(col(employee.opd) == opd)


def deliveries(
    uow: UnitOfWork,
    opd: str | None,
    nip: str | None,
    status: str | None,
    channel: str | None,
    limit: int,
) -> list[Delivery]:
    """The delivery log, newest first (of `opd`'s people when given)."""
    query = select(Delivery)
    if opd is not None:
        query = query.where(col(Delivery.nip).in_(_nips_of(uow, opd)))
    if nip is not None:
        query = query.where(Delivery.nip == nip)
    if status is not None:
        query = query.where(Delivery.status == status)
    if channel is not None:
        query = query.where(Delivery.channel == channel)
    query = query.order_by(col(Delivery.id).desc()).limit(limit)
    return list(uow.session.execute(query).scalars().all())


def dead_letters(
    uow: UnitOfWork, opd: str | None, limit: int
) -> tuple[list[Message], dict[int | None, Delivery]]:
    """The newest `limit` dead messages (of `opd`'s people when given) and the last
    non-inbox delivery of each."""
    query = select(Message).where(Message.channel_state == "dead")
    if opd is not None:
        query = query.where(col(Message.nip).in_(_nips_of(uow, opd)))
    rows = list(
        uow.session.execute(query.order_by(col(Message.id).desc()).limit(limit)).scalars().all()
    )
    last = {
        d.message_id: d
        for d in uow.session.execute(
            select(Delivery)
            .where(col(Delivery.message_id).in_([m.id for m in rows]))
            .where(Delivery.channel != "inbox")
            .order_by(col(Delivery.id))
        ).scalars()
    }
    return rows, last
