"""Notifier's HTTP API: the inbox of each employee, their configured channel, the delivery
log (operators), operator-triggered job runs and the Redis health.

The caller is the person in X-Actor-Nip / X-Actor-Role (forwarded by the portal)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import col, select

from services.kernel.calendar import WIB
from services.notifier.delivery import CHANNELS
from services.notifier.jobs import Notifier
from services.notifier.models import ChannelConfig, Delivery, Message
from services.shared.http import ID_MAX, Actor, Moment, Problem, Who

router = APIRouter()

OPERATOR_ROLES = ("operator", "bkpsdm", "system")
LOG_READERS = (*OPERATOR_ROLES, "auditor")


def _notifier(request: Request) -> Notifier:
    return request.app.state.notifier


def _own_or_operator(who: Actor, nip: str) -> None:
    if who.is_(*OPERATOR_ROLES) or (who.nip is not None and who.nip == nip):
        return
    raise Problem(
        403, "Kotak masuk hanya dapat dibuka oleh pegawai yang bersangkutan.", code="forbidden"
    )


def _operator(who: Actor, roles: tuple[str, ...] = OPERATOR_ROLES) -> None:
    if not who.is_(*roles):
        raise Problem(403, "Hanya operator atau BKPSDM yang dapat melakukan ini.", code="forbidden")


def _message_out(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "kind": m.kind,
        "date": m.ref_date.isoformat(),
        "title": m.title,
        "body": m.body,
        "created_at": m.created_at.isoformat(),
        "read": m.read_at is not None,
        "read_at": m.read_at.isoformat() if m.read_at else None,
    }


@router.get(
    "/inbox/{nip}",
    summary="Pesan seorang pegawai",
    description="Terbaru lebih dulu, dengan jumlah yang belum dibaca.",
    tags=["Kotak masuk"],
)
def inbox(
    nip: str, request: Request, who: Who, limit: int = Query(50, ge=1, le=500)
) -> dict[str, Any]:
    """Messages of one employee, newest first, with the number of unread ones."""
    _own_or_operator(who, nip)
    with _notifier(request).kit.uow() as uow:
        rows = uow.session.execute(
            select(Message)
            .where(Message.nip == nip)
            .order_by(col(Message.created_at).desc(), col(Message.id).desc())
            .limit(limit)
        ).scalars()
        messages = [_message_out(m) for m in rows]
        unread = uow.session.execute(
            select(func.count())
            .select_from(Message)
            .where(Message.nip == nip, col(Message.read_at).is_(None))
        ).scalar_one()
    return {"nip": nip, "unread": int(unread), "messages": messages}


@router.post(
    "/inbox/{nip}/{message_id}/read",
    summary="Tandai pesan sudah dibaca",
    description="Mengulang tidak berbahaya: waktu baca pertama tetap.",
    tags=["Kotak masuk"],
)
def mark_read(
    nip: str, request: Request, who: Who, message_id: int = Path(ge=1, le=ID_MAX)
) -> dict[str, Any]:
    """Mark one message read (again is harmless: the first reading time stays)."""
    _own_or_operator(who, nip)
    notifier = _notifier(request)
    with notifier.kit.uow() as uow:
        message = uow.session.get(Message, message_id)
        if message is None or message.nip != nip:
            raise Problem(404, "Pesan tidak ditemukan.", code="message_not_found")
        if message.read_at is None:
            message.read_at = notifier.clock()
            uow.session.add(message)
            uow.commit()
        return _message_out(message)


class ChannelIn(BaseModel):
    channel: Literal["email", "whatsapp", "telegram", "sms"]
    address: str = Field(min_length=3, max_length=200)


@router.put(
    "/channels/{nip}",
    summary="Atur saluran notifikasi",
    description="Saluran tambahan selain kotak masuk aplikasi.",
    tags=["Saluran notifikasi"],
)
def set_channel(nip: str, body: ChannelIn, request: Request, who: Who) -> dict[str, Any]:
    """The channel an employee also receives messages on (besides the in-app inbox)."""
    _own_or_operator(who, nip)
    assert body.channel in CHANNELS
    notifier = _notifier(request)
    with notifier.kit.uow() as uow:
        row = uow.session.get(ChannelConfig, nip) or ChannelConfig(
            nip=nip, channel=body.channel, address=body.address, updated_at=notifier.clock()
        )
        row.channel, row.address, row.updated_at = body.channel, body.address, notifier.clock()
        uow.session.add(row)
        uow.commit()
    return {"nip": nip, "channel": body.channel, "address": body.address}


@router.get(
    "/channels/{nip}", summary="Saluran notifikasi seorang pegawai", tags=["Saluran notifikasi"]
)
def get_channel(nip: str, request: Request, who: Who) -> dict[str, Any]:
    _own_or_operator(who, nip)
    with _notifier(request).kit.uow() as uow:
        row = uow.session.get(ChannelConfig, nip)
    if row is None:
        return {"nip": nip, "channel": None, "address": None}
    return {"nip": nip, "channel": row.channel, "address": row.address}


@router.delete("/channels/{nip}", summary="Hapus saluran notifikasi", tags=["Saluran notifikasi"])
def remove_channel(nip: str, request: Request, who: Who) -> dict[str, Any]:
    _own_or_operator(who, nip)
    with _notifier(request).kit.uow() as uow:
        row = uow.session.get(ChannelConfig, nip)
        if row is not None:
            uow.session.delete(row)
            uow.commit()
    return {"nip": nip, "channel": None, "address": None}


@router.get(
    "/deliveries",
    summary="Log pengiriman",
    description="Terbaru lebih dulu: setiap percobaan di setiap saluran (operator).",
    tags=["Pengiriman dan tugas"],
)
def deliveries(
    request: Request,
    who: Who,
    nip: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """The delivery log, newest first: every attempt on every channel (operators)."""
    _operator(who, LOG_READERS)
    query = select(Delivery)
    if nip is not None:
        query = query.where(Delivery.nip == nip)
    if status is not None:
        query = query.where(Delivery.status == status)
    if channel is not None:
        query = query.where(Delivery.channel == channel)
    query = query.order_by(col(Delivery.id).desc()).limit(limit)
    with _notifier(request).kit.uow() as uow:
        rows = uow.session.execute(query).scalars().all()
    return [
        {
            "id": d.id,
            "message_id": d.message_id,
            "nip": d.nip,
            "channel": d.channel,
            "address": d.address,
            "status": d.status,
            "detail": d.detail,
            "attempted_at": d.attempted_at.isoformat(),
        }
        for d in rows
    ]


def _moment(notifier: Notifier, at: datetime | None) -> datetime:
    if at is None:
        return notifier.clock()
    return at.replace(tzinfo=WIB) if at.tzinfo is None else at  # naive: read as WIB


@router.post(
    "/jobs/warnings/run",
    summary="Jalankan peringatan pukul 15.00",
    description="Per `at` (ISO; tanpa zona berarti WIB; bawaan sekarang). Aman diulang.",
    tags=["Pengiriman dan tugas"],
)
async def run_warnings(request: Request, who: Who, at: Moment | None = None) -> dict[str, Any]:
    """Run the 15:00 warning job as of `at` (ISO; naive is WIB; default now). Idempotent."""
    _operator(who)
    notifier = _notifier(request)
    return await notifier.run_warnings(_moment(notifier, at))


@router.post(
    "/jobs/reminders/run",
    summary="Jalankan pengingat atasan pukul 09.00",
    description="Per `at` (ISO; tanpa zona berarti WIB). Aman diulang.",
    tags=["Pengiriman dan tugas"],
)
async def run_reminders(request: Request, who: Who, at: Moment | None = None) -> dict[str, Any]:
    """Run the 09:00 atasan reminder job as of `at` (ISO; naive is WIB). Idempotent."""
    _operator(who)
    notifier = _notifier(request)
    return await notifier.run_reminders(_moment(notifier, at))


@router.get(
    "/health/redis",
    summary="Keadaan Redis",
    description="`ok`, atau `degraded: ...` bila Redis mati (layanan lalu bekerja dari SQL).",
    tags=["Pengiriman dan tugas"],
)
async def redis_health(request: Request) -> dict[str, str]:
    """'ok', or 'degraded: ...' when Redis is down (the service then works from SQL)."""
    return {"redis": await _notifier(request).cache.ping()}
