"""Notifier's tables: the inbox, the delivery log, configured channels, and the projections
the warnings are computed from (the durable truth behind the Redis day sets)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import ClassVar

from sqlalchemy import Column, Table
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.shared.db import Utc, kit_tables
from services.shared.lease import JobLeaseRow


class Base(SQLModel, registry=registry()):
    """The notifier's tables: its own MetaData, hence its own migrations."""

    __table__: ClassVar[Table]  # on each table class (SQLModel declares none)


# the kit's tables: outbox, inbox, relay lease, employee projection, work calendar
KIT = kit_tables(Base, calendar=True, penilai=True)


class ScanDay(Base, table=True):
    """An employee had at least one scan on a WIB date (FingerprintRecorded)."""

    __tablename__ = "scan_day"
    nip: str = Field(primary_key=True, max_length=18)
    work_date: date = Field(primary_key=True, index=True)


class ReportState(Base, table=True):
    """One daily report as seen from activity and approval events. Instants, not flags, so
    events arriving in any order give the same answer (see domain.is_waiting)."""

    __tablename__ = "report_state"
    report_id: str = Field(primary_key=True, max_length=64)
    nip: str = Field(index=True, max_length=18)
    work_date: date | None = Field(default=None, index=True)
    filed_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    filed_on: date | None = None  # WIB date of filed_at
    decided_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(Utc()))


class CacheGap(Base, table=True):
    """A date whose Redis day sets missed an update (Redis was down): the next job run
    rebuilds them from SQL."""

    __tablename__ = "cache_gap"
    work_date: date = Field(primary_key=True)


class Message(Base, table=True):
    """One inbox message. `dedup_key` is unique: one warning per employee, kind and date."""

    __tablename__ = "message"
    id: int | None = Field(default=None, primary_key=True)
    nip: str = Field(index=True, max_length=18)
    kind: str = Field(max_length=32)
    ref_date: date = Field(index=True)
    title: str
    body: str
    dedup_key: str = Field(unique=True, max_length=128)
    cause_event_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(sa_column=Column(Utc(), nullable=False, index=True))
    read_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    # configured channel: none (no channel), pending, sending (claimed), sent, done (no
    # channel any more, or over the hourly limit), skipped (preferences), dead (gave up)
    channel_state: str = Field(default="none", max_length=16, index=True)
    channel_claimed_at: datetime | None = Field(default=None, sa_column=Column(Utc()))
    # the dispatcher's claim: only the claimant's token may record the outcome (fencing)
    claim_token: str | None = Field(default=None, max_length=36)
    # failed channel attempts so far, and when the next may be made (backoff, quiet hours)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(Utc()))


class Delivery(Base, table=True):
    """The delivery log: one row per attempt on a channel (the inbox included)."""

    __tablename__ = "delivery"
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(index=True)
    nip: str = Field(index=True, max_length=18)
    channel: str = Field(max_length=32)
    address: str | None = None
    # stored (inbox), sending (written before the send), sent, failed, dead, deferred,
    # interrupted (the sender died mid-send: re-sent with the same key), rate_limited, skipped
    status: str = Field(max_length=32)
    detail: str = ""  # the error, or the gateway's answer
    # what the channel receives to deduplicate (SMTP Message-ID, webhook Idempotency-Key)
    idempotency_key: str | None = Field(default=None, max_length=64, index=True)
    attempted_at: datetime = Field(sa_column=Column(Utc(), nullable=False, index=True))


class ChannelConfig(Base, table=True):
    """An employee's configured channel besides the in-app inbox (email, whatsapp, ...)."""

    __tablename__ = "channel_config"
    nip: str = Field(primary_key=True, max_length=18)
    channel: str = Field(max_length=32)
    address: str
    updated_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    # preferences: the kinds sent on the channel (comma-separated Kind values; None = all)
    # and quiet hours in WIB (nothing is sent between start and end; the inbox still gets it)
    kinds: str | None = Field(default=None, max_length=200)
    quiet_start: time | None = None
    quiet_end: time | None = None
    set_by: str | None = Field(default=None, max_length=18)  # the user or their operator


class JobRun(Base, table=True):
    """A scheduled job that ran for a WIB date, so the minute ticks run it once a day (a
    re-run would send nothing new anyway: messages are deduplicated)."""

    __tablename__ = "job_run"
    job: str = Field(primary_key=True, max_length=32)
    run_date: date = Field(primary_key=True)
    ran_at: datetime = Field(sa_column=Column(Utc(), nullable=False))
    created: int = 0


class JobLease(JobLeaseRow, Base, table=True):
    """Who runs a scheduled job across replicas (services/shared/lease.py)."""

    __tablename__ = "job_lease"
