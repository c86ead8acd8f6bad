"""The siasn service consumes nothing yet (TppPeriodClosed delivery to SIASN is future work)."""

from __future__ import annotations

from services.shared.handlers import Handlers


def handlers() -> Handlers:
    return Handlers()
