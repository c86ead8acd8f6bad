"""Attendance's tables: scans, absences, devices, the calendar overrides and day closings."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import Column, Index, Table, false
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.shared.db import Utc, kit_tables


class Base(SQLModel, registry=registry()):
    """Attendance's tables: its own MetaData, hence its own migrations."""

    __table__: ClassVar[Table]  # on each table class (SQLModel declares none)


# the kit's tables: outbox, inbox, relay lease, employee projection
KIT = kit_tables(Base)


class Scan(Base, table=True):
    __tablename__ = "scan"
    __table_args__ = (Index("ix_scan_work_date_nip", "work_date", "nip"),)
    scan_id: str = Field(primary_key=True, max_length=64)  # domain.scan_key: NIP + second
    nip: str = Field(index=True, max_length=18)
    ts: datetime = Field(sa_column=Column(Utc(), nullable=False))
    work_date: date = Field(index=True)
    device_sn: str | None = Field(default=None, max_length=64)
    source: str = Field(default="api", max_length=8)
    flag: str | None = Field(default=None, max_length=32)
    received_at: datetime = Field(sa_column=Column(Utc(), nullable=False))


class Device(Base, table=True):
    """A registered fingerprint device (ZKTeco ADMS); unknown serial numbers are refused."""

    __tablename__ = "device"
    sn: str = Field(primary_key=True, max_length=64)
    opd: str = Field(index=True)
    location: str = ""
    name: str = ""
    timezone: str = Field(default="7", max_length=8)  # the device's TimeZone option (hours)
    attlog_stamp: str = Field(default="0", max_length=32)  # last ATTLOG Stamp stored
    op_stamp: str = Field(default="0", max_length=32)
    registered_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    registered_by: str | None = None
    last_seen_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    last_ip: str | None = None
    firmware: str | None = None  # pushver
    # When set, /iclock/* from any other source address is refused (set at registration).
    pinned_ip: str | None = Field(default=None, max_length=45)


class DeviceDay(Base, table=True):
    """A device's contact with the server on one WIB date (ADMS handshake, getrequest,
    cdata, devicecmd): what the device-outage proposals read, as `Device.last_seen_at`
    keeps only the latest contact. One upsert per request (adms_api._contact)."""

    __tablename__ = "device_day"
    sn: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True, index=True)  # WIB date of the contact
    first_contact: datetime = Field(sa_column=Column(Utc(), nullable=False))
    last_contact: datetime = Field(sa_column=Column(Utc(), nullable=False))
    heartbeats: int = 0  # requests without ATTLOG lines (handshake, getrequest, ...)
    scans: int = 0  # ATTLOG lines received that day (any work date, stored or held)


class DeviceCommand(Base, table=True):
    """A command queued for a device; handed out on getrequest, answered on devicecmd."""

    __tablename__ = "device_command"
    id: int | None = Field(default=None, primary_key=True)
    sn: str = Field(index=True, max_length=64)
    command: str
    created_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    created_by: str | None = None
    sent_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    answered_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    return_code: int | None = None


class Absence(Base, table=True):
    """An absence record over [start, end]; the latest non-cancelled one decides a day."""

    __tablename__ = "absence"
    __table_args__ = (Index("ix_absence_range", "start", "end"),)
    id: int | None = Field(default=None, primary_key=True)  # recording order
    absence_id: str = Field(index=True, unique=True, max_length=36)
    nip: str = Field(index=True, max_length=18)
    kind: str = Field(max_length=32)
    start: date
    end: date
    note: str = ""
    cancelled: bool = False
    document_id: str | None = Field(default=None, max_length=64)
    document_name: str | None = None
    document_type: str | None = Field(default=None, max_length=32)
    recorded_by: str | None = None
    recorded_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(Utc()))


class CalendarOverride(Base, table=True):
    """BKPSDM's edit of the seeded calendar: a date made a holiday or made a working day."""

    __tablename__ = "calendar_override"
    day: date = Field(primary_key=True)
    kind: str = Field(max_length=16)  # "holiday" or "working"
    name: str = ""
    updated_by: str | None = None
    updated_at: datetime = Field(sa_column=Column(Utc(), nullable=False))


class ClosedDate(Base, table=True):
    """A date the closer has processed: later changes touching it re-close it."""

    __tablename__ = "closed_date"
    day: date = Field(primary_key=True)
    closed_at: datetime = Field(sa_column=Column(Utc(), nullable=False))


class DayClosing(Base, table=True):
    """The latest facts emitted for (nip, date); `revision` counts the AttendanceDayClosed."""

    __tablename__ = "day_closing"
    nip: str = Field(primary_key=True, max_length=18)
    work_date: date = Field(primary_key=True, index=True)
    revision: int = 1
    status: str = Field(max_length=32)
    check_in: datetime | None = Field(default=None, sa_column=Column(Utc()))
    check_out: datetime | None = Field(default=None, sa_column=Column(Utc()))
    minutes_late: int | None = None
    minutes_early: int | None = None
    closed_at: datetime = Field(sa_column=Column(Utc(), nullable=False))


class QuarantinedScan(Base, table=True):
    """A scan that arrived before what it belongs to: a device PIN not mapped to any
    employee yet, or a NIP attendance does not know yet. It waits here (state "menunggu")
    and becomes a Scan when EmployeeUpserted brings its employee (state "diterapkan")."""

    __tablename__ = "scan_quarantine"
    __table_args__ = (Index("ix_scan_quarantine_pin_state", "pin", "state"),)
    id: int | None = Field(default=None, primary_key=True)
    # device SN (or "") | PIN | UTC second: the same line pushed twice is held once
    qkey: str = Field(unique=True, max_length=160)
    pin: str = Field(max_length=64)  # the device PIN, or the NIP of an import line
    ts: datetime = Field(sa_column=Column(Utc(), nullable=False))
    work_date: date
    device_sn: str | None = Field(default=None, index=True, max_length=64)
    source: str = Field(max_length=8)
    raw: str = ""  # the line as received (device line, or "nip,waktu" of an import)
    reason: str = Field(max_length=32)  # pin_unknown, employee_unknown
    state: str = Field(default="menunggu", index=True, max_length=16)
    received_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    nip: str | None = Field(default=None, max_length=18)  # the employee it was applied to
    applied_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    # a line of a BKPSDM migration import: released as migration (store.record_scans)
    migration: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
