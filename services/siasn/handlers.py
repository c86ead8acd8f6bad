"""The siasn service consumes nothing yet (TppPeriodClosed delivery to SIASN is future work)."""

from __future__ import annotations

from typing import Any

TOPICS: list[str] = []


def handlers() -> dict[str, Any]:
    return {}
