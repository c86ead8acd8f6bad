"""Composition root of the notifier service.

The scheduler (the only reader of the wall clock besides the API edge) and the channel
dispatcher run as one background task started by create_app's lifespan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Unpack

from fastapi import FastAPI

from services.kernel.ruleset import load_ruleset
from services.notifier import api, handlers
from services.notifier.cache import DayCache
from services.notifier.channels import Sender, senders_from
from services.notifier.config import NotifierSettings
from services.notifier.jobs import Notifier
from services.notifier.models import KIT
from services.shared.calendar_book import CalendarBook, kit_with_book
from services.shared.http import create_app
from services.shared.kit import KitOptions, ServiceKit
from services.shared.settings import Settings, get_settings

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
    return compose(settings, cache=cache, wake=wake, **overrides)[0]


def compose(
    settings: Settings | None = None,
    *,
    cache: DayCache | None = None,
    wake: Callable[[], None] | None = None,
    **overrides: Unpack[KitOptions],
) -> tuple[ServiceKit, CalendarBook]:
    """The kit, and the calendar book its handlers keep current (one per kit)."""
    settings = settings or get_settings()
    day_cache = cache or make_cache(settings)
    return kit_with_book(
        NAME,
        KIT,
        settings,
        lambda book: handlers.handlers(day_cache, book, wake or (lambda: None)),
        **overrides,
    )


def create(
    settings: Settings | None = None,
    *,
    sender: Sender | None = None,
    config: NotifierSettings | None = None,
    cache: DayCache | None = None,
    scheduler: bool = True,
    **overrides: Unpack[KitOptions],
) -> FastAPI:
    """`sender`, `config`, `cache` and `scheduler` are for tests; the rest (a test's `clock`...)
    goes to the kit."""
    settings = settings or get_settings()
    cache = cache or make_cache(settings)
    wake = asyncio.Event()
    kit, book = compose(settings, cache=cache, wake=wake.set, **overrides)
    config = config or NotifierSettings()
    notifier = Notifier(
        kit=kit,
        cache=cache,
        sender=sender or senders_from(config),
        config=config,
        ruleset=load_ruleset(settings.ruleset),
        clock=kit.clock,
        calendar_for=book,
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
