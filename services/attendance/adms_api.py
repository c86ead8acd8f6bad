"""ZKTeco ADMS ("iclock") endpoints at the root path, and the device registry API.

Devices get plain text, never problem+json: "OK", the handshake options, or
"ERROR: ..." for a device that is not registered (logged and counted, never a crash).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from prometheus_client import Counter
from pydantic import BaseModel, Field
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from contracts.nip import is_valid_nip
from services.attendance import adms, store
from services.attendance.models import Device, DeviceCommand
from services.attendance.web import OPERATORS, config_of, now_utc, require
from services.shared import metrics
from services.shared.http import Actor, Problem, actor, kit_of
from services.shared.logs import get_logger
from services.shared.messaging import ServiceKit, UnitOfWork

log = get_logger("sikerja.attendance.adms")

ADMS_REFUSED = Counter(
    "sikerja_adms_refused", "ADMS requests refused (unknown device, no SN)", ["reason"]
)
ADMS_LINES = Counter("sikerja_adms_lines", "ATTLOG lines received, by outcome", ["result"])

iclock = APIRouter(prefix="/iclock", tags=["devices (ADMS)"], include_in_schema=True)
router = APIRouter(tags=["devices"])


def _text(body: str, status: int = 200) -> PlainTextResponse:
    return PlainTextResponse(body, status_code=status)


class Refused(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


def _query(request: Request) -> adms.IclockQuery:
    try:
        return adms.parse_query(str(request.url.query))
    except ValueError as exc:
        raise Refused("no_sn", str(exc)) from None


def _device(
    uow: UnitOfWork, sn: str, request: Request, now: datetime, q: adms.IclockQuery
) -> Device:
    """The registered device, its heartbeat noted; Refused when unknown."""
    device = uow.session.get(Device, sn)
    if device is None:
        raise Refused("unknown_device", f"mesin {sn} tidak terdaftar")
    device.last_seen_at = now
    device.last_ip = request.client.host if request.client else None
    if q.pushver:
        device.firmware = q.pushver
    uow.session.add(device)
    return device


def _refused(exc: Refused, request: Request) -> PlainTextResponse:
    ADMS_REFUSED.labels(exc.reason).inc()
    log.warning(
        "device refused",
        reason=exc.reason,
        query=str(request.url.query)[:200],
        client=request.client.host if request.client else None,
    )
    return _text(f"ERROR: {exc.message}", 403 if exc.reason == "unknown_device" else 400)


@iclock.get("/cdata", response_class=PlainTextResponse)
def handshake(request: Request) -> PlainTextResponse:
    """The device's handshake: its options, with the last ATTLOG Stamp we stored."""
    now = now_utc()
    try:
        q = _query(request)
        with kit_of(request).uow() as uow:
            device = _device(uow, q.sn, request, now, q)
            options = adms.HandshakeOptions(
                stamp=device.attlog_stamp or "0",
                op_stamp=device.op_stamp or "0",
                timezone=int(float(device.timezone or 7)),
            )
            uow.commit()
    except Refused as exc:
        return _refused(exc, request)
    return _text(adms.render_handshake(q.sn, options))


def _pins_to_nips(uow: UnitOfWork, pins: set[str]) -> dict[str, str]:
    """PIN → NIP from the employee projection; an 18-digit valid NIP PIN maps to itself."""
    employee = uow._kit.base.Employee  # type: ignore[attr-defined]
    found: dict[str, str] = {}
    for chunk in store._chunks(sorted(pins)):
        found.update(
            uow.session.exec(
                select(employee.pin, employee.nip).where(employee.pin.in_(chunk))
            ).all()  # type: ignore[union-attr]
        )
    for pin in pins - found.keys():
        if is_valid_nip(pin):
            found[pin] = pin
    return found


def _heartbeat(
    uow: UnitOfWork, client: str | None, q: adms.IclockQuery, now: datetime, stamp: str | None
) -> None:
    """The device's heartbeat (and its last ATTLOG Stamp) as one UPDATE, the last write of
    the transaction: with SQLite the writer slot is taken as late as possible."""
    values: dict[str, Any] = {
        "last_seen_at": now,
        "last_ip": client,
    }
    if q.pushver:
        values["firmware"] = q.pushver
    if stamp:
        values["attlog_stamp"] = stamp
    table = Device.__table__  # type: ignore[attr-defined]
    uow.session.execute(update(table).where(table.c.sn == q.sn).values(**values))


