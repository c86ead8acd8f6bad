"""Attendance's tables: scans, absences, devices, the calendar overrides and day closings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field

from services.shared.db import Utc, service_base

Base = service_base()


class Scan(Base, table=True):
    __tablename__ = "scan"
    scan_id: str = Field(primary_key=True, max_length=64)  # domain.scan_key: NIP + second
    nip: str = Field(index=True, max_length=18)
    ts: datetime = Field(sa_column=Column(Utc(), nullable=False))
    work_date: date = Field(index=True)
    device_sn: str | None = Field(default=None, max_length=64)
    source: str = Field(default="api", max_length=8)
    flag: str | None = Field(default=None, max_length=32)
    received_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
