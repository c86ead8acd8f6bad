"""Composition root of the notifier service.

The scheduler (the only reader of the wall clock besides the API edge) and the channel
dispatcher run as one background task started by create_app's lifespan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Unpack

from fastapi import FastAPI

from services.kernel.ruleset import load_ruleset
from services.notifier import api, handlers
from services.notifier.cache import DayCache
from services.notifier.channels import Sender, senders_from
from services.notifier.config import NotifierSettings
from services.notifier.jobs import Notifier
from services.notifier.models import KIT
from services.shared.calendar_book import CalendarBook
from services.shared.http import create_app
from services.shared.kit import KitOptions, ServiceKit
from services.shared.settings import Settings, get_settings
from services.shared.uow import utcnow

NAME = "notifier"


def make_cache(settings: Settings) -> DayCache:
    # the group suffix keeps side-by-side runs (tests) out of each other's keys
    return DayCache(settings.redis_url, prefix=f"sikerja:{NAME}{settings.group_suffix}:")


def build_kit(
    settings: Settings | None = None,
    *,
    cache: DayCache | None = None,
    wake: Callable[[], None] | None = None,
    **overrides: Unpack[KitOptions],
) -> ServiceKit:
    settings = settings or get_settings()
    subscribers = handlers.handlers(cache or make_cache(settings), wake or (lambda: None))
    return ServiceKit(NAME, KIT, settings, subscribers, handlers.TOPICS, **overrides)


def create(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    sender: Sender | None = None,
    config: NotifierSettings | None = None,
    cache: DayCache | None = None,
    scheduler: bool = True,
    **overrides: Unpack[KitOptions],
) -> FastAPI:
    """`clock`, `sender`, `config`, `cache` and `scheduler` are for tests; the rest goes to
    the kit."""
    settings = settings or get_settings()
    cache = cache or make_cache(settings)
    wake = asyncio.Event()
    kit = build_kit(settings, cache=cache, wake=wake.set, **overrides)
    config = config or NotifierSettings()
    notifier = Notifier(
        kit=kit,
        cache=cache,
        sender=sender or senders_from(config),
        config=config,
        ruleset=load_ruleset(settings.ruleset),
        clock=clock,
        calendar_for=CalendarBook(kit),
        wake=wake,
    )
    background = [lambda: asyncio.create_task(notifier.run_background())] if scheduler else []
    app = create_app(
        kit,
        [api.router],
        title="SIKERJA notifier",
        background=background,
        checks={"redis": cache.ping},
    )
    app.state.notifier = notifier
    return app
