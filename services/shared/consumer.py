"""The kit's consumer: batches of events applied in one transaction with their inbox claims,
falling back to one event at a time with bounded retries, then a dead-letter topic."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass

from faststream.kafka import KafkaBroker, KafkaMessage

from contracts import Event, PoisonEvent, dlq_topic, parse_event
from services.shared import metrics
from services.shared.handlers import Handlers
from services.shared.logs import get_logger
from services.shared.settings import Settings
from services.shared.uow import UnitOfWork, store_unavailable

log = get_logger("sikerja.messaging")


@dataclass(frozen=True)
class Delivery:
    """One consumed record."""

    body: bytes
    topic: str = "?"
    partition: int = -1
    offset: int = -1
    key: bytes | None = None


class Consumer:
    """Applies a service's handlers to the events it consumes, by the event's class; an event
    of a class it has no handler for is ignored. `handlers` is the kit's own (tests swap a
    handler in it); `new_uow` opens a unit of work on the kit's store."""

    def __init__(
        self,
        name: str,
        group: str,
        settings: Settings,
        handlers: Handlers,
        broker: KafkaBroker,
        new_uow: Callable[[], UnitOfWork],
    ) -> None:
        self.name, self.group, self.settings = name, group, settings
        self.handlers = handlers
        self.broker = broker
        self._new_uow = new_uow

    async def on_batch(self, msg: KafkaMessage) -> None:
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
                    if type(event) in self.handlers:
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
        mine = [e for e in events if type(e) in self.handlers]
        if not mine:
            return []
        if all(not inspect.iscoroutinefunction(self.handlers[type(e)]) for e in mine):
            return await asyncio.to_thread(self._apply_sync, mine)
        duplicates: list[str] = []
        with self._new_uow() as uow:
            for event, fresh in zip(mine, uow.claim_many(mine), strict=True):
                if not fresh:
                    duplicates.append(event.event_type)
                    continue
                result = self.handlers[type(event)](uow, event)
                if inspect.isawaitable(result):
                    await result
            uow.commit()
        return duplicates

    def _apply_sync(self, events: list[Event]) -> list[str]:
        duplicates: list[str] = []
        with self._new_uow() as uow:
            for event, fresh in zip(events, uow.claim_many(events), strict=True):
                if fresh:
                    self.handlers[type(event)](uow, event)
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
        if type(event) not in self.handlers:
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

    async def watch_lag(self, subscriber: object) -> None:
        """Keep the consumer-lag gauge of `subscriber` (the kit's) current."""
        while True:
            await asyncio.sleep(5)
            consumer = getattr(subscriber, "consumer", None)
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
