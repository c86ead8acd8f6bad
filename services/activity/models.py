"""Activity's tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field

from services.shared.db import Utc, service_base

Base = service_base()


class DayUnlock(Base, table=True):
    """Projection of attendance facts that open day D for filing: a scan or dinas luar."""

    __tablename__ = "day_unlock"
    nip: str = Field(primary_key=True, max_length=18)
    work_date: date = Field(primary_key=True)
    source: str = Field(primary_key=True, max_length=16)  # "scan" or "dinas_luar"
    ref: str = Field(default="", max_length=64)  # scan_id or absence_id
    active: bool = True  # a cancelled dinas luar closes the day again
    recorded_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
