"""Composition root of the activity service."""

from __future__ import annotations

from typing import Unpack

from fastapi import FastAPI

from services.activity import api, handlers
from services.activity.domain import ReportLimits
from services.activity.models import KIT
from services.kernel.calendar import indonesia_calendar
from services.kernel.ruleset import load_ruleset
from services.shared.calendar_book import CalendarBook
from services.shared.http import create_app
from services.shared.kit import KitOptions, kit_factory
from services.shared.settings import Settings, get_settings

NAME = "activity"


build_kit = kit_factory(NAME, KIT, handlers.handlers, handlers.TOPICS)


def create(
    settings: Settings | None = None,
    *,
    limits: ReportLimits | None = None,
    **overrides: Unpack[KitOptions],
) -> FastAPI:
    """`limits` is for tests; everything else (a test's `clock`...) goes to the kit."""
    settings = settings or get_settings()
    kit = build_kit(settings, **overrides)
    app = create_app(kit, [api.router], title="SIKERJA activity")
    app.state.clock = kit.clock
    app.state.ruleset = load_ruleset(settings.ruleset)
    app.state.limits = limits or ReportLimits()
    app.state.evidence_dir = settings.data_dir / "evidence" / NAME
    app.state.calendar_for = CalendarBook(kit)
    app.state.filings = api.FilingBatcher(kit)
    # Build this year's national calendar now, not under the first burst of requests (each
    # concurrent first caller would build it: lru_cache does not hold the others back).
    indonesia_calendar(kit.clock().year)
    return app
