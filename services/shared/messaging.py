"""The service kit's messaging: unit of work (outbox + inbox in one transaction), the outbox
relay, the consumer with bounded retries and a dead-letter topic, and the broker factory.

Delivery is at least once on the wire and exactly once in effect: the relay may publish an
event twice (crash between send and mark), the consumer may see it twice (crash between
commit and offset commit); the inbox makes the second sight a no-op.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.partitioner import murmur2
from anyio import to_thread
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlmodel import Session

from contracts import Event, PoisonEvent, dlq_topic, parse_event
from services.shared import metrics
from services.shared.db import WriterBusy, writer_wait_limit
from services.shared.logs import get_logger
from services.shared.settings import Settings

log = get_logger("sikerja.messaging")

Handler = Callable[["UnitOfWork", Event], Awaitable[None] | None]
T = TypeVar("T")
# WITH ORDINALITY: the locks are taken in the order of the (sorted) array
_ADVISORY_XACT_LOCKS = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
    "FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS t(k, n) ORDER BY n"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def store_unavailable(exc: BaseException) -> bool:
    """A database that cannot be reached or is locked, as opposed to a bad event."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


class UnitOfWork:
    """One database transaction: the state change, the events it emits (outbox) and, for a
    consumer, the id of the event it handles (inbox)."""

    def __init__(self, kit: ServiceKit, session: Session | None = None) -> None:
        self._kit = kit
        self.session = session or Session(kit.engine, expire_on_commit=False)
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
                "topic": topic or self._kit.settings.topic(str(event.TOPIC)),
                "key": event.nip,
                "payload": event.model_dump_json(),
                "created_at": utcnow(),
                "attempts": 0,
            }
        )

    def emit_many(self, events: list[Event]) -> None:
        """`emit` for many events."""
        topic = self._kit.settings.topic
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
        table = self._kit.base.Outbox.__table__  # type: ignore[attr-defined]
        for i in range(0, len(rows), 2000):
            self.connection.execute(insert(table), rows[i : i + 2000])
        return len(rows)

    def claim_many(self, events: list[Event]) -> list[bool]:
        """Record `events` as handled in this transaction (the inbox), with one query: False
        for events already handled, including a second copy within the batch."""
        inbox = self._kit.base.Inbox  # type: ignore[attr-defined]
        ids = [str(e.event_id) for e in events]
        seen = set(
            self.session.execute(
                select(inbox.event_id).where(inbox.event_id.in_(ids))  # type: ignore[attr-defined]
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
            self._kit.relay.wake()


@dataclass(frozen=True)
class Delivery:
    """One consumed record."""

    body: bytes
    topic: str = "?"
    partition: int = -1
    offset: int = -1
    key: bytes | None = None


class Publisher(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish_many(self, rows: list[Any]) -> list[BaseException | None]: ...


class AioKafkaPublisher:
    """Publishes a batch with one producer, in order; acks=all and idempotence keep the order
    of one partition (one NIP) through retries."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._bootstrap, self._client_id = bootstrap, client_id
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        if self._producer is not None:
            return
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            request_timeout_ms=10_000,
            retry_backoff_ms=200,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish_many(self, rows: list[Any]) -> list[BaseException | None]:
        """Record batches per partition (`send_batch`) instead of one `send` per row: the
        per-message path of aiokafka cost more CPU than the rest of the relay. Keyed rows
        go to the partition aiokafka's default partitioner picks (murmur2 of the key, as
        Kafka's Java clients do); the order of one partition is the order of `rows`, and a
        row's result is its batch's."""
        producer = self._producer
        assert producer is not None
        results: list[BaseException | None] = [None] * len(rows)
        sent: list[tuple[asyncio.Future[Any], list[int]]] = []
        open_: dict[tuple[str, int], tuple[Any, list[int]]] = {}
        partitions: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            topic, key = row.topic, row.key.encode()
            parts = partitions.get(topic)
            if parts is None:
                parts = partitions[topic] = sorted(await producer.partitions_for(topic))
            tp = (topic, parts[_partition_index(key, len(parts))])
            headers = [("event_type", row.event_type.encode()), ("event_id", row.event_id.encode())]
            value = row.payload.encode()
            batch, members = open_.get(tp) or open_.setdefault(tp, (producer.create_batch(), []))
            if batch.append(timestamp=None, key=key, value=value, headers=headers) is None:
                # full: send it, start the next one of this partition
                sent.append((await producer.send_batch(batch, tp[0], partition=tp[1]), members))
                batch, members = open_[tp] = (producer.create_batch(), [])
                if batch.append(timestamp=None, key=key, value=value, headers=headers) is None:
                    raise ValueError(f"event {row.event_id} is larger than a record batch")
            members.append(i)
        for (topic, partition), (batch, members) in open_.items():
            sent.append((await producer.send_batch(batch, topic, partition=partition), members))
        outcomes = await asyncio.gather(*(f for f, _ in sent), return_exceptions=True)
        for (_, members), outcome in zip(sent, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                for i in members:
                    results[i] = outcome
        return results

    async def ping(self) -> bool:
        if self._producer is None:
            return False
        await asyncio.wait_for(self._producer.client.fetch_all_metadata(), 3)
        return True


@functools.lru_cache(maxsize=65536)
def _murmur2(key: bytes) -> int:
    return murmur2(key)  # type: ignore[no-any-return]


def _partition_index(key: bytes, partitions: int) -> int:
    """aiokafka's DefaultPartitioner for a keyed record (murmur2 is pure Python: cached,
    the keys are NIPs and repeat)."""
    return (_murmur2(key) & 0x7FFFFFFF) % partitions


class BrokerPublisher:
    """Publishes through the FastStream broker (used with TestKafkaBroker in handler tests)."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish_many(self, rows: list[Any]) -> list[BaseException | None]:
        out: list[BaseException | None] = []
        for row in rows:
            try:
                await self._broker.publish(
                    row.payload.encode(),
                    row.topic,
                    key=row.key.encode(),
                    headers={"event_type": row.event_type, "event_id": row.event_id},
                )
                out.append(None)
            except Exception as exc:  # noqa: BLE001
                out.append(exc)
        return out

    async def ping(self) -> bool:
        return True


class _OutboxStatements:
    """The relay's statements on one service's outbox table, built once."""

    def __init__(self, t: Any) -> None:
        self.fetch = (
            select(t.c.id, t.c.event_id, t.c.event_type, t.c.topic, t.c.key, t.c.payload)
            .where(t.c.sent_at.is_(None))
            .order_by(t.c.id)
            .limit(bindparam("n"))
        )
        self.mark = (
            update(t)
            .where(t.c.id.in_(bindparam("ids", expanding=True)))
            .values(sent_at=bindparam("at"))
        )
        self.count = select(func.count()).select_from(t).where(t.c.sent_at.is_(None))


class OutboxRelay:
    """Publishes outbox rows in id order, marks them sent, waits with backoff while the
    broker is away. One replica at a time holds the lease, so the order per NIP holds."""

    def __init__(self, kit: ServiceKit, publisher: Publisher) -> None:
        self._kit = kit
        self.publisher = publisher
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._lease_until = 0.0
        self._others_until = 0.0  # until when another replica's lease runs (time.time())
        self._last_backlog = 0.0
        # Published, not yet marked sent: the loop marks them in the background (see _run).
        self._unmarked: set[int] = set()
        self._marker: asyncio.Task[None] | None = None
        self.connected = False
        self._sql = _OutboxStatements(kit.base.Outbox.__table__)  # type: ignore[attr-defined]

    def wake(self) -> None:
        """Safe from any thread (sync endpoints and handlers commit in worker threads)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name=f"{self._kit.name}-outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._marker is not None:
            try:  # mark what was published, so a restart re-sends as little as possible
                await asyncio.wait_for(self._marker, timeout=5)
            except (TimeoutError, asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        await self.publisher.stop()
        self.connected = False

    async def _run(self) -> None:
        s = self._kit.settings
        backoff = s.relay_interval_s
        while True:
            try:
                if not self.connected:
                    await self.publisher.start()
                    self.connected = True
                # Clear before the pass, not after: a commit during the pass (its wake) must
                # start the next pass at once instead of waiting for relay_interval_s.
                self._wake.clear()
                sent = await self.publish_pending(defer_mark=True)
                backoff = s.relay_interval_s
                if sent >= s.relay_batch:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.warning("outbox relay waiting for the broker", error=repr(exc), backoff=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, s.relay_max_backoff_s)
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=s.relay_interval_s)
            except TimeoutError:
                continue
            # Woken by a commit: let the commits of the next few milliseconds join this
            # pass. A pass has a fixed cost (two store trips, a produce request); one per
            # commit spent more CPU on the relay than on the requests that emitted.
            if s.relay_linger_s > 0:
                await asyncio.sleep(s.relay_linger_s)

    def _hold_lease(self) -> bool:
        now = time.time()
        if now < self._lease_until - self._kit.settings.relay_lease_s / 2:
            return True
        if now < self._others_until:
            return False  # another replica holds it: no store trip per pass until it expires
        lease = self._kit.base.RelayLease  # type: ignore[attr-defined]
        until = utcnow() + timedelta(seconds=self._kit.settings.relay_lease_s)
        with Session(self._kit.engine) as session:
            result = session.execute(
                update(lease)
                .where(lease.name == "outbox")
                .where(or_(lease.owner == self._owner, lease.expires_at < utcnow()))
                .values(owner=self._owner, expires_at=until)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                held = session.get(lease, "outbox")
                if held is not None:
                    session.rollback()
                    self._others_until = held.expires_at.timestamp()
                    return False
                session.add(lease(name="outbox", owner=self._owner, expires_at=until))
            try:
                session.commit()
            except IntegrityError:
                return False
        self._lease_until = now + self._kit.settings.relay_lease_s
        return True

    async def publish_pending(self, *, defer_mark: bool = False) -> int:
        """Publish one batch of pending rows; returns how many were published.

        defer_mark: mark them sent in a background task instead of before returning. With
        SQLite that write waits for the one writer slot, often held by a long consumer
        transaction; meanwhile the next pass (events committed since) can go out already.
        Rows published but not yet marked are skipped by the next passes; if the process
        stops first they are sent again (at least once; consumers dedup)."""
        # Store work runs in a thread: with SQLite a write waiting for the lock must not
        # freeze the event loop (consumer heartbeats, HTTP, the transaction holding the lock).
        # Copied before the read: a row the marker marks while we read may still come back
        # unsent from this read, but it is in the copy (the marker only removes ids after
        # their commit), so it is not published twice.
        unmarked = set(self._unmarked)
        rows = await asyncio.to_thread(self._lease_and_fetch, len(unmarked))
        if rows is None:
            return 0
        if unmarked:
            rows = [r for r in rows if r.id not in unmarked]
        rows = rows[: self._kit.settings.relay_batch]
        if not rows:
            return 0
        results = await self.publisher.publish_many(rows)
        # Mark only the unbroken prefix: a later event of the same NIP must not overtake
        # an earlier one that failed (re-sending the tail is harmless: consumers dedup).
        done: list[int] = []
        error: BaseException | None = None
        for row, res in zip(rows, results, strict=True):
            if res is not None:
                error = res
                break
            done.append(row.id)
        if done:
            if defer_mark:
                self._unmarked.update(done)
                if self._marker is None or self._marker.done():
                    self._marker = asyncio.create_task(self._mark_unmarked())
            else:
                await asyncio.to_thread(self._mark_sent, done)
            produced = Counter(row.event_type for row in rows[: len(done)])
            for event_type, count in produced.items():
                metrics.EVENTS_PRODUCED.labels(self._kit.name, event_type).inc(count)
        if error is not None:
            raise error
        return len(done)

    async def _mark_unmarked(self) -> None:
        backoff = self._kit.settings.relay_interval_s
        while self._unmarked:
            ids = sorted(self._unmarked)[:5000]  # one IN list well under SQLite's limit
            try:
                await asyncio.to_thread(self._mark_sent, ids)
            except Exception as exc:  # noqa: BLE001 - keep them skipped, try again
                log.warning("outbox relay could not mark rows sent", error=repr(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._kit.settings.relay_max_backoff_s)
                continue
            self._unmarked.difference_update(ids)

    def _lease_and_fetch(self, skipped: int) -> list[Any] | None:
        """One trip to a worker thread per pass: the lease (None if another replica holds
        it), then the pending rows."""
        if not self._hold_lease():
            return None
        return self._fetch_pending(skipped)

    def _fetch_pending(self, skipped: int = 0) -> list[Any]:
        # Plain rows (attribute access like the model), not ORM objects: building thousands
        # of SQLModel instances per batch cost more than publishing them. Core on a plain
        # connection, statements built once: the relay passes many times a second.
        with self._kit.engine.connect() as conn:
            rows = list(
                conn.execute(self._sql.fetch, {"n": self._kit.settings.relay_batch + skipped})
            )
            self._update_backlog(conn, len(rows) - skipped)
            conn.rollback()
        return rows

    def _mark_sent(self, ids: list[int]) -> None:
        with self._kit.engine.begin() as conn:
            conn.execute(self._sql.mark, {"ids": ids, "at": utcnow()})

    def _update_backlog(self, conn: Connection, fetched: int) -> None:
        now = time.monotonic()
        if fetched < self._kit.settings.relay_batch and now - self._last_backlog < 2:
            metrics.OUTBOX_BACKLOG.labels(self._kit.name).set(fetched)
            return
        self._last_backlog = now
        metrics.OUTBOX_BACKLOG.labels(self._kit.name).set(
            conn.execute(self._sql.count).scalar_one()
        )

    def backlog(self) -> int:
        with self._kit.engine.connect() as conn:
            return int(conn.execute(self._sql.count).scalar_one())


def make_broker(settings: Settings, service: str) -> KafkaBroker:
    """The one FastStream broker factory."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"sikerja-{service}",
        request_timeout_ms=10_000,
        logger=None,
    )


class ServiceKit:
    """What one service runs on: its store, its broker, its relay and its consumer."""

    def __init__(
        self,
        name: str,
        base: Any,
        settings: Settings,
        handlers: Mapping[str, Handler] | None = None,
        topics: list[str] | None = None,
        engine: Engine | None = None,
        broker: KafkaBroker | None = None,
        publisher: Publisher | None = None,
        alembic: bool = True,
    ) -> None:
        from services.shared.db import make_engine

        self.name = name
        self.group = name + settings.group_suffix
        self.base = base
        self.settings = settings
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.topics = [settings.topic(t) for t in topics or []]
        self.engine = engine or make_engine(settings.db_url(name))
        self.broker = broker or make_broker(settings, name)
        self.relay = OutboxRelay(
            self, publisher or AioKafkaPublisher(settings.kafka_bootstrap, f"sikerja-{name}-relay")
        )
        self.alembic = alembic  # False: create_all (throw-away stores of kit tests)
        self.subscriber = None
        self.broker_started = False
        self._tasks: list[asyncio.Task[None]] = []
        self._async: AsyncEngine | None = None  # PostgreSQL's hot paths (run_store)
        if self.topics:
            # Batches: one database transaction and one offset commit per poll, not per event.
            self.subscriber = self.broker.subscriber(
                *self.topics,
                group_id=self.group,
                ack_policy=AckPolicy.NACK_ON_ERROR,
                auto_offset_reset="earliest",
                batch=True,
                max_records=settings.consumer_batch,
                batch_timeout_ms=50,
            )
            self.subscriber(self._on_batch)

    # -- lifecycle ---------------------------------------------------------------------------
    def migrate(self) -> None:
        from services.shared.migrations import upgrade

        if not self.alembic:
            self.base.metadata.create_all(self.engine)
            return
        upgrade(self.engine, self.name, self.base.metadata)

    async def start(self, *, consume: bool = True) -> None:
        self.migrate()
        self.relay.start()
        if consume and self.subscriber is not None:
            self._tasks.append(asyncio.create_task(self._start_broker()))
            self._tasks.append(asyncio.create_task(self._watch_lag()))

    async def _start_broker(self) -> None:
        delay = 0.5
        while True:
            try:
                await self.ensure_topics()
                await self.broker.start()
                self.broker_started = True
                return
            except Exception as exc:  # noqa: BLE001 - keep the HTTP side up meanwhile
                log.warning("broker not reachable, retrying", error=repr(exc), delay=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def ensure_topics(self) -> None:
        """Create the topics this service reads (and its DLQ) when missing: a consumer that
        subscribes before a topic exists would only see it at the next metadata refresh."""
        wanted = [*self.topics, dlq_topic(self.group)]
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.settings.kafka_bootstrap, request_timeout_ms=10_000
        )
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if missing:
                s = self.settings
                await admin.create_topics(
                    [NewTopic(t, s.topic_partitions, s.topic_replication) for t in missing]
                )
        except TopicAlreadyExistsError:
            pass  # another replica was quicker
        finally:
            await admin.close()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self._tasks.clear()
        await self.relay.stop()
        if self.broker_started or self.subscriber is not None:
            await self.broker.stop()
        self.broker_started = False
        if self._async is not None:
            await self._async.dispose()
            self._async = None

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self)

    async def run_store(self, fn: Callable[[UnitOfWork], T]) -> T:
        """Run a request's short store work `fn(uow)` (a few indexed reads, a write, the
        commit) without a trip to a worker thread: on the month-end hot path that trip and
        its GIL hand-offs cost more CPU than the work itself (over 1 ms of a filing's 2).

        SQLite: right here on the event loop. A write that finds the writer slot taken
        waits for it at most `settings.inline_writer_wait_s` (the relay marking rows sent,
        a consumer's short batch); past that the attempt stops before anything was written
        (WriterBusy), is rolled back and runs again in a worker thread, where waiting
        blocks no one; so `fn` must do nothing outside its transaction. PostgreSQL: the
        same sync code over the async driver (SQLAlchemy's greenlet bridge): every round
        trip and lock wait is awaited."""
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            try:
                with writer_wait_limit(self.settings.inline_writer_wait_s), self.uow() as uow:
                    return fn(uow)
            except WriterBusy:
                metrics.STORE_WRITER_BUSY.labels(self.name).inc()
        elif dialect == "postgresql":
            async with AsyncSession(
                self._async_engine(), expire_on_commit=False, sync_session_class=Session
            ) as session:
                return await session.run_sync(lambda s: fn(UnitOfWork(self, s)))
        return await to_thread.run_sync(self._in_uow, fn)

    def _in_uow(self, fn: Callable[[UnitOfWork], T]) -> T:
        with self.uow() as uow:
            return fn(uow)

    def _async_engine(self) -> AsyncEngine:
        if self._async is None:
            url = self.engine.url.set(drivername="postgresql+asyncpg")
            self._async = create_async_engine(url, pool_size=10, max_overflow=10)
        return self._async

    # -- consuming ---------------------------------------------------------------------------
    async def _on_batch(self, msg: KafkaMessage) -> None:
        raw = msg.raw_message
        records = raw if isinstance(raw, tuple | list) else (raw,)
        await self.handle_batch(
            [
                Delivery(
                    body=r.value if r.value is not None else b"",
                    topic=getattr(r, "topic", "?"),
                    partition=getattr(r, "partition", -1),
                    offset=getattr(r, "offset", -1),
                    key=getattr(r, "key", None),
                )
                for r in records
            ]
        )

    async def handle_batch(self, deliveries: list[Delivery]) -> None:
        """Fast path: the whole batch in one transaction. On any failure or poison the batch
        is rolled back and each event goes through `handle` (retries, then DLQ). Returning
        normally lets FastStream commit the offsets, after the transaction."""
        started = time.perf_counter()
        events: list[Event] = []
        try:
            events = [parse_event(d.body) for d in deliveries]
        except PoisonEvent:
            events = []
        if len(events) == len(deliveries):
            try:
                duplicates = await self._apply(events)
            except Exception as exc:  # noqa: BLE001 - fall back to one event at a time
                log.info("batch failed, retrying one by one", error=repr(exc), size=len(events))
            else:
                per_event = (time.perf_counter() - started) / max(len(events), 1)
                for event in events:
                    if event.event_type in self.handlers:
                        metrics.EVENTS_CONSUMED.labels(self.name, event.event_type).inc()
                        metrics.HANDLER_SECONDS.labels(self.name, event.event_type).observe(
                            per_event
                        )
                for event_type in duplicates:
                    metrics.EVENTS_DUPLICATE.labels(self.name, event_type).inc()
                return
        for d in deliveries:
            await self.handle(
                d.body, topic=d.topic, partition=d.partition, offset=d.offset, key=d.key
            )

    async def _apply(self, events: list[Event]) -> list[str]:
        """Run the handlers of `events` in one transaction with their inbox claims; returns
        the types of the duplicates skipped. Sync handlers run in a worker thread so the
        event loop (heartbeats, HTTP) stays free while the store works."""
        mine = [e for e in events if e.event_type in self.handlers]
        if not mine:
            return []
        if all(not inspect.iscoroutinefunction(self.handlers[e.event_type]) for e in mine):
            return await asyncio.to_thread(self._apply_sync, mine)
        duplicates: list[str] = []
        with self.uow() as uow:
            for event, fresh in zip(mine, uow.claim_many(mine), strict=True):
                if not fresh:
                    duplicates.append(event.event_type)
                    continue
                result = self.handlers[event.event_type](uow, event)
                if inspect.isawaitable(result):
                    await result
            uow.commit()
        return duplicates

    def _apply_sync(self, events: list[Event]) -> list[str]:
        duplicates: list[str] = []
        with self.uow() as uow:
            for event, fresh in zip(events, uow.claim_many(events), strict=True):
                if fresh:
                    self.handlers[event.event_type](uow, event)
                else:
                    duplicates.append(event.event_type)
            uow.commit()
        return duplicates

    async def handle(
        self,
        body: bytes,
        *,
        topic: str = "?",
        partition: int = -1,
        offset: int = -1,
        key: bytes | None = None,
    ) -> str:
        """Handle one message; returns 'handled', 'duplicate', 'ignored' or 'dead-lettered'."""
        try:
            event = parse_event(body)
        except PoisonEvent as poison:
            await self._dead_letter(
                body, key, poison.reason, poison.event_type, topic, partition, offset, 0
            )
            return "dead-lettered"
        handler = self.handlers.get(event.event_type)
        if handler is None:
            return "ignored"  # a topic carries events this service has no use for
        attempts = self.settings.max_attempts
        error: BaseException | None = None
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                if await self._apply([event]):
                    metrics.EVENTS_DUPLICATE.labels(self.name, event.event_type).inc()
                    metrics.EVENTS_CONSUMED.labels(self.name, event.event_type).inc()
                    return "duplicate"
                metrics.HANDLER_SECONDS.labels(self.name, event.event_type).observe(
                    time.perf_counter() - started
                )
                metrics.EVENTS_CONSUMED.labels(self.name, event.event_type).inc()
                return "handled"
            except Exception as exc:  # bounded retries, then the DLQ (or back, see below)
                error = exc
                metrics.EVENTS_FAILED.labels(self.name, event.event_type).inc()
                log.warning(
                    "handler failed",
                    event_type=event.event_type,
                    event_id=str(event.event_id),
                    attempt=attempt,
                    error=repr(exc),
                )
                if attempt < attempts:
                    await asyncio.sleep(self.settings.retry_backoff_s * 2 ** (attempt - 1))
                elif store_unavailable(exc):
                    # Not the event's fault: the store is down or locked. Dead-lettering would
                    # empty the topic into the DLQ during an outage; instead the batch is not
                    # acknowledged and comes back (the inbox skips what was already applied).
                    await asyncio.sleep(self.settings.relay_max_backoff_s)
                    raise
        await self._dead_letter(
            body, key, repr(error), event.event_type, topic, partition, offset, attempts
        )
        return "dead-lettered"

    async def _dead_letter(
        self,
        body: bytes,
        key: bytes | None,
        reason: str,
        event_type: str | None,
        topic: str,
        partition: int,
        offset: int,
        attempts: int,
    ) -> None:
        # If this publish fails the exception propagates: the message is not acknowledged and
        # comes back, so nothing is lost.
        await self.broker.publish(
            body,
            dlq_topic(self.group),
            key=key,
            headers={
                "error": reason[:2000],
                "event_type": event_type or "",
                "original_topic": topic,
                "original_partition": str(partition),
                "original_offset": str(offset),
                "attempts": str(attempts),
                "consumer_group": self.group,
            },
        )
        metrics.DLQ.labels(self.name).inc()
        log.error(
            "event sent to the dead-letter topic",
            reason=reason[:500],
            event_type=event_type,
            topic=topic,
            partition=partition,
            offset=offset,
        )

    async def _watch_lag(self) -> None:
        while True:
            await asyncio.sleep(5)
            consumer = getattr(self.subscriber, "consumer", None)
            if consumer is None:
                continue
            try:
                for tp in consumer.assignment():
                    high = consumer.highwater(tp)
                    if high is None:
                        continue
                    position = await consumer.position(tp)
                    metrics.CONSUMER_LAG.labels(self.name, tp.topic, str(tp.partition)).set(
                        max(high - position, 0)
                    )
            except Exception as exc:  # noqa: BLE001
                log.debug("lag probe failed", error=repr(exc))

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            with Session(self.engine) as session:
                session.execute(select(1))
            checks["store"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["store"] = f"error: {exc}"
        try:
            ok = await self.relay.publisher.ping()  # type: ignore[attr-defined]
            checks["broker"] = "ok" if ok else "not connected"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"error: {exc!r}"
        if self.subscriber is not None:
            checks["consumer"] = "ok" if self.broker_started else "not connected"
        return checks
