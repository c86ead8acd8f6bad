"""Composition root of the approval service."""

from __future__ import annotations

from typing import Unpack

from fastapi import FastAPI

from services.approval import handlers
from services.approval.models import KIT
from services.approval.routes import audit, decisions, delegations, queue
from services.kernel.calendar import indonesia_calendar
from services.shared.calendar_book import CalendarBook
from services.shared.http import create_app
from services.shared.kit import KitOptions, kit_factory
from services.shared.settings import Settings

NAME = "approval"


build_kit = kit_factory(NAME, KIT, handlers.handlers, handlers.TOPICS)


def create(
    settings: Settings | None = None,
    **overrides: Unpack[KitOptions],
) -> FastAPI:
    """Everything (a test's `clock`...) goes to the kit."""
    kit = build_kit(settings, **overrides)
    app = create_app(
        kit,
        [queue.router, decisions.router, delegations.router, audit.router],
        title="SIKERJA approval",
    )
    app.state.clock = kit.clock
    app.state.calendar_for = CalendarBook(kit)
    # Build this year's national calendar now, not under the first burst of requests (each
    # concurrent first caller would build it: lru_cache does not hold the others back).
    indonesia_calendar(kit.clock().year)
    return app
