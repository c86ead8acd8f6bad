"""TPP's tables: projections (employees from the kit, day facts, report decisions), the
month statements, the periods BKPSDM closes and the corrections that arrived after a close."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import Column, Index, Table, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.shared.db import Utc, kit_tables


class Base(SQLModel, registry=registry()):
    """TPP's tables: its own MetaData, hence its own migrations."""

    __table__: ClassVar[Table]  # on each table class (SQLModel declares none)


# the kit's tables: outbox, inbox, relay lease, employee projection, work calendar (the
# month's working days divide the pagu of an employee active part of the month)
KIT = kit_tables(Base, calendar=True)
Employee = KIT.employee

PERIOD_OPEN = "open"
PERIOD_CLOSED = "closed"


class DayFact(Base, table=True):
    """Latest known facts of one employee's day. Scans make a provisional row (revision 0,
    status "open") before the day closes; AttendanceDayClosed replaces it when its revision is
    newer. Only closed rows (revision >= 1) are money: a provisional row costs nothing."""

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


class ReportDecision(Base, table=True):
    """The atasan's latest decision on one report (approved is final, as in activity)."""

    __tablename__ = "report_decision"
    __table_args__ = (Index("ix_report_decision_nip_date", "nip", "work_date"),)
    report_id: str = Field(primary_key=True, max_length=64)
    nip: str = Field(max_length=18)
    work_date: date
    status: str = Field(max_length=24)  # approved | rejected | revision_requested
    decided_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    event_id: str = Field(max_length=36)


class Statement(Base, table=True):
    """The month statement of one ASN as last computed (or frozen by a period close)."""

    __tablename__ = "statement"
    __table_args__ = (Index("ix_statement_period_opd", "period", "opd"),)
    nip: str = Field(primary_key=True, max_length=18)
    period: str = Field(primary_key=True, max_length=7)
    nama: str = ""
    opd: str = ""
    jabatan: str = ""
    rules: str = Field(max_length=64)
    pagu: int
    discipline: int
    productivity: int
    attendance_deduction: int
    attendance_deduction_uncapped: int
    attendance_cap: int
    productivity_deduction: int
    productivity_deduction_uncapped: int
    productivity_cap: int
    required_report_days: int
    approved_report_days: int
    net: int
    # [{"date","code","percent","amount","article"}], sorted by date then code
    lines_json: str = Field(sa_column=Column(Text, nullable=False))
    # How the pagu came from the employment periods (domain.PaguBasis.to_dict), as computed
    # with the money; "" for statements stored before it was kept.
    pagu_basis_json: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    frozen: bool = False
    computed_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    cause_event_type: str = Field(default="", max_length=64)
    cause_event_id: str | None = Field(default=None, max_length=36)


class Period(Base, table=True):
    """A month's state. A missing row is an open month."""

    __tablename__ = "period"
    period: str = Field(primary_key=True, max_length=7)
    status: str = Field(default=PERIOD_OPEN, max_length=16)
    closed_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    closed_by: str | None = None
    reopened_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    reopened_by: str | None = None
    close_count: int = 0


class PendingCorrection(Base, table=True):
    """An event for a month that was already closed: kept, shown to BKPSDM, applied on reopen."""

    __tablename__ = "pending_correction"
    __table_args__ = (Index("ix_pending_correction_period", "period", "applied_at"),)
    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=7)
    nip: str = Field(max_length=18)
    event_id: str = Field(max_length=36, unique=True)
    event_type: str = Field(max_length=64)
    work_date: date | None = None
    summary: str = ""  # Bahasa Indonesia, for BKPSDM
    payload: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    applied_at: datetime | None = Field(default=None, sa_column=Column(Utc()))


ANNULMENT_ACTIVE = "aktif"
ANNULMENT_REVOKED = "dicabut"


class Annulment(Base, table=True):
    """BKPSDM's annulment of the cuts of one date (RULES.md "Annulled cuts"): one NIP or one
    OPD, one line code or every line; revoked rows stay (the line comes back)."""

    __tablename__ = "annulment"
    __table_args__ = (
        Index("ix_annulment_work_date", "work_date"),
        Index("ix_annulment_scope_opd", "scope_opd", "work_date"),
    )
    id: str = Field(primary_key=True, max_length=36)
    work_date: date
    nip: str | None = Field(default=None, max_length=18, index=True)
    opd: str | None = None  # the OPD named (None: one NIP)
    # Whose operators may read it: the OPD named, or the NIP's OPD on that date.
    scope_opd: str = ""
    code: str | None = Field(default=None, max_length=16)  # None: every line of the date
    reason: str
    proposal: str | None = None  # e.g. attendance's device-outage proposal it confirms
    document_id: str = Field(max_length=64)
    document_name: str = ""
    document_type: str = Field(max_length=32)
    status: str = Field(default=ANNULMENT_ACTIVE, max_length=16)
    created_by: str
    created_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    revoked_by: str | None = None
    revoked_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    revoke_reason: str | None = None


class AnnulmentLog(Base, table=True):
    """Who recorded or revoked an annulment, when, and what it recomputed (the audit log)."""

    __tablename__ = "annulment_log"
    __table_args__ = (Index("ix_annulment_log_annulment", "annulment_id"),)
    id: int | None = Field(default=None, primary_key=True)
    action_id: str = Field(max_length=36, unique=True)  # TppRecomputed.cause_event_id
    annulment_id: str = Field(max_length=36)
    action: str = Field(max_length=16)  # dibuat | dicabut
    actor: str  # NIP, or the role of a service account
    actor_role: str = Field(max_length=16)
    at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    reason: str = ""
    recomputed: int = 0  # statements recomputed at once
    pending: int = 0  # statements of a closed month: kept as pending corrections
