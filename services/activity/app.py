"""Composition root of the activity service."""

from __future__ import annotations

from typing import Unpack

from fastapi import FastAPI

from services.activity import handlers
from services.activity.commands import FilingBatcher
from services.activity.domain import ReportLimits
from services.activity.models import KIT
from services.activity.routes import evidence, imports, openings, reports, skp_targets
from services.kernel.calendar import indonesia_calendar
from services.kernel.ruleset import load_ruleset
from services.shared.calendar_book import book_factory
from services.shared.http import create_app
from services.shared.kit import KitOptions
from services.shared.settings import Settings, get_settings

NAME = "activity"


compose, build_kit = book_factory(NAME, KIT, handlers.handlers)


def create(
    settings: Settings | None = None,
    *,
    limits: ReportLimits | None = None,
    **overrides: Unpack[KitOptions],
) -> FastAPI:
    """`limits` is for tests; everything else (a test's `clock`...) goes to the kit."""
    settings = settings or get_settings()
    kit, book = compose(settings, **overrides)
    # in this order: the OpenAPI document lists the paths as the routers are included
    routers = [reports.router, evidence.router, openings.router, skp_targets.router, imports.router]
    app = create_app(kit, routers, title="SIKERJA activity")
    app.state.ruleset = load_ruleset(settings.ruleset)
    app.state.limits = limits or ReportLimits()
    app.state.evidence_dir = settings.data_dir / "evidence" / NAME
    app.state.calendar_for = book
    app.state.filings = FilingBatcher(kit)
    # Build this year's national calendar now, not under the first burst of requests (each
    # concurrent first caller would build it: lru_cache does not hold the others back).
    indonesia_calendar(kit.clock().year)
    return app
