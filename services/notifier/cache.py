"""Redis for the notifier: the day sets ("scanned on D", "filed on D"), the SET NX fast path
of the warning dedup, and the hourly rate limit per employee.

Redis is a cache here, never the truth: SQL holds every scan day, report and message. When
Redis is down every call answers None (callers then take the SQL path) and Redis is left
alone for a few seconds so a dead server does not slow each event down. A day's sets are
used only while its `ready` marker exists: the marker is set when the sets are rebuilt from
SQL, so a Redis that lost its data (marker gone) is never mistaken for an empty day.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date
from typing import cast

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from services.shared.logs import get_logger

log = get_logger("sikerja.notifier.cache")

DAY_TTL_S = 3 * 24 * 3600  # a day's sets are needed on that day (and by a late operator run)


class DayCache:
    def __init__(
        self,
        url: str,
        prefix: str = "sikerja:notifier:",
        *,
        timeout_s: float = 1.0,
        backoff_s: float = 5.0,
    ) -> None:
        self._redis = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=timeout_s,
            socket_timeout=timeout_s,
            decode_responses=True,
        )
        self.prefix = prefix
        self._backoff_s = backoff_s
        self._down_until = 0.0
        self.last_error: str | None = None

    # -- plumbing ------------------------------------------------------------------------------
    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self._backoff_s
        if self.last_error is None:
            log.warning("redis unavailable; using the SQL path", error=repr(exc))
        self.last_error = repr(exc)

    def _ok(self) -> None:
        if self.last_error is not None:
            log.info("redis available again")
        self.last_error = None

    async def close(self) -> None:
        try:
            await self._redis.aclose()
        except (RedisError, OSError):
            pass

    async def ping(self) -> str:
        """'ok' or 'degraded: <error>' (the service still works from SQL)."""
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return f"degraded: {exc!r}"
        self._down_until = 0.0
        self._ok()
        return "ok"

    # -- day sets ------------------------------------------------------------------------------
    def _scanned(self, day: date) -> str:
        return self._key("scanned", day.isoformat())

    def _filed(self, day: date) -> str:
        return self._key("filed", day.isoformat())

    def _ready(self, day: date) -> str:
        return self._key("ready", day.isoformat())

    async def add_scan(self, day: date, nip: str) -> bool:
        """SADD scanned:D; False when Redis could not be written."""
        if not self._usable():
            return False
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.sadd(self._scanned(day), nip)
                pipe.expire(self._scanned(day), DAY_TTL_S)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return False
        self._ok()
        return True

    async def set_filed(self, day: date, nip: str, filed: bool) -> bool:
        """Keep filed:D in step with SQL's count of active reports of that NIP and day."""
        if not self._usable():
            return False
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                if filed:
                    pipe.sadd(self._filed(day), nip)
                else:
                    pipe.srem(self._filed(day), nip)
                pipe.expire(self._filed(day), DAY_TTL_S)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return False
        self._ok()
        return True

    async def is_ready(self, day: date) -> bool | None:
        if not self._usable():
            return None
        try:
            found = await self._redis.exists(self._ready(day))
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        self._ok()
        return bool(found)

    async def rebuild(
        self,
        day: date,
        scanned: Iterable[str],
        filed: Iterable[str],
        sent_keys: Iterable[str] = (),
    ) -> bool:
        """Replace the day's sets with SQL's truth, restore the dedup keys of the day's
        stored messages, and mark the day ready (one MULTI)."""
        if not self._usable():
            return False
        scanned, filed = list(scanned), list(filed)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._scanned(day), self._filed(day))
                if scanned:
                    pipe.sadd(self._scanned(day), *scanned)
                if filed:
                    pipe.sadd(self._filed(day), *filed)
                pipe.expire(self._scanned(day), DAY_TTL_S)
                pipe.expire(self._filed(day), DAY_TTL_S)
                for key in sent_keys:
                    pipe.set(self._key("sent", key), "1", ex=DAY_TTL_S)
                pipe.set(self._ready(day), "1", ex=DAY_TTL_S)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return False
        self._ok()
        return True

    async def scanned_not_filed(self, day: date) -> set[str] | None:
        """SDIFF scanned:D filed:D, or None when Redis is down or the day is not ready."""
        if not await self.is_ready(day):
            return None
        try:
            found = await self._redis.sdiff([self._scanned(day), self._filed(day)])
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        return set(cast(Iterable[str], found))  # the client decodes (decode_responses=True)

    # -- dedup fast path -----------------------------------------------------------------------
    async def claim(self, dedup_key: str, ttl_s: int = DAY_TTL_S) -> bool | None:
        """SET sent:KEY NX: False when already claimed (sent or being sent), None when Redis
        is down. Only a fast path: the unique key in SQL decides."""
        if not self._usable():
            return None
        try:
            got = await self._redis.set(self._key("sent", dedup_key), "1", nx=True, ex=ttl_s)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        self._ok()
        return bool(got)

    async def release(self, dedup_keys: Iterable[str]) -> None:
        """Undo claims whose SQL transaction failed, so a retry is not skipped."""
        keys = [self._key("sent", k) for k in dedup_keys]
        if not keys or not self._usable():
            return
        try:
            await self._redis.delete(*keys)
        except (RedisError, OSError) as exc:
            self._failed(exc)

    # -- rate limit ----------------------------------------------------------------------------
    async def count_attempt(self, nip: str, hour: str) -> int | None:
        """INCR rate:NIP:HOUR (expires after the hour); None when Redis is down."""
        if not self._usable():
            return None
        key = self._key("rate", nip, hour)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 3600)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        self._ok()
        return int(count)
