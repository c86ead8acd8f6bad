"""The service kit: what one service runs on (its store, its broker, its outbox relay and its
consumer), and the broker factory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, TypedDict, TypeVar, Unpack, cast

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from anyio import to_thread
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber
from sqlalchemy import Engine, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlmodel import Session

from contracts import dlq_topic
from services.shared import metrics
from services.shared.consumer import Consumer, Delivery
from services.shared.db import KitTables, WriterBusy, make_engine, writer_wait_limit
from services.shared.handlers import Handlers
from services.shared.logs import get_logger
from services.shared.outbox import AioKafkaPublisher, OutboxRelay, Publisher
from services.shared.settings import Settings, get_settings
from services.shared.uow import Clock, UnitOfWork, utcnow

log = get_logger("sikerja.messaging")
T = TypeVar("T")


class KitOptions(TypedDict, total=False):
    """What tests and benches swap in a service's kit (`build_kit(settings, **options)`)."""

    engine: Engine
    broker: KafkaBroker
    publisher: Publisher
    alembic: bool
    clock: Clock


def make_broker(settings: Settings, service: str) -> KafkaBroker:
    """The one FastStream broker factory."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"sikerja-{service}",
        request_timeout_ms=10_000,
        logger=None,
    )


class KitFactory(Protocol):
    """A service's `build_kit(settings, **options)`."""

    def __call__(
        self, settings: Settings | None = None, **overrides: Unpack[KitOptions]
    ) -> ServiceKit: ...


def kit_factory(
    name: str,
    tables: KitTables,
    handlers: Callable[[], Handlers],
) -> KitFactory:
    """The `build_kit` of a service whose handlers need nothing from the composition root:
    its kit on `settings` (the environment's by default) with the test's `overrides`.
    (A service that keeps the calendar composes with calendar_book.book_factory.)"""

    def build_kit(settings: Settings | None = None, **overrides: Unpack[KitOptions]) -> ServiceKit:
        return ServiceKit(name, tables, settings or get_settings(), handlers(), **overrides)

    return build_kit


class ServiceKit:
    """What one service runs on: its store, its broker, its relay and its consumer.

    It consumes the events of `handlers` from their topics (or from `topics`, for kit tests
    on throw-away topics); a service whose handlers need the kit itself (the calendar book
    reads its store) builds the kit without them, then calls `subscribe`."""

    def __init__(
        self,
        name: str,
        tables: KitTables,
        settings: Settings,
        handlers: Handlers | None = None,
        topics: list[str] | None = None,
        engine: Engine | None = None,
        broker: KafkaBroker | None = None,
        publisher: Publisher | None = None,
        alembic: bool = True,
        clock: Clock = utcnow,
    ) -> None:
        self.name = name
        self.clock = clock  # what handlers and routes read "now" from (tests set it)
        self.group = name + settings.group_suffix
        self.tables = tables
        self.settings = settings
        self.handlers = Handlers()
        self.topics: list[str] = []
        self.engine = engine or make_engine(settings.db_url(name))
        self.broker = broker or make_broker(settings, name)
        self.relay = OutboxRelay(
            name,
            self.engine,
            tables,
            settings,
            publisher or AioKafkaPublisher(settings.kafka_bootstrap, f"sikerja-{name}-relay"),
        )
        self.alembic = alembic  # False: create_all (throw-away stores of kit tests)
        self.subscriber: BatchSubscriber | None = None
        self.broker_started = False
        self._tasks: list[asyncio.Task[None]] = []
        self._async: AsyncEngine | None = None  # PostgreSQL's hot paths (run_store)
        self.consumer = Consumer(name, self.group, settings, self.handlers, self.broker, self.uow)
        if handlers is not None:
            self.subscribe(handlers, topics)

    def subscribe(self, handlers: Handlers, topics: list[str] | None = None) -> None:
        """Consume the events of `handlers`, from their topics unless `topics` are given.
        Once, before the kit starts."""
        if self.subscriber is not None:
            raise RuntimeError(f"{self.name}: the kit already subscribes")
        self.handlers.update(handlers)
        names = handlers.topics if topics is None else topics
        self.topics = [self.settings.topic(t) for t in names]
        if self.topics:
            # Batches: one database transaction and one offset commit per poll, not per event.
            self.subscriber = self.broker.subscriber(
                *self.topics,
                group_id=self.group,
                ack_policy=AckPolicy.NACK_ON_ERROR,
                auto_offset_reset="earliest",
                batch=True,
                max_records=self.settings.consumer_batch,
                batch_timeout_ms=50,
            )
            self.subscriber(self.consumer.on_batch)

    # -- lifecycle ---------------------------------------------------------------------------
    def migrate(self) -> None:
        from services.shared.migrations import upgrade

        if not self.alembic:
            self.tables.metadata.create_all(self.engine)
            return
        upgrade(self.engine, self.name, self.tables.metadata)

    async def start(self, *, consume: bool = True) -> None:
        self.migrate()
        self.relay.start()
        if consume and self.subscriber is not None:
            self._tasks.append(asyncio.create_task(self._start_broker()))
            self._tasks.append(asyncio.create_task(self.consumer.watch_lag(self.subscriber)))

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

    def uow(self, session: Session | None = None) -> UnitOfWork:
        """A unit of work on this service's store (on `session` if given)."""
        return UnitOfWork(
            session or Session(self.engine, expire_on_commit=False),
            self.tables,
            self.settings,
            self.relay.wake,
            self.clock,
        )

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
                # sync_session_class=Session: run_sync hands over a sqlmodel Session
                return await session.run_sync(lambda s: fn(self.uow(cast(Session, s))))
        return await to_thread.run_sync(self._in_uow, fn)

    def _in_uow(self, fn: Callable[[UnitOfWork], T]) -> T:
        with self.uow() as uow:
            return fn(uow)

    def _async_engine(self) -> AsyncEngine:
        if self._async is None:
            url = self.engine.url.set(drivername="postgresql+asyncpg")
            self._async = create_async_engine(url, pool_size=10, max_overflow=10)
        return self._async

    # -- consuming (the tests drive the consumer through these) -------------------------------
    async def handle_batch(self, deliveries: list[Delivery]) -> None:
        await self.consumer.handle_batch(deliveries)

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
        return await self.consumer.handle(
            body, topic=topic, partition=partition, offset=offset, key=key
        )

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            with Session(self.engine) as session:
                session.execute(select(1))
            checks["store"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["store"] = f"error: {exc}"
        try:
            ok = await self.relay.publisher.ping()
            checks["broker"] = "ok" if ok else "not connected"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"error: {exc!r}"
        if self.subscriber is not None:
            checks["consumer"] = "ok" if self.broker_started else "not connected"
        return checks
