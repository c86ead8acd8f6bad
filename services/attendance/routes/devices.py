"""Device registry routes (operators): registering a fingerprint device, the list of
devices and their state, queueing a command for a device's next heartbeat, and the month's
excessive scans. The device protocol itself (/iclock) is in ../adms_api.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, IPvAnyAddress

from services.attendance import adms, commands, queries, store
from services.attendance.models import Device, DeviceCommand
from services.attendance.web import OPERATORS, config_of, require
from services.shared import metrics
from services.shared.http import Problem, Who, kit_of, now_of, period_bounds_or_422
from services.shared.scope import (
    CITY_READERS,
    caller_opd,
    require_opd_reader,
    require_opd_staff,
    require_roles,
)

router = APIRouter()


class DeviceIn(BaseModel):
    sn: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    opd: str = Field(min_length=1)
    lokasi: str = ""
    nama: str = ""
    zona_waktu: str = Field("7", description="the device's TimeZone option, hours (7 = WIB)")
    ip_tetap: IPvAnyAddress | None = Field(
        None,
        description="pin the device to this source address (/iclock/* from any other "
        "is refused); empty: any address",
    )


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


def device_view(
    d: Device,
    now: datetime,
    offline_after_s: int,
    excessive: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
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
        "ip_tetap": d.pinned_ip,
        # NIP-days of the last week over max_scans_per_nip_day with scans from this device
        "pindaian_berlebih": excessive or [],
    }


@router.post(
    "/devices",
    status_code=201,
    summary="Daftarkan mesin sidik jari",
    description=(
        "Atau ubah OPD, lokasi, zona waktunya. OPD harus sudah punya pegawai (data dari siasn)."
    ),
    tags=["Mesin sidik jari"],
)
def register_device(body: DeviceIn, request: Request, who: Who) -> dict[str, Any]:
    """Register a device (or update its OPD, location, time zone)."""
    require_opd_staff(who, body.opd, "mendaftarkan mesin untuk OPD ini")
    try:
        adms.device_tz(body.zona_waktu)
    except ValueError as exc:
        raise Problem(422, str(exc), code="bad_timezone") from None
    now = now_of(request)
    with kit_of(request).uow() as uow:
        # a mistyped OPD would file the device's scans under an OPD nobody reads
        opds = store.known_opds(uow)
        if body.opd not in opds:
            known = (
                "OPD yang dikenal: " + ", ".join(opds)
                if opds
                else "Belum ada data pegawai; impor data pegawai (siasn) lebih dulu"
            )
            raise Problem(
                422,
                f"OPD '{body.opd}' tidak dikenal: tidak ada pegawai OPD itu. {known}",
                code="unknown_opd",
            )
        d = queries.device(uow, body.sn)
        if d is not None:  # re-homing: the device's current OPD must be the caller's too
            require_opd_staff(who, d.opd, "mengubah mesin OPD lain")
        cfg = config_of(request)
        d, excessive = commands.register_device(
            uow,
            d,
            body.sn,
            body.opd,
            body.lokasi,
            body.nama,
            body.zona_waktu,
            str(body.ip_tetap) if body.ip_tetap else None,
            who.nip or who.role,
            now,
            cfg,
        )
        return device_view(d, now, cfg.device_offline_after_s, excessive)


@router.get(
    "/devices",
    summary="Daftar mesin dan keadaannya",
    description="Keadaan: `online`, `offline`, `belum_pernah`.",
    tags=["Mesin sidik jari"],
)
def list_devices(request: Request, who: Who, opd: str | None = None) -> list[dict[str, Any]]:
    """Devices and their state (online, offline, belum_pernah): an operator's OPD's, or the
    city's for its readers; never an ASN's or an atasan's (the list carries addresses)."""
    if who.role == "operator" and opd is None:
        opd = caller_opd(who) or "-"
    if opd is None:
        require_roles(who, CITY_READERS, "melihat daftar mesin")
    else:
        require_opd_reader(who, opd, "melihat mesin OPD ini")
    now, cfg = now_of(request), config_of(request)
    with kit_of(request).uow() as uow:
        devices, excessive = queries.devices(uow, opd, now, cfg)
    refresh_offline_metric(devices, now, cfg.device_offline_after_s)
    return [device_view(d, now, cfg.device_offline_after_s, excessive.get(d.sn)) for d in devices]


