"""Composition root of the tpp service."""

from __future__ import annotations

from typing import Unpack

from fastapi import FastAPI

from services.shared.http import create_app
from services.shared.kit import KitOptions, kit_factory
from services.shared.settings import Settings
from services.tpp import annulment_api, api, handlers
from services.tpp.models import KIT

NAME = "tpp"


build_kit = kit_factory(NAME, KIT, handlers.handlers)


def create(settings: Settings | None = None, **overrides: Unpack[KitOptions]) -> FastAPI:
    kit = build_kit(settings, **overrides)
    return create_app(kit, [api.router, annulment_api.router], title="SIKERJA tpp")
