"""Attendance's subscribers: it keeps only the employee projection (PIN → NIP, OPD)."""

from __future__ import annotations

from typing import Any

from contracts import Topic
from services.shared.employees import employee_handlers

TOPICS = [Topic.EMPLOYEES.value]


def handlers() -> dict[str, Any]:
    return employee_handlers()
