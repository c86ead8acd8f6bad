"""SIASN bridge tables: the employee master it publishes (kept in the kit's employee table)."""

from __future__ import annotations

from services.shared.db import service_base

Base = service_base()
