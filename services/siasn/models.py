"""SIASN bridge tables: the employee master it publishes (kept in the kit's employee table),
what it last read of each ASN from SIASN, and the two tables BKPSDM keeps for the bridge
(SIASN units -> OPD, TPP pagu per kelas jabatan by date)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import Table
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.shared.db import Utc, kit_tables
from services.shared.lease import JobLeaseRow


class Base(SQLModel, registry=registry()):
    """The SIASN bridge's tables: its own MetaData, hence its own migrations."""

    __table__: ClassVar[Table]  # on each table class (SQLModel declares none)


# the kit's tables: outbox, inbox, relay lease, employee projection
KIT = kit_tables(Base)


class JobLease(JobLeaseRow, Base, table=True):
    """Which replica runs the sync or the delivery (services/shared/lease.py): two siasn
    replicas never read SIASN or send results at the same time."""

    __tablename__ = "job_lease"


class SiasnPerson(Base, table=True):
    """An ASN the bridge knows from SIASN (an employee without a row here came from a file:
    a sync never deactivates those)."""

    __tablename__ = "siasn_person"
    nip: str = Field(primary_key=True, max_length=18)
    siasn_id: str = Field(max_length=64)  # pnsDinilaiId when results are sent
    unor_id: str = Field(max_length=64)
    golongan: str = ""
    last_seen_at: datetime = Field(sa_type=Utc, nullable=False)


class UnitOpd(Base, table=True):
    """BKPSDM's table: the OPD a SIASN unit (unor) belongs to."""

    __tablename__ = "siasn_unit_opd"
    unor_id: str = Field(primary_key=True, max_length=64)
    opd: str
    unor_nama: str = ""
    updated_at: datetime = Field(sa_type=Utc, nullable=False)
    updated_by: str = ""


class PaguVersion(Base, table=True):
    """BKPSDM's table: a kelas jabatan's monthly TPP pagu from a date on."""

    __tablename__ = "siasn_pagu"
    kelas_jabatan: int = Field(primary_key=True)
    berlaku_mulai: date = Field(primary_key=True)
    pagu: int
    created_at: datetime = Field(sa_type=Utc, nullable=False)
    created_by: str = ""


class SyncRun(Base, table=True):
    """One sync from SIASN: what it read, changed and refused (record by record)."""

    __tablename__ = "siasn_sync_run"
    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(sa_type=Utc, nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=Utc)
    trigger: str = ""  # "jadwal" or who asked
    status: str = "berjalan"  # berjalan, selesai, gagal
    read: int = 0
    upserted: int = 0
    deactivated: int = 0
    unchanged: int = 0
    rejected_json: str = "[]"  # [{"nip": ..., "reason": ...}]
    error: str = ""


# delivery states of a monthly result
WAITING = "menunggu"  # ratings and/or the closed period still missing
DUE = "siap"  # closed and confirmed: to send
SENDING = "mengirim"  # an attempt is in flight (a crash here is resent: see delivery.py)
SENT = "terkirim"
RETRY = "gagal_sementara"  # SIASN down or slow: retried after `next_attempt_at`
REFUSED = "ditolak"  # SIASN refused the record: BKPSDM must look
BACKLOG_STATES = (DUE, SENDING, RETRY)
STATE_LABEL = {
    WAITING: "Menunggu penetapan atasan atau penutupan bulan",
    DUE: "Siap dikirim",
    SENDING: "Sedang dikirim",
    SENT: "Terkirim ke SIASN",
    RETRY: "Gagal sementara, akan dicoba lagi",
    REFUSED: "Ditolak SIASN, perlu diperiksa BKPSDM",
}


class KinerjaDelivery(Base, table=True):
    """The delivery log of one ASN's monthly result to SIASN: one row per (NIP, period),
    whose state says what was sent; SIASN's record id is what a correction deletes."""

    __tablename__ = "siasn_kinerja_delivery"
    nip: str = Field(primary_key=True, max_length=18)
    period: str = Field(primary_key=True, max_length=7)
    opd: str = Field(default="", index=True)
    hasil_kerja: str | None = None
    perilaku_kerja: str | None = None
    predikat: int | None = None
    confirmed_by: str | None = Field(default=None, max_length=18)
    revision: int = 0
    closed: bool = False
    state: str = Field(default=WAITING, index=True)
    siasn_record_id: str | None = None  # what SIASN holds now
    delete_record_id: str | None = None  # a sent record a correction must delete first
    sent_revision: int = 0
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=Utc)
    last_error: str = ""
    updated_at: datetime = Field(sa_type=Utc, nullable=False)
