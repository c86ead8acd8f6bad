"""Composition root of the attendance service."""

from __future__ import annotations

import asyncio
from typing import Any, Unpack

from fastapi import FastAPI

from services.attendance import adms_api, handlers, scheduler
from services.attendance.config import AttendanceConfig
from services.attendance.models import KIT
from services.attendance.routes import absences, calendar, days, devices, outages, scans
from services.shared.http import create_app
from services.shared.kit import KitOptions, kit_factory
from services.shared.settings import Settings

NAME = "attendance"


build_kit = kit_factory(NAME, KIT, handlers.handlers)


def create(
    settings: Settings | None = None,
    config: AttendanceConfig | None = None,
    **overrides: Unpack[KitOptions],
) -> FastAPI:
    kit = build_kit(settings, **overrides)
    cfg = config or AttendanceConfig()
    background: list[Any] = []
    if cfg.scheduler_enabled:
        background.append(lambda: asyncio.create_task(scheduler.run(kit, cfg), name="closer"))
    app = create_app(
        kit,
        [
            scans.router,
            absences.router,
            calendar.router,
            days.router,
            devices.router,
            outages.router,
        ],
        title="SIKERJA attendance",
        background=background,
    )
    app.state.attendance = cfg
    # Devices call /iclock/* at the root, as their firmware expects (not under /api/v1).
    app.include_router(adms_api.iclock)
    return app