@router.post(
    "/devices/{sn}/commands",
    status_code=201,
    summary="Kirim perintah ke mesin",
    description="Misalnya CHECK, REBOOT, DATA QUERY ATTLOG; dijalankan pada detak berikutnya.",
    tags=["Mesin sidik jari"],
)
def queue_command(sn: str, body: CommandIn, request: Request, who: Who) -> dict[str, Any]:
    """Queue a command (e.g. CHECK, REBOOT, DATA QUERY ATTLOG ...) for the next heartbeat."""
    require(who, OPERATORS, "mengirim perintah ke mesin")
    try:
        adms.DeviceCommand(1, body.perintah)
    except ValueError as exc:
        raise Problem(422, str(exc), code="bad_command") from None
    with kit_of(request).uow() as uow:
        device = queries.device(uow, sn)
        # an unknown SN is refused to an operator like another OPD's (no probing)
        require_opd_staff(who, device.opd if device else None, "mengirim perintah ke mesin ini")
        if device is None:
            raise Problem(404, f"mesin {sn} tidak terdaftar", code="not_found")
        row = commands.queue_device_command(uow, sn, body.perintah, who.nip, now_of(request))
        return {"id": row.id, "sn": sn, "perintah": row.command}


def command_view(row: DeviceCommand) -> dict[str, Any]:
    """One queued command: waiting for the device's next heartbeat (`menunggu`), handed to
    the device (`terkirim`), or answered (`selesai`; return code 0 is success on ZKTeco)."""
    state = "selesai" if row.answered_at else "terkirim" if row.sent_at else "menunggu"
    return {
        "id": row.id,
        "perintah": row.command,
        "status": state,
        "dibuat": row.created_at.isoformat(),
        "dibuat_oleh": row.created_by,
        "dikirim": row.sent_at.isoformat() if row.sent_at else None,
        "dijawab": row.answered_at.isoformat() if row.answered_at else None,
        "kode_hasil": row.return_code,
    }


@router.get(
    "/devices/{sn}/commands",
    summary="Perintah mesin dan hasilnya",
    description=(
        "Perintah terbaru lebih dulu: `menunggu` (belum diambil mesin), `terkirim`, `selesai` "
        "dengan kode hasil dari mesin (0 = berhasil)."
    ),
    tags=["Mesin sidik jari"],
)
def list_commands(
    sn: str, request: Request, who: Who, limit: int = Query(50, ge=1, le=500)
) -> list[dict[str, Any]]:
    with kit_of(request).uow() as uow:
        device = queries.device(uow, sn)
        # an unknown SN is refused to an operator like another OPD's (no probing)
        require_opd_reader(who, device.opd if device else None, "melihat perintah mesin ini")
        if device is None:
            raise Problem(404, f"mesin {sn} tidak terdaftar", code="not_found")
        return [command_view(r) for r in queries.device_commands(uow, sn, limit)]


@router.get(
    "/scans/excessive",
    summary="Pindaian berlebih sebulan",
    description=(
        "NIP-hari dengan pindaian lebih dari `max_scans_per_nip_day`: semua tersimpan, didaftar di"
        " sini untuk diperiksa operator."
    ),
    tags=["Pindaian"],
)
def excessive_scans(
    request: Request, period: str, who: Who, limit: int = Query(1000, ge=1, le=5000)
) -> dict[str, Any]:
    """NIP-days of a month with more scans than max_scans_per_nip_day (see
    flag_scan_rates): all of them stored, listed here for an operator to look at."""
    require_roles(who, {"operator", *CITY_READERS}, "melihat pindaian berlebih")
    first, last = period_bounds_or_422(period, "bad_period")
    cfg = config_of(request)
    with kit_of(request).uow() as uow:
        # an operator sees their OPD's employees' NIP-days only
        opd = (caller_opd(who) or "-") if who.role == "operator" else None
        found = store.excessive_nip_days(
            uow, first, last, cfg.max_scans_per_nip_day, max_rows=limit + 1, opd=opd
        )
    return {
        "periode": period,
        "batas_per_hari": cfg.max_scans_per_nip_day,
        "terpotong": len(found) > limit,  # more NIP-days than `limit`: narrow the period
        "nip_hari": [
            {
                "nip": e.nip,
                "tanggal": e.day.isoformat(),
                "jumlah": e.count,
                "pertama": e.first.isoformat(),
                "terakhir": e.last.isoformat(),
                "mesin": list(e.devices),
            }
            for e in found[:limit]
        ],
    }
