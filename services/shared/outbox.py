"""The outbox's way out: the publishers (aiokafka, or the FastStream broker in tests) and
the relay that publishes a service's outbox rows in order, marks them sent, and waits with
backoff while the broker is away."""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import time
from collections import Counter
from datetime import timedelta
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from faststream.kafka import KafkaBroker
from sqlalchemy import Connection, Engine, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from services.shared import metrics
from services.shared.db import KitTables
from services.shared.logs import get_logger
from services.shared.settings import Settings
from services.shared.uow import utcnow

log = get_logger("sikerja.messaging")


class Publisher(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish_many(self, rows: list[Any]) -> list[BaseException | None]: ...
    async def ping(self) -> bool: ...


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
    return murmur2(key)


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

    def __init__(
        self,
        name: str,
        engine: Engine,
        tables: KitTables,
        settings: Settings,
        publisher: Publisher,
    ) -> None:
        self._name, self._engine, self._settings = name, engine, settings
        self._lease = tables.relay_lease
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
        self._sql = _OutboxStatements(tables.outbox.__table__)

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
        self._task = asyncio.create_task(self._run(), name=f"{self._name}-outbox-relay")

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
        s = self._settings
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
        if now < self._lease_until - self._settings.relay_lease_s / 2:
            return True
        if now < self._others_until:
            return False  # another replica holds it: no store trip per pass until it expires
        lease = self._lease
        until = utcnow() + timedelta(seconds=self._settings.relay_lease_s)
        with Session(self._engine) as session:
            result = session.execute(
                update(lease)
                .where(col(lease.name) == "outbox")
                .where(or_(col(lease.owner) == self._owner, col(lease.expires_at) < utcnow()))
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
        self._lease_until = now + self._settings.relay_lease_s
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
        rows = rows[: self._settings.relay_batch]
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
                metrics.EVENTS_PRODUCED.labels(self._name, event_type).inc(count)
        if error is not None:
            raise error
        return len(done)

    async def _mark_unmarked(self) -> None:
        backoff = self._settings.relay_interval_s
        while self._unmarked:
            ids = sorted(self._unmarked)[:5000]  # one IN list well under SQLite's limit
            try:
                await asyncio.to_thread(self._mark_sent, ids)
            except Exception as exc:  # noqa: BLE001 - keep them skipped, try again
                log.warning("outbox relay could not mark rows sent", error=repr(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._settings.relay_max_backoff_s)
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
        with self._engine.connect() as conn:
            rows = list(conn.execute(self._sql.fetch, {"n": self._settings.relay_batch + skipped}))
            self._update_backlog(conn, len(rows) - skipped)
            conn.rollback()
        return rows

    def _mark_sent(self, ids: list[int]) -> None:
        with self._engine.begin() as conn:
            conn.execute(self._sql.mark, {"ids": ids, "at": utcnow()})

    def _update_backlog(self, conn: Connection, fetched: int) -> None:
        now = time.monotonic()
        if fetched < self._settings.relay_batch and now - self._last_backlog < 2:
            metrics.OUTBOX_BACKLOG.labels(self._name).set(fetched)
            return
        self._last_backlog = now
        metrics.OUTBOX_BACKLOG.labels(self._name).set(conn.execute(self._sql.count).scalar_one())

    def backlog(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(self._sql.count).scalar_one())
