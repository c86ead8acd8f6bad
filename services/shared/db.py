"""Stores: SQLModel on SQLite (a file per service) or PostgreSQL (by URL), one registry
(hence one MetaData, one set of Alembic migrations) per service, and the tables every
service carries: outbox, inbox, relay lease and the employee projection."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar, cast

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Executable,
    MetaData,
    Row,
    Table,
    TypeDecorator,
    event,
)
from sqlmodel import Field, SQLModel, create_engine


class Utc(TypeDecorator[datetime]):
    """A UTC instant. SQLite keeps no zone, so values are stored as naive UTC and come back
    tz-aware; naive input is refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class WriterBusy(Exception):
    """The writer slot stayed taken longer than the caller would wait (writer_wait_limit)."""


_WAIT_LIMIT: ContextVar[float | None] = ContextVar("sikerja_writer_wait_limit", default=None)


@contextmanager
def writer_wait_limit(seconds: float) -> Iterator[None]:
    """Within this block a write waits at most `seconds` for SQLite's writer slot (and not at
    all for another process holding it), then raises WriterBusy: for code on the event loop,
    which may pause for a short transaction of another thread but not for a long one."""
    token = _WAIT_LIMIT.set(seconds)
    try:
        yield
    finally:
        _WAIT_LIMIT.reset(token)


# Statements that never take SQLite's write lock; anything else may.
_READS = ("SELECT", "PRAGMA", "EXPLAIN")
SQLITE_LOCK_TIMEOUT_S = 30.0


class _WriterCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        conn: _WriterConnection = self.connection  # type: ignore[assignment]
        conn.begin_write(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            conn.end_write()

    def executemany(self, sql: str, parameters: Any, /) -> Self:
        conn: _WriterConnection = self.connection  # type: ignore[assignment]
        conn.begin_write(sql)
        try:
            return super().executemany(sql, parameters)
        finally:
            conn.end_write()


class _WriterFile:
    """The writer slot between processes: an exclusive flock on a file beside the database.
    The kernel hands it to the next waiter the moment it is released, where SQLite's own
    busy handler would sleep 1 ... 100 ms between polls. Opened lazily in each process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0

    def acquire(self, wait: bool = True) -> bool:
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


class _WriterConnection(sqlite3.Connection):
    """A SQLite connection that queues for the database's one writer slot in Python.

    SQLite lets one writer in at a time; the others poll with sleeps of 1, 2, 5 ... 100 ms
    (its busy handler), so under concurrent writes most of a request's time was spent
    sleeping after the lock had long been free. A process-wide lock (and, for a database
    file, a file lock shared with the other processes of the service) taken before the first
    write of a transaction and released right after its commit/rollback hands the slot over
    at once."""

    writer: threading.Lock  # one per database file, set on the per-engine subclass
    writer_file: _WriterFile | None  # the same slot across processes (uvicorn --workers)
    _holds = False

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory or _WriterCursor)

    def begin_write(self, sql: str) -> None:
        if self._holds or sql.lstrip()[:7].upper().startswith(_READS):
            return
        limit = _WAIT_LIMIT.get()
        # A blocked acquire releases the GIL: the thread holding the slot finishes at once.
        if not self.writer.acquire(timeout=SQLITE_LOCK_TIMEOUT_S if limit is None else limit):
            if limit is not None:
                raise WriterBusy
            raise sqlite3.OperationalError("database is locked")
        if self.writer_file is not None:
            try:
                if not self.writer_file.acquire(wait=limit is None):
                    raise WriterBusy
            except BaseException:
                self.writer.release()
                raise
        self._holds = True

    def _release(self) -> None:
        self._holds = False
        try:
            if self.writer_file is not None:
                self.writer_file.release()
        finally:
            self.writer.release()

    def end_write(self) -> None:
        """Give the slot back once no transaction is open (after commit/rollback, or after
        a statement that ran outside a transaction)."""
        if self._holds and not self.in_transaction:
            self._release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_write()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_write()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._holds:
                self._release()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        pool: dict[str, Any] = {}
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # enough for the HTTP worker threads + relay + consumer: no connect per request
            pool = {"pool_size": 20, "max_overflow": 20}
        writer_file = _WriterFile(Path(path + ".writer")) if pool else None
        factory = type(
            "WriterConnection",
            (_WriterConnection,),
            {"writer": threading.Lock(), "writer_file": writer_file},
        )
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30, "factory": factory},
            **pool,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            cur = dbapi_conn.cursor()
            # WAL: readers never block the writer; NORMAL sync is durable across app crashes
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


class KitRow(SQLModel):
    """The columns of a kit table; `kit_tables` makes the table on a service's Base."""

    __table__: ClassVar[Table]  # set on the table class


class OutboxRow(KitRow):
    """An event waiting for the relay (the outbox); one table per service."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(index=True, unique=True, max_length=36)
    event_type: str = Field(max_length=64)
    topic: str = Field(max_length=128)
    key: str = Field(max_length=64)
    payload: str
    created_at: datetime = Field(sa_type=Utc, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=Utc, index=True)
    attempts: int = 0


class InboxRow(KitRow):
    """An event this service has handled (the inbox)."""

    event_id: str = Field(primary_key=True, max_length=36)
    event_type: str = Field(max_length=64)
    handled_at: datetime = Field(sa_type=Utc, nullable=False)


class RelayLeaseRow(KitRow):
    """Which replica's relay publishes the outbox, until when."""

    name: str = Field(primary_key=True, max_length=32)
    owner: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=Utc, nullable=False)


