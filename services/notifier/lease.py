"""The job lease with fencing (store layer): the 15:00 and 09:00 jobs run on one replica.

Acquiring the lease raises its `token` by one. Every write of the job's batch first runs
`fence`: an UPDATE of the lease row that matches only the holder's token, in the same
transaction as the batch's rows. A replica that paused past its lease (GC, a frozen VM) and
wakes late finds a newer token there and writes nothing; in PostgreSQL the UPDATE also holds
the row lock until the batch commits, so an acquisition cannot slip in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from services.notifier.models import JobLease


class Fenced(Exception):
    """Our lease was taken over: the batch must not write."""


@dataclass(frozen=True)
class Lease:
    name: str
    owner: str
    token: int


def acquire(engine: Engine, name: str, owner: str, now: datetime, ttl_s: float) -> Lease | None:
    """The lease when it is free or expired (a new token), else None."""
    until = now + timedelta(seconds=ttl_s)
    with Session(engine) as session:
        row = session.get(JobLease, name)
        if row is None:
            session.add(JobLease(name=name, owner=owner, token=1, expires_at=until))
            try:
                session.commit()
            except IntegrityError:
                return None  # another replica created it first
            return Lease(name, owner, 1)
        token = row.token
        taken = session.execute(
            update(JobLease)
            .where(col(JobLease.name) == name, col(JobLease.token) == token)
            .where(col(JobLease.expires_at) <= now)
            .values(owner=owner, token=token + 1, expires_at=until)
        )
        session.commit()
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return Lease(name, owner, token + 1)


def fence(session: Session, lease: Lease, now: datetime, ttl_s: float) -> None:
    """In the batch's transaction: still ours? (and renew). Raises Fenced when not."""
    held = session.execute(
        update(JobLease)
        .where(col(JobLease.name) == lease.name, col(JobLease.token) == lease.token)
        .values(expires_at=now + timedelta(seconds=ttl_s))
    )
    if held.rowcount != 1:  # type: ignore[attr-defined]
        raise Fenced(f"lease {lease.name} token {lease.token} taken over")


def release(engine: Engine, lease: Lease, now: datetime) -> None:
    """Let the next run start at once (only our own token is released)."""
    with Session(engine) as session:
        session.execute(
            update(JobLease)
            .where(col(JobLease.name) == lease.name, col(JobLease.token) == lease.token)
            .values(expires_at=now)
        )
        session.commit()
