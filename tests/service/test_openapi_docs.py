"""What a newcomer reads at `/docs`: every operation of every service has a Bahasa summary
of its own (not FastAPI's title-cased function name) and a tag, and every file import
declares its body with the columns its importer checks."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from services.activity.app import create as create_activity
from services.activity.routes.imports import DECIDED_COLUMN
from services.activity.routes.imports import IMPORT_COLUMNS as REPORT_COLUMNS
from services.approval.app import create as create_approval
from services.attendance import domain as attendance_domain
from services.attendance import importer as scan_importer
from services.attendance.app import create as create_attendance
from services.attendance.config import AttendanceConfig
from services.notifier.app import create as create_notifier
from services.notifier.cache import DayCache
from services.portal.app import create as create_portal
from services.shared.settings import Settings
from services.siasn import domain as siasn_domain
from services.siasn.app import create as create_siasn
from services.tpp.app import create as create_tpp

BUILDERS: dict[str, Callable[[Settings], FastAPI]] = {
    "attendance": lambda s: create_attendance(s, AttendanceConfig(scheduler_enabled=False)),
    "activity": create_activity,
    "approval": create_approval,
    "tpp": create_tpp,
    "notifier": lambda s: create_notifier(
        s, cache=DayCache("redis://127.0.0.1:1/0", timeout_s=0.05), scheduler=False
    ),
    "siasn": create_siasn,
    "portal": lambda s: create_portal(s, rate_storage="memory://"),
}

# Each import route and the required columns its importer checks (the importers' own
# constants); the optional columns the importer reads too.
IMPORTS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("attendance", "/api/v1/scans/import"): (scan_importer.REQUIRED_COLUMNS, ()),
    ("attendance", "/api/v1/absences/import"): (attendance_domain.ABSENCE_COLUMNS, ()),
    ("activity", "/api/v1/reports/import"): (REPORT_COLUMNS, (DECIDED_COLUMN,)),
    ("siasn", "/api/v1/employees/import"): (siasn_domain.COLUMNS, (siasn_domain.PIN_COLUMN,)),
}
# the imports that also take a multipart upload in the field `file`
MULTIPART = {("attendance", "/api/v1/scans/import"), ("attendance", "/api/v1/absences/import")}


@pytest.fixture(scope="module")
def apps() -> dict[str, FastAPI]:
    data = Path(tempfile.mkdtemp(prefix="sikerja-openapi-docs-"))
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1",  # never dialled: the OpenAPI needs no broker
        data_dir=data,
        database_url=f"sqlite:///{data}/{{service}}.db",
    )
    return {name: build(settings) for name, build in BUILDERS.items()}


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, ops in app.openapi()["paths"].items()
        for method, op in ops.items()
    ]


def generated_summary(operation_id: str, path: str, method: str) -> str:
    """What FastAPI writes when a route has no summary ("Post Scans" for post_scans): the
    function's name, title-cased; the operationId is that name, the path and the method."""
    suffix = re.sub(r"\W", "_", path) + "_" + method
    name = operation_id.removesuffix(suffix) if operation_id.endswith(suffix) else operation_id
    return name.replace("_", " ").title()


def test_every_operation_has_a_summary_of_its_own_and_a_tag(apps: dict[str, FastAPI]) -> None:
    bad: list[str] = []
    count = 0
    for name, app in apps.items():
        for method, path, op in operations(app):
            count += 1
            summary = op.get("summary") or ""
            if not summary or summary == generated_summary(op["operationId"], path, method):
                bad.append(f"{name} {method.upper()} {path}: summary {summary!r}")
            if not op.get("tags"):
                bad.append(f"{name} {method.upper()} {path}: no tag")
    assert count > 90  # every service answered
    assert bad == []


def test_import_routes_are_the_known_ones(apps: dict[str, FastAPI]) -> None:
    found = {
        (name, path)
        for name, app in apps.items()
        for method, path, _ in operations(app)
        if method == "post" and path.endswith("/import")
    }
    assert found == set(IMPORTS)


@pytest.mark.parametrize(("service", "path"), sorted(IMPORTS))
def test_an_import_declares_its_body_and_every_column(
    apps: dict[str, FastAPI], service: str, path: str
) -> None:
    op = apps[service].openapi()["paths"][path]["post"]
    body = op.get("requestBody")
    assert body is not None, f"{service} {path} has no requestBody"
    required, optional = IMPORTS[(service, path)]
    described = body["description"]
    for column in (*required, *optional):
        assert f"`{column}`" in described, f"{service} {path}: column {column} not documented"
    content = body["content"]
    assert "text/csv" in content
    # the example file has the required columns as its header
    assert content["text/csv"]["example"].splitlines()[0].split(",")[: len(required)] == list(
        required
    )
    if (service, path) in MULTIPART:
        upload = content["multipart/form-data"]["schema"]
        assert upload["properties"]["file"] == {"type": "string", "format": "binary"}
        assert upload["required"] == ["file"]
