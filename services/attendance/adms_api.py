"""ZKTeco ADMS ("iclock") endpoints at the root path. The operators' device registry API is
in routes/devices.py.

Devices get plain text, never problem+json: "OK", the handshake options, or
"ERROR: ..." for a device that is not registered (403), calls from another address than the
one it is pinned to (403), calls more often than adms_rate_limit per SN (429: it keeps its
records and sends them again), or a body over adms_max_body_bytes (413) (logged and
counted, never a crash). Devices carry no token: the serial number, its rate and its
optional pinned address are the door. A bad ATTLOG line is refused alone: the rest of its
batch is stored and the batch acknowledged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string
from prometheus_client import Counter
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from contracts.nip import is_valid_nip
from services.attendance import adms, domain, quarantine, store
from services.attendance.config import AttendanceConfig
from services.attendance.models import Device, DeviceCommand
from services.attendance.web import config_of
from services.shared.http import kit_of, now_of
from services.shared.kit import ServiceKit
from services.shared.logs import get_logger
from services.shared.uow import UnitOfWork

log = get_logger("sikerja.attendance.adms")

ADMS_REFUSED = Counter(
    "sikerja_adms_refused",
    "ADMS requests refused (unknown device, no SN, body too large, rate, wrong address)",
    ["reason"],
)
ADMS_LINES = Counter("sikerja_adms_lines", "ATTLOG lines received, by outcome", ["result"])
ADMS_EXCESS = Counter(
    "sikerja_adms_excess_scans",
    "Scans stored beyond an absurd-rate limit (kept; see flag_scan_rates)",
    ["rule", "sn"],
)

iclock = APIRouter(prefix="/iclock", include_in_schema=True)


def _text(body: str, status: int = 200) -> PlainTextResponse:
    return PlainTextResponse(body, status_code=status)


class Refused(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.message = reason, message


_REFUSED_STATUS = {
    "unknown_device": 403,
    "wrong_address": 403,
    "too_large": 413,
    "rate_limited": 429,
}


class DeviceGate:
    """Requests per SN (limits' fixed window: one counter per SN, cheap on the hot path);
    the storage is per process ("memory://") or shared ("redis://...")."""

    def __init__(self, cfg: AttendanceConfig) -> None:
        self.item: RateLimitItem = parse(cfg.adms_rate_limit)
        self.storage = cast(Storage, storage_from_string("async+" + cfg.adms_rate_storage))
        self.limiter = FixedWindowRateLimiter(self.storage)

    async def admit(self, sn: str) -> None:
        if not await self.limiter.hit(self.item, "adms", sn):
            raise Refused(
                "rate_limited", f"mesin {sn} terlalu sering menghubungi server; coba lagi nanti"
            )


def gate_of(request: Request) -> DeviceGate:
    gate: DeviceGate | None = getattr(request.app.state, "device_gate", None)
    if gate is None:
        gate = request.app.state.device_gate = DeviceGate(config_of(request))
    return gate


async def _admitted(request: Request) -> adms.IclockQuery:
    """The query of a device within its rate (Refused otherwise)."""
    q = _query(request)
    await gate_of(request).admit(q.sn)
    return q


def _check_address(device: Device, client: str | None) -> None:
    """A device pinned to an address is refused from any other (a copied SN elsewhere)."""
    if device.pinned_ip is None:
        return
    if client != device.pinned_ip:
        raise Refused(
            "wrong_address", f"mesin {device.sn} tidak diizinkan dari alamat {client or '-'}"
        )


async def _body(request: Request) -> bytes:
    """The request body, at most `adms_max_body_bytes` of it: a declared Content-Length
    over the cap is refused before reading, and a stream is read only until it passes the
    cap (never more than the cap is held), then refused."""
    limit = config_of(request).adms_max_body_bytes
    too_large = Refused(
        "too_large", f"isi permintaan melebihi batas {limit} byte; kirim dalam beberapa bagian"
    )
    declared = request.headers.get("content-length", "").strip()
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _query(request: Request) -> adms.IclockQuery:
    try:
        return adms.parse_query(str(request.url.query))
    except ValueError as exc:
        raise Refused("no_sn", str(exc)) from None


def _device(
    uow: UnitOfWork, sn: str, client: str | None, now: datetime, q: adms.IclockQuery
) -> Device:
    """The registered device, its heartbeat noted; Refused when unknown."""
    device = uow.session.get(Device, sn)
    if device is None:
        raise Refused("unknown_device", f"mesin {sn} tidak terdaftar")
    _check_address(device, client)
    device.last_seen_at = now
    device.last_ip = client
    if q.pushver:
        device.firmware = q.pushver
    uow.session.add(device)
    store.note_contact(uow, sn, now, heartbeats=1, scans=0)
    return device


def _client(request: Request) -> str | None:
    """The device's address, resolved in the route: nothing below it sees the request."""
    return request.client.host if request.client else None


def _refused(exc: Refused, request: Request) -> PlainTextResponse:
    ADMS_REFUSED.labels(exc.reason).inc()
    log.warning(
        "device refused",
        reason=exc.reason,
        query=str(request.url.query)[:200],
        client=_client(request),
    )
    return _text(f"ERROR: {exc.message}", _REFUSED_STATUS.get(exc.reason, 400))


@iclock.get(
    "/cdata",
    response_class=PlainTextResponse,
    summary="Jabat tangan mesin",
    description="Pilihan mesin, dengan Stamp ATTLOG terakhir yang tersimpan.",
    tags=["Mesin sidik jari (ADMS)"],
)
async def handshake(request: Request) -> PlainTextResponse:
    """The device's handshake: its options, with the last ATTLOG Stamp we stored."""
    try:
        q = await _admitted(request)
        text = await run_in_threadpool(
            _handshake, kit_of(request), _client(request), q, now_of(request)
        )
    except Refused as exc:
        return _refused(exc, request)
    return _text(text)


def _handshake(kit: ServiceKit, client: str | None, q: adms.IclockQuery, now: datetime) -> str:
    with kit.uow() as uow:
        device = _device(uow, q.sn, client, now, q)
        options = adms.HandshakeOptions(
            stamp=device.attlog_stamp or "0",
            op_stamp=device.op_stamp or "0",
            timezone=int(float(device.timezone or 7)),
        )
        uow.commit()
    return adms.render_handshake(q.sn, options)


def _pins_to_nips(uow: UnitOfWork, pins: set[str]) -> dict[str, str]:
    """PIN → NIP from the employee projection (an employee's PIN, or a NIP it has): a
    NIP-looking PIN of no known employee maps to nothing and waits in quarantine."""
    return quarantine.known_employees(uow, pins)


def _heartbeat(
    uow: UnitOfWork,
    client: str | None,
    q: adms.IclockQuery,
    now: datetime,
    stamp: str | None,
    lines: int,
) -> None:
    """The device's heartbeat (and its last ATTLOG Stamp) as one UPDATE and the day's
    contact record (`lines` ATTLOG lines) as one upsert, the last writes of the
    transaction: with SQLite the writer slot is taken as late as possible."""
    store.note_contact(uow, q.sn, now, heartbeats=0, scans=lines)
    values: dict[str, Any] = {
        "last_seen_at": now,
        "last_ip": client,
    }
    if q.pushver:
        values["firmware"] = q.pushver
    if stamp:
        values["attlog_stamp"] = stamp
    table = Device.__table__
    uow.session.execute(update(table).where(table.c.sn == q.sn).values(**values))


def _held(sn: str, body: bytes, records: list[adms.AttLog]) -> list[quarantine.Held]:
    lines = adms._text(body).splitlines()
    return [
        quarantine.Held(
            pin=r.pin,
            ts=r.ts,
            device_sn=sn,
            source="adms",
            raw=lines[r.line_no - 1].strip() if r.line_no <= len(lines) else "",
            reason=quarantine.EMPLOYEE_UNKNOWN if is_valid_nip(r.pin) else quarantine.PIN_UNKNOWN,
        )
        for r in records
    ]


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
        _check_address(device, client)
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
        if unknown:
            # Acknowledged, so the device deletes them: they wait for their employee.
            quarantine.hold(uow, _held(q.sn, body, unknown), received_at=now)
        _heartbeat(uow, client, q, now, q.stamp, len(post.records))
        uow.commit()
    return outcomes, post, unknown


def _post_cdata(
    kit: ServiceKit,
    client: str | None,
    cfg: AttendanceConfig,
    q: adms.IclockQuery,
    body: bytes,
    now: datetime,
    max_future: timedelta,
) -> dict[str, Any]:
    if q.table != adms.TABLE_ATTLOG:
        with kit.uow() as uow:
            device = _device(uow, q.sn, client, now, q)
            post = adms.parse_cdata_post(q.table, body)
            if q.table in ("OPERLOG", "OPLOG") and q.stamp:
                device.op_stamp = q.stamp
            uow.commit()
        if not post.known:
            log.info("unknown ADMS table ignored", sn=q.sn, table=q.table)
        return {"table": q.table, "ignored": post.line_count}
    totals: dict[str, int] = defaultdict(int)
    per_slice = cfg.adms_lines_per_transaction
    for piece, last in _attlog_slices(body, per_slice):
        # The Stamp goes with the last slice only: a failure half-way must not tell the
        # device at its next handshake that the rest was stored.
        part = q if last else replace(q, stamp=None)
        for key, n in _post_attlog(kit, client, cfg, part, piece, now, max_future).items():
            totals[key] += n
    return dict(totals)


def _attlog_slices(body: bytes, per_slice: int) -> Iterator[tuple[bytes, bool]]:
    """The body in slices of `per_slice` lines, each stored in its own transaction: a
    backlog neither holds SQLite's writer for the whole upload nor keeps all its rows and
    events in memory at once. Each slice starts with as many empty lines as came before
    it, so line numbers (in logs, in the quarantine) stay the body's."""
    lines = body.splitlines(keepends=True)
    if len(lines) <= per_slice:
        yield body, True
        return
    for start in range(0, len(lines), per_slice):
        piece = b"\n" * start + b"".join(lines[start : start + per_slice])
        yield piece, start + per_slice >= len(lines)


def _post_attlog(
    kit: ServiceKit,
    client: str | None,
    cfg: AttendanceConfig,
    q: adms.IclockQuery,
    body: bytes,
    now: datetime,
    max_future: timedelta,
) -> dict[str, int]:
    try:
        outcomes, post, unknown = _record_attlog(kit, client, q, body, now, max_future)
    except IntegrityError:
        # Another device stored one of these scans between our duplicate check and our
        # insert (the same NIP in the same second on two devices): once more, it is known.
        outcomes, post, unknown = _record_attlog(kit, client, q, body, now, max_future)
    flag_scan_rates(kit, q.sn, outcomes, cfg)
    new = sum(1 for o in outcomes if o.new)
    ADMS_LINES.labels("accepted").inc(new)
    ADMS_LINES.labels("duplicate").inc(len(outcomes) - new)
    ADMS_LINES.labels("bad").inc(len(post.errors))
    ADMS_LINES.labels("unknown_pin").inc(len(unknown))  # held in quarantine
    for err in post.errors:
        log.warning(
            "bad ATTLOG line", sn=q.sn, line=err.line_no, reason=err.reason, raw=err.raw[:120]
        )
    if unknown:
        log.warning(
            "ATTLOG lines with unknown PIN held in quarantine",
            sn=q.sn,
            pins=sorted({r.pin for r in unknown})[:20],
        )
    return {"accepted": new, "duplicate": len(outcomes) - new, "bad": len(post.errors)}


def flag_scan_rates(
    kit: ServiceKit, sn: str, outcomes: list[store.ScanOutcome], cfg: AttendanceConfig
) -> None:
    """Flag absurd scan rates in what a device just pushed. Flagging never drops a scan:
    the device was (or will be) told "OK" and deletes what it sent, and a scan wrongly
    dropped costs an ASN their TPP while one wrongly kept costs a look. So the scans stay
    stored and closing counts them as usual; an operator sees them:

    - NIP-day: more than `max_scans_per_nip_day` scans of one NIP on one WIB date (a stuck
      finger, a replayed log, a test script). Every new scan past the limit counts in
      sikerja_adms_excess_scans_total{rule="nip_day",sn} (an alert can watch its rate);
      the upload that crosses the limit logs one warning; GET /api/v1/scans/excessive
      lists the NIP-days of a month and each device's view lists its NIP-days of the last
      week (`pindaian_berlebih`). Counted in the database, so it holds across batches,
      realtime pushes and workers.
    - device-minute: more than `max_device_scans_per_minute` new scans of one device within
      one minute of scan time in one upload: more than a reader can take. Counted (rule
      "device_minute") and logged per upload; not kept anywhere else, as the scan table
      has no index by device to count across uploads cheaply.
    """
    times = [domain.scan_key_parts(o.scan_id) for o in outcomes if o.new]
    if not times:
        return
    added: dict[tuple[str, date], int] = defaultdict(int)
    for nip, ts in times:
        added[(nip, domain.wib_date(ts))] += 1
    with kit.uow() as uow:
        totals = store.nip_day_counts(uow, added)
    for (nip, day), n in sorted(added.items()):
        total = totals.get((nip, day), n)
        excess = domain.excess_scans(total, n, cfg.max_scans_per_nip_day)
        if excess:
            ADMS_EXCESS.labels("nip_day", sn).inc(excess)
            if total - n <= cfg.max_scans_per_nip_day:  # this upload crossed the limit
                log.warning(
                    "absurd number of scans for one NIP in a day (kept, flagged)",
                    sn=sn,
                    nip=nip,
                    date=day.isoformat(),
                    scans=total,
                    limit=cfg.max_scans_per_nip_day,
                )
    crowded = domain.crowded_minutes((ts for _, ts in times), cfg.max_device_scans_per_minute)
    if crowded:
        over = sum(n - cfg.max_device_scans_per_minute for n in crowded.values())
        ADMS_EXCESS.labels("device_minute", sn).inc(over)
        log.warning(
            "device pushed more scans a minute than a reader can take (kept, flagged)",
            sn=sn,
            minutes=[f"{m:%Y-%m-%dT%H:%MZ}={n}" for m, n in list(crowded.items())[:10]],
            limit=cfg.max_device_scans_per_minute,
        )


@iclock.post(
    "/cdata",
    response_class=PlainTextResponse,
    summary="Terima rekaman dari mesin",
    description=(
        'Baris ATTLOG menjadi pindaian; tabel lain diterima dan diabaikan. Selalu "OK" untuk mesin'
        " terdaftar: baris rusak dicatat di log, bukan dikirim ulang."
    ),
    tags=["Mesin sidik jari (ADMS)"],
)
async def post_cdata(request: Request) -> PlainTextResponse:
    """Records pushed by a device. ATTLOG lines become scans; every other table is
    acknowledged and ignored. Always "OK" for a registered device: resending a broken
    line would never fix it, so it is logged instead."""
    now = now_of(request)
    try:
        q = await _admitted(request)
        body = await _body(request)
        cfg = config_of(request)
        max_future = timedelta(minutes=cfg.max_future_minutes)
        await run_in_threadpool(
            _post_cdata, kit_of(request), _client(request), cfg, q, body, now, max_future
        )
    except Refused as exc:
        return _refused(exc, request)
    except Exception as exc:  # noqa: BLE001 - a device must never see a 500 (it resends forever)
        log.error("ADMS post failed", error=repr(exc), query=str(request.url.query)[:200])
        return _text("ERROR: server sedang bermasalah, coba lagi", 503)
    return _text(adms.render_post_ack())


def _getrequest(kit: ServiceKit, client: str | None, q: adms.IclockQuery, now: datetime) -> str:
    with kit.uow() as uow:
        _device(uow, q.sn, client, now, q)
        queued = uow.session.exec(
            select(DeviceCommand)
            .where(DeviceCommand.sn == q.sn, DeviceCommand.sent_at == None)  # noqa: E711
            .order_by(col(DeviceCommand.id))
            .limit(20)
        ).all()
        commands = []
        for c in queued:
            c.sent_at = now
            uow.session.add(c)
            commands.append(adms.DeviceCommand(c.id or 0, c.command))
        uow.commit()
    return adms.render_getrequest(commands)


@iclock.get(
    "/getrequest",
    response_class=PlainTextResponse,
    summary="Detak mesin dan perintah antreannya",
    description='"OK", atau perintah yang diantrekan untuk mesin ini.',
    tags=["Mesin sidik jari (ADMS)"],
)
async def getrequest(request: Request) -> PlainTextResponse:
    """The device's heartbeat: "OK", or the commands queued for it."""
    try:
        q = await _admitted(request)
        text = await run_in_threadpool(
            _getrequest, kit_of(request), _client(request), q, now_of(request)
        )
    except Refused as exc:
        return _refused(exc, request)
    return _text(text)


def _devicecmd(
    kit: ServiceKit, client: str | None, q: adms.IclockQuery, body: bytes, now: datetime
) -> None:
    results, errors = adms.parse_devicecmd(body)
    with kit.uow() as uow:
        _device(uow, q.sn, client, now, q)
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


@iclock.post(
    "/devicecmd",
    response_class=PlainTextResponse,
    summary="Terima hasil perintah mesin",
    description="Hasil perintah yang dijalankan mesin.",
    tags=["Mesin sidik jari (ADMS)"],
)
async def devicecmd(request: Request) -> PlainTextResponse:
    """Results of the commands the device ran."""
    try:
        q = await _admitted(request)
        body = await _body(request)
        await run_in_threadpool(
            _devicecmd, kit_of(request), _client(request), q, body, now_of(request)
        )
    except Refused as exc:
        return _refused(exc, request)
    return _text("OK")
