"""The 15:00 batch for 15,000 ASN: every warning in the inbox, then handed to the gateway.

Seeds the notifier's store with what the handlers leave by 15:00 (a scan each, no report, a
WhatsApp number each), then at an injected 15:00:
  1. the warnings job (under its lease, chunks fenced) puts every warning in the inbox;
  2. the dispatcher hands them to a real signed-webhook gateway on loopback (uvicorn),
     limited to the gateway's configured rate (`--rate`, messages/s).
Prints the time to the last inbox row, the channel phase's duration and achieved rate, and
the peak RSS.

    uv run python -m bench.bench_notifier --asn 15000 --rate 500
    uv run python -m bench.bench_notifier --db-url postgresql+psycopg://...   (a fresh db)

Redis: the local one (SIKERJA_REDIS_URL) under a prefix of its own, or `--redis none` for
the SQL path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from services.notifier.app import create
from services.notifier.cache import DayCache
from services.notifier.config import NotifierSettings
from services.notifier.domain import WIB
from services.notifier.models import ChannelConfig, Message, ScanDay
from services.shared.settings import Settings, get_settings
from tests.receivers import WebhookReceiver

DAY = date(2031, 3, 3)  # a Monday, a working day
SECRET = "bench-secret"


def seed(engine: Any, n: int) -> None:
    at = datetime(2031, 3, 1, tzinfo=WIB)
    nips = [f"19800101{i:010d}" for i in range(n)]
    with Session(engine) as session:
        session.execute(insert(ScanDay), [{"nip": nip, "work_date": DAY} for nip in nips])
        session.execute(
            insert(ChannelConfig),
            [
                {"nip": nip, "channel": "whatsapp", "address": f"+628{i:010d}", "updated_at": at}
                for i, nip in enumerate(nips)
            ],
        )
        session.commit()


def count(engine: Any, *states: str) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(Message)
        if states:
            query = query.where(col(Message.channel_state).in_(states))
        return int(session.execute(query).scalar_one())


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-notifier-"))
    redis_url = "redis://127.0.0.1:1/0" if args.redis == "none" else args.redis
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1",  # not dialled: the jobs and dispatcher run directly
        data_dir=tmp,
        database_url=args.db_url or f"sqlite:///{tmp}/{{service}}.db",
        redis_url=redis_url,
        group_suffix=f"-bench{uuid.uuid4().hex[:6]}",
    )
    now = datetime(2031, 3, 3, 15, 0, tzinfo=WIB)
    async with WebhookReceiver(SECRET) as gateway:
        config = NotifierSettings(
            gateway_url=gateway.url,
            gateway_secret=SECRET,
            gateway_rate_per_s=args.rate,
            rate_limit_per_hour=100,
        )
        cache = DayCache(redis_url, prefix=f"bench:{uuid.uuid4().hex[:8]}:", timeout_s=0.2)
        app = create(settings, clock=lambda: now, config=config, cache=cache, scheduler=False)
        notifier = app.state.notifier
        notifier.kit.migrate()
        seed(notifier.kit.engine, args.asn)
        await notifier.warm(DAY)  # what the scheduler does when the day starts

        started = time.perf_counter()
        result = await notifier.run_leased("warnings", now, mark=True)
        inbox_s = time.perf_counter() - started
        assert result["created"] == args.asn, result
        assert count(notifier.kit.engine) == args.asn

        sending = time.perf_counter()
        while count(notifier.kit.engine, "pending", "sending"):
            await notifier.dispatch()
        channel_s = time.perf_counter() - sending
        await cache.close()
        delivered = len(gateway.by_key)
        duplicates = len(gateway.arrivals) - delivered
    return {
        "asn": args.asn,
        "store": "postgresql" if args.db_url else "sqlite",
        "redis": "none" if args.redis == "none" else "up",
        "source": result["source"],
        "inbox_s": round(inbox_s, 2),
        "gateway_rate_per_s": args.rate,
        "delivered": delivered,
        "duplicates": duplicates,
        "channel_s": round(channel_s, 2),
        "channel_rate_per_s": round(delivered / channel_s, 1),
        "total_s": round(inbox_s + channel_s, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asn", type=int, default=15_000)
    parser.add_argument("--rate", type=float, default=500.0, help="gateway messages/s")
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--redis", default=get_settings().redis_url, help="URL or 'none'")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