def _record_attlog(
    kit: ServiceKit,
    client: str | None,
    q: adms.IclockQuery,
    body: bytes,
    now: datetime,
    max_future: timedelta,
) -> tuple[list[store.ScanOutcome], adms.CdataPost, list[adms.AttLog]]:
    """Reads first (device, PINs, known scans), then the writes and the commit."""
    with kit.uow() as uow:
        device = uow.session.get(Device, q.sn)
        if device is None:
            raise Refused("unknown_device", f"mesin {q.sn} tidak terdaftar")
        try:
            tz = adms.device_tz(device.timezone)
        except ValueError:
            tz = adms.DEFAULT_DEVICE_TZ
        post = adms.parse_cdata_post(q.table, body, tz)
        mapping = _pins_to_nips(uow, {r.pin for r in post.records})
        items = []
        unknown = []
        for r in post.records:
            nip = mapping.get(r.pin)
            if nip is None:
                unknown.append(r)
            else:
                items.append(store.ScanIn(nip, r.ts, q.sn))
        outcomes = store.record_scans(
            uow, items, source="adms", received_at=now, max_future=max_future
        )
        _heartbeat(uow, client, q, now, q.stamp)
        uow.commit()
    return outcomes, post, unknown


def _post_cdata(
    kit: ServiceKit,
    request: Request,
    q: adms.IclockQuery,
    body: bytes,
    now: datetime,
    max_future: timedelta,
) -> dict[str, Any]:
    if q.table != adms.TABLE_ATTLOG:
        with kit.uow() as uow:
            device = _device(uow, q.sn, request, now, q)
            post = adms.parse_cdata_post(q.table, body)
            if q.table in ("OPERLOG", "OPLOG") and q.stamp:
                device.op_stamp = q.stamp
            uow.commit()
        if not post.known:
            log.info("unknown ADMS table ignored", sn=q.sn, table=q.table)
        return {"table": q.table, "ignored": post.line_count}
    client = request.client.host if request.client else None  # the device's address
    try:
        outcomes, post, unknown = _record_attlog(kit, client, q, body, now, max_future)
    except IntegrityError:
        # Another device stored one of these scans between our duplicate check and our
        # insert (the same NIP in the same second on two devices): once more, it is known.
        outcomes, post, unknown = _record_attlog(kit, client, q, body, now, max_future)
    new = sum(1 for o in outcomes if o.new)
    ADMS_LINES.labels("accepted").inc(new)
    ADMS_LINES.labels("duplicate").inc(len(outcomes) - new)
    ADMS_LINES.labels("bad").inc(len(post.errors))
    ADMS_LINES.labels("unknown_pin").inc(len(unknown))
    for err in post.errors:
        log.warning(
            "bad ATTLOG line", sn=q.sn, line=err.line_no, reason=err.reason, raw=err.raw[:120]
        )
    if unknown:
        log.warning(
            "ATTLOG lines with unknown PIN", sn=q.sn, pins=sorted({r.pin for r in unknown})[:20]
        )
    return {"accepted": new, "duplicate": len(outcomes) - new, "bad": len(post.errors)}


@iclock.post("/cdata", response_class=PlainTextResponse)
async def post_cdata(request: Request) -> PlainTextResponse:
    """Records pushed by a device. ATTLOG lines become scans; every other table is
    acknowledged and ignored. Always "OK" for a registered device: resending a broken
    line would never fix it, so it is logged instead."""
    now = now_utc()
    try:
        q = _query(request)
        body = await request.body()
        max_future = timedelta(minutes=config_of(request).max_future_minutes)
        await run_in_threadpool(_post_cdata, kit_of(request), request, q, body, now, max_future)
    except Refused as exc:
        return _refused(exc, request)
    except Exception as exc:  # noqa: BLE001 - a device must never see a 500 (it resends forever)
        log.error("ADMS post failed", error=repr(exc), query=str(request.url.query)[:200])
        return _text("ERROR: server sedang bermasalah, coba lagi", 503)
    return _text(adms.render_post_ack())


def _getrequest(kit: ServiceKit, request: Request, q: adms.IclockQuery, now: datetime) -> str:
    with kit.uow() as uow:
        _device(uow, q.sn, request, now, q)
        queued = uow.session.exec(
            select(DeviceCommand)
            .where(DeviceCommand.sn == q.sn, DeviceCommand.sent_at == None)  # noqa: E711
            .order_by(DeviceCommand.id)  # type: ignore[arg-type]
            .limit(20)
        ).all()
        commands = []
        for c in queued:
            c.sent_at = now
            uow.session.add(c)
            commands.append(adms.DeviceCommand(c.id or 0, c.command))
        uow.commit()
    return adms.render_getrequest(commands)


@iclock.get("/getrequest", response_class=PlainTextResponse)
async def getrequest(request: Request) -> PlainTextResponse:
    """The device's heartbeat: "OK", or the commands queued for it."""
    try:
        q = _query(request)
        text = await run_in_threadpool(_getrequest, kit_of(request), request, q, now_utc())
    except Refused as exc:
        return _refused(exc, request)
    return _text(text)


