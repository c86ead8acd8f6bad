"""The unit of work: one database transaction holding the state change, the events it
emits (the outbox) and, for a consumer, the ids of the events it handles (the inbox).

Delivery is at least once on the wire and exactly once in effect: the relay may publish an
event twice (crash between send and mark), the consumer may see it twice (crash between
commit and offset commit); the inbox makes the second sight a no-op.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session, col

from contracts import Event
from services.shared.db import KitTables, chunked
from services.shared.settings import Settings

# The event parameter is the class the handler takes (its annotation, see handlers.py).
Handler = Callable[["UnitOfWork", Any], Awaitable[None] | None]
Clock = Callable[[], datetime]  # the one way to read "now": the kit's, a test's in tests
# WITH ORDINALITY: the locks are taken in the order of the (sorted) array
_ADVISORY_XACT_LOCKS = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
    "FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS t(k, n) ORDER BY n"
)


def utcnow() -> datetime:
    """The wall clock: the default `Clock` of every kit, the only reader of it."""
    return datetime.now(UTC)


def store_unavailable(exc: BaseException) -> bool:
    """A database that cannot be reached or is locked, as opposed to a bad event."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


class UnitOfWork:
    """One database transaction: the state change, the events it emits (outbox) and, for a
    consumer, the id of the event it handles (inbox).

    `tables` are the kit's tables of the service (employee projection, outbox, inbox...),
    `settings` its settings (topic names, ruleset), `after_emit` what to do after a commit
    that wrote outbox rows (the kit wakes its relay), `clock` the kit's clock: what a
    handler dates its work with (tests set it)."""

    def __init__(
        self,
        session: Session,
        tables: KitTables,
        settings: Settings,
        after_emit: Callable[[], None],
        clock: Clock = utcnow,
    ) -> None:
        self.session = session
        self.clock = clock
        self.tables = tables
        self.settings = settings
        self._after_emit = after_emit
        self._outbox: list[dict[str, Any]] = []
        self._before_commit: dict[Hashable, Callable[[UnitOfWork], None]] = {}

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.session.rollback()
        self.session.close()

    @property
    def connection(self) -> Connection:
        """The transaction's connection, for Core statements on hot paths: the ORM's unit
        of work costs several times a plain INSERT."""
        return self.session.connection()

    def serialize(self, key: str) -> None:
        """Hold other transactions that serialize on `key` until this one ends, so a check
        and the write that depends on it cannot interleave with another's (e.g. the minutes
        already reported on a day). SQLite has one writer: the transaction takes it now
        (BEGIN IMMEDIATE), whatever the key; PostgreSQL takes a transaction-scoped advisory
        lock on the key. Call it before the reads the check depends on and before the
        transaction's first write."""
        self.serialize_many([key])

    def serialize_many(self, keys: list[str]) -> None:
        """`serialize` on several keys in one statement, taken in sorted order (two
        transactions that share keys take them in the same order: no deadlock)."""
        conn = self.connection
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(_ADVISORY_XACT_LOCKS, {"keys": sorted(set(keys))})

    def emit(self, event: Event, topic: str | None = None) -> None:
        """Queue `event` in the outbox of this transaction (`topic` only for tests/benches).
        The rows are written at commit, in emit order, in one INSERT."""
        self._outbox.append(
            {
                "event_id": str(event.event_id),
                "event_type": event.event_type,
                "topic": topic or self.settings.topic(str(event.TOPIC)),
                "key": event.nip,
                "payload": event.model_dump_json(),
                "created_at": utcnow(),
                "attempts": 0,
            }
        )

    def emit_many(self, events: list[Event]) -> None:
        """`emit` for many events."""
        topic = self.settings.topic
        now = utcnow()
        self._outbox.extend(
            {
                "event_id": str(e.event_id),
                "event_type": e.event_type,
                "topic": topic(str(e.TOPIC)),
                "key": e.nip,
                "payload": e.model_dump_json(),
                "created_at": now,
                "attempts": 0,
            }
            for e in events
        )

    def _write_outbox(self) -> int:
        rows, self._outbox = self._outbox, []
        table = self.tables.outbox.__table__
        for chunk in chunked(rows, 2000):  # rows per multi-row INSERT (bound parameters)
            self.connection.execute(insert(table), chunk)
        return len(rows)

    def claim_many(self, events: list[Event]) -> list[bool]:
        """Record `events` as handled in this transaction (the inbox), with one query: False
        for events already handled, including a second copy within the batch."""
        inbox = self.tables.inbox
        ids = [str(e.event_id) for e in events]
        seen = set(
            self.session.execute(
                select(col(inbox.event_id)).where(col(inbox.event_id).in_(ids))
            ).scalars()
        )
        now, fresh, rows = utcnow(), [], []
        for event, event_id in zip(events, ids, strict=True):
            if event_id in seen:
                fresh.append(False)
                continue
            seen.add(event_id)
            rows.append({"event_id": event_id, "event_type": event.event_type, "handled_at": now})
            fresh.append(True)
        if rows:  # one bulk INSERT, no ORM object per event
            self.session.execute(insert(inbox.__table__), rows)
        return fresh

    def once(self, key: Hashable, factory: Callable[[], Callable[[UnitOfWork], None]]) -> Any:
        """Work done once per transaction, just before commit: the first call with `key`
        registers `factory()`, every call returns that callback so handlers can hand it work
        (e.g. recompute each employee-month once per consumed batch, not once per event).
        Callbacks run in registration order inside the transaction; a rollback drops them."""
        callback = self._before_commit.get(key)
        if callback is None:
            callback = self._before_commit[key] = factory()
        return callback

    def commit(self) -> None:
        while self._before_commit:
            callback = self._before_commit.pop(next(iter(self._before_commit)))
            callback(self)
        emitted = self._write_outbox() if self._outbox else 0
        self.session.commit()
        if emitted:
            self._after_emit()
