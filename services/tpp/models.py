"""TPP's tables: projections of day facts and report decisions, and statements."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field

from services.shared.db import Utc, service_base

Base = service_base()


class DayFact(Base, table=True):
    """Latest known facts of one employee's day. Scans make a provisional row (revision 0)
    before the day closes; AttendanceDayClosed replaces it when its revision is newer."""

    __tablename__ = "day_fact"
    nip: str = Field(primary_key=True, max_length=18)
    work_date: date = Field(primary_key=True)
    revision: int = 0
    status: str = Field(default="open", max_length=32)
    minutes_late: int | None = None
    minutes_early: int | None = None
    scans_seen: int = 0
    first_scan_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    last_scan_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