def _devicecmd(
    kit: ServiceKit, request: Request, q: adms.IclockQuery, body: bytes, now: datetime
) -> None:
    results, errors = adms.parse_devicecmd(body)
    with kit.uow() as uow:
        _device(uow, q.sn, request, now, q)
        for r in results:
            known = r.id.isascii() and r.id.isdigit()  # int() refuses some isdigit() digits
            row = uow.session.get(DeviceCommand, int(r.id)) if known else None
            if row is None or row.sn != q.sn:
                log.warning("result of an unknown command", sn=q.sn, id=r.id)
                continue
            row.answered_at, row.return_code = now, r.return_code
            uow.session.add(row)
        uow.commit()
    for e in errors:
        log.warning("bad devicecmd line", sn=q.sn, line=e.line_no, reason=e.reason)


@iclock.post("/devicecmd", response_class=PlainTextResponse)
async def devicecmd(request: Request) -> PlainTextResponse:
    """Results of the commands the device ran."""
    try:
        q = _query(request)
        body = await request.body()
        await run_in_threadpool(_devicecmd, kit_of(request), request, q, body, now_utc())
    except Refused as exc:
        return _refused(exc, request)
    return _text("OK")


# --- registry (operators) ---------------------------------------------------------------


class DeviceIn(BaseModel):
    sn: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    opd: str = Field(min_length=1)
    lokasi: str = ""
    nama: str = ""
    zona_waktu: str = Field("7", description="the device's TimeZone option, hours (7 = WIB)")


class CommandIn(BaseModel):
    perintah: str = Field(min_length=1, max_length=500)


def device_state(device: Device, now: datetime, offline_after_s: int) -> str:
    if device.last_seen_at is None:
        return "belum_pernah"
    return "offline" if (now - device.last_seen_at).total_seconds() > offline_after_s else "online"


def refresh_offline_metric(devices: list[Device], now: datetime, offline_after_s: int) -> None:
    for d in devices:
        offline = device_state(d, now, offline_after_s) != "online"
        metrics.DEVICE_OFFLINE.labels(d.sn).set(1 if offline else 0)


def device_view(d: Device, now: datetime, offline_after_s: int) -> dict[str, Any]:
    return {
        "sn": d.sn,
        "opd": d.opd,
        "lokasi": d.location,
        "nama": d.name,
        "zona_waktu": d.timezone,
        "status": device_state(d, now, offline_after_s),
        "terakhir_terhubung": d.last_seen_at.isoformat() if d.last_seen_at else None,
        "stamp": d.attlog_stamp,
        "firmware": d.firmware,
        "ip": d.last_ip,
    }


@router.post("/devices", status_code=201)
def register_device(
    body: DeviceIn, request: Request, who: Actor = Depends(actor)
) -> dict[str, Any]:
    """Register a device (or update its OPD, location, time zone)."""
    require(who, OPERATORS, "mendaftarkan mesin")
    try:
        adms.device_tz(body.zona_waktu)
    except ValueError as exc:
        raise Problem(422, str(exc), code="bad_timezone") from None
    now = now_utc()
    with kit_of(request).uow() as uow:
        d = uow.session.get(Device, body.sn)
        if d is None:
            d = Device(
                sn=body.sn, opd=body.opd, registered_at=now, registered_by=who.nip or who.role
            )
        d.opd, d.location, d.name, d.timezone = body.opd, body.lokasi, body.nama, body.zona_waktu
        uow.session.add(d)
        uow.commit()
        return device_view(d, now, config_of(request).device_offline_after_s)


@router.get("/devices")
def list_devices(request: Request, opd: str | None = None) -> list[dict[str, Any]]:
    """Devices and their state (online, offline, belum_pernah)."""
    now, cfg = now_utc(), config_of(request)
    with kit_of(request).uow() as uow:
        query = select(Device).order_by(Device.opd, Device.sn)  # type: ignore[arg-type]
        if opd:
            query = query.where(Device.opd == opd)
        devices = list(uow.session.exec(query).all())
    refresh_offline_metric(devices, now, cfg.device_offline_after_s)
    return [device_view(d, now, cfg.device_offline_after_s) for d in devices]


@router.post("/devices/{sn}/commands", status_code=201)
def queue_command(
    sn: str, body: CommandIn, request: Request, who: Actor = Depends(actor)
) -> dict[str, Any]:
    """Queue a command (e.g. CHECK, REBOOT, DATA QUERY ATTLOG ...) for the next heartbeat."""
    require(who, OPERATORS, "mengirim perintah ke mesin")
    try:
        adms.DeviceCommand(1, body.perintah)
    except ValueError as exc:
        raise Problem(422, str(exc), code="bad_command") from None
    with kit_of(request).uow() as uow:
        if uow.session.get(Device, sn) is None:
            raise Problem(404, f"mesin {sn} tidak terdaftar", code="not_found")
        row = DeviceCommand(sn=sn, command=body.perintah, created_at=now_utc(), created_by=who.nip)
        uow.session.add(row)
        uow.commit()
        return {"id": row.id, "sn": sn, "perintah": row.command}
