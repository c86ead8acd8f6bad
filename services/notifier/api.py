"""Notifier's HTTP API: the inbox of each employee, their configured channel and its
preferences (set by the employee, or by the operator of their OPD for people without a phone),
the delivery log and the dead letters (the city readers; an operator sees their own OPD's
people), job runs on demand (BKPSDM, the service account) and the Redis health.

The caller is the person their bearer token proves (services.shared.http.actor)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from services.kernel.calendar import WIB
from services.kernel.employment import Period, period_on
from services.notifier import commands, domain, queries
from services.notifier.delivery import CHANNELS
from services.notifier.domain import Kind
from services.notifier.jobs import REMINDERS, WARNINGS, Notifier
from services.notifier.models import ChannelConfig, Message
from services.shared.employees import employee_on, periods_of
from services.shared.http import ID_MAX, Actor, Moment, Problem, Who
from services.shared.scope import (
    CITY_READERS,
    CITY_WRITERS,
    caller_opd,
    forbidden,
    in_opd,
    require_roles,
)

router = APIRouter()


def _notifier(request: Request) -> Notifier:
    return request.app.state.notifier


def _opd_of(notifier: Notifier, nip: str, day: date | None = None) -> str | None:
    """The employee's OPD on `day` (default today, WIB); None: not employed here then.

    What a date means here: the channel preferences and the inbox as a whole are about now,
    so the operator of today's period helps with them (not of the latest period, which may
    start later). One message is about a dated fact (`ref_date`: a day without a report, a
    rejected report's date), so the operator of that date's OPD may also list it, mark it
    read and retry it (`_may_handle`)."""
    day = day or notifier.clock().astimezone(WIB).date()
    with notifier.kit.uow() as uow:
        period = employee_on(uow, nip, day)
        return period.opd if period is not None else None


def _own(who: Actor, nip: str) -> bool:
    return who.nip is not None and who.nip == nip


def _today_s_operator(notifier: Notifier, who: Actor, nip: str) -> bool:
    return who.role == "operator" and in_opd(who, _opd_of(notifier, nip))


def _may_handle(notifier: Notifier, who: Actor, message: Message) -> bool:
    """An operator of the employee's OPD today or on the message's date."""
    return _today_s_operator(notifier, who, message.nip) or (
        who.role == "operator" and in_opd(who, _opd_of(notifier, message.nip, message.ref_date))
    )


def _may_read(notifier: Notifier, who: Actor, nip: str, what: str) -> None:
    """A channel: its owner, their OPD's operator today, the city readers (not the atasan:
    the messages are the owner's own)."""
    if who.role in CITY_READERS or _own(who, nip) or _today_s_operator(notifier, who, nip):
        return
    raise forbidden(what)


def _may_set_channel(notifier: Notifier, who: Actor, nip: str) -> None:
    """The employee themself, BKPSDM/system, or an operator of the employee's OPD today (the
    token's OPD against the projection's; an unknown NIP is as foreign as another OPD's)."""
    if _own(who, nip):
        return
    if who.role in CITY_WRITERS:
        return
    if who.role == "operator":
        if _today_s_operator(notifier, who, nip):
            return
        raise Problem(
            403,
            "Operator hanya dapat mengatur saluran pegawai di OPD-nya sendiri.",
            code="forbidden",
        )
    raise Problem(
        403,
        "Saluran pesan hanya dapat diatur oleh pegawai itu atau operator OPD-nya.",
        code="forbidden",
    )


def _opd_in(periods: list[Period], day: date) -> str | None:
    period = period_on(periods, day)
    return period.opd if period is not None else None


def _log_opd(who: Actor, what: str) -> str | None:
    """The OPD an operator's view of the logs is limited to (None: the city readers' whole
    city); anyone else is refused."""
    if who.role in CITY_READERS:
        return None
    opd = caller_opd(who)
    if who.role == "operator" and opd is not None:
        return opd
    raise forbidden(what)


def _message_out(m: Message, portal: str = "") -> dict[str, Any]:
    return {
        "id": m.id,
        "kind": m.kind,
        "date": m.ref_date.isoformat(),
        "title": m.title,
        "body": m.body,
        "created_at": m.created_at.isoformat(),
        "read": m.read_at is not None,
        "read_at": m.read_at.isoformat() if m.read_at else None,
        "link": domain.portal_link(portal, m.kind, m.ref_date) if portal else None,
        "channel_state": m.channel_state,
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
    """Messages of one employee, newest first, with the number of unread ones. An operator
    of another OPD than today's sees the messages dated in their OPD's periods (and their
    unread count among those), refused if the employee never was in their OPD."""
    notifier = _notifier(request)
    what = "membuka kotak masuk pegawai ini"
    whole = who.role in CITY_READERS or _own(who, nip) or _today_s_operator(notifier, who, nip)
    if not whole and who.role != "operator":
        raise forbidden(what)
    with notifier.kit.uow() as uow:
        rows, unread = queries.inbox(uow, nip, limit)
        if not whole:
            periods = periods_of(uow, nip)
            if not any(in_opd(who, p.opd) for p in periods):
                raise forbidden(what)
            rows = [m for m in rows if in_opd(who, _opd_in(periods, m.ref_date))]
            unread = sum(1 for m in rows if m.read_at is None)
        messages = [_message_out(m, notifier.config.portal_base_url) for m in rows]
    return {"nip": nip, "unread": unread, "messages": messages}


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
    notifier = _notifier(request)
    with notifier.kit.uow() as uow:
        message = queries.message(uow, message_id)
        if message is not None and message.nip != nip:
            message = None
        # the owner, or an operator reading the messages out to someone without a phone
        if not _own(who, nip) and (message is None or not _may_handle(notifier, who, message)):
            raise forbidden("menandai pesan pegawai ini sudah dibaca")
        if message is None:
            raise Problem(404, "Pesan tidak ditemukan.", code="message_not_found")
        return _message_out(commands.mark_read(uow, message, notifier.clock()))


class ChannelIn(BaseModel):
    channel: Literal["email", "whatsapp", "telegram", "sms"]
    address: str = Field(min_length=3, max_length=200)
    # the kinds sent on the channel (none given: all); the inbox always gets everything
    kinds: list[Kind] | None = Field(default=None, max_length=len(Kind))
    # quiet hours in WIB, e.g. 21:00-06:00: messages wait until the end (both or neither)
    quiet_start: time | None = None
    quiet_end: time | None = None


def _channel_out(nip: str, row: ChannelConfig | None) -> dict[str, Any]:
    if row is None:
        return {"nip": nip, "channel": None, "address": None}
    return {
        "nip": nip,
        "channel": row.channel,
        "address": row.address,
        "kinds": row.kinds.split(",") if row.kinds else None,
        "quiet_start": row.quiet_start.isoformat() if row.quiet_start else None,
        "quiet_end": row.quiet_end.isoformat() if row.quiet_end else None,
        "set_by": row.set_by,
    }


@router.put(
    "/channels/{nip}",
    summary="Atur saluran notifikasi",
    description="Saluran tambahan selain kotak masuk aplikasi, dengan jenis pesan dan jam tenang.",
    tags=["Saluran notifikasi"],
)
def set_channel(nip: str, body: ChannelIn, request: Request, who: Who) -> dict[str, Any]:
    """The channel an employee also receives messages on (besides the in-app inbox), with
    its preferences."""
    notifier = _notifier(request)
    _may_set_channel(notifier, who, nip)
    assert body.channel in CHANNELS
    if (body.quiet_start is None) != (body.quiet_end is None):
        raise Problem(
            422, "Jam tenang perlu jam mulai dan jam selesai.", code="quiet_hours_incomplete"
        )
    kinds = ",".join(sorted({k.value for k in body.kinds})) if body.kinds else None
    with notifier.kit.uow() as uow:
        row = commands.set_channel(
            uow,
            nip,
            body.channel,
            body.address,
            kinds,
            body.quiet_start,
            body.quiet_end,
            who.nip,
            notifier.clock(),
        )
        return _channel_out(nip, row)


@router.get(
    "/channels/{nip}", summary="Saluran notifikasi seorang pegawai", tags=["Saluran notifikasi"]
)
def get_channel(nip: str, request: Request, who: Who) -> dict[str, Any]:
    _may_read(_notifier(request), who, nip, "melihat saluran pesan pegawai ini")
    with _notifier(request).kit.uow() as uow:
        return _channel_out(nip, queries.channel(uow, nip))


@router.delete("/channels/{nip}", summary="Hapus saluran notifikasi", tags=["Saluran notifikasi"])
def remove_channel(nip: str, request: Request, who: Who) -> dict[str, Any]:
    _may_set_channel(_notifier(request), who, nip)
    with _notifier(request).kit.uow() as uow:
        commands.remove_channel(uow, nip)
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
    opd = _log_opd(who, "melihat log pengiriman")
    notifier = _notifier(request)
    with notifier.kit.uow() as uow:
        rows = queries.deliveries(uow, opd, nip, status, channel, limit)
    return [
        {
            "id": d.id,
            "message_id": d.message_id,
            "nip": d.nip,
            "channel": d.channel,
            "address": d.address,
            "status": d.status,
            "detail": d.detail,
            "idempotency_key": d.idempotency_key,
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
    require_roles(who, CITY_WRITERS, "menjalankan peringatan untuk seluruh kota")
    notifier = _notifier(request)
    return await notifier.run_leased(WARNINGS, _moment(notifier, at))


@router.post(
    "/jobs/reminders/run",
    summary="Jalankan pengingat atasan pukul 09.00",
    description="Per `at` (ISO; tanpa zona berarti WIB). Aman diulang.",
    tags=["Pengiriman dan tugas"],
)
async def run_reminders(request: Request, who: Who, at: Moment | None = None) -> dict[str, Any]:
    """Run the 09:00 atasan reminder job as of `at` (ISO; naive is WIB). Idempotent."""
    require_roles(who, CITY_WRITERS, "menjalankan pengingat atasan untuk seluruh kota")
    notifier = _notifier(request)
    return await notifier.run_leased(REMINDERS, _moment(notifier, at))


@router.get(
    "/dead-letters",
    summary="Pesan yang gagal dikirim",
    description="Pesan yang menyerah pada salurannya, dengan jawaban terakhir; kotak masuk tetap "
    "menyimpan setiap pesan.",
    tags=["Pengiriman dan tugas"],
)
def dead_letters(
    request: Request,
    who: Who,
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    """Messages given up on their channel (after the last attempt, or refused for good),
    with the last answer; the inbox still has each of them."""
    opd = _log_opd(who, "melihat pesan yang gagal dikirim")
    notifier = _notifier(request)
    with notifier.kit.uow() as uow:
        rows, last = queries.dead_letters(uow, opd, limit)
    return [
        {
            **_message_out(m),
            "nip": m.nip,
            "attempts": m.attempts,
            "channel": last[m.id].channel if m.id in last else None,
            "last_answer": last[m.id].detail if m.id in last else None,
        }
        for m in rows
    ]


@router.post(
    "/dead-letters/{message_id}/retry",
    summary="Kirim ulang pesan yang gagal",
    description="Misalnya setelah alamat diperbaiki.",
    tags=["Pengiriman dan tugas"],
)
def retry_dead_letter(
    request: Request, who: Who, message_id: int = Path(ge=1, le=ID_MAX)
) -> dict[str, Any]:
    """Send a dead-lettered message again (e.g. after the address was corrected)."""
    what = "mengirim ulang pesan pegawai ini"
    if who.role not in CITY_WRITERS:
        require_roles(who, ("operator",), what)
    notifier = _notifier(request)
    with notifier.kit.uow() as uow:
        message = queries.message(uow, message_id)
        if who.role not in CITY_WRITERS and (
            message is None or not _may_handle(notifier, who, message)
        ):
            raise forbidden(what)  # an unknown message looks like another OPD's
        if message is None or message.channel_state != "dead":
            raise Problem(404, "Pesan gagal kirim tidak ditemukan.", code="dead_letter_not_found")
        commands.retry_dead_letter(uow, message)
    _notifier(request).wake.set()
    return {"id": message_id, "channel_state": "pending"}


@router.get(
    "/health/redis",
    summary="Keadaan Redis",
    description="`ok`, atau `degraded: ...` bila Redis mati (layanan lalu bekerja dari SQL).",
    tags=["Pengiriman dan tugas"],
)
async def redis_health(request: Request) -> dict[str, str]:
    """'ok', or 'degraded: ...' when Redis is down (the service then works from SQL)."""
    return {"redis": await _notifier(request).cache.ping()}
