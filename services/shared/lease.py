"""The job lease with fencing (store layer): a background job runs on one replica at a time
(notifier's 15:00 and 09:00 jobs, siasn's sync and delivery).

Each service that needs it declares the table on its own Base, with the columns of
`JobLeaseRow`: `class JobLease(JobLeaseRow, Base, table=True): __tablename__ = "job_lease"`.

Acquiring the lease raises its `token` by one. Every write of the job's batch first runs
`fence`: an UPDATE of the lease row that matches only the holder's token, in the same
transaction as the batch's rows. A replica that paused past its lease (GC, a frozen VM) and
wakes late finds a newer token there and writes nothing; in PostgreSQL the UPDATE also holds
the row lock until the batch commits, so an acquisition cannot slip in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from anyio import to_thread
from sqlalchemy import Engine, Table, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from services.shared.db import Utc


class JobLeaseRow(SQLModel):
    """Who runs a scheduled job across replicas. `token` grows by one at every acquisition;
    every write of the job's batch checks it (fencing), so a replica that paused past its
    lease and wakes late writes nothing."""

    __table__: ClassVar[Table]  # set on the table class
    name: str = Field(primary_key=True, max_length=32)
    owner: str = Field(max_length=64)
    token: int = 0
    expires_at: datetime = Field(sa_type=Utc, nullable=False)


class Fenced(Exception):
    """Our lease was taken over: the batch must not write."""


@dataclass(frozen=True)
class Lease:
    name: str
    owner: str
    token: int
    table: Any = None  # the service's JobLease table class


def acquire(
    engine: Engine, table: type[JobLeaseRow], name: str, owner: str, now: datetime, ttl_s: float
) -> Lease | None:
    """The lease when it is free or expired (a new token), else None."""
    until = now + timedelta(seconds=ttl_s)
    with Session(engine) as session:
        row = session.get(table, name)
        if row is None:
            session.add(table(name=name, owner=owner, token=1, expires_at=until))
            try:
                session.commit()
            except IntegrityError:
                return None  # another replica created it first
            return Lease(name, owner, 1, table)
        token = row.token
        taken = session.execute(
            update(table)
            .where(col(table.name) == name, col(table.token) == token)
            .where(col(table.expires_at) <= now)
            .values(owner=owner, token=token + 1, expires_at=until)
        )
        session.commit()
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return Lease(name, owner, token + 1, table)


def fence(session: Session, lease: Lease, now: datetime, ttl_s: float) -> None:
    """In the batch's transaction: still ours? (and renew). Raises Fenced when not."""
    table = lease.table
    held = session.execute(
        update(table)
        .where(col(table.name) == lease.name, col(table.token) == lease.token)
        .values(expires_at=now + timedelta(seconds=ttl_s))
    )
    if held.rowcount != 1:  # type: ignore[attr-defined]
        raise Fenced(f"lease {lease.name} token {lease.token} taken over")


def renew(engine: Engine, lease: Lease, now: datetime, ttl_s: float) -> None:
    """`fence` in a transaction of its own (between the steps of a long job)."""
    with Session(engine) as session:
        fence(session, lease, now, ttl_s)
        session.commit()


def release(engine: Engine, lease: Lease, now: datetime) -> None:
    """Let the next run start at once (only our own token is released)."""
    table = lease.table
    with Session(engine) as session:
        session.execute(
            update(table)
            .where(col(table.name) == lease.name, col(table.token) == lease.token)
            .values(expires_at=now)
        )
        session.commit()


@asynccontextmanager
async def holding(
    engine: Engine,
    table: type[JobLeaseRow],
    name: str,
    owner: str,
    clock: Callable[[], datetime],
    ttl_s: float,
) -> AsyncIterator[Lease | None]:
    """The lease for the length of an async job (None: another replica holds it), renewed
    every third of `ttl_s` while the job runs and released after it. The job still fences
    its writes: a renewal that comes too late does not make a paused replica's writes safe."""
    held = await to_thread.run_sync(acquire, engine, table, name, owner, clock(), ttl_s)
    if held is None:
        yield None
        return

    async def renewing() -> None:
        while True:
            await asyncio.sleep(ttl_s / 3)
            await to_thread.run_sync(renew, engine, held, clock(), ttl_s)

    task = asyncio.create_task(renewing(), name=f"lease-{name}")
    try:
        yield held
    finally:
        task.cancel()
        # a renewal that failed (taken over, store away) ends here: the job's own fenced
        # writes already refused to write, or committed under a lease that was still ours
        with suppress(asyncio.CancelledError, Exception):
            await task
        await to_thread.run_sync(release, engine, held, clock())
