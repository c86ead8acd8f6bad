"""Approval's tables: the queue (a projection of activity's reports), decisions' audit log,
Plt delegations, the period locks fed by tpp, and the monthly kinerja result: tpp's summary
of the closed month, activity's SKP targets, and the atasan's confirmed ratings."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import Column, Index, Table
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.shared.db import Utc, kit_tables


class Base(SQLModel, registry=registry()):
    """Approval's tables: its own MetaData, hence its own migrations."""

    __table__: ClassVar[Table]  # on each table class (SQLModel declares none)


# the kit's tables: outbox, inbox, relay lease, employee projection, work calendar
KIT = kit_tables(Base, calendar=True)


class QueueEntry(Base, table=True):
    """A report as approval knows it, and whose queue it is in."""

    __tablename__ = "queue_entry"
    __table_args__ = (Index("ix_queue_entry_atasan_status", "atasan_nip", "status"),)
    report_id: str = Field(primary_key=True, max_length=36)
    owner_nip: str = Field(index=True, max_length=18)
    work_date: date
    atasan_nip: str | None = Field(default=None, max_length=18)
    status: str = Field(default="pending", max_length=24)
    revision: int = 0  # the latest revision of the report seen (older ones are ignored)
    description: str = ""
    output: str = ""
    quantity: int = 1
    minutes: int = 0
    skp_target_id: str | None = Field(default=None, max_length=36)
    filed_at: datetime = Field(sa_column=Column(Utc(), nullable=False))  # (re)entered queue
    updated_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    # a migration import's historical decision, waiting for the employee's atasan to be known
    imported_decision: str | None = Field(default=None, max_length=16)
    imported_decided_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    reported_event_id: str | None = Field(default=None, max_length=36)


class DecisionLog(Base, table=True):
    """The audit log: who decided what, when, why, on whose behalf."""

    __tablename__ = "decision_log"
    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(index=True, max_length=36)
    owner_nip: str = Field(index=True, max_length=18)
    work_date: date
    actor_nip: str = Field(index=True, max_length=18)
    action: str = Field(max_length=24)
    reason: str | None = None
    as_plt_for: str | None = Field(default=None, max_length=18)
    # the penilai an employee without atasan has (their NIP, or "BKPSDM"), when they decided
    as_penilai: str | None = Field(default=None, max_length=18)
    source: str = Field(default="api", max_length=16)  # api, bulk, import
    event_id: str = Field(max_length=36)
    at: datetime = Field(sa_column=Column(Utc(), nullable=False, index=True))


class Delegation(Base, table=True):
    """An atasan's approvals delegated to a Plt for a date range (inclusive)."""

    __tablename__ = "delegation"
    id: str = Field(primary_key=True, max_length=36)
    atasan_nip: str = Field(index=True, max_length=18)
    plt_nip: str = Field(index=True, max_length=18)
    start: date
    end: date
    created_by: str | None = Field(default=None, max_length=18)
    created_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    revoked_by: str | None = Field(default=None, max_length=18)


class PenilaiRow(Base, table=True):
    """Who decides the reports of an employee without atasan (a Kepala OPD, the Sekda),
    set by BKPSDM for a date range (inclusive; None = open): an official's NIP, or BKPSDM
    itself ("BKPSDM"). A removed row is kept for the audit."""

    __tablename__ = "penilai"
    id: str = Field(primary_key=True, max_length=36)
    nip: str = Field(index=True, max_length=18)  # the employee
    penilai: str = Field(index=True, max_length=18)  # a NIP, or "BKPSDM"
    nama: str = ""
    jabatan: str = ""
    first_day: date | None = None
    last_day: date | None = None
    set_by: str = Field(max_length=18)
    set_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    removed_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    removed_by: str | None = Field(default=None, max_length=18)


class PeriodClose(Base, table=True):
    """TppPeriodClosed: the month of this employee is closed in tpp (latest close kept)."""

    __tablename__ = "period_close"
    nip: str = Field(primary_key=True, max_length=18)
    period: str = Field(primary_key=True, max_length=7)
    closed_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    closed_by: str = ""


class PeriodReopen(Base, table=True):
    """BKPSDM reopened a closed month for decisions (for everyone, or one employee)."""

    __tablename__ = "period_reopen"
    id: str = Field(primary_key=True, max_length=36)
    period: str = Field(index=True, max_length=7)
    nip: str | None = Field(default=None, max_length=18)
    reopened_by: str = Field(max_length=18)
    reason: str
    at: datetime = Field(sa_column=Column(Utc(), nullable=False))


class KinerjaResult(Base, table=True):
    """The month's two ratings of an ASN as the atasan confirmed them (docs/rules.md
    "Monthly kinerja result"); each change is a new revision, announced to siasn."""

    __tablename__ = "kinerja_result"
    nip: str = Field(primary_key=True, max_length=18)
    period: str = Field(primary_key=True, max_length=7)
    hasil_kerja: str
    perilaku_kerja: str
    reason: str = ""
    confirmed_by: str = Field(max_length=18)
    revision: int = 1
    confirmed_at: datetime = Field(sa_type=Utc, nullable=False)
    as_plt_for: str | None = Field(default=None, max_length=18)  # a Plt confirmed for them
    # what SIKERJA proposed when it was confirmed (None: no proposal yet)
    proposed_hasil: str | None = Field(default=None, max_length=16)
    proposed_perilaku: str | None = Field(default=None, max_length=16)


class KinerjaMonth(Base, table=True):
    """TppPeriodClosed's summary of one ASN's closed month: what the proposal of the monthly
    kinerja result reads (the latest close kept)."""

    __tablename__ = "kinerja_month"
    nip: str = Field(primary_key=True, max_length=18)
    period: str = Field(primary_key=True, max_length=7)
    rules: str = Field(max_length=64)
    pagu: int
    required_days: int
    approved_days: int
    attendance_deduction: int
    attendance_lines: int
    tk_days: int
    closed_at: datetime = Field(sa_type=Utc, nullable=False)


class SkpTargetRow(Base, table=True):
    """An SKP target as activity announced it (SkpTargetChanged); a deleted one is kept as
    deleted so that a late, older announcement cannot bring it back."""

    __tablename__ = "skp_target"
    __table_args__ = (Index("ix_skp_target_nip_year", "nip", "year"),)
    id: str = Field(primary_key=True, max_length=36)
    nip: str = Field(max_length=18)
    year: int
    target_quantity: int
    deleted: bool = False
    changed_at: datetime = Field(sa_type=Utc, nullable=False)
