"""Composition root of the approval service."""

from __future__ import annotations

from typing import Unpack

from fastapi import FastAPI

from services.approval import handlers
from services.approval.models import KIT
from services.approval.routes import audit, decisions, delegations, kinerja, penilai, queue
from services.kernel.calendar import indonesia_calendar
from services.shared.calendar_book import book_factory
from services.shared.http import create_app
from services.shared.kit import KitOptions
from services.shared.settings import Settings

NAME = "approval"


compose, build_kit = book_factory(NAME, KIT, handlers.handlers)


def create(
    settings: Settings | None = None,
    **overrides: Unpack[KitOptions],
) -> FastAPI:
    """Everything (a test's `clock`...) goes to the kit."""
    kit, book = compose(settings, **overrides)
    app = create_app(
        kit,
        [
            queue.router,
            decisions.router,
            delegations.router,
            penilai.router,
            audit.router,
            kinerja.router,
        ],
        title="SIKERJA approval",
    )
    app.state.calendar_for = book
    # Build this year's national calendar now, not under the first burst of requests (each
    # concurrent first caller would build it: lru_cache does not hold the others back).
    indonesia_calendar(kit.clock().year)
    return app