class EmployeeRow(KitRow):
    """Projection of the employee master (EmployeeUpserted / EmployeeDeactivated)."""

    nip: str = Field(primary_key=True, max_length=18)
    nama: str
    opd: str = Field(index=True)
    jabatan: str = ""
    kelas_jabatan: int = 1
    atasan_nip: str | None = Field(default=None, index=True, max_length=18)
    tpp_pagu: int = 0
    pin: str | None = Field(default=None, index=True)
    active: bool = True
    updated_at: datetime | None = Field(default=None, sa_type=Utc)


class EmployeePeriodRow(KitRow):
    """One period of the employee master (services/kernel/employment.py): who the NIP was
    from `first_day` to `last_day` (inclusive; null = open). The `employee` row beside it
    holds the latest period and the PIN."""

    id: int | None = Field(default=None, primary_key=True)
    nip: str = Field(index=True, max_length=18)
    first_day: date | None = None
    last_day: date | None = None
    nama: str
    opd: str = Field(index=True)
    jabatan: str = ""
    kelas_jabatan: int = 1
    atasan_nip: str | None = Field(default=None, index=True, max_length=18)
    tpp_pagu: int = 0


class PenilaiRow(KitRow):
    """Approval's penilai of an employee without atasan (PenilaiAssigned / PenilaiRemoved),
    for the services that keep it (services.shared.penilai). A removal that overtook its
    assignment leaves a row with `removed_at` and no assignment."""

    id: str = Field(primary_key=True, max_length=36)  # approval's penilai id
    nip: str = Field(index=True, max_length=18)  # the employee without atasan
    penilai_nip: str = Field(index=True, max_length=18)
    first_day: date | None = None  # inclusive; None = from the start
    last_day: date | None = None  # inclusive; None = open
    assigned_at: datetime | None = Field(default=None, sa_type=Utc)
    removed_at: datetime | None = Field(default=None, sa_type=Utc)


class CalendarYearRow(KitRow):
    """The work calendar of one year as attendance last announced it (services that keep
    the projection: services.shared.calendar_book)."""

    year: int = Field(primary_key=True)
    holidays: str = "[]"  # JSON: [{"tanggal": "2026-12-24", "nama": "..."}]
    working_days: str = "[]"  # JSON: ["2026-12-26"]
    changed_at: datetime = Field(sa_type=Utc, nullable=False)


@dataclass(frozen=True)
class KitTables:
    """The kit's tables on one service's Base (its MetaData), built by `kit_tables`."""

    metadata: MetaData
    outbox: type[OutboxRow]
    inbox: type[InboxRow]
    relay_lease: type[RelayLeaseRow]
    employee: type[EmployeeRow]
    employee_period: type[EmployeePeriodRow]
    calendar_year: type[CalendarYearRow] | None = None
    penilai: type[PenilaiRow] | None = None


_R = TypeVar("_R", bound=KitRow)


def _table(base: type[SQLModel], row: type[_R], tablename: str) -> type[_R]:
    """`class <Name>(row, base, table=True)` with `base` a value: the table on base's
    registry, with row's columns (declared with sa_type, so each table gets its own)."""

    def body(ns: dict[str, Any]) -> None:
        ns["__tablename__"] = tablename
        ns["__module__"] = row.__module__
        ns["__doc__"] = row.__doc__

    name = row.__name__.removesuffix("Row")
    return cast(type[_R], types.new_class(name, (row, base), {"table": True}, body))


def kit_tables(base: type[SQLModel], *, calendar: bool = False, penilai: bool = False) -> KitTables:
    """Create the kit's tables on a service's Base: outbox, inbox, relay lease, employee
    projection and, with `calendar`, the work calendar's projection; with `penilai`, approval's
    penilai (services.shared.penilai).

    Each service's models.py declares `class Base(SQLModel, registry=registry())` (its own
    MetaData, hence its own migrations) and calls this once: `KIT = kit_tables(Base)`.
    """
    return KitTables(
        metadata=base.metadata,
        outbox=_table(base, OutboxRow, "outbox"),
        inbox=_table(base, InboxRow, "inbox"),
        relay_lease=_table(base, RelayLeaseRow, "relay_lease"),
        employee=_table(base, EmployeeRow, "employee"),
        employee_period=_table(base, EmployeePeriodRow, "employee_period"),
        calendar_year=_table(base, CalendarYearRow, "calendar_year") if calendar else None,
        penilai=_table(base, PenilaiRow, "penilai_assignment") if penilai else None,
    )


__all__ = ["Utc", "WriterBusy", "date", "kit_tables", "make_engine", "writer_wait_limit"]


# -- IN (...) lists ---------------------------------------------------------------------------

IN_CHUNK = 500  # keys per IN (...) list: under SQLite's limit (999 before 3.32) and PostgreSQL's
_Seq = TypeVar("_Seq", bound=Sequence[Any])


def chunked(items: _Seq, size: int = IN_CHUNK) -> Iterator[_Seq]:
    """`items` in slices of `size` (of the same type: a list gives lists)."""
    for i in range(0, len(items), size):
        yield cast(_Seq, items[i : i + size])


def select_in(
    conn: Connection, statement: Executable, keys: Sequence[str], size: int = IN_CHUNK
) -> list[Row[Any]]:
    """The rows of `statement`, whose IN (...) takes the expanding parameter `keys`, run once
    per chunk of `keys`."""
    rows: list[Row[Any]] = []
    for chunk in chunked(keys, size):
        rows.extend(conn.execute(statement, {"keys": chunk}))
    return rows
