"""One notifier replica as a process of its own, for tests/faults/test_notifier_replicas.py:
runs the scheduler's tick and the channel dispatcher on a shared store until nothing is left
to send, on a clock that starts at `--at` and runs `--speed` times faster than the wall
clock (the lease and the stale-claim sweep happen in seconds)."""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.notifier.app import create
from services.notifier.cache import DayCache
from services.notifier.config import NotifierSettings
from services.notifier.models import Message
from services.shared.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--at", required=True)
    parser.add_argument("--speed", type=float, default=100.0)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    start, began = datetime.fromisoformat(args.at), time.monotonic()

    def clock() -> datetime:
        return start + timedelta(seconds=(time.monotonic() - began) * args.speed)

    settings = Settings(
        kafka_bootstrap="127.0.0.1:1",  # never dialled: the app's lifespan is not started
        database_url=args.database_url,
        redis_url="redis://127.0.0.1:1/0",
        log_json=True,
    )
    config = NotifierSettings(
        gateway_url=args.gateway,
        gateway_secret=args.secret,
        dispatch_batch=4,
        send_concurrency=1,
        job_chunk=10,
        job_lease_s=60,
        stale_claim_s=300,
        rate_limit_per_hour=100,
    )
    app = create(
        settings,
        clock=clock,
        config=config,
        cache=DayCache(settings.redis_url, timeout_s=0.2),
        scheduler=False,
    )
    notifier = app.state.notifier

    def unfinished() -> int:
        with Session(notifier.kit.engine) as session:
            return int(
                session.execute(
                    select(func.count())
                    .select_from(Message)
                    .where(col(Message.channel_state).in_(("pending", "sending")))
                ).scalar_one()
            )

    async def run() -> None:
        notifier.kit.migrate()
        print("replica running", flush=True)
        ran = False
        while True:
            ran = (
                bool(await notifier.tick(clock())) or ran or notifier._ran("warnings", start.date())
            )
            await notifier.dispatch()
            if ran and unfinished() == 0:
                return
            await asyncio.sleep(0.02)

    asyncio.run(run())
    print("replica done", flush=True)


if __name__ == "__main__":
    main()
