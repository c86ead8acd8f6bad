"""Composition root of the portal: accounts, sessions and the signed identity."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Unpack

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from services.portal import domain, handlers
from services.portal.accounts import Portal
from services.portal.backend import Backend
from services.portal.credentials import Passwords
from services.portal.models import KIT
from services.portal.routes import (
    accounts,
    annulments,
    bkpsdm,
    city,
    operator,
    pages,
    session,
    skp,
    team,
    work,
)  # fmt: skip
from services.portal.routes.kinerja import router as kinerja_pages
from services.shared.http import create_app
from services.shared.keys import ensure_dev_keys
from services.shared.kit import KitOptions, kit_factory
from services.shared.settings import Settings, get_settings

NAME = "portal"
STATIC = Path(__file__).resolve().parent / "static"  # htmx, pinned: no CDN


build_kit = kit_factory(NAME, KIT, handlers.handlers)


def create(
    settings: Settings | None = None,
    *,
    hasher: PasswordHasher | None = None,
    rate_storage: str | None = None,
    login_policy: domain.LoginPolicy | None = None,
    session_policy: domain.SessionPolicy | None = None,
    service_transport: httpx.AsyncBaseTransport | None = None,
    **overrides: Unpack[KitOptions],
) -> FastAPI:
    """`hasher`, `rate_storage` ("memory://"), the policies and `service_transport` (the
    services in-process) are for tests, the rest (a test's `clock`...) goes to the kit; login
    limits are counted in Redis (settings.redis_url) so every worker sees the same counts."""
    settings = settings or get_settings()
    if settings.dev_keys:
        ensure_dev_keys(settings)
    kit = build_kit(settings, **overrides)
    portal = Portal(
        kit,
        kit.clock,
        passwords=Passwords(hasher),
        rate_storage=rate_storage or settings.redis_url or "memory://",
        login_policy=login_policy or domain.LoginPolicy(),
        session_policy=session_policy or domain.SessionPolicy(),
    )

    async def rate_limits() -> str:
        return "ok" if portal.storage.check() else "error: rate-limit storage unreachable"

    app = create_app(
        kit,
        [session.router, accounts.router],
        title="SIKERJA portal",
        checks={"rate_limits": rate_limits},
        authenticated=False,  # its own sessions (or a token of aud portal): routes/deps.py
    )
    app.state.portal = portal
    backend = app.state.backend = Backend(settings, portal, service_transport)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            try:
                yield
            finally:
                await backend.aclose()  # the pooled connections to the services

    app.router.lifespan_context = lifespan
    # a page this session may not see answers where to go instead (routes/work.py)
    app.add_exception_handler(work.Elsewhere, lambda _r, exc: exc.response)
    app.include_router(pages.router)  # the pages live at the root, not under /api/v1
    app.include_router(work.router)
    app.include_router(operator.router)
    app.include_router(city.router)
    app.include_router(kinerja_pages)  # the atasan's monthly kinerja page
    app.include_router(bkpsdm.router)
    app.include_router(annulments.router)
    app.include_router(skp.router)
    app.include_router(team.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/.well-known/jwks.json", include_in_schema=False)
    def jwks() -> JSONResponse:
        """The public keys services verify tokens with (when they read them by URL)."""
        source = settings.jwks_source()
        if source.startswith(("http://", "https://")):
            return JSONResponse({"keys": []}, status_code=404)
        try:
            return JSONResponse(json.loads(Path(source).read_text()))
        except FileNotFoundError:
            return JSONResponse({"keys": []})

    return app
