"""Composition root of the siasn service."""

from __future__ import annotations

import asyncio
from typing import Any, Unpack

from fastapi import FastAPI

from services.shared.http import create_app
from services.shared.kit import KitOptions, kit_factory
from services.shared.settings import Settings
from services.siasn import api, handlers
from services.siasn.adapter import SiasnClient
from services.siasn.config import SiasnSettings, get_siasn_settings
from services.siasn.delivery import Deliverer, DeliveryPolicy
from services.siasn.models import KIT
from services.siasn.sync import SyncRunner

NAME = "siasn"


build_kit = kit_factory(NAME, KIT, handlers.handlers)


def create(
    settings: Settings | None = None,
    siasn: SiasnSettings | None = None,
    **overrides: Unpack[KitOptions],
) -> FastAPI:
    kit = build_kit(settings, **overrides)
    bridge = siasn or get_siasn_settings()
    client = (lambda: SiasnClient(bridge.client_config())) if bridge.base_url else None
    runner = SyncRunner(kit, client, bridge.lease_s)
    policy = DeliveryPolicy(
        retry_base_s=bridge.retry_base_s, retry_cap_s=bridge.retry_cap_s, lease_s=bridge.lease_s
    )
    deliverer = Deliverer(kit, client, policy)
    background = []
    if bridge.sync_interval_s > 0 and client is not None:

        def schedule() -> asyncio.Task[Any]:
            return asyncio.create_task(runner.every(bridge.sync_interval_s))

        background.append(schedule)
    if bridge.deliver_interval_s > 0 and client is not None:

        def deliver() -> asyncio.Task[Any]:
            return asyncio.create_task(deliverer.every(bridge.deliver_interval_s))

        background.append(deliver)
    app = create_app(kit, [api.router], title="SIKERJA siasn", background=background)
    app.state.siasn_sync = runner
    app.state.siasn_delivery = deliverer
    app.state.siasn_tasks = set()
    return app
