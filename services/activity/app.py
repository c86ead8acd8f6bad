"""Composition root of the activity service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from services.activity import handlers
from services.activity.commands import FilingBatcher
from services.activity.domain import ReportLimits
from services.activity.models import Base
from services.activity.routes import evidence, imports, openings, reports, skp_targets
from services.kernel.calendar import indonesia_calendar
from services.kernel.ruleset import load_ruleset
from services.shared.calendar_book import CalendarBook
from services.shared.http import create_app
from services.shared.messaging import ServiceKit, utcnow
from services.shared.settings import Settings, get_settings

NAME = "activity"


def build_kit(settings: Settings | None = None, **overrides: object) -> ServiceKit:
    return ServiceKit(
        NAME, Base, settings or get_settings(), handlers.handlers(), handlers.TOPICS, **overrides
    )  # type: ignore[arg-type]


def create(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    limits: ReportLimits | None = None,
    **overrides: object,
) -> FastAPI:
    """`clock` and `limits` are for tests; everything else goes to the kit."""
    settings = settings or get_settings()
    kit = build_kit(settings, **overrides)
    # in this order: the OpenAPI document lists the paths as the routers are included
    routers = [reports.router, evidence.router, openings.router, skp_targets.router, imports.router]
    app = create_app(kit, routers, title="SIKERJA activity")
    app.state.clock = clock
    app.state.ruleset = load_ruleset(settings.ruleset)
    app.state.limits = limits or ReportLimits()
    app.state.evidence_dir = settings.data_dir / "evidence" / NAME
    app.state.calendar_for = CalendarBook(kit)
    app.state.filings = FilingBatcher(kit)
    # Build this year's national calendar now, not under the first burst of requests (each
    # concurrent first caller would build it: lru_cache does not hold the others back).
    indonesia_calendar(clock().year)
    return app
