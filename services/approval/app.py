"""Composition root of the approval service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Unpack

from fastapi import FastAPI

from services.approval import handlers
from services.approval.models import KIT
from services.approval.routes import audit, decisions, delegations, queue
from services.kernel.calendar import indonesia_calendar
from services.shared.calendar_book import CalendarBook, kit_with_book
from services.shared.http import create_app
from services.shared.kit import KitOptions, ServiceKit
from services.shared.settings import Settings, get_settings
from services.shared.uow import utcnow

NAME = "approval"


def build_kit(settings: Settings | None = None, **overrides: Unpack[KitOptions]) -> ServiceKit:
    return compose(settings, **overrides)[0]


def compose(
    settings: Settings | None = None, **overrides: Unpack[KitOptions]
) -> tuple[ServiceKit, CalendarBook]:
    return kit_with_book(NAME, KIT, settings or get_settings(), handlers.handlers, **overrides)


def create(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    **overrides: Unpack[KitOptions],
) -> FastAPI:
    """`clock` is for tests; everything else goes to the kit."""
    kit, book = compose(settings, **overrides)
    app = create_app(
        kit,
        [queue.router, decisions.router, delegations.router, audit.router],
        title="SIKERJA approval",
    )
    app.state.clock = clock
    app.state.calendar_for = book
    # Build this year's national calendar now, not under the first burst of requests (each
    # concurrent first caller would build it: lru_cache does not hold the others back).
    indonesia_calendar(clock().year)
    return app
