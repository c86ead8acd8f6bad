"""Activity's tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import Column, Index, Table
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.shared.db import Utc, kit_tables


class Base(SQLModel, registry=registry()):
    """Activity's tables: its own MetaData, hence its own migrations."""

    __table__: ClassVar[Table]  # on each table class (SQLModel declares none)


# the kit's tables: outbox, inbox, relay lease, employee projection, work calendar
KIT = kit_tables(Base, calendar=True, penilai=True)


class DayUnlock(Base, table=True):
    """Projection of attendance facts that open day D for filing: a scan or dinas luar."""

    __tablename__ = "day_unlock"
    nip: str = Field(primary_key=True, max_length=18)
    work_date: date = Field(primary_key=True)
    source: str = Field(primary_key=True, max_length=16)  # "scan" or "dinas_luar"
    ref: str = Field(default="", max_length=64)  # scan_id or absence_id
    active: bool = True  # a cancelled dinas luar closes the day again
    recorded_at: datetime = Field(sa_column=Column(Utc(), nullable=False))


class Report(Base, table=True):
    """A daily report (laporan kegiatan harian) and its status as activity knows it."""

    __tablename__ = "report"
    __table_args__ = (Index("ix_report_nip_date", "nip", "work_date"),)
    id: str = Field(primary_key=True, max_length=36)
    nip: str = Field(max_length=18)
    work_date: date
    description: str
    output: str = ""
    quantity: int = 1
    minutes: int = 0
    skp_target_id: str | None = Field(default=None, max_length=36, index=True)
    status: str = Field(default="pending", max_length=24)
    revision: int = 0
    counts_for_tpp: bool = True
    opening_id: str | None = Field(default=None, max_length=36)  # the opening that allowed it
    imported: bool = False  # loaded by a BKPSDM migration import
    filed_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    # the latest decision from approval (who, when, the reason or note)
    decided_by: str | None = Field(default=None, max_length=18)
    decided_as_plt_for: str | None = Field(default=None, max_length=18)
    decided_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    decision_note: str | None = None
    revision_requested_at: datetime | None = Field(default=None, sa_column=Column(Utc()))


class Evidence(Base, table=True):
    """An evidence file of a report; the bytes live under data_dir/evidence/activity/."""

    __tablename__ = "evidence"
    id: str = Field(primary_key=True, max_length=36)
    report_id: str = Field(index=True, max_length=36)
    nip: str = Field(max_length=18)
    name: str = Field(max_length=255)
    content_type: str = Field(max_length=128)
    size: int
    sha256: str = Field(max_length=64)
    path: str  # relative to data_dir
    uploaded_at: datetime = Field(sa_column=Column(Utc(), nullable=False))


class Opening(Base, table=True):
    """BKPSDM opened a date for an employee: who, when, why, until when."""

    __tablename__ = "opening"
    __table_args__ = (Index("ix_opening_nip_date", "nip", "work_date"),)
    id: str = Field(primary_key=True, max_length=36)
    nip: str = Field(max_length=18)
    work_date: date
    opened_by: str = Field(max_length=18)
    reason: str
    opened_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    until: datetime = Field(sa_column=Column(Utc(), nullable=False))


class SkpTarget(Base, table=True):
    """One SKP target of an employee for a year."""

    __tablename__ = "skp_target"
    __table_args__ = (Index("ix_skp_target_nip_year", "nip", "year"),)
    id: str = Field(primary_key=True, max_length=36)
    nip: str = Field(max_length=18)
    year: int
    activity: str
    indicator: str
    target_quantity: int
    created_by: str | None = Field(default=None, max_length=18)
    updated_at: datetime = Field(sa_column=Column(Utc(), nullable=False))


class PltDelegation(Base, table=True):
    """Projection of approval's Plt delegations (DelegationGranted / DelegationRevoked), so
    a Plt may open the reports of the atasan's subordinates while the window runs (see
    queries.may_view). A revoke that overtook its grant leaves a row with `revoked_at` and no
    window yet; the late grant fills the window and the row stays revoked."""

    __tablename__ = "plt_delegation"
    __table_args__ = (Index("ix_plt_delegation_plt_atasan", "plt_nip", "atasan_nip"),)
    id: str = Field(primary_key=True, max_length=36)  # approval's delegation id
    atasan_nip: str = Field(max_length=18)
    plt_nip: str = Field(max_length=18)
    start: date | None = None  # inclusive; None until the grant arrives
    end: date | None = None  # inclusive
    granted_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
